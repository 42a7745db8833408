import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runConvert } from '../src/cli/convert-command.js';
import { runValidate } from '../src/cli/validate-command.js';

/** The files the README's command-line examples name exist, and the commands do what it says. */
const example = (name: string) => fileURLToPath(new URL(`../docs/examples/${name}`, import.meta.url));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) }, out, err };
}

describe('README command-line examples', () => {
  it('npx stepwise convert docs/examples/referral.xml --to json gives the JSON example', async () => {
    const { io, out } = capture();
    expect(await runConvert([example('referral.xml'), '--to', 'json'], io)).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual(JSON.parse(readFileSync(example('referral.json'), 'utf8')));
  });

  it('npx stepwise validate docs/examples/referral.json docs/examples/referral.xml: both valid against R4 and StepwiseReferral', async () => {
    const { io, out, err } = capture();
    expect(await runValidate([example('referral.json'), example('referral.xml')], io), err.join('')).toBe(0);
    expect(out.join('')).toContain('referral.json: valid');
    expect(out.join('')).toContain('referral.xml: valid');
  });
});
