#!/usr/bin/env node
// The `stepwise` command for integrators: `npx stepwise convert …`, `npx stepwise validate …`.
import { requireNode } from './require-node.mjs';

requireNode('The stepwise command');
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
