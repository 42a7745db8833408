import { benchXml } from './xml.js';

/** Runs the XML benchmark alone: node --import tsx bench/xml-main.ts */
const result = await benchXml();
for (const [name, value] of Object.entries(result)) console.log(`${name}: ${value}`);
