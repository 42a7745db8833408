export { type ValidateOptions, Validator, createR4Validator, defaultValidator } from './validator.js';
export { ConformanceRegistry } from './registry.js';
export { createR4Registry, type R4LoadReport, type R4RegistryOptions } from './r4-definitions.js';
export { r4Corrections } from './corrections.js';
export { invariantStrategies } from './invariants.js';
export { readFhirJson } from './json-source.js';
export { isProfileIssue } from './issues.js';
