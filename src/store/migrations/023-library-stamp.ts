/**
 * Libraries move the conformance stamp too (migrations 14 and 22): validation checks that a
 * Measure's CQL criteria name definitions of its Library (fhir/validation/measure-criteria.ts), so
 * a Library stored by any route, on any instance, must reach the next validation as a profile does
 * (pipeline/stored-conformance.ts).
 */
const TYPES = `('StructureDefinition', 'ValueSet', 'CodeSystem', 'Questionnaire', 'Measure', 'Library')`;

export const sql = `
DROP TRIGGER resource_conformance_written ON resource;
DROP TRIGGER resource_conformance_removed ON resource;
CREATE TRIGGER resource_conformance_written AFTER INSERT OR UPDATE ON resource FOR EACH ROW WHEN (NEW.type IN ${TYPES}) EXECUTE FUNCTION conformance_changed();
CREATE TRIGGER resource_conformance_removed AFTER DELETE ON resource FOR EACH ROW WHEN (OLD.type IN ${TYPES}) EXECUTE FUNCTION conformance_changed();
UPDATE conformance_stamp SET stamp = nextval('conformance_stamp_seq')
`;
