import { describe, expect, it } from 'vitest';
import { readTar, writeTar } from '../../scripts/profiles/tar.js';

describe('ustar writer', () => {
  const files = [
    { path: 'package/package.json', content: Buffer.from('{"name":"x"}\n') },
    { path: 'package/empty.json', content: Buffer.alloc(0) },
    { path: 'package/exactly-one-block.json', content: Buffer.alloc(512, 0x61) },
  ];

  it('round-trips names, contents, mode and time', () => {
    const entries = readTar(writeTar(files, 499162500));
    expect(entries.map((e) => [e.path, e.content.toString()])).toEqual(files.map((f) => [f.path, f.content.toString()]));
    expect(entries.every((e) => e.mode === 0o644 && e.mtime === 499162500 && e.type === '0')).toBe(true);
  });

  it('writes whole 10240-byte records with a valid ustar header', () => {
    const archive = writeTar(files, 0);
    expect(archive.length % 10240).toBe(0);
    expect(archive.toString('ascii', 257, 263)).toBe('ustar\0');
  });

  it('refuses names it cannot store and archives with a damaged header', () => {
    expect(() => writeTar([{ path: `package/${'a'.repeat(100)}.json`, content: Buffer.alloc(1) }], 0)).toThrow(/longer than 100 bytes/);
    const damaged = writeTar(files, 0);
    damaged[0] ^= 1;
    expect(() => readTar(damaged)).toThrow(/checksum/);
  });
});
