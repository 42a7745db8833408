/**
 * A national identifier (NHS number, ODS code, SDS or GMC id) that a message created a resource
 * for is claimed here, in the statement that creates the resource. The primary key makes a second
 * message creating the same person at the same moment fail instead of duplicating them: it is run
 * again and then finds the first one's resource. This replaces an advisory lock and a second
 * look-up per new identity (two round trips) with an index entry written in the same statement.
 *
 * A claim whose resource no longer carries the identifier (deleted, or changed by the triage team)
 * is stale: the next message naming that identifier removes it and claims it again.
 */
export const sql = `
CREATE TABLE identity_claim (
  type    text NOT NULL,
  system  text NOT NULL,
  value   text NOT NULL,
  id      text NOT NULL,
  CONSTRAINT identity_claim_pkey PRIMARY KEY (type, system, value)
)
`;
