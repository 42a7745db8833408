import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url);

/** Runs an entry point as if on Node 20: what someone gets after `npm install --ignore-scripts` on an old system Node. */
function onNode20(entry: string) {
  const script = `Object.defineProperty(process.versions, 'node', { value: '20.11.1' }); await import('./${entry}');`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
}

describe('started on a Node older than 24', () => {
  it.each(['bin/start.mjs', 'bin/stepwise.mjs'])('%s stops at once with one line saying which Node runs and how to get Node 24', (entry) => {
    const run = onNode20(entry);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/needs Node 24 or later, but this is Node 20\.11\.1/);
    expect(lines[0]).toContain('npm install');
  });
});
