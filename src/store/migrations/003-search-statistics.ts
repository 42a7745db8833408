/**
 * The planner multiplies the selectivities of type, param and value as if they were independent,
 * so it underestimates common combinations (owner = the front-door team, code = triage) by a
 * factor of ten or more and then hashes whole index ranges instead of walking a queue in order.
 * Multi-column statistics give it the real frequencies of those combinations
 * (https://www.postgresql.org/docs/current/planner-stats.html#PLANNER-STATS-EXTENDED).
 */
export const sql = `
CREATE STATISTICS sp_token_combination (mcv, dependencies) ON type, param, code FROM sp_token;
CREATE STATISTICS sp_reference_combination (mcv, dependencies) ON type, param, target_id FROM sp_reference;
CREATE STATISTICS sp_uri_combination (mcv, dependencies) ON type, param, value FROM sp_uri;
ANALYZE sp_token;
ANALYZE sp_reference;
ANALYZE sp_uri
`;
