import type { CapabilityStatement, CapabilityStatementRest, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { offersInteraction } from '../../src/fhir/resource-types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { offeringRoutes, resolveRoute } from '../../src/http/fhir-router.js';
import { capabilityStatement } from '../../src/http/interactions/capabilities.js';
import { patient } from '../support/builders.js';
import { BASE, startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let statement: CapabilityStatement;
let rest: CapabilityStatementRest;
beforeAll(async () => {
  t = await startTestApp();
  statement = (await (await t.fhir('GET', 'metadata')).json()) as CapabilityStatement;
  rest = statement.rest![0];
});
afterAll(() => t.close());

const resourceOf = (type: string) => rest.resource!.find((r) => r.type === type)!;
const codes = (list: { code?: string }[] | undefined) => (list ?? []).map((i) => i.code);
const names = (list: { name?: string }[] | undefined) => (list ?? []).map((o) => o.name);

type Method = Parameters<typeof resolveRoute>[0];
type Request = { method: Method; path: string; body?: unknown; headers?: Record<string, string> };

/** Where http://hl7.org/fhir/R4/http.html puts each type-level interaction, for one instance `id`. */
const SPEC_REQUEST: Record<string, (type: string, id: string) => Request> = {
  create: (type) => ({ method: 'POST', path: type }),
  'search-type': (type, id) => ({ method: 'GET', path: `${type}?_id=${id}` }),
  read: (type, id) => ({ method: 'GET', path: `${type}/${id}` }),
  vread: (type, id) => ({ method: 'GET', path: `${type}/${id}/_history/1` }),
  update: (type, id) => ({ method: 'PUT', path: `${type}/${id}` }),
  patch: (type, id) => ({ method: 'PATCH', path: `${type}/${id}` }),
  'history-instance': (type, id) => ({ method: 'GET', path: `${type}/${id}/_history` }),
  'history-type': (type) => ({ method: 'GET', path: `${type}/_history` }),
  delete: (type, id) => ({ method: 'DELETE', path: `${type}/${id}` }),
};

/** A request a route pattern serves, with `Patient` and `x` for its parameters. */
const pathOf = (pattern: string) => pattern.replace(':type', 'Patient').replace(':id', 'x').replace(':vid', '1');

describe('GET metadata', () => {
  it('declares the interactions, operations and search parameters the server has', () => {
    expect(statement.fhirVersion).toBe('4.0.1');
    const task = resourceOf('Task');
    expect(names(task.searchParam)).toEqual(expect.arrayContaining(['owner', 'status', 'patient', '_lastUpdated', '_id']));
    expect(codes(task.interaction)).toContain('patch');
    expect(codes(rest.interaction)).toEqual(['transaction', 'batch', 'history-system']);
    expect(names(rest.operation)).toEqual(['process-message', 'load-package', 'ingest', 'outbox', 'outbox-replay']);
    expect(names(resourceOf('PlanDefinition').operation)).toEqual(['apply', 'validate']);
  });

  it('declares conditional read: If-None-Match and If-Modified-Since both give 304 (http.html#cread)', async () => {
    const patientCapability = resourceOf('Patient');
    expect(patientCapability).toMatchObject({ conditionalRead: 'full-support', conditionalCreate: true, conditionalUpdate: true, conditionalDelete: 'single', updateCreate: true, readHistory: true });
    const p = (await (await t.fhir('POST', 'Patient', patient())).json()) as { id: string };
    expect((await t.fhir('GET', `Patient/${p.id}`, undefined, { 'If-None-Match': 'W/"1"' })).status).toBe(304);
    expect((await t.fhir('GET', `Patient/${p.id}`, undefined, { 'If-Modified-Since': new Date(Date.UTC(2030, 0)).toUTCString() })).status).toBe(304);
  });

  it('serves every type-level interaction it declares for Patient, at the URL the spec gives', async () => {
    const declared = codes(resourceOf('Patient').interaction) as string[];
    expect(declared.filter((c) => !(c in SPEC_REQUEST))).toEqual([]);
    const created = (await (await t.fhir('POST', 'Patient', patient())).json()) as { id: string };
    const bodies: Record<string, Pick<Request, 'body' | 'headers'>> = {
      create: { body: patient() },
      update: { body: { ...patient(), id: created.id } },
      patch: { body: JSON.stringify([{ op: 'replace', path: '/birthDate', value: '1980-05-13' }]), headers: { 'Content-Type': 'application/json-patch+json' } },
    };
    // in SPEC_REQUEST order, so delete comes last
    for (const code of Object.keys(SPEC_REQUEST).filter((c) => declared.includes(c))) {
      const { method, path } = SPEC_REQUEST[code]('Patient', created.id);
      const res = await t.fhir(method, path, bodies[code]?.body, bodies[code]?.headers);
      expect({ code, status: res.status }).toEqual({ code, status: expect.toSatisfy((s: number) => s >= 200 && s < 300) });
    }
  });

  it('serves every declared system interaction and operation', async () => {
    const batch = await t.fhir('POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'metadata' } }] });
    expect(batch.status).toBe(200);
    const transaction = await t.fhir('POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient(), request: { method: 'POST', url: 'Patient' } }] });
    expect(transaction.status).toBe(200);
    expect((await t.fhir('GET', '_history')).status).toBe(200);
    expect((await t.fhir('POST', 'Patient/$validate', patient())).status).toBe(200);
    // an operation that changes nothing may be served on GET only ($outbox lists the outbox)
    const served = (name: string | undefined) => ['POST', 'GET'].some((method) => {
      try {
        resolveRoute(method as 'POST', `$${name}`);
        return true;
      } catch {
        return false;
      }
    });
    for (const name of names(rest.operation)) expect(served(name), name).toBe(true);
  });

  it('has a route for every interaction and operation it declares, for every resource type', () => {
    const unserved: string[] = [];
    for (const r of rest.resource!) {
      for (const code of codes(r.interaction) as string[]) {
        const { method, path } = SPEC_REQUEST[code](r.type!, 'x');
        try {
          resolveRoute(method, path.split('?')[0]);
        } catch {
          unserved.push(`${r.type} ${code}`);
        }
      }
      for (const name of names(r.operation)) {
        const served = [`${r.type}/$${name}`, `${r.type}/x/$${name}`].some((path) => {
          try {
            resolveRoute('POST', path);
            return true;
          } catch {
            return false;
          }
        });
        if (!served) unserved.push(`${r.type} $${name}`);
      }
    }
    expect(unserved).toEqual([]);
  });

  it('declares what every route offers; a route offering nothing answers 405', async () => {
    const all = rest.resource!;
    const where = (pattern: string): (CapabilityStatementRestResource | CapabilityStatementRest)[] => {
      const first = pattern.split('/')[0];
      if (first === ':type') return all;
      const one = all.find((r) => r.type === first);
      return one ? [one] : [rest];
    };
    for (const route of offeringRoutes) {
      if (route.pattern === 'metadata') continue;
      if (route.offers.length === 0) {
        expect({ route, status: (await t.fhir(route.method, pathOf(route.pattern))).status }).toEqual({ route, status: 405 });
        continue;
      }
      for (const target of where(route.pattern)) {
        for (const offer of route.offers) {
          if ('interaction' in offer) {
            // an append-only type (the audit trail) is never offered a change
            if ('type' in target && !offersInteraction(target.type, offer.interaction)) expect(codes(target.interaction)).not.toContain(offer.interaction);
            else expect(codes(target.interaction)).toContain(offer.interaction);
          }
          else if ('operation' in offer) expect(target.operation).toContainEqual(offer.operation);
          else expect(target).toMatchObject(offer.supports);
        }
      }
    }
  });

  it('follows the route table: a route taken away is no longer declared', () => {
    const withoutVread = capabilityStatement(BASE, offeringRoutes.filter((r) => !r.pattern.endsWith('/_history/:vid')));
    const patientCapability = withoutVread.rest![0].resource!.find((r) => r.type === 'Patient')!;
    expect(codes(patientCapability.interaction)).not.toContain('vread');
    expect(patientCapability.readHistory).toBeUndefined();
    expect(codes(patientCapability.interaction)).toContain('read');
  });
});
