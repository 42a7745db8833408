import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { dataDirServerKey } from '../../src/security/keys.js';

const PG = 'postgres://u@db:5432/x';
const publicJwk = { kty: 'EC', crv: 'P-384', x: 'x', y: 'y' };
const client = (extra: object = {}) => ({ clientId: 'gp-system', jwks: { keys: [publicJwk] }, scopes: 'system/Patient.rs', ...extra });
const idp = { issuer: 'https://idp.example', audience: 'stepwise', jwks: 'https://idp.example/jwks.json' };

describe('STEPWISE_AUTH and what it needs', () => {
  it('is off by default on the embedded database (development), and says it was not chosen', () => {
    expect(loadConfig({}).auth).toEqual({ mode: 'off', explicit: false });
  });

  it('refuses to start with DATABASE_URL and no STEPWISE_AUTH, naming the variable', () => {
    expect(() => loadConfig({ DATABASE_URL: PG })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: PG })).toThrow(/STEPWISE_AUTH: must be set with DATABASE_URL/);
    expect(loadConfig({ DATABASE_URL: PG, STEPWISE_AUTH: 'off' }).auth).toEqual({ mode: 'off', explicit: true });
  });

  it('refuses a value other than on or off', () => {
    expect(() => loadConfig({ STEPWISE_AUTH: 'yes' })).toThrow(/STEPWISE_AUTH: must be on or off/);
  });

  it('on needs someone who can get in: clients or an identity provider', () => {
    expect(() => loadConfig({ STEPWISE_AUTH: 'on' })).toThrow(/STEPWISE_AUTH: on needs STEPWISE_CLIENTS or STEPWISE_IDP/);
    const auth = loadConfig({ STEPWISE_AUTH: 'on', STEPWISE_IDP: JSON.stringify(idp) }).auth;
    expect(auth).toMatchObject({ mode: 'on', clients: [], tokenLifetimeSeconds: 300, identityProviders: [{ issuer: ['https://idp.example'], audience: ['stepwise'], claims: { user: 'sub', teams: 'teams' } }] });
  });

  it('reads the registered clients, scopes as a string or a list', () => {
    const auth = loadConfig({ STEPWISE_AUTH: 'on', STEPWISE_CLIENTS: JSON.stringify([client(), client({ clientId: 'lab', scopes: ['system/Observation.c'], jwks: 'https://lab.example/jwks', teams: ['t1'] })]) }).auth;
    expect(auth.mode === 'on' && auth.clients.map((c) => [c.clientId, c.scopes, c.teams])).toEqual([
      ['gp-system', ['system/Patient.rs'], []],
      ['lab', ['system/Observation.c'], ['t1']],
    ]);
  });

  it.each([
    ['not JSON', '[{', /STEPWISE_CLIENTS: not JSON/],
    ['a scope that is not SMART', JSON.stringify([client({ scopes: 'everything' })]), /STEPWISE_CLIENTS\[0\]\["scopes"\]\[0\]: not a SMART resource scope/],
    ['a private key as the client key', JSON.stringify([client({ jwks: { keys: [{ ...publicJwk, d: 'secret' }] } })]), /STEPWISE_CLIENTS\[0\]\["jwks"\].*private key/s],
    ['two clients with one id', JSON.stringify([client(), client()]), /STEPWISE_CLIENTS: two clients share a clientId/],
    ['a JWKS URL that is not http(s)', JSON.stringify([client({ jwks: 'file:///etc/keys' })]), /STEPWISE_CLIENTS\[0\]\["jwks"\]/],
  ])('stops on %s in STEPWISE_CLIENTS, naming it', (_, value, message) => {
    expect(() => loadConfig({ STEPWISE_AUTH: 'on', STEPWISE_CLIENTS: value })).toThrow(message);
  });

  it('requires STEPWISE_TOKEN_KEY with DATABASE_URL and clients, so every instance signs alike', async () => {
    const env = { DATABASE_URL: PG, STEPWISE_AUTH: 'on', STEPWISE_CLIENTS: JSON.stringify([client()]) };
    expect(() => loadConfig(env)).toThrow(/STEPWISE_TOKEN_KEY: required with DATABASE_URL/);
    const { privateKey } = await generateKeyPair('ES384', { extractable: true });
    const key = JSON.stringify(await exportJWK(privateKey));
    expect(loadConfig({ ...env, STEPWISE_TOKEN_KEY: key }).auth).toMatchObject({ mode: 'on', tokenKey: { kty: 'EC', crv: 'P-384' } });
  });

  it('never echoes STEPWISE_TOKEN_KEY in its message', () => {
    const secret = '{"kty":"EC","crv":"P-256","d":"very-secret-value","x":"a","y":"b"}';
    let message = '';
    try {
      loadConfig({ STEPWISE_AUTH: 'on', STEPWISE_IDP: JSON.stringify(idp), STEPWISE_TOKEN_KEY: secret });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/STEPWISE_TOKEN_KEY.*P-384/);
    expect(message).not.toContain('very-secret-value');
    expect(() => loadConfig({ STEPWISE_AUTH: 'on', STEPWISE_IDP: JSON.stringify(idp), STEPWISE_TOKEN_KEY: '{"d":"very-secret' })).toThrow(/^(?![\s\S]*very-secret)[\s\S]*STEPWISE_TOKEN_KEY: not JSON/);
  });
});

describe('the embedded database keeps its own signing key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stepwise-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes one on first start, readable by the server only, and reads the same one after', async () => {
    const first = await dataDirServerKey(dir);
    expect(first.alg).toBe('ES384');
    expect(statSync(join(dir, 'token-key.json')).mode & 0o777).toBe(0o600);
    const again = await dataDirServerKey(dir);
    expect(again.kid).toBe(first.kid);
    expect(again.publicJwk).toEqual(first.publicJwk);
    expect('d' in first.publicJwk).toBe(false);
  });
});
