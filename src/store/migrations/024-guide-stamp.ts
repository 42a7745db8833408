/**
 * ImplementationGuides move the conformance stamp too (migrations 14, 22 and 23): `$validate`
 * applies the global profiles of stored guides (ImplementationGuide.global), so a guide stored by
 * any route, on any instance, must reach the next validation as a profile does
 * (pipeline/stored-conformance.ts).
 */
const TYPES = `('StructureDefinition', 'ValueSet', 'CodeSystem', 'Questionnaire', 'Measure', 'Library', 'ImplementationGuide')`;

export const sql = `
DROP TRIGGER resource_conformance_written ON resource;
DROP TRIGGER resource_conformance_removed ON resource;
CREATE TRIGGER resource_conformance_written AFTER INSERT OR UPDATE ON resource FOR EACH ROW WHEN (NEW.type IN ${TYPES}) EXECUTE FUNCTION conformance_changed();
CREATE TRIGGER resource_conformance_removed AFTER DELETE ON resource FOR EACH ROW WHEN (OLD.type IN ${TYPES}) EXECUTE FUNCTION conformance_changed();
UPDATE conformance_stamp SET stamp = nextval('conformance_stamp_seq')
`;
