import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Test files share a worker's module state: the R4 definitions, validators and PGlite
    // templates are built once per worker instead of once per file (most of the suite's time).
    isolate: false,
  },
});
