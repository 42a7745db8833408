import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseFhirXml } from '../../src/fhir/xml/index.js';
import { dependenciesDir } from './layout.js';

/**
 * Copies the UK Core conformance resources the Stepwise profiles use (two extensions and their
 * terminology) from the XML corpus to profiles/dependencies/ukcore as JSON, unchanged in content,
 * so the validator can check those extensions. They keep their own canonical URLs and versions and
 * are not part of the Stepwise package. Run once when UK Core is updated:
 *   node --import tsx scripts/profiles/vendor-ukcore.ts /work/shared/corpus/nhs/ukcore
 */
export const vendoredUkCoreFiles = [
  'Extension-UKCore-NHSNumberVerificationStatus.xml',
  'Extension-UKCore-SourceOfServiceRequest.xml',
  'CodeSystem-UKCore-NHSNumberVerificationStatusEngland.xml',
  'ValueSet-UKCore-NHSNumberVerificationStatus.xml',
  'ValueSet-UKCore-SourceOfServiceRequest.xml',
];

function main(corpusDir: string): void {
  const outDir = `${dependenciesDir}ukcore/`;
  mkdirSync(outDir, { recursive: true });
  for (const file of vendoredUkCoreFiles) {
    const resource = parseFhirXml(readFileSync(`${corpusDir}/${file}`, 'utf8'));
    writeFileSync(outDir + file.replace(/\.xml$/, '.json'), JSON.stringify(resource, null, 2) + '\n');
  }
}

const corpusDir = process.argv[2];
if (!corpusDir) {
  console.error('usage: vendor-ukcore.ts <directory with the UK Core XML files>');
  process.exit(2);
}
main(corpusDir);
