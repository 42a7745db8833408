import type { Patient, Resource, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { FhirError } from '../../src/errors.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { patient, task, NHS_NUMBER } from '../support/builders.js';
import type { TestDatabase } from '../support/databases.js';

const q = (type: string, query: string) => parseSearch(type, [...new URLSearchParams(query)], { strict: true });

async function ids(store: ResourceStore, type: string, query: string): Promise<string[]> {
  return (await store.search(q(type, query))).matches.map((r) => r.id!);
}

async function expectFhirError(p: Promise<unknown>, status: number): Promise<FhirError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FhirError);
  expect((err as FhirError).status).toBe(status);
  return err as FhirError;
}

/** The behaviour every ResourceStore must have, whatever database is under it. */
export function resourceStoreContract(name: string, open: () => Promise<TestDatabase>): void {
  describe(`ResourceStore on ${name}`, () => {
    let t: TestDatabase;
    let store: ResourceStore;
    const clock = new FixedClock(new Date('2026-01-05T09:00:00Z'));

    beforeAll(async () => {
      t = await open();
      store = new ResourceStore(t.db, clock);
    });
    afterAll(async () => t?.dispose());

    describe('versions', () => {
      it('creates with a server id, version 1 and lastUpdated from the clock', async () => {
        const p = await store.create(patient());
        expect(p.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(p.meta).toMatchObject({ versionId: '1', lastUpdated: '2026-01-05T09:00:00.000Z' });
        expect(await store.read('Patient', p.id!)).toEqual(p);
      });

      it('updates to a new version, keeps the old one readable, and refuses a stale If-Match', async () => {
        const p = await store.create(patient());
        clock.advance(1000);
        const v2 = await store.update({ ...p, gender: 'male' }, { ifMatch: 1 });
        expect(v2.resource.meta?.versionId).toBe('2');
        expect(v2.created).toBe(false);
        expect((await store.vread('Patient', p.id!, '1')) as Patient).not.toHaveProperty('gender');
        expect(((await store.read('Patient', p.id!)) as Patient).gender).toBe('male');
        await expectFhirError(store.update({ ...p, gender: 'female' }, { ifMatch: 1 }), 412);
      });

      it('does not make a version for an update that changes nothing', async () => {
        const p = await store.create(patient());
        const same = await store.update({ ...p, meta: undefined } as Patient);
        expect(same.changed).toBe(false);
        expect(same.resource.meta?.versionId).toBe('1');
      });

      it('creates on update when the id is new (update as create)', async () => {
        const r = await store.update({ ...patient(), id: 'client-chosen-1' });
        expect(r.created).toBe(true);
        expect(r.resource.meta?.versionId).toBe('1');
      });

      it('creates many resources at once, each with its id, version and search index', async () => {
        const family = `Many${Date.now()}`;
        const made = await store.createMany([
          { resource: patient({ name: [{ family }] }), id: `many-p-${family}` },
          { resource: task({ for: { reference: `Patient/many-p-${family}` }, description: family }), id: `many-t-${family}` },
          { resource: patient({ name: [{ family }], gender: 'other' }), id: `many-q-${family}` },
        ]);
        expect(made.map((r) => [r.id, r.meta?.versionId])).toEqual([
          [`many-p-${family}`, '1'],
          [`many-t-${family}`, '1'],
          [`many-q-${family}`, '1'],
        ]);
        expect((await ids(store, 'Patient', `family:exact=${family}&_sort=_id`)).length).toBe(2);
        expect(await ids(store, 'Task', `patient=Patient/many-p-${family}`)).toEqual([`many-t-${family}`]);
        expect((await store.history({ type: 'Task', id: `many-t-${family}`, count: 5 })).entries.map((e) => e.method)).toEqual(['POST']);
        // a taken id fails the whole set
        await expectFhirError(store.createMany([{ resource: patient(), id: `many-new-${family}` }, { resource: patient(), id: `many-p-${family}` }]), 409);
        await expectFhirError(store.read('Patient', `many-new-${family}`), 404);
      });

      it('deletes as a new version: read is 410, vread of the earlier version still works, update revives', async () => {
        const p = await store.create(patient());
        const d = await store.delete('Patient', p.id!);
        expect(d).toEqual({ deleted: true, versionId: 2 });
        await expectFhirError(store.read('Patient', p.id!), 410);
        await expectFhirError(store.vread('Patient', p.id!, '2'), 410);
        expect((await store.vread('Patient', p.id!, '1')).id).toBe(p.id);
        expect(await store.delete('Patient', p.id!)).toEqual({ deleted: false });
        const revived = await store.update({ ...p, meta: undefined } as Patient);
        expect(revived.created).toBe(true);
        expect(revived.resource.meta?.versionId).toBe('3');
      });

      it('answers 404 for unknown resources and versions', async () => {
        await expectFhirError(store.read('Patient', 'nope'), 404);
        await expectFhirError(store.vread('Patient', 'nope', '1'), 404);
        await expectFhirError(store.vread('Patient', 'nope', 'x'), 404);
      });

      it('lists instance history newest first, with deletions, paged by cursor', async () => {
        const p = await store.create(patient());
        await store.update({ ...p, gender: 'male' });
        await store.update({ ...p, gender: 'female' });
        await store.delete('Patient', p.id!);
        const page1 = await store.history({ type: 'Patient', id: p.id, count: 3 });
        expect(page1.total).toBe(4);
        expect(page1.entries.map((e) => [e.versionId, e.method, e.deleted])).toEqual([
          [4, 'DELETE', true],
          [3, 'PUT', false],
          [2, 'PUT', false],
        ]);
        const page2 = await store.history({ type: 'Patient', id: p.id, count: 3, cursor: page1.next });
        expect(page2.entries.map((e) => e.versionId)).toEqual([1]);
        expect(page2.next).toBeUndefined();
      });

      it('filters history by _since', async () => {
        clock.set(new Date('2030-01-01T00:00:00Z'));
        const p = await store.create(patient());
        clock.set(new Date('2030-01-02T00:00:00Z'));
        await store.update({ ...p, gender: 'other' });
        const h = await store.history({ type: 'Patient', since: new Date('2030-01-01T12:00:00Z'), count: 10 });
        expect(h.entries.map((e) => [e.id, e.versionId])).toEqual([[p.id, 2]]);
      });
    });

    describe('search', () => {
      const tag = `s-${Math.random().toString(36).slice(2)}`;
      const T = (query: string) => `_tag=${tag}&${query}`;
      let alice: Patient;
      let bob: Patient;
      let tasks: Task[];

      beforeAll(async () => {
        const meta = { tag: [{ system: 'urn:test', code: tag }] };
        alice = await store.create(patient({ meta, name: [{ family: 'Ångström', given: ['Alice'] }], birthDate: '1990-02-03', identifier: [{ system: NHS_NUMBER, value: '9434765919' }], gender: 'female' }));
        bob = await store.create(patient({ meta, name: [{ family: 'Brown', given: ['Bob'] }], birthDate: '1975', identifier: [{ system: 'urn:other', value: '9434765919' }] }));
        tasks = [];
        for (let i = 0; i < 5; i++) {
          clock.advance(60_000);
          tasks.push(
            await store.create(
              task({
                meta,
                status: i % 2 ? 'requested' : 'in-progress',
                priority: (['routine', 'urgent', 'stat', 'asap', 'routine'] as const)[i],
                for: { reference: `Patient/${i < 3 ? alice.id : bob.id}` },
                owner: { reference: i < 4 ? 'Organization/front-door' : 'Organization/cmht' },
                authoredOn: `2026-01-0${i + 1}T10:00:00Z`,
              }),
            ),
          );
        }
      });

      it('matches strings by prefix, ignoring case and accents; :exact and :contains', async () => {
        expect(await ids(store, 'Patient', T('family=ang'))).toEqual([alice.id]);
        expect(await ids(store, 'Patient', T('name=ALI'))).toEqual([alice.id]);
        expect(await ids(store, 'Patient', T('family:exact=Ångström'))).toEqual([alice.id]);
        expect(await ids(store, 'Patient', T('family:exact=angstrom'))).toEqual([]);
        expect(await ids(store, 'Patient', T('family:contains=ROW'))).toEqual([bob.id]);
      });

      it('matches tokens by system|code, |code, system| and code; :not; :missing', async () => {
        expect(await ids(store, 'Patient', T(`identifier=${NHS_NUMBER}|9434765919`))).toEqual([alice.id]);
        expect((await ids(store, 'Patient', T('identifier=9434765919'))).sort()).toEqual([alice.id, bob.id].sort());
        expect(await ids(store, 'Patient', T('identifier=urn:other|'))).toEqual([bob.id]);
        expect(await ids(store, 'Patient', T('gender=|female'))).toEqual([alice.id]);
        expect(await ids(store, 'Patient', T('gender:not=female'))).toEqual([bob.id]);
        expect(await ids(store, 'Patient', T('gender:missing=true'))).toEqual([bob.id]);
        expect(await ids(store, 'Patient', T('gender:missing=false'))).toEqual([alice.id]);
      });

      it('matches dates with prefixes and partial dates', async () => {
        expect(await ids(store, 'Patient', T('birthdate=1990'))).toEqual([alice.id]);
        expect(await ids(store, 'Patient', T('birthdate=1990-02-03'))).toEqual([alice.id]);
        expect(await ids(store, 'Patient', T('birthdate=lt1980'))).toEqual([bob.id]);
        expect(await ids(store, 'Patient', T('birthdate=ge1990-02'))).toEqual([alice.id]);
        // 1975 is a whole year: it is not within 1975-06, but it starts before it
        expect(await ids(store, 'Patient', T('birthdate=1975-06'))).toEqual([]);
        expect(await ids(store, 'Patient', T('birthdate=le1975-06'))).toEqual([bob.id]);
        expect(await ids(store, 'Task', T('authored-on=gt2026-01-03T10:00:00Z&_sort=authored-on'))).toEqual([tasks[3].id, tasks[4].id]);
      });

      it('matches references as Type/id, bare id, and by chain; ORs commas and ANDs repeats', async () => {
        expect(await ids(store, 'Task', T(`patient=Patient/${bob.id}&_sort=_id`))).toEqual([tasks[3].id, tasks[4].id].sort());
        expect((await ids(store, 'Task', T(`subject=${bob.id}`))).length).toBe(2);
        expect((await ids(store, 'Task', T(`patient.identifier=${NHS_NUMBER}|9434765919`))).sort()).toEqual(tasks.slice(0, 3).map((x) => x.id).sort());
        expect((await ids(store, 'Task', T('status=requested,in-progress'))).length).toBe(5);
        expect(await ids(store, 'Task', T('status=requested&owner=Organization/cmht'))).toEqual([]);
        expect(await ids(store, 'Task', T('status=in-progress&owner=Organization/cmht'))).toEqual([tasks[4].id]);
      });

      it('stores and finds periods open at either end (an ongoing encounter)', async () => {
        const meta = { tag: [{ system: 'urn:test', code: tag }] };
        const ongoing = await store.create({ resourceType: 'Encounter', meta, status: 'in-progress', class: { code: 'AMB' }, period: { start: '2026-01-01T10:00:00Z' } });
        const untilMarch = await store.create({ resourceType: 'Encounter', meta, status: 'finished', class: { code: 'AMB' }, period: { end: '2026-03-01' } });
        expect(await ids(store, 'Encounter', T('date=gt2030-01-01'))).toEqual([ongoing.id]);
        expect(await ids(store, 'Encounter', T('date=lt2000-01-01'))).toEqual([untilMarch.id]);
      });

      it('matches a reference by the identifier it carries (:identifier), and _lastUpdated by range', async () => {
        const meta = { tag: [{ system: 'urn:test', code: tag }] };
        const byIdentifier = await store.create(task({ meta, for: { identifier: { system: NHS_NUMBER, value: '9876543210' } } }));
        expect(await ids(store, 'Task', T(`subject:identifier=${NHS_NUMBER}|9876543210`))).toEqual([byIdentifier.id]);
        expect(await ids(store, 'Task', T(`subject:identifier=${NHS_NUMBER}|1111111111`))).toEqual([]);
        const at = byIdentifier.meta!.lastUpdated!;
        expect(await ids(store, 'Task', T(`_lastUpdated=ge${at}&_id=${byIdentifier.id}`))).toEqual([byIdentifier.id]);
        expect(await ids(store, 'Task', T(`_lastUpdated=lt${at}&_id=${byIdentifier.id}`))).toEqual([]);
        await store.delete('Task', byIdentifier.id);
      });

      it('finds resources referred to by others with _has', async () => {
        expect(await ids(store, 'Patient', T('_has:Task:patient:owner=Organization/cmht'))).toEqual([bob.id]);
        expect((await ids(store, 'Patient', T('_has:Task:patient:status=in-progress&_sort=_id'))).length).toBe(2);
      });

      it('sorts by several keys, descending too, with _id and _lastUpdated', async () => {
        const byPriority = await store.search(q('Task', T('_sort=priority,-authored-on')));
        expect(byPriority.matches.map((r) => (r as Task).priority)).toEqual(['asap', 'routine', 'routine', 'stat', 'urgent']);
        expect(byPriority.matches.slice(1, 3).map((r) => r.id)).toEqual([tasks[4].id, tasks[0].id]);
        expect(await ids(store, 'Task', T('_sort=-_lastUpdated'))).toEqual(tasks.map((x) => x.id).reverse());
      });

      it('reads a queue (owner = X, newest first) page by page from the reference index', async () => {
        const query = T('owner=Organization/front-door&status=in-progress,requested&_sort=-_lastUpdated&_count=3');
        const first = await store.search(q('Task', query));
        expect(first.matches.map((r) => r.id)).toEqual([tasks[3].id, tasks[2].id, tasks[1].id]);
        const second = await store.search({ ...q('Task', query), cursor: first.next });
        expect(second.matches.map((r) => r.id)).toEqual([tasks[0].id]);
        expect(second.next).toBeUndefined();
        const back = await store.search({ ...q('Task', query), cursor: second.previous });
        expect(back.matches.map((r) => r.id)).toEqual([tasks[3].id, tasks[2].id, tasks[1].id]);
        expect((await store.search(q('Task', `${query}&_total=accurate`))).total).toBe(4);
      });

      it('pages with stable next and previous cursors while resources are added', async () => {
        const first = await store.search(q('Task', T('_sort=-authored-on&_count=2&_total=accurate')));
        expect(first.total).toBe(5);
        expect(first.matches.map((r) => r.id)).toEqual([tasks[4].id, tasks[3].id]);
        expect(first.previous).toBeUndefined();
        // a newer task arrives between page requests: it sorts first, and must not shift page 2
        await store.create(task({ meta: { tag: [{ system: 'urn:test', code: tag }] }, authoredOn: '2026-02-01' }));
        const second = await store.search({ ...q('Task', T('_sort=-authored-on&_count=2')), cursor: first.next });
        expect(second.matches.map((r) => r.id)).toEqual([tasks[2].id, tasks[1].id]);
        const third = await store.search({ ...q('Task', T('_sort=-authored-on&_count=2')), cursor: second.next });
        expect(third.matches.map((r) => r.id)).toEqual([tasks[0].id]);
        expect(third.next).toBeUndefined();
        const back = await store.search({ ...q('Task', T('_sort=-authored-on&_count=2')), cursor: third.previous });
        expect(back.matches.map((r) => r.id)).toEqual([tasks[2].id, tasks[1].id]);
        expect(back.next).toBeDefined();
      });

      it('includes targets and referring resources, iterating on request', async () => {
        const page = await store.search(q('Task', T(`_id=${tasks[4].id}&_include=Task:patient`)));
        expect(page.included.map((r) => r.id)).toEqual([bob.id]);
        const rev = await store.search(q('Patient', T(`_id=${bob.id}&_revinclude=Task:patient`)));
        expect(rev.included.map((r) => r.id).sort()).toEqual([tasks[3].id, tasks[4].id].sort());
        const iter = await store.search(q('Task', T(`_id=${tasks[4].id}&_include=Task:patient&_revinclude:iterate=Task:patient`)));
        expect(iter.included.map((r: Resource) => r.id).sort()).toEqual([bob.id, tasks[3].id].sort());
      });

      it('counts without returning resources for _summary=count', async () => {
        const page = await store.search(q('Task', T('_summary=count')));
        expect(page.total).toBeGreaterThanOrEqual(5);
        expect(page.matches).toEqual([]);
      });

      it('matches numbers and quantities with implied precision and prefixes', async () => {
        const meta = { tag: [{ system: 'urn:test', code: tag }] };
        const low = await store.create({ resourceType: 'RiskAssessment', meta, status: 'final', subject: { reference: 'Patient/x' }, prediction: [{ probabilityDecimal: 0.12 }] });
        const high = await store.create({ resourceType: 'RiskAssessment', meta, status: 'final', subject: { reference: 'Patient/x' }, prediction: [{ probabilityDecimal: 0.8 }] });
        expect(await ids(store, 'RiskAssessment', T('probability=0.1'))).toEqual([low.id]);
        expect(await ids(store, 'RiskAssessment', T('probability=0.12'))).toEqual([low.id]);
        expect(await ids(store, 'RiskAssessment', T('probability=0.13'))).toEqual([]);
        expect(await ids(store, 'RiskAssessment', T('probability=gt0.5'))).toEqual([high.id]);
        const obs = await store.create({ resourceType: 'Observation', meta, status: 'final', code: { text: 'PHQ-9' }, valueQuantity: { value: 18, system: 'http://unitsofmeasure.org', code: '{score}' } });
        expect(await ids(store, 'Observation', T('value-quantity=ge15|http://unitsofmeasure.org|{score}'))).toEqual([obs.id]);
        expect(await ids(store, 'Observation', T('value-quantity=ge15|http://unitsofmeasure.org|mg'))).toEqual([]);
      });

      it('matches uris exactly and with :below, tokens by :text, and _profile', async () => {
        const meta = { tag: [{ system: 'urn:test', code: tag }], profile: ['https://fhir.stepwise.example/StructureDefinition/triage-task'] };
        const qn = await store.create({ resourceType: 'Questionnaire', meta, status: 'active', url: 'https://fhir.stepwise.example/Questionnaire/mds' });
        expect(await ids(store, 'Questionnaire', T('url=https://fhir.stepwise.example/Questionnaire/mds'))).toEqual([qn.id]);
        expect(await ids(store, 'Questionnaire', T('url=https://fhir.stepwise.example/Questionnaire'))).toEqual([]);
        expect(await ids(store, 'Questionnaire', T('url:below=https://fhir.stepwise.example/'))).toEqual([qn.id]);
        expect(await ids(store, 'Questionnaire', T('_profile=https://fhir.stepwise.example/StructureDefinition/triage-task'))).toEqual([qn.id]);
        const cond = await store.create({ resourceType: 'Condition', meta, subject: { reference: 'Patient/x' }, code: { text: 'Relapse signature: reduced sleep', coding: [{ system: 'urn:codes', code: 'relapse', display: 'Relapse signature' }] } });
        expect(await ids(store, 'Condition', T('code:text=relapse sig'))).toEqual([cond.id]);
        expect(await ids(store, 'Condition', T('code:text=sleep'))).toEqual([]);
      });

      it('does not find deleted resources', async () => {
        const p = await store.create(patient({ meta: { tag: [{ system: 'urn:test', code: tag }] }, name: [{ family: 'Zed' }] }));
        expect(await ids(store, 'Patient', T('family=zed'))).toEqual([p.id]);
        await store.delete('Patient', p.id!);
        expect(await ids(store, 'Patient', T('family=zed'))).toEqual([]);
      });
    });

    describe('conditional operations and concurrency', () => {
      it('50 parallel conditional creates with the same criteria make exactly one resource', async () => {
        const criteria = `identifier=urn:race|${Math.random()}`;
        const value = criteria.split('|')[1];
        const results = await Promise.all(
          Array.from({ length: 50 }, () => store.conditionalCreate(patient({ identifier: [{ system: 'urn:race', value }] }), q('Patient', criteria), criteria)),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.resource.id)).size).toBe(1);
        expect(await ids(store, 'Patient', criteria)).toHaveLength(1);
      });

      it('concurrent updates of one resource each get their own version, in order', async () => {
        const p = await store.create(patient());
        await Promise.all(Array.from({ length: 20 }, (_, i) => store.update({ ...p, meta: undefined, name: [{ family: `V${i}` }] })));
        const h = await store.history({ type: 'Patient', id: p.id, count: 50 });
        expect(h.entries.map((e) => e.versionId)).toEqual(Array.from({ length: 21 }, (_, i) => 21 - i));
        const times = h.entries.map((e) => e.lastUpdated.getTime());
        expect([...times].sort((a, b) => b - a)).toEqual(times);
        expect(new Set(times).size).toBe(21);
      });

      it('conditional update updates the single match, creates on none, refuses several', async () => {
        const value = `cu-${Math.random()}`;
        const criteria = `identifier=urn:cu|${value}`;
        const made = await store.conditionalUpdate(patient({ identifier: [{ system: 'urn:cu', value }] }), q('Patient', criteria), criteria);
        expect(made.created).toBe(true);
        const upd = await store.conditionalUpdate(patient({ identifier: [{ system: 'urn:cu', value }], gender: 'male' }), q('Patient', criteria), criteria);
        expect(upd.resource.id).toBe(made.resource.id);
        expect(upd.resource.meta?.versionId).toBe('2');
        await store.create(patient({ identifier: [{ system: 'urn:cu', value }] }));
        await expectFhirError(store.conditionalUpdate(patient(), q('Patient', criteria), criteria), 412);
        await expectFhirError(store.conditionalDelete(q('Patient', criteria), criteria), 412);
      });

      it('a failed transaction leaves nothing behind', async () => {
        const family = `Rollback${Date.now()}`;
        await expect(
          store.transaction(async (tx) => {
            await tx.create(patient({ name: [{ family }] }));
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await ids(store, 'Patient', `family:exact=${family}`)).toEqual([]);
      });
    });
  });
}
