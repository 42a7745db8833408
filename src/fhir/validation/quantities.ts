/**
 * Comparing two Quantities (http://hl7.org/fhir/R4/datatypes.html#Quantity): only coded units can
 * be compared ("no-units" otherwise); the same code compares by value; different UCUM codes compare
 * after conversion when both are simple units this table knows, of one dimension ("incompatible"
 * otherwise). A small subset of UCUM (https://ucum.org/ucum): metric prefixes on the base units of
 * length, mass, volume and time, and the common customary units.
 */

const UCUM = 'http://unitsofmeasure.org';

interface Unit {
  dimension: string;
  factor: number;
}

const baseUnits: Record<string, Unit> = {
  m: { dimension: 'length', factor: 1 },
  g: { dimension: 'mass', factor: 1 },
  L: { dimension: 'volume', factor: 1 },
  l: { dimension: 'volume', factor: 1 },
  s: { dimension: 'time', factor: 1 },
};

const specialUnits: Record<string, Unit> = {
  '[in_i]': { dimension: 'length', factor: 0.0254 },
  '[ft_i]': { dimension: 'length', factor: 0.3048 },
  '[yd_i]': { dimension: 'length', factor: 0.9144 },
  '[mi_i]': { dimension: 'length', factor: 1609.344 },
  '[lb_av]': { dimension: 'mass', factor: 453.59237 },
  '[oz_av]': { dimension: 'mass', factor: 28.349523125 },
  min: { dimension: 'time', factor: 60 },
  h: { dimension: 'time', factor: 3600 },
  d: { dimension: 'time', factor: 86400 },
  wk: { dimension: 'time', factor: 604800 },
};

const prefixes: Record<string, number> = { k: 1e3, h: 1e2, da: 1e1, d: 1e-1, c: 1e-2, m: 1e-3, u: 1e-6, n: 1e-9 };

function unitOf(code: string): Unit | undefined {
  if (specialUnits[code]) return specialUnits[code];
  if (baseUnits[code]) return baseUnits[code];
  for (const [prefix, scale] of Object.entries(prefixes)) {
    const base = code.startsWith(prefix) ? baseUnits[code.slice(prefix.length)] : undefined;
    if (base) return { dimension: base.dimension, factor: base.factor * scale };
  }
  return undefined;
}

export interface QuantityLike {
  value?: number;
  system?: string;
  code?: string;
}

export type QuantityOrder = -1 | 0 | 1 | 'no-units' | 'incompatible';

export function compareQuantities(a: QuantityLike, b: QuantityLike): QuantityOrder | undefined {
  if (typeof a.value !== 'number' || typeof b.value !== 'number') return undefined;
  if (!a.code || !b.code || !a.system || !b.system) return 'no-units';
  if (a.system === b.system && a.code === b.code) return Math.sign(a.value - b.value) as -1 | 0 | 1;
  if (a.system !== UCUM || b.system !== UCUM) return 'incompatible';
  const ua = unitOf(a.code);
  const ub = unitOf(b.code);
  if (!ua || !ub || ua.dimension !== ub.dimension) return 'incompatible';
  const x = a.value * ua.factor;
  const y = b.value * ub.factor;
  // Compare converted values with a relative tolerance, so that 1000 m equals 1 km.
  if (Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y))) return 0;
  return x < y ? -1 : 1;
}
