import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults to the embedded database on port 8080', () => {
    expect(loadConfig({})).toMatchObject({ port: 8080, databaseUrl: undefined, dataDir: './data', logLevel: 'info' });
  });

  it('reads PostgreSQL settings and trims a trailing slash from BASE_URL', () => {
    const c = loadConfig({ PORT: '9000', DATABASE_URL: 'postgres://u@db:5432/x', STEPWISE_AUTH: 'off', BASE_URL: 'https://sw.example/fhir/' });
    expect(c).toMatchObject({ port: 9000, databaseUrl: 'postgres://u@db:5432/x', baseUrl: 'https://sw.example/fhir' });
  });

  it('treats an empty DATABASE_URL as the embedded database', () => {
    expect(loadConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined();
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['LOG_LEVEL', 'loud'],
    ['MAX_BODY_BYTES', '10'],
  ])('stops on a bad %s, naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}: .*\\(got "${value}"\\)`));
  });

  it('reads the hosted BaRS services, and a bad STEPWISE_BARS_SERVICES stops start-up as a ConfigError', () => {
    expect(loadConfig({}).barsServices.map((s) => s.key)).toEqual(['front-door', 'crisis-line', 'cmht']);
    expect(() => loadConfig({ STEPWISE_BARS_SERVICES: '[{' })).toThrow(ConfigError);
  });

  it('runs the pathway scheduler every 5 s unless STEPWISE_SCHEDULER=off, and reads its interval', () => {
    expect(loadConfig({}).scheduler).toEqual({ enabled: true, intervalMs: 5000 });
    expect(loadConfig({ STEPWISE_SCHEDULER: 'off', STEPWISE_SCHEDULER_INTERVAL_MS: '250' }).scheduler).toEqual({ enabled: false, intervalMs: 250 });
    expect(() => loadConfig({ STEPWISE_SCHEDULER: 'no' })).toThrow(/STEPWISE_SCHEDULER: /);
    expect(() => loadConfig({ STEPWISE_SCHEDULER_INTERVAL_MS: '10' })).toThrow(/STEPWISE_SCHEDULER_INTERVAL_MS: /);
  });

  it('makes a handover\'s first contact due within 72 hours unless FIRST_CONTACT_AFTER_CRISIS_HOURS says otherwise', () => {
    expect(loadConfig({}).firstContactAfterCrisisHours).toBe(72);
    expect(loadConfig({ FIRST_CONTACT_AFTER_CRISIS_HOURS: '48' }).firstContactAfterCrisisHours).toBe(48);
    expect(() => loadConfig({ FIRST_CONTACT_AFTER_CRISIS_HOURS: '0' })).toThrow(/FIRST_CONTACT_AFTER_CRISIS_HOURS/);
  });

  it('bounds request bodies (64 levels, 10,000 items, 1 MiB strings), with no rate limit and no CORS unless set', () => {
    const c = loadConfig({});
    expect(c.inputLimits).toEqual({ maxDepth: 64, maxArrayItems: 10_000, maxStringLength: 1024 * 1024 });
    expect(c.rateLimitPerMinute).toBe(0);
    expect(c.corsOrigins).toEqual([]);
    const set = loadConfig({ MAX_NESTING_DEPTH: '32', MAX_ARRAY_ITEMS: '2000', MAX_STRING_LENGTH: '65536', RATE_LIMIT_PER_MINUTE: '600', CORS_ORIGINS: 'https://app.example, http://localhost:5173' });
    expect(set).toMatchObject({ inputLimits: { maxDepth: 32, maxArrayItems: 2000, maxStringLength: 65536 }, rateLimitPerMinute: 600, corsOrigins: ['https://app.example', 'http://localhost:5173'] });
  });

  it('refuses CORS_ORIGINS that are not origins, and MAX_ARRAY_ITEMS below MAX_BUNDLE_ENTRIES', () => {
    expect(() => loadConfig({ CORS_ORIGINS: 'https://app.example/path' })).toThrow(/CORS_ORIGINS: /);
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS: /);
    expect(() => loadConfig({ MAX_ARRAY_ITEMS: '500' })).toThrow(/MAX_ARRAY_ITEMS: must be at least MAX_BUNDLE_ENTRIES \(1000\)/);
    expect(loadConfig({ MAX_ARRAY_ITEMS: '500', MAX_BUNDLE_ENTRIES: '500' }).inputLimits.maxArrayItems).toBe(500);
  });

  it('allows the loopback names on PORT, else BASE_URL\'s host, unless ALLOWED_HOSTS says which', () => {
    expect(loadConfig({}).allowedHosts).toEqual(['localhost:8080', '127.0.0.1:8080', '[::1]:8080']);
    expect(loadConfig({ PORT: '9000' }).allowedHosts).toEqual(['localhost:9000', '127.0.0.1:9000', '[::1]:9000']);
    expect(loadConfig({ BASE_URL: 'https://sw.example.nhs.uk/fhir' }).allowedHosts).toEqual(['sw.example.nhs.uk']);
    expect(loadConfig({ BASE_URL: 'http://sw.internal:8443/fhir', ALLOWED_HOSTS: ' a.example , B.example:81,[::1]:8080' }).allowedHosts).toEqual(['a.example', 'B.example:81', '[::1]:8080']);
    expect(() => loadConfig({ ALLOWED_HOSTS: 'https://a.example' })).toThrow(/ALLOWED_HOSTS: must be a comma-separated list of host names/);
    expect(() => loadConfig({ ALLOWED_HOSTS: 'a.example/fhir' })).toThrow(/ALLOWED_HOSTS: /);
  });

  it('depends on no component: configuration is read before any component exists', () => {
    const imports = [...readFileSync(new URL('./config.ts', import.meta.url), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(imports.filter((i) => i.startsWith('.') && !i.startsWith('./config/'))).toEqual([]);
  });
});
