import { FHIR_FORMAT } from './fhir/fhir-format.js';
import { registerFormat } from './formats.js';

/**
 * The one table of formats the server and the CLI serve: each partner module adds its line here.
 * Imported for its effect (by the $ingest/$transform handlers and `stepwise map`).
 */
registerFormat(FHIR_FORMAT);
