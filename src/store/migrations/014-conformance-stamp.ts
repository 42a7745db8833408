/**
 * Conformance resources a user stores are used by validation (issue 15), on every instance: each
 * instance keeps a validator built from the StructureDefinitions, ValueSets and CodeSystems in
 * `resource`, and before validating it reads one row, `conformance_stamp.stamp`, to learn whether
 * any of them changed since it built it (pipeline/stored-conformance.ts).
 *
 * The stamp is set by triggers on `resource`, so every route that writes one (REST, Bundles,
 * messages, packages, seeding) moves it, in the same transaction as the write. It comes from a
 * sequence, so a value is never given twice: after a rolled-back write the row goes back to its
 * old stamp, which no longer matches what an instance may have read inside that transaction.
 * The triggers run only for the three types (WHEN), so other writes pay nothing.
 *
 * The function bodies hold semicolons, which the migration runner's statement split would cut,
 * so they are given whole through `more`.
 */
export const sql = `
CREATE SEQUENCE conformance_stamp_seq;
CREATE TABLE conformance_stamp (stamp bigint NOT NULL);
INSERT INTO conformance_stamp (stamp) VALUES (nextval('conformance_stamp_seq'))
`;

const CONFORMANCE_TYPES = `('StructureDefinition', 'ValueSet', 'CodeSystem')`;

export const statements: string[] = [
  `CREATE FUNCTION conformance_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE conformance_stamp SET stamp = nextval('conformance_stamp_seq');
  RETURN NULL;
END
$$`,
  `CREATE TRIGGER resource_conformance_written AFTER INSERT OR UPDATE ON resource FOR EACH ROW WHEN (NEW.type IN ${CONFORMANCE_TYPES}) EXECUTE FUNCTION conformance_changed()`,
  `CREATE TRIGGER resource_conformance_removed AFTER DELETE ON resource FOR EACH ROW WHEN (OLD.type IN ${CONFORMANCE_TYPES}) EXECUTE FUNCTION conformance_changed()`,
];

export const more = async (): Promise<string[]> => statements;
