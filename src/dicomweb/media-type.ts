/**
 * Media types for DICOMweb: Content-Type parsing (quoted parameters, RFC 9110 §8.3.1) and
 * Accept negotiation (q-values, wildcards) for the few representations Sievert serves.
 */

export interface MediaType {
  /** type/subtype, lower-cased */
  type: string;
  /** parameter names lower-cased; values unquoted (case kept: a boundary is case-sensitive) */
  params: Map<string, string>;
}

/** Parses one media type with parameters, e.g. `multipart/related; type="application/dicom"; boundary=x`. */
export function parseMediaType(value: string | null | undefined): MediaType | null {
  if (!value) return null;
  const [head, rest] = splitFirst(value.trim(), ";");
  const type = head.trim().toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+*-]+$/.test(type) && type !== "*/*") return null;
  return { type, params: parseParams(rest) };
}

function splitFirst(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
}

/** `a=b; c="d;e"` → Map; quoted strings may contain `;` and backslash escapes. */
function parseParams(s: string): Map<string, string> {
  const params = new Map<string, string>();
  let i = 0;
  while (i < s.length) {
    while (i < s.length && (s[i] === ";" || s[i] === " " || s[i] === "\t")) i++;
    const eq = s.indexOf("=", i);
    if (eq < 0) break;
    const name = s.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    let value = "";
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        value += s[i];
        i++;
      }
      i++; // closing quote
      while (i < s.length && s[i] !== ";") i++;
    } else {
      const end = s.indexOf(";", i);
      value = (end < 0 ? s.slice(i) : s.slice(i, end)).trim();
      i = end < 0 ? s.length : end;
    }
    if (name) params.set(name, value);
  }
  return params;
}

export interface AcceptItem extends MediaType {
  q: number;
}

/** The Accept header as a list, best first (order of appearance breaks ties). Missing → `*∕*`. */
export function parseAccept(value: string | null | undefined): AcceptItem[] {
  if (!value || !value.trim()) return [{ type: "*/*", params: new Map(), q: 1 }];
  const items: AcceptItem[] = [];
  for (const piece of splitTopLevel(value)) {
    const mt = parseMediaType(piece);
    if (!mt) continue;
    const qText = mt.params.get("q");
    mt.params.delete("q");
    const q = qText === undefined ? 1 : Number(qText);
    if (!Number.isFinite(q) || q <= 0) continue;
    items.push({ ...mt, q: Math.min(q, 1) });
  }
  return items.map((it, k) => ({ it, k })).sort((a, b) => b.it.q - a.it.q || a.k - b.k).map((x) => x.it);
}

/** Splits on commas outside quoted strings (a parameter such as type="a,b" stays whole). */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === "\\" && quoted) i++;
    else if (ch === "," && !quoted) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((p) => p.trim()).filter((p) => p !== "");
}

/** Does an Accept item allow `type` (exact, `major/*` or `*∕*`)? */
export function acceptsType(item: MediaType, type: string): boolean {
  if (item.type === "*/*") return true;
  if (item.type.endsWith("/*")) return type.startsWith(item.type.slice(0, -1));
  return item.type === type;
}

/** True when the client accepts a DICOM JSON answer (application/dicom+json, or plain JSON). */
export function acceptsDicomJson(accept: string | null | undefined): boolean {
  return parseAccept(accept).some((a) => acceptsType(a, "application/dicom+json") || a.type === "application/json");
}
