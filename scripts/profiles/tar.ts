/**
 * A minimal POSIX ustar writer and reader (POSIX.1-1988 "ustar" interchange format, as in
 * https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06), enough for
 * a FHIR NPM package: regular files only, names up to 100 bytes, fixed owner, mode and mtime, so
 * the same files always give the same bytes.
 */
export interface TarFile {
  path: string;
  content: Buffer;
}

const BLOCK = 512;
/** POSIX blocking factor 20: archives are a whole number of 10240-byte records. */
const RECORD = 20 * BLOCK;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(path: string, size: number, mtime: number): Buffer {
  const name = Buffer.from(path, 'utf8');
  if (name.length > 100) throw new Error(`tar: ${path} is longer than 100 bytes`);
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0);
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.fill(' ', 148, 156); // the checksum is computed with its own field as spaces
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

export function writeTar(files: readonly TarFile[], mtime: number): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(header(file.path, file.content.length, mtime), file.content);
    const pad = (BLOCK - (file.content.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK)); // end of archive: two zero blocks
  const length = parts.reduce((n, p) => n + p.length, 0);
  parts.push(Buffer.alloc((RECORD - (length % RECORD)) % RECORD));
  return Buffer.concat(parts);
}

export interface TarEntry extends TarFile {
  mode: number;
  mtime: number;
  type: string;
}

/** Reads the entries of a ustar archive; throws on a bad header checksum. */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const h = archive.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    const field = (start: number, length: number): string => h.toString('utf8', start, start + length).replace(/\0.*$/s, '');
    const stored = parseInt(field(148, 8).trim(), 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    if (sum !== stored) throw new Error(`tar: bad header checksum at offset ${offset}`);
    const size = parseInt(field(124, 12), 8);
    const start = offset + BLOCK;
    entries.push({
      path: field(0, 100),
      mode: parseInt(field(100, 8), 8),
      mtime: parseInt(field(136, 12), 8),
      type: field(156, 1),
      content: archive.subarray(start, start + size),
    });
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}
