import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Test data vendored into the repository (test/fixtures; origin and licence of each file in
 * test/fixtures/SOURCES.md). Resolved from this file, so tests and benches read the same files
 * whatever the working directory.
 */
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The absolute path of a file or folder under test/fixtures, e.g. fixturePath('nhs', 'bars'). */
export function fixturePath(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}
