import { benchValidation } from './validation.js';

/** Runs the validation benchmark alone: node --import tsx bench/validation-main.ts */
const result = await benchValidation();
for (const [name, value] of Object.entries(result)) console.log(`${name}: ${value}`);
