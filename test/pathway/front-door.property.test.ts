import type { Bundle, MessageHeader, Patient, Provenance, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import type { MessageProcessor } from '../../src/messaging/index.js';
import { parseSearch } from '../../src/fhir/search/parse.js';
import { PATHWAY } from '../../src/pathway/codes.js';
import { admitReferral } from '../../src/pathway/front-door.js';
import type { ReferralContext } from '../../src/pathway/referral-context.js';
import { ResourceStore } from '../../src/store/resource-store.js';
import { pgliteTestDatabase, type TestDatabase } from '../support/databases.js';
import { barsHeaders, entry, FRONT_DOOR_DOS, guid, processor, REFERRAL_CONTEXT, referralMessage } from '../messaging/support.js';
import { activeFlag, consent, fullPatient, gpRequester, indicator, medication, NHS_NUMBER, risks, serviceRequest, snomed } from './builders.js';

const FOUR_HOURS = 4 * 3_600_000;
/** Red flags as a GP or NHS 111 system codes them (SNOMED CT), not only as Stepwise's own indicators. */
const SNOMED_RED_FLAGS = [snomed('6471006', 'Suicidal thoughts (finding)'), snomed('248062006', 'Self-injurious behavior (finding)'), snomed('1149222004', 'Overdose (disorder)')];
const INDICATORS = ['imminent-risk', 'reduced-sleep', 'increased-paranoia', 'withdrawal', 'disengagement', 'missed-medication', 'increased-substance-use', 'safeguarding-concern', 'long-term-illness', 'stable', 'out-of-scope'];

interface Shape {
  n: number;
  patient: boolean;
  nhs: 'valid' | 'invalid' | 'none';
  birthDate?: string;
  reasons: string[];
  snomedRedFlags: number[];
  flags: string[];
  riskLevel?: 'low' | 'moderate' | 'high';
  consent: boolean;
  medication: boolean;
  requester: boolean;
  priority?: ServiceRequest['priority'];
  receivedAt: Date;
  admitTwice: boolean;
}

const shape: fc.Arbitrary<Omit<Shape, 'n'>> = fc.record({
  patient: fc.boolean(),
  nhs: fc.constantFrom('valid', 'invalid', 'none'),
  birthDate: fc.option(fc.date({ min: new Date('1930-01-01'), max: new Date('2025-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)), { nil: undefined }),
  reasons: fc.subarray(INDICATORS, { maxLength: 4 }),
  snomedRedFlags: fc.subarray([0, 1, 2], { maxLength: 1 }),
  flags: fc.subarray(INDICATORS, { maxLength: 2 }),
  riskLevel: fc.option(fc.constantFrom('low' as const, 'moderate' as const, 'high' as const), { nil: undefined }),
  consent: fc.boolean(),
  medication: fc.boolean(),
  requester: fc.boolean(),
  priority: fc.option(fc.constantFrom('routine' as const, 'urgent' as const, 'asap' as const, 'stat' as const), { nil: undefined }),
  // any instant, nights, weekends and bank holidays included
  receivedAt: fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2027-12-31T23:59:59Z'), noInvalidDate: true }),
  admitTwice: fc.boolean(),
});

function contextOf(s: Shape): ReferralContext {
  const pid = `pat-${s.n}`;
  const subject = { reference: `Patient/${pid}` };
  const withSubject = <T extends Resource>(r: T, id: string): T => ({ ...r, id, ...('subject' in r ? { subject } : {}), ...('patient' in r ? { patient: subject } : {}) });
  const related: Resource[] = [];
  if (s.consent) related.push(withSubject(consent(), `consent-${s.n}`));
  if (s.medication) related.push(withSubject(medication(), `med-${s.n}`));
  if (s.riskLevel) related.push(withSubject(risks(s.riskLevel), `risk-${s.n}`));
  s.flags.forEach((code, i) => related.push(withSubject(activeFlag(code), `flag-${s.n}-${i}`)));
  const identifier = s.nhs === 'none' ? [] : [{ system: NHS_NUMBER, value: s.nhs === 'valid' ? '9000000009' : '9000000001' }];
  return {
    referral: serviceRequest({
      id: `sr-${s.n}`,
      subject: s.patient ? subject : undefined,
      requester: s.requester ? { reference: `PractitionerRole/gp-${s.n}` } : undefined,
      priority: s.priority,
      reasonCode: [{ text: 'referral' }, ...s.reasons.map(indicator), ...s.snomedRedFlags.map((i) => SNOMED_RED_FLAGS[i])],
    }),
    patient: s.patient ? fullPatient({ id: pid, identifier, birthDate: s.birthDate }) : undefined,
    requester: s.requester ? gpRequester({ id: `gp-${s.n}` }) : undefined,
    related: s.patient ? related : [],
  };
}

/** Flags and RiskAssessments are found through the patient, so without one only the reason codes count. */
const hasRedFlag = (s: Shape) => s.reasons.includes('imminent-risk') || s.snomedRedFlags.length > 0 || (s.patient && (s.flags.includes('imminent-risk') || s.riskLevel === 'high'));

describe('front door properties', () => {
  let t: TestDatabase;
  let store: ResourceStore;
  let clock: FixedClock;
  beforeAll(async () => {
    t = await pgliteTestDatabase();
    clock = new FixedClock(new Date('2026-03-02T09:00:00Z'));
    store = new ResourceStore(t.db, clock);
  });
  afterAll(() => t.dispose());

  const search = async <T extends Resource>(type: string, params: [string, string][]) => (await store.search(parseSearch(type, [...params, ['_count', '100']]))).matches as T[];
  let n = 0;

  it('any referral, complete or not: exactly one triage Task and one logged decision; a red flag is due within 4 hours and never held', async () => {
    await fc.assert(
      fc.asyncProperty(shape, async (partial) => {
        const s: Shape = { ...partial, n: ++n };
        const ctx = contextOf(s);
        await store.transaction(async (tx) => {
          for (const r of [ctx.patient, ctx.requester, ...ctx.related, ctx.referral]) if (r) await tx.update(r);
        });
        clock.set(s.receivedAt);
        const first = await admitReferral(store, { serviceRequestId: ctx.referral.id! }, { clock });
        if (s.admitTwice) expect((await admitReferral(store, { serviceRequestId: ctx.referral.id! }, { clock })).created).toBe(false);

        const tasks = await search<Task>('Task', [['focus', `ServiceRequest/${ctx.referral.id}`], ['code', `${PATHWAY.taskCode}|triage`]]);
        expect(tasks).toHaveLength(1);
        const task = tasks[0];
        // the logged outcome: one decision Provenance on the Task's first version
        const logged = await search<Provenance>('Provenance', [['entity', `ServiceRequest/${ctx.referral.id}`]]);
        expect(logged.map((p) => p.target[0].reference)).toEqual([`Task/${task.id}/_history/1`]);
        expect(task.authoredOn).toBe(s.receivedAt.toISOString());
        const due = Date.parse(task.restriction!.period!.end!);
        expect(due).toBeGreaterThan(s.receivedAt.getTime());
        if (hasRedFlag(s)) {
          expect(due - s.receivedAt.getTime()).toBeLessThanOrEqual(FOUR_HOURS);
          expect(task.priority).toBe('stat');
          expect(task.status).toBe('requested');
        }
        const calls = await search<Task>('Task', [['part-of', `Task/${task.id}`], ['code', `${PATHWAY.taskCode}|clarify-referral`]]);
        expect(calls).toHaveLength(first.gaps.length ? 1 : 0);
        // the call is the only Task besides triage: no senior-oversight copy due at the same moment
        expect(await search<Task>('Task', [['focus', `ServiceRequest/${ctx.referral.id}`]])).toHaveLength(1 + calls.length);
        // same-day (stat, asap) is never held; anything else with gaps is
        const sameDay = task.priority === 'stat' || task.priority === 'asap';
        if (first.gaps.length) expect(task.status).toBe(sameDay ? 'requested' : 'on-hold');
        // a priority above routine comes from the referral's ask or a rule that matched, never from nothing
        if (!s.priority && first.decision?.matched.length === 0) expect(task.priority).toBe('routine');
      }),
      { numRuns: 60 },
    );
  });
});

describe('front door properties through messaging', () => {
  let t: TestDatabase;
  let p: MessageProcessor;
  let store: ResourceStore;
  beforeAll(async () => {
    t = await pgliteTestDatabase();
    p = processor(t.db);
    store = new ResourceStore(t.db, new FixedClock(new Date('2026-03-02T09:00:00Z')));
  });
  afterAll(() => t.dispose());

  type Mutation = (m: Bundle) => void;
  const MUTATIONS: Record<string, Mutation> = {
    dropEntry: (m) => void m.entry!.splice(1 + (m.entry!.length % 7), 1),
    badNhsNumber: (m) => void (entry<Patient>(m, 'Patient').resource!.identifier![0].value = '1234567890'),
    noContact: (m) => void delete entry<Patient>(m, 'Patient').resource!.contact,
    draftReferral: (m) => void (entry<ServiceRequest>(m, 'ServiceRequest').resource!.status = 'draft'),
    // indicators add to the reason (a later mutation must not erase an earlier red flag)
    imminentRisk: (m) => void (entry<ServiceRequest>(m, 'ServiceRequest').resource!.reasonCode ??= []).push(indicator('imminent-risk')),
    deterioration: (m) => void (entry<ServiceRequest>(m, 'ServiceRequest').resource!.reasonCode ??= []).push(indicator('reduced-sleep')),
    noReason: (m) => void delete entry<ServiceRequest>(m, 'ServiceRequest').resource!.reasonCode,
    updateReason: (m) => void (entry<MessageHeader>(m, 'MessageHeader').resource!.reason!.coding![0].code = 'update'),
    notMessage: (m) => void (m.type = 'batch'),
  };
  const count = async (sql: string) => Number((await t.db.query<{ n: string }>(sql))[0].n);

  it('no accepted referral is ever without its triage Task; a refused one leaves none', async () => {
    const seen = { processed: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.subarray(Object.keys(MUTATIONS), { maxLength: 3 }), async (names) => {
        const m = referralMessage({ nhsNumber: '9000000009' });
        for (const name of names) MUTATIONS[name](m);
        // what the message finally says, whatever order the mutations came in
        const redFlag = JSON.stringify(m.entry?.find((e) => e.resource?.resourceType === 'ServiceRequest')?.resource ?? {}).includes('imminent-risk');
        const tasksBefore = await count("SELECT count(*)::text AS n FROM resource WHERE type = 'Task'");
        const logBefore = await count('SELECT count(*)::text AS n FROM message_log');
        const res = await p.process({ body: m, headers: barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT, { requestId: guid() }), async: false, baseUrl: 'http://stepwise.test/fhir' });
        expect(await count('SELECT count(*)::text AS n FROM message_log')).toBe(logBefore + 1);
        seen[res.disposition === 'processed' ? 'processed' : 'refused']++;
        if (res.disposition !== 'processed') {
          expect(await count("SELECT count(*)::text AS n FROM resource WHERE type = 'Task'")).toBe(tasksBefore);
          return;
        }
        const header = (res.body as Bundle).entry![0].resource as MessageHeader;
        const sr = header.focus![0].reference!;
        const tasks = (await store.search(parseSearch('Task', [['focus', sr], ['code', `${PATHWAY.taskCode}|triage`]]))).matches as Task[];
        expect(tasks).toHaveLength(1);
        if (redFlag) {
          expect(Date.parse(tasks[0].restriction!.period!.end!) - Date.parse(tasks[0].authoredOn!)).toBeLessThanOrEqual(FOUR_HOURS);
        }
      }),
      { numRuns: 30 },
    );
    // the mutations are mild enough that both sides of the property are exercised
    expect(seen.processed).toBeGreaterThan(3);
    expect(seen.refused).toBeGreaterThan(3);
  });
});
