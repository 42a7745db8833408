/** The Prefer header's preferences that FHIR defines (http://hl7.org/fhir/R4/http.html#ops). */
export interface Preferences {
  return?: 'minimal' | 'representation' | 'OperationOutcome';
  handling?: 'strict' | 'lenient';
  respondAsync?: boolean;
}

export function parsePrefer(header: string | undefined): Preferences {
  const prefs: Preferences = {};
  for (const part of (header ?? '').split(/[,;]/)) {
    const [k, v] = part.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (k === 'return' && (v === 'minimal' || v === 'representation' || v === 'OperationOutcome')) prefs.return = v;
    else if (k === 'handling' && (v === 'strict' || v === 'lenient')) prefs.handling = v;
    else if (k === 'respond-async') prefs.respondAsync = true;
  }
  return prefs;
}
