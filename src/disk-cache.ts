import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Files that start-up builds once and reads on later starts instead (an empty migrated database,
 * the R4 definitions without their documentation). Each is named by a hash of everything it is
 * built from, package versions included, so a changed input builds it anew. Best effort: a cache
 * that cannot be read or written is the same as no cache, and `dir` undefined turns it off.
 */
export class DiskCache {
  constructor(readonly dir: string | undefined) {}

  read(kind: string, key: string): Buffer | undefined {
    if (!this.dir) return undefined;
    try {
      return readFileSync(join(this.dir, fileName(kind, key)));
    } catch {
      return undefined;
    }
  }

  /** Writes atomically (a reader sees the whole file or none) and drops older files of the same kind. */
  write(kind: string, key: string, data: Uint8Array | string): boolean {
    return this.put(kind, key, (path) => writeFileSync(path, data));
  }

  /** The path of a cached directory, if there is one. */
  directory(kind: string, key: string): string | undefined {
    if (!this.dir) return undefined;
    const path = join(this.dir, fileName(kind, key));
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ? path : undefined;
  }

  /** Caches a directory that `fill` makes at the path it is given; atomically, like `write`. */
  writeDirectory(kind: string, key: string, fill: (path: string) => void): boolean {
    return this.put(kind, key, fill);
  }

  private put(kind: string, key: string, make: (path: string) => void): boolean {
    if (!this.dir) return false;
    const name = fileName(kind, key);
    const temporary = join(this.dir, `${name}.${process.pid}.tmp`);
    try {
      mkdirSync(this.dir, { recursive: true });
      make(temporary);
      renameSync(temporary, join(this.dir, name));
      for (const old of readdirSync(this.dir)) {
        if (old.startsWith(`${kind}-`) && old !== name && !old.endsWith('.tmp')) rmSync(join(this.dir, old), { recursive: true, force: true });
      }
      return true;
    } catch {
      // not writable, or another process cached the same at the same moment
      rmSync(temporary, { recursive: true, force: true });
      return false;
    }
  }
}

function fileName(kind: string, key: string): string {
  return `${kind}-${key}`;
}

/** A short hex digest of the inputs a cached file is built from. */
export function cacheKey(...inputs: unknown[]): string {
  const hash = createHash('sha256');
  for (const input of inputs) hash.update(typeof input === 'string' ? input : JSON.stringify(input)).update('\0');
  return hash.digest('hex').slice(0, 20);
}

/** The installed version of a package, read from its package.json (which not every package exports). */
export function packageVersion(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.resolve(name)));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && pkg.version) return pkg.version;
    } catch {
      // no package.json at this level
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the version of ${name}`);
    dir = parent;
  }
}
