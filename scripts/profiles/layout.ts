import { fileURLToPath } from 'node:url';

/** Where the profile sources and outputs live (see profiles/README.md). */
export const profilesDir = fileURLToPath(new URL('../../profiles/', import.meta.url));
export const sourceDir = `${profilesDir}source/`;
export const examplesDir = `${profilesDir}examples/`;
export const dependenciesDir = `${profilesDir}dependencies/`;
export const publishedDir = `${profilesDir}published/`;
export const packageDir = `${profilesDir}package/`;
