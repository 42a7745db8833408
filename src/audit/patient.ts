import type { Reference, Resource } from '@medplum/fhirtypes';

/** The person a resource is about, for the audit's patient entity (BALP: entity role 1 "Patient"). */
export function patientOfResource(r: Resource): Reference | undefined {
  if (r.resourceType === 'Patient') return r.id ? { reference: `Patient/${r.id}` } : undefined;
  const x = r as { subject?: Reference; patient?: Reference; for?: Reference; beneficiary?: Reference };
  const ref = [x.subject, x.patient, x.for, x.beneficiary].find((v) => typeof v?.reference === 'string' && v.reference.startsWith('Patient/'));
  return ref ? { reference: ref.reference!.replace(/\/_history\/.*$/, '') } : undefined;
}

/**
 * The patient a request names (BALP PatientRead, PatientQuery): the Patient of the path, else the
 * one `patient` or `subject` search parameter (or a Patient search's `_id`) asks about. A query
 * that names several, or none, has no patient: the audit records the query itself, and who can be
 * found by it is the auditor's to work out (one AuditEvent per request, not one per person found).
 */
export function patientOfRequest(path: string, query: readonly [string, string][]): Reference | undefined {
  const [type, id] = path.split('/');
  if (type === 'Patient' && id && !/^[_$]/.test(id)) return { reference: `Patient/${id}` };
  const one = (name: string) => {
    const values = query.filter(([k]) => k === name || k.startsWith(`${name}:`)).map(([, v]) => v);
    return values.length === 1 && !values[0].includes(',') ? values[0] : undefined;
  };
  const patient = one('patient');
  if (patient && /^(Patient\/)?[A-Za-z0-9\-.]{1,64}$/.test(patient)) return { reference: patient.startsWith('Patient/') ? patient : `Patient/${patient}` };
  const subject = one('subject');
  if (subject && /^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(subject)) return { reference: subject };
  const ids = type === 'Patient' && id === undefined ? one('_id') : undefined;
  if (ids && /^[A-Za-z0-9\-.]{1,64}$/.test(ids)) return { reference: `Patient/${ids}` };
  return undefined;
}
