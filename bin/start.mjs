#!/usr/bin/env node
// `npm start`: checks the Node version, then runs the server: bundled once per version of its
// sources (bin/server-bundle.mjs), or, where the bundle cannot be built, its TypeScript through tsx.
import { requireNode } from './require-node.mjs';

requireNode('Stepwise');
const { serverBundle } = await import('./server-bundle.mjs');
const bundle = await serverBundle();
if (bundle) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
