import type { Bundle, MessageHeader, OperationOutcome, Task } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHWAY } from '../../src/pathway/codes.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { barsHeaders, headersAsHttp, referralMessage, REFERRAL_CONTEXT } from '../messaging/support.js';

const FRONT_DOOR_DOS = '2000072001';

/** A BaRS referral through $process-message reaches the front door in the same transaction. */
describe('referral messages at the front door', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const send = (m: Bundle) => app.fhir('POST', '$process-message', m, headersAsHttp(barsHeaders(FRONT_DOOR_DOS, REFERRAL_CONTEXT)));
  const tasksFor = async (sr: string) => ((await (await app.fhir('GET', `Task?focus=${sr}&code=${PATHWAY.taskCode}|triage`)).json()) as Bundle).entry ?? [];

  it('gives an accepted referral its triage Task and names each minimum dataset gap in the response', async () => {
    const res = await send(referralMessage());
    expect(res.status).toBe(200);
    const body = (await res.json()) as Bundle;
    const sr = (body.entry![0].resource as MessageHeader).focus![0].reference!;
    const outcome = body.entry![1].resource as OperationOutcome;
    const triage = outcome.issue.find((i) => i.diagnostics?.startsWith('Triage Task/'));
    expect(triage?.severity).toBe('information');
    const tasks = await tasksFor(sr);
    expect(tasks).toHaveLength(1);
    const task = tasks[0].resource as Task;
    expect(triage?.diagnostics).toContain(`Task/${task.id}`);
    // process-message builds its processor with the system clock (not the app's FixedClock): receipt is now
    expect(Math.abs(Date.parse(task.authoredOn!) - Date.now())).toBeLessThan(60_000);
    const gaps = outcome.issue.filter((i) => i.code === 'incomplete');
    expect(gaps.length).toBeGreaterThan(0); // the sample carries no RiskAssessment, for one
    // every gap the Task holds is named to the sender, with its minimum dataset code
    expect(gaps.map((g) => g.details?.coding?.[0].code).sort()).toEqual((task.input ?? []).map((i) => i.valueCodeableConcept?.coding?.[0].code).sort());
    for (const g of gaps) expect(g.diagnostics).toMatch(/^Minimum dataset: .+ is (missing|not valid)/);
  });

  it('a message that is refused leaves no triage Task behind', async () => {
    const before = ((await (await app.fhir('GET', 'Task?_summary=count')).json()) as Bundle).total;
    const m = referralMessage({ nhsNumber: '9000000001' });
    const res = await send(m);
    expect(res.status).toBeGreaterThanOrEqual(400);
    const after = ((await (await app.fhir('GET', 'Task?_summary=count')).json()) as Bundle).total;
    expect(after).toBe(before);
  });
});
