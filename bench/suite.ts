import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PROJECT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The test suite's wall time, as `npm test` runs it (the README's test command). It needs the
 * test PostgreSQL (TEST_DATABASE_URL) like the suite itself.
 */
export async function benchSuite(log: (line: string) => void): Promise<Record<string, string>> {
  const started = performance.now();
  const { code, summary } = await runNpmTest();
  const seconds = (performance.now() - started) / 1000;
  log(`npm test: exit ${code} after ${seconds.toFixed(1)} s`);
  return { 'npm test, wall time': `${seconds.toFixed(1)} s (exit ${code}${summary ? `; ${summary}` : ''})` };
}

function runNpmTest(): Promise<{ code: number; summary?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['test', '--', '--reporter=dot'], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const tests = /Tests\s+(.*)/.exec(out.replace(/\u001b\[[0-9;]*m/g, ''))?.[1]?.trim();
      resolve({ code: code ?? 1, summary: tests });
    });
  });
}
