import { FHIR_FORMAT } from './fhir/fhir-format.js';
import { MHSDS_CSV, MHSDS_JSON } from './mhsds/mhsds-formats.js';
import { barsFormat } from './bars/bars-format.js';
import { registerFormat } from './formats.js';
import { nhs111PemFormat } from './nhs111/format.js';

/**
 * The one table of formats the server and the CLI serve: each partner module adds its line here.
 * Imported for its effect (by the $ingest/$transform handlers and `stepwise map`).
 */
registerFormat(FHIR_FORMAT);
registerFormat(nhs111PemFormat);
registerFormat(barsFormat);
registerFormat(MHSDS_JSON);
registerFormat(MHSDS_CSV);
