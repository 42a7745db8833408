import type { CodeSystem } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TaskCode } from '../../src/pathway/codes.js';

/** The pathway's Task codes are one definition in code, and exactly the published task-code CodeSystem. */
describe('Task codes', () => {
  it('agree with the published CodeSystem, code for code', () => {
    const published = JSON.parse(readFileSync(new URL('../../profiles/published/CodeSystem-task-code.json', import.meta.url), 'utf8')) as CodeSystem;
    expect(Object.values(TaskCode).sort()).toEqual(published.concept!.map((c) => c.code).sort());
  });
});
