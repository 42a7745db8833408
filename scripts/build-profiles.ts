import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { buildProfiles } from './profiles/build.js';
import { packageDir, publishedDir } from './profiles/layout.js';
import { packTgz } from './profiles/npm-package.js';

/**
 * `npm run profiles`: generates the snapshots of profiles/source, writes the published resources to
 * profiles/published/ and the FHIR NPM package to profiles/package/. Output is deterministic; commit
 * it (test/profiles checks that it is not stale).
 */
const build = buildProfiles();

mkdirSync(publishedDir, { recursive: true });
for (const file of readdirSync(publishedDir)) {
  if (file.endsWith('.json') && !build.publishedFiles.has(file)) rmSync(publishedDir + file);
}
for (const [file, text] of build.publishedFiles) writeFileSync(publishedDir + file, text);

mkdirSync(packageDir, { recursive: true });
for (const file of readdirSync(packageDir)) {
  if (file.endsWith('.tgz') && file !== build.packageFileName) rmSync(packageDir + file);
}
writeFileSync(packageDir + build.packageFileName, packTgz(build.packageFiles));

console.log(`${build.publishedFiles.size} resources in profiles/published/, package profiles/package/${build.packageFileName}`);
