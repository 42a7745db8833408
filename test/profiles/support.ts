import { readdirSync, statSync } from 'node:fs';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { examplesDir } from '../../scripts/profiles/layout.js';

/** Shared helpers for the profile tests. */


export interface ExampleFile {
  /** Profile id, the example's folder under profiles/examples. */
  profile: string;
  /** `<profile>/<file>`, as in invalid-faults.json. */
  name: string;
  file: string;
  valid: boolean;
}

export function exampleFiles(): ExampleFile[] {
  const out: ExampleFile[] = [];
  for (const profile of readdirSync(examplesDir).sort()) {
    if (!statSync(examplesDir + profile).isDirectory()) continue;
    for (const file of readdirSync(`${examplesDir}${profile}`).sort()) {
      out.push({ profile, name: `${profile}/${file}`, file: `${examplesDir}${profile}/${file}`, valid: file.startsWith('valid-') });
    }
  }
  return out;
}

export const errorsOf = (issues: OperationOutcomeIssue[]): OperationOutcomeIssue[] => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');

/** "severity expression: message" lines, for readable assertion failures. */
export const summary = (issues: OperationOutcomeIssue[]): string[] => issues.map((i) => `${i.severity} ${i.expression?.[0]}: ${i.diagnostics}`);
