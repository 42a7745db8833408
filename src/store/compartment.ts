import type { SqlParams } from './sql.js';

/**
 * What a restricted principal may see, as SQL over a `resource` row (see src/security/README.md,
 * "Compartments", for the rules and why). Built by security/compartments.ts from the principal; a
 * principal that sees everything has none, and its queries carry no extra SQL at all.
 */
export interface CompartmentRule {
  /** Types outside every patient compartment (directories, conformance), visible to anyone. */
  sharedTypes: readonly string[];
  /** The principal's teams: values of the team identifier of Organizations. */
  teams: readonly string[];
  teamIdentifierSystem: string;
  /** What the principal holds itself (a Task's owner): `Practitioner/[id]` of a signed-in user. */
  holders: readonly string[];
  /** A sending organisation (ODS code): the referrals it requested, and their Tasks. */
  sender?: { system: string; code: string };
  /** The principal is not limited by team (teams `*`): only `patient` limits it. */
  allTeams?: boolean;
  /** `patient/` scopes with a patient in context (security/patient-context.ts). */
  patient?: PatientLimit;
}

/**
 * The patient in context of a token with `patient/` scopes, and the types those scopes keep to
 * that patient's compartment: `only` those, or `allBut` those (`patient/*`).
 */
export interface PatientLimit {
  /** `Patient/[id]`. */
  patient: string;
  limits(type: string): boolean;
  types: { only: readonly string[] } | { allBut: readonly string[] };
}

export class Compartment {
  constructor(readonly rule: CompartmentRule) {}

  /**
   * Whether the row `a` (columns type, rid, compartments) is visible. `type`, when the caller
   * knows the row's type (a read, a search's own type), lets the condition drop what cannot apply.
   * Every part is an index probe per row: the principal's team keys are worked out once per
   * statement (an uncorrelated sub-select), a caseload check is one (patient, team) probe per key.
   */
  visible(a: string, p: SqlParams, type?: string): string {
    const r = this.rule;
    if (type && r.sharedTypes.includes(type)) return 'true';
    const byTeam = r.allTeams ? 'true' : this.visibleByTeam(a, p, type);
    if (!r.patient) return byTeam;
    const patient = r.patient.patient;
    const ofPatient = () => `${a}.compartments && ${p.add([patient], 'text[]')}`;
    if (type) return r.patient.limits(type) ? `(${byTeam} AND ${ofPatient()})` : byTeam;
    // a search of every type (history, _type): the row's type says whether the patient limit holds
    const types = r.patient.types;
    const unlimited =
      'only' in types
        ? `${a}.type <> ALL(${p.add(types.only, 'text[]')})`
        : `(${a}.type = ANY(${p.add([...r.sharedTypes, ...types.allBut], 'text[]')}))`;
    return `(${byTeam} AND (${unlimited} OR ${ofPatient()}))`;
  }

  /** The team compartment alone (security/README.md, "Compartments"). */
  private visibleByTeam(a: string, p: SqlParams, type?: string, throughTargets = true): string {
    const r = this.rule;
    const parts: string[] = [];
    if (!type) parts.push(`${a}.type = ANY(${p.add(r.sharedTypes, 'text[]')})`);
    const teams = this.teamKeys(p);
    if (teams || r.holders.length) {
      const holders = [teams, r.holders.length ? p.add(r.holders, 'text[]') : undefined].filter(Boolean).join(' || ');
      parts.push(`${a}.compartments && (${holders})`);
    }
    if (teams) parts.push(`EXISTS (SELECT 1 FROM caseload cl WHERE cl.patient = ANY(${a}.compartments) AND cl.team = ANY(${teams}))`);
    if (r.sender && (!type || type === 'ServiceRequest' || type === 'Task')) parts.push(this.sent(a, p, type));
    if (throughTargets && (!type || type === 'Provenance')) parts.push(this.aboutVisible(a, p, type));
    return parts.length ? `(${parts.join(' OR ')})` : 'false';
  }

  /**
   * A Provenance whose target (kept in its compartment keys, compartment-keys.ts) is visible: one
   * index probe of resource (type, id) per target. Targets that are Provenances do not count, so
   * the check goes one level deep.
   */
  private aboutVisible(a: string, p: SqlParams, type?: string): string {
    const target = `EXISTS (SELECT 1 FROM unnest(${a}.compartments) k JOIN resource t ON t.type = split_part(k, '/', 1) AND t.id = split_part(k, '/', 2)
      WHERE t.type <> 'Provenance' AND ${this.visibleByTeam('t', p, undefined, false)})`;
    return type ? target : `(${a}.type = 'Provenance' AND ${target})`;
  }

