// The server as one JavaScript file, built once per version of its sources. Through tsx, Node
// resolves and transforms each of its hundred-odd TypeScript modules at every start (tsx caches
// only the transform): half a second on a quiet machine, seconds on a busy one, before the server
// can even listen. esbuild (which tsx runs on) bundles them instead into
// node_modules/.cache/stepwise-server/, named by a hash of the sources; packages stay imports, so
// the file must live inside the project to find them. Plain JavaScript: bin/start.mjs runs it.
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const outDir = join(root, 'node_modules', '.cache', 'stepwise-server');

/**
 * The URL of the bundled server, built first if the sources changed; undefined when it cannot be
 * built or written here (then run src/main.ts through tsx).
 */
export async function serverBundle() {
  let esbuildVersion;
  try {
    // read, not imported: loading esbuild costs more than the rest of the check
    const main = createRequire(import.meta.url).resolve('esbuild');
    esbuildVersion = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
  const out = join(outDir, `main-${sourceHash(esbuildVersion)}.mjs`);
  if (!statSync(out, { throwIfNoEntry: false })) {
    try {
      mkdirSync(outDir, { recursive: true });
      accessSync(outDir, constants.W_OK);
      const temporary = `${out}.${process.pid}.tmp`;
      const esbuild = await import('esbuild');
      await esbuild.build({
        entryPoints: [join(root, 'src', 'main.ts')],
        outfile: temporary,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node24',
        packages: 'external',
        sourcemap: 'inline',
        tsconfig: join(root, 'tsconfig.json'),
        logLevel: 'silent',
        plugins: [originalImportMetaUrl],
      });
      renameSync(temporary, out);
      for (const old of readdirSync(outDir)) if (join(outDir, old) !== out && !old.endsWith('.tmp')) rmSync(join(outDir, old), { force: true });
    } catch {
      return undefined;
    }
  }
  // stack traces name the TypeScript files and lines
  process.setSourceMapsEnabled(true);
  return pathToFileURL(out).href;
}

/** Every file under src/ that a bundle can hold (not tests), with tsconfig.json and the esbuild version. */
function sourceHash(esbuildVersion) {
  const hash = createHash('sha256').update(esbuildVersion).update(readFileSync(join(root, 'tsconfig.json')));
  const files = readdirSync(join(root, 'src'), { recursive: true })
    .filter((f) => /\.tsx?$/.test(f) && !/\.test\.tsx?$/.test(f))
    .sort();
  for (const file of files) hash.update(file).update('\0').update(readFileSync(join(root, 'src', file))).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * Modules find their data files from import.meta.url (profiles/, src/messaging/conformance/): in
 * the bundle each keeps the URL of its own source file.
 */
const originalImportMetaUrl = {
  name: 'original-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
      loader: 'ts',
    }));
  },
};
