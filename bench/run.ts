import { benchAudit } from './audit.js';
import { benchConformance } from './conformance.js';
import { benchDelivery } from './delivery.js';
import { benchFrontDoor } from './front-door.js';
import { benchInstances } from './instances.js';
import { benchMapping } from './mapping.js';
import { benchMappingCrisis } from './mapping-crisis.js';
import { benchMeasures } from './measures.js';
import { benchMessaging } from './messaging.js';
import { benchPages } from './pages.js';
import { benchQueue } from './queue.js';
import { benchRest } from './rest.js';
import { benchSecurity } from './security.js';
import { benchStartup } from './startup.js';
import { benchSuite } from './suite.js';
import { benchValidation } from './validation.js';
import { benchXml } from './xml.js';

/** npm run bench [xml] [validation] [rest] [messaging] [front-door] [instances] [queue] [measures] [pages] [audit] [security] [delivery] [mapping] [mapping-crisis] [conformance] [startup] [suite]: prints every figure the issues ask for (all sections by default). */
async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const want = (name: string) => only.length === 0 || only.includes(name);
  const results: [string, Record<string, string | number>][] = [];
  const log = (line: string) => console.error(`  … ${line}`);
  if (want('xml')) results.push(['FHIR XML', await benchXml()]);
  if (want('validation')) results.push(['Validation', await benchValidation()]);
  if (want('rest')) results.push(['FHIR REST on PostgreSQL', await benchRest(log)]);
  if (want('messaging')) results.push(['BaRS messaging on PostgreSQL', await benchMessaging(log)]);
  if (want('front-door')) results.push(['Front door on PostgreSQL', await benchFrontDoor(log)]);
  if (want('instances')) results.push(['Two instances on one PostgreSQL', await benchInstances(log)]);
  if (want('queue')) results.push(['Work queues on PostgreSQL', await benchQueue(log)]);
  if (want('measures')) results.push(['Pathway measures on PostgreSQL (a year of a busy trust)', await benchMeasures(log)]);
  if (want('pages')) results.push(['The triage pages on PostgreSQL', await benchPages(log)]);
  if (want('audit')) results.push(['The audit trail on PostgreSQL', await benchAudit(log)]);
  if (want('security')) results.push(['The cost of authentication and audit on PostgreSQL', await benchSecurity(log)]);
  if (want('delivery')) results.push(['Outbound delivery to a local partner on PostgreSQL', await benchDelivery(log)]);
  if (want('mapping')) results.push(['Partner formats (mhsds-json, mhsds-csv), in one process', await benchMapping(log)]);
  if (want('mapping-crisis')) results.push(['Crisis formats (nhs111-pem, bars), in one process', await benchMappingCrisis(log)]);
  if (want('conformance')) results.push(['Stored conformance resources on PostgreSQL', await benchConformance(log)]);
  if (want('startup')) results.push(['Start-up on the embedded database', await benchStartup(log)]);
  if (want('suite')) results.push(['Test suite', await benchSuite(log)]);
  console.log(`\nStepwise benchmarks — ${new Date().toISOString()} — Node ${process.version}\n`);
  for (const [section, figures] of results) {
    console.log(`## ${section}`);
    for (const [k, v] of Object.entries(figures)) console.log(`- ${k}: ${v}`);
    console.log('');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
