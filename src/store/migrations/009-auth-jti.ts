/**
 * Replay protection for SMART Backend Services client assertions
 * (http://hl7.org/fhir/smart-app-launch/backend-services.html, RFC 7523 §3 item 7): the `jti` of
 * every assertion a client has used, kept until the assertion expires. The primary key makes the
 * first use win on any number of instances sharing the database; rows past `expires_at` can no
 * longer be replayed (the assertion itself is refused as expired) and are deleted.
 */
export const sql = `
CREATE TABLE auth_jti (
  client_id  text COLLATE "C" NOT NULL,
  jti        text COLLATE "C" NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX auth_jti_expires ON auth_jti (expires_at)
`;
