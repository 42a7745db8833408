import { evalFhirPath, parseFhirPath, type FhirPathAtom } from '@medplum/core';
import { z } from 'zod';
import { describeNhsNumberProblem, isValidNhsNumber } from '../fhir/nhs-number.js';
import { contextBundle, contextVariables, type ReferralContext } from './referral-context.js';
import { MINIMUM_DATASET_FILE, readRulesFile } from './rules-data.js';

const itemSchema = z.object({
  /** Code in the minimum-dataset CodeSystem; gaps are named by it. */
  code: z.string().regex(/^[a-z0-9-]+$/),
  display: z.string().min(1),
  /** Where the item lives, for OperationOutcome.issue.expression. */
  location: z.string().min(1),
  /** FHIRPath over the referral context Bundle; present when non-empty and not false. */
  expression: z.string().min(1),
  /** Only for values that are NHS numbers: a value must pass Modulus 11. */
  check: z.literal('nhs-number').optional(),
  /** false: "where known": reported when absent, never a reason to hold the referral. */
  required: z.boolean(),
});

const datasetSchema = z.object({
  id: z.string(),
  url: z.string(),
  version: z.string(),
  codeSystem: z.string(),
  items: z.array(itemSchema).min(1),
});

export type MdsItem = z.infer<typeof itemSchema>;

export interface MinimumDataset {
  url: string;
  version: string;
  codeSystem: string;
  items: (MdsItem & { atom: FhirPathAtom })[];
}

/** A missing or invalid item, named so the sender can act on it. */
export interface MdsGap {
  code: string;
  display: string;
  /** A sentence for the referrer: what is missing or what is wrong with it. */
  message: string;
  location: string;
  required: boolean;
}

export interface MdsScreen {
  /** Required items missing or invalid: each holds the referral awaiting information. */
  gaps: MdsGap[];
  /** "Where known" items that are absent: reported, never holding. */
  notKnown: MdsGap[];
  /** Codes of the items present, for MDS compliance. */
  present: string[];
}

/** Checks and compiles a dataset: every FHIRPath parsed once. */
export function compileMinimumDataset(data: unknown): MinimumDataset {
  const parsed = datasetSchema.parse(data);
  const codes = new Set<string>();
  for (const item of parsed.items) {
    if (codes.has(item.code)) throw new Error(`minimum dataset ${parsed.url}: item ${item.code} appears twice`);
    codes.add(item.code);
  }
  return {
    url: parsed.url,
    version: parsed.version,
    codeSystem: parsed.codeSystem,
    items: parsed.items.map((item) => {
      try {
        return { ...item, atom: parseFhirPath(item.expression) };
      } catch (err) {
        throw new Error(`minimum dataset item ${item.code}: ${(err as Error).message}`, { cause: err });
      }
    }),
  };
}

let published: MinimumDataset | undefined;

/** The published dataset, profiles/rules/minimum-dataset.json, read and compiled once. */
export function publishedMinimumDataset(): MinimumDataset {
  published ??= compileMinimumDataset(readRulesFile(MINIMUM_DATASET_FILE));
  return published;
}

/** Screens a referral against the minimum dataset (domain.md, "The single front door", 2). */
export function screenMinimumDataset(ctx: ReferralContext, dataset: MinimumDataset = publishedMinimumDataset()): MdsScreen {
  const bundle = contextBundle(ctx);
  const variables = contextVariables(ctx);
  const result: MdsScreen = { gaps: [], notKnown: [], present: [] };
  for (const item of dataset.items) {
    const values = evalFhirPath(item.atom, bundle, variables);
    const problem = item.check === 'nhs-number' ? nhsNumberProblem(values) : values.length === 0 || (values.length === 1 && values[0] === false) ? 'missing' : undefined;
    if (!problem) {
      result.present.push(item.code);
      continue;
    }
    const gap: MdsGap = {
      code: item.code,
      display: item.display,
      message: problem === 'missing' ? `${item.display} is missing` : `${item.display} is not valid: ${problem}`,
      location: item.location,
      required: item.required,
    };
    (item.required ? result.gaps : result.notKnown).push(gap);
  }
  return result;
}

/** 'missing', a description of the first invalid number, or undefined when one value is valid. */
function nhsNumberProblem(values: unknown[]): string | undefined {
  const strings = values.filter((v): v is string => typeof v === 'string');
  if (strings.some(isValidNhsNumber)) return undefined;
  if (strings.length === 0) return 'missing';
  return describeNhsNumberProblem(strings[0]);
}