  /**
   * Whether a version about to be written (type and compartment keys as given) stays within the
   * compartment: visible, and every patient compartment it enters is on one of the principal's
   * caseloads (so a team cannot take a person onto its caseload by writing a Task for them).
   */
  writable(p: SqlParams, type: string, keys: string[]): string {
    const row = `(SELECT ${p.add(type)}::text AS type, NULL::bigint AS rid, ${p.add(keys, 'text[]')} AS compartments)`;
    const teams = this.teamKeys(p) ?? `'{}'::text[]`;
    const onCaseload = `NOT EXISTS (SELECT 1 FROM unnest(w.compartments) k WHERE k LIKE 'Patient/%'
      AND NOT EXISTS (SELECT 1 FROM caseload cl WHERE cl.patient = k AND cl.team = ANY(${teams})))`;
    return `SELECT (${this.visible('w', p, type)}${this.rule.allTeams ? '' : ` AND ${onCaseload}`}) AS ok FROM ${row} w`;
  }

  /**
   * Whether the audit trail's row `e` (column patient) is visible: an event about a person on one
   * of the principal's caseloads. An event about no one (a directory write, a search naming no
   * patient) is not: its query and the ids it names could still tell of another team's people, so
   * a restricted principal fails closed, and the trail as a whole is an auditor's (teams `*`).
   */
  visibleAuditEvent(e: string, p: SqlParams): string {
    const teams = this.teamKeys(p);
    const byTeam = this.rule.allTeams ? 'true' : teams ? `EXISTS (SELECT 1 FROM caseload cl WHERE cl.patient = ${e}.patient AND cl.team = ANY(${teams}))` : 'false';
    const patient = this.rule.patient;
    return patient?.limits('AuditEvent') ? `(${byTeam} AND ${e}.patient = ${p.add(patient.patient)})` : byTeam;
  }

  /** `Organization/[id]` of each of the principal's teams, or undefined when it has none. */
  private teamKeys(p: SqlParams): string | undefined {
    const r = this.rule;
    if (!r.teams.length) return undefined;
    return `ARRAY(SELECT 'Organization/' || o.id FROM sp_token tk JOIN resource o ON o.rid = tk.rid AND NOT o.deleted
      WHERE tk.type = 'Organization' AND tk.param = 'identifier' AND tk.system = ${p.add(r.teamIdentifierSystem)} AND tk.code = ANY(${p.add(r.teams, 'text[]')}))`;
  }

  /**
   * A sender's referrals: ServiceRequests whose requester is its Organization (by ODS code) or a
   * PractitionerRole of it, and the Tasks whose focus or basedOn is such a referral.
   */
  private sent(a: string, p: SqlParams, type?: string): string {
    const { system, code } = this.rule.sender!;
    const org = `SELECT o.id FROM sp_token so JOIN resource o ON o.rid = so.rid AND NOT o.deleted
      WHERE so.type = 'Organization' AND so.param = 'identifier' AND so.system = ${p.add(system)} AND so.code = ${p.add(code)}`;
    const requesters = `ARRAY(SELECT 'Organization/' || x.id FROM (${org}) x
      UNION ALL SELECT 'PractitionerRole/' || po_r.id FROM sp_reference po JOIN resource po_r ON po_r.rid = po.rid AND NOT po_r.deleted
        WHERE po.type = 'PractitionerRole' AND po.param = 'organization' AND po.target_type = 'Organization' AND po.target_id IN (${org}))`;
    const requested = (rid: string) => `EXISTS (SELECT 1 FROM sp_reference rq WHERE rq.rid = ${rid} AND rq.param = 'requester' AND (rq.target_type || '/' || rq.target_id) = ANY(${requesters}))`;
    const referral = `(${a}.type = 'ServiceRequest' AND ${requested(`${a}.rid`)})`;
    const task = `(${a}.type = 'Task' AND EXISTS (SELECT 1 FROM sp_reference f JOIN resource sr ON sr.type = 'ServiceRequest' AND sr.id = f.target_id AND NOT sr.deleted
      WHERE f.rid = ${a}.rid AND f.param IN ('focus', 'based-on') AND f.target_type = 'ServiceRequest' AND ${requested('sr.rid')}))`;
    if (type === 'ServiceRequest') return referral;
    if (type === 'Task') return task;
    return `${referral} OR ${task}`;
  }
}
