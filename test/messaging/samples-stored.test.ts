import type { Bundle } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { MESSAGES, repaired, sample, useProcessor } from './support.js';

/**
 * The repaired samples end to end: stored in one transaction each. These carry open-ended Periods
 * (Encounter.period, Flag.period with a start only), which the resource store must index.
 */
describe('BaRS samples, repaired, stored', () => {
  const fixture = useProcessor();

  const { send } = fixture;

  it('are accepted in turn, and SERVREQ01 cancels the referral its sender made under the same fullUrl', async () => {
    const results: Record<string, Bundle> = {};
    for (const { file, dosId, useContext } of MESSAGES) {
      const res = await send(repaired(file), dosId, useContext);
      expect(res.status, `${file}: ${JSON.stringify(res.body)}`).toBe(200);
      results[file] = res.body as Bundle;
      expect(results[file].entry![0].resource).toMatchObject({ resourceType: 'MessageHeader', response: { identifier: sample(file).id, code: 'ok' } });
    }
    // REFREQ01, REFREQ03 and SERVREQ01 come from one sender (source …|2222222222) and all name their
    // ServiceRequest urn:uuid:236bb75d-…; the cancellation applies to the latest referral of that name.
    const focus = (file: string) => (results[file].entry![0].resource as { focus: { reference: string }[] }).focus[0].reference;
    expect(focus('SERVREQ01-servicerequest-update-revoked.xml')).toBe(focus('REFREQ03-referral-GP-to-community-pharmacy.xml'));
    const [type, id] = focus('SERVREQ01-servicerequest-update-revoked.xml').split('/');
    const sr = (await fixture.t.db.query<{ content: string }>('SELECT content FROM resource WHERE type = $1 AND id = $2', [type, id]))[0];
    expect(JSON.parse(sr.content).status).toBe('revoked');
    // one Patient for the one NHS number across the messages
    expect(await fixture.t.db.query("SELECT id FROM resource WHERE type = 'Patient'")).toHaveLength(1);
  });
});
