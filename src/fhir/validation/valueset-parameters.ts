import { parseFhirPath } from '@medplum/core';
import type { ValueCheck } from './context.js';

/**
 * ValueSet parameters (the FHIR tools extension valueset-parameter,
 * http://hl7.org/fhir/tools/StructureDefinition/valueset-parameter): a value set declares named
 * parameters, and a filter's value may be an expression over them (cqf-expression on
 * `filter.value`). As the HL7 validator checks it: the expression is FHIRPath
 * ("text/fhirpath"), it parses, and each `%name` it uses is a declared parameter (or a variable
 * FHIRPath itself defines).
 */

const PARAMETER = 'http://hl7.org/fhir/tools/StructureDefinition/valueset-parameter';
const EXPRESSION = 'http://hl7.org/fhir/StructureDefinition/cqf-expression';
/** Environment variables of FHIRPath and FHIR (fhirpath.html#vars): %resource, %ucum, %vs-…, %ext-…. */
const BUILT_IN = /^(?:resource|rootResource|context|ucum|sct|loinc|vs-.+|ext-.+|us-zip|terminologies|server|factory)$/;
const VARIABLE = /%(?:`([^`]+)`|([A-Za-z_][A-Za-z0-9_-]*))/g;

type Ext = { url?: unknown; extension?: Ext[]; valueCode?: unknown; valueExpression?: { language?: unknown; expression?: unknown } } | null;

export const valueSetParameterRule: ValueCheck = (value, path, ctx) => {
  const vs = value as { extension?: unknown; compose?: { include?: unknown; exclude?: unknown } };
  const compose = vs.compose;
  if (!compose || typeof compose !== 'object') return;
  const declared = new Set<string>();
  for (const ext of asArray<Ext>(vs.extension)) {
    if (ext?.url !== PARAMETER) continue;
    const name = asArray<Ext>(ext.extension).find((e) => e?.url === 'name')?.valueCode;
    if (typeof name === 'string') declared.add(name);
  }
  for (const part of ['include', 'exclude'] as const) {
    asArray<{ filter?: unknown } | null>(compose[part]).forEach((entry, i) => {
      asArray<{ _value?: { extension?: unknown } } | null>(entry?.filter).forEach((filter, j) => {
        asArray<Ext>(filter?._value?.extension).forEach((ext, k) => {
          if (ext?.url !== EXPRESSION || !ext.valueExpression) return;
          const where = `${path}.compose.${part}[${i}].filter[${j}].value.extension[${k}].valueExpression`;
          const { language, expression } = ext.valueExpression;
          if (language !== 'text/fhirpath') {
            ctx.issues.error('value', where, `A ValueSet expression language must be 'text/fhirpath' not '${String(language)}'`);
            return;
          }
          if (typeof expression !== 'string') return;
          try {
            parseFhirPath(expression);
          } catch (err) {
            ctx.issues.error('value', where, `The value of the expression '${expression}' is not a valid FHIRPath: ${err instanceof Error ? err.message : String(err)}`);
            return;
          }
          for (const m of expression.matchAll(VARIABLE)) {
            const name = m[1] ?? m[2];
            if (!declared.has(name) && !BUILT_IN.test(name)) {
              ctx.issues.error('value', where, `The filter parameter expression '${expression}' refers to the unknown parameter '${name}'`);
            }
          }
        });
      });
    });
  }
};

function asArray<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}
