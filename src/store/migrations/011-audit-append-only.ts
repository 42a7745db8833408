/**
 * The audit trail is append-only (IHE BALP; issue 13), and not only because no route offers an
 * update or a delete (the write pipeline answers 405): the database itself refuses to change or
 * remove a row of audit_event, whoever asks, so no code path, present or future, can rewrite the
 * record of what happened. UPDATE and DELETE raise per row; TRUNCATE per statement.
 *
 * The function bodies hold semicolons, which the migration runner's statement split would cut,
 * so they are given whole through `more`.
 */
export const sql = `SELECT 1`;

export const statements: string[] = [
  `CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only: % is refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$`,
  `CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()`,
  `CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()`,
];

export const more = async (): Promise<string[]> => statements;
