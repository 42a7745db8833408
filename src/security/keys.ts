import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, createRemoteJWKSet, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type JWTVerifyGetKey } from 'jose';
import type { JwksSource, PrivateJwk } from '../config/auth.js';

/** The key a JWKS source resolves to: inline sets are local, URLs fetched and cached by jose. */
export function keySetOf(source: JwksSource): JWTVerifyGetKey {
  return typeof source === 'string' ? createRemoteJWKSet(new URL(source), { timeoutDuration: 5000, cooldownDuration: 30_000 }) : createLocalJWKSet(source as { keys: JWK[] });
}

/** The key Stepwise signs its access tokens with, and the public half it verifies them by. */
export interface ServerKey {
  alg: 'ES384' | 'RS384';
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function serverKeyFrom(jwk: PrivateJwk): Promise<ServerKey> {
  const alg = jwk.kty === 'RSA' ? 'RS384' : 'ES384';
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...publicPart } = jwk as JWK;
  const kid = jwk.kid ?? (await calculateJwkThumbprint(publicPart as JWK));
  const privateKey = (await importJWK(jwk as JWK, alg)) as CryptoKey;
  const publicKey = (await importJWK(publicPart as JWK, alg)) as CryptoKey;
  return { alg, kid, privateKey, publicKey, publicJwk: { ...publicPart, kid, alg, use: 'sig' } as JWK };
}

const KEY_FILE = 'token-key.json';

/**
 * The embedded database's signing key: kept beside its data, so tokens outlive a restart, and made
 * on first start. Only one instance runs on an embedded database, so nothing else needs the key.
 */
export async function dataDirServerKey(dataDir: string): Promise<ServerKey> {
  const path = join(dataDir, KEY_FILE);
  try {
    return await serverKeyFrom(JSON.parse(await readFile(path, 'utf8')) as PrivateJwk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`Could not read the token signing key ${path}`, { cause: err });
  }
  const { privateKey } = await generateKeyPair('ES384', { extractable: true });
  const jwk = (await exportJWK(privateKey)) as PrivateJwk;
  await mkdir(dataDir, { recursive: true });
  // written once, readable by the server's user only: it signs every access token
  await writeFile(path, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600);
  return serverKeyFrom(jwk);
}
