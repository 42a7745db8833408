#!/usr/bin/env node
// `npm start`: checks the Node version, then runs the server (TypeScript, through tsx).
import { requireNode } from './require-node.mjs';

requireNode('Stepwise');
const { register } = await import('tsx/esm/api');
register();
await import('../src/main.ts');
