import { gunzipSync } from 'node:zlib';
import type { Resource } from '@medplum/fhirtypes';
import { Parser, type ReadEntry } from 'tar';

/**
 * Reads a FHIR NPM package (https://confluence.hl7.org/display/FHIR/NPM+Package+Specification): a
 * gzipped tar whose `package/` folder holds `package.json` (name, version, dependencies) and one
 * JSON file per resource. Examples (`package/example/`, `package/examples/`) and other folders are
 * not the package's conformance content and are left out. Sizes are bounded, so a gzip bomb or a
 * huge archive is refused before it is held in memory.
 */
export interface NpmPackage {
  name: string;
  version: string;
  /** package.json `dependencies`: package name → version. */
  dependencies: Record<string, string>;
  canonical?: string;
  /** The resources of `package/*.json`, with the file each came from. */
  resources: { file: string; resource: Resource }[];
}

export interface PackageLimits {
  /** Largest .tgz accepted, in bytes. */
  maxCompressedBytes: number;
  /** Largest unpacked tar, in bytes. */
  maxUnpackedBytes: number;
  /** Most files in the archive. */
  maxFiles: number;
}

export const DEFAULT_PACKAGE_LIMITS: PackageLimits = { maxCompressedBytes: 50 * 1024 * 1024, maxUnpackedBytes: 300 * 1024 * 1024, maxFiles: 20_000 };

/** A package that cannot be read; `file` names the archive member at fault, when there is one. */
export class PackageError extends Error {
  override name = 'PackageError';

  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

/** Package names: lower-case npm names, as FHIR packages use them (e.g. `uk.nhsdigital.bars.r4`). */
const PACKAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,213}$/i;

export function readNpmPackage(tgz: Uint8Array, limits: PackageLimits = DEFAULT_PACKAGE_LIMITS): NpmPackage {
  if (tgz.byteLength > limits.maxCompressedBytes) throw new PackageError(`The package is ${tgz.byteLength} bytes; the limit is ${limits.maxCompressedBytes}`);
  let tar: Buffer;
  try {
    tar = gunzipSync(tgz, { maxOutputLength: limits.maxUnpackedBytes });
  } catch (err) {
    const tooBig = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
    throw new PackageError(tooBig ? `The package unpacks to more than ${limits.maxUnpackedBytes} bytes` : 'The package is not a gzip file (a FHIR NPM package is a .tgz)');
  }
  const files = untar(tar, limits.maxFiles);
  const manifestText = files.get('package/package.json');
  if (manifestText === undefined) throw new PackageError('The package has no package/package.json, so it is not a FHIR NPM package');
  const manifest = parseJson(manifestText, 'package/package.json') as Record<string, unknown>;
  const name = manifest.name;
  const version = manifest.version;
  if (typeof name !== 'string' || !PACKAGE_NAME.test(name)) throw new PackageError('package.json has no usable name', 'package/package.json');
  if (typeof version !== 'string' || version.length === 0) throw new PackageError('package.json has no version', 'package/package.json');
  const dependencies: Record<string, string> = {};
  if (manifest.dependencies !== undefined) {
    if (typeof manifest.dependencies !== 'object' || manifest.dependencies === null || Array.isArray(manifest.dependencies)) {
      throw new PackageError('package.json dependencies must be an object of name: version', 'package/package.json');
    }
    for (const [dep, v] of Object.entries(manifest.dependencies)) dependencies[dep] = String(v);
  }
  const resources: NpmPackage['resources'] = [];
  for (const [file, text] of files) {
    // resources sit directly in package/; .index.json and package.json are not resources
    if (!/^package\/[^/]+\.json$/.test(file) || file === 'package/package.json' || file.startsWith('package/.')) continue;
    const resource = parseJson(text, file) as Resource;
    if (resource === null || typeof resource !== 'object' || typeof resource.resourceType !== 'string') continue;
    resources.push({ file, resource });
  }
  return { name, version, dependencies, canonical: typeof manifest.canonical === 'string' ? manifest.canonical : undefined, resources };
}

/** The regular files of a tar archive by path (a leading `./` dropped), as UTF-8 text. */
function untar(archive: Buffer, maxFiles: number): Map<string, string> {
  const files = new Map<string, string>();
  let count = 0;
  let failure: PackageError | undefined;
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      if (++count > maxFiles && !failure) failure = new PackageError(`The package has more than ${maxFiles} files`);
      if (failure || entry.type !== 'File') {
        entry.resume();
        return;
      }
      const path = entry.path.replace(/^\.\//, '');
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () => files.set(path, Buffer.concat(chunks).toString('utf8')));
    },
  });
  parser.on('warn', (_code: string, message: string | Error) => {
    failure ??= new PackageError(`The package is not a valid tar archive: ${message instanceof Error ? message.message : message}`);
  });
  parser.on('error', (err: Error) => {
    failure ??= new PackageError(`The package is not a valid tar archive: ${err.message}`);
  });
  parser.end(archive);
  if (failure) throw failure;
  return files;
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    throw new PackageError(`${file} is not valid JSON`, file);
  }
}
