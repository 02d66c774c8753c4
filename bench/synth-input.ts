/**
 * Synthetic ingest input: N unique RDSRs in memory, made with the project's generator.
 *
 * `buildSampleSet` encodes every object with dcmjs, which costs tens of ms per object (about
 * 45 s for 2000 on 2 cores), far beyond this benchmark's time budget. So a base set is built
 * with the generator (a mix of CT, DX, RF, MG and NM over the consortium's 13 devices) and then
 * copied into UID variants: in each copy every per-object `2.25.` UID (SOP Instance, Study,
 * Series, Irradiation Event / administration UIDs) gets its last three digits changed. The
 * replacement has the same length, so the Part 10 encoding stays valid byte for byte; UIDs
 * shared between objects (Device Observer UIDs, the Implementation Class UID) are kept, so
 * devices stay the same devices. Uniqueness of the SOP Instance UIDs is checked.
 */
import { metaString } from "./corpus.ts";
import type { SynthModule } from "./modules.ts";

export interface SynthObject {
  name: string;
  ods: string;
  modality: string;
  sopInstanceUid: string;
  bytes: Uint8Array;
}

export interface SynthInput {
  objects: SynthObject[];
  baseObjects: number;
  copies: number;
  buildMs: number;
  byModality: Record<string, number>;
  bytes: number;
}

const UID_RE = /2\.25\.\d{20,}/g;

export function buildSynthInput(synth: SynthModule, n: number, seed = "sievert-bench"): SynthInput {
  const t0 = performance.now();
  const devices = synth.DEVICES.length;
  // ~200 base objects keep generation near 3 s; copies make up the rest.
  const studiesPerDevice = Math.max(1, Math.min(16, Math.ceil(n / devices)));
  const base = synth.buildSampleSet({ seed, studiesPerDevice }).objects;
  if (base.length === 0) throw new Error("synthetic generator returned no objects");

  // UIDs that occur in more than one base object are shared identities (devices): keep them.
  const seenIn = new Map<string, number>();
  const texts = base.map((o) => latin1(o.bytes));
  texts.forEach((t, i) => {
    for (const uid of new Set(t.match(UID_RE) ?? [])) seenIn.set(uid, seenIn.has(uid) && seenIn.get(uid) !== i ? -1 : i);
  });
  const perObject = (uid: string): boolean => (seenIn.get(uid) ?? -1) >= 0;

  const copies = Math.ceil(n / base.length);
  if (copies > 1000) throw new Error(`too many copies (${copies}) for 3-digit UID variants`);
  const objects: SynthObject[] = [];
  for (let copy = 0; copy < copies && objects.length < n; copy++) {
    for (let i = 0; i < base.length && objects.length < n; i++) {
      const o = base[i]!;
      const bytes = copy === 0 ? o.bytes : variant(o.bytes, texts[i]!, copy, perObject);
      objects.push({
        name: `synth/${copy}/${o.info.path}`,
        ods: o.info.ods,
        modality: o.info.modality,
        // Read back from the bytes (0002,0003), so the check below sees what is ingested.
        sopInstanceUid: metaString(bytes, 0x0003) ?? "",
        bytes,
      });
    }
  }
  const unique = new Set(objects.map((o) => o.sopInstanceUid));
  if (unique.has("") || unique.size !== objects.length) throw new Error(`synthetic SOP Instance UIDs are not unique (${unique.size} of ${objects.length})`);
  const byModality: Record<string, number> = {};
  for (const o of objects) byModality[o.modality] = (byModality[o.modality] ?? 0) + 1;
  return {
    objects,
    baseObjects: base.length,
    copies,
    buildMs: performance.now() - t0,
    byModality,
    bytes: objects.reduce((a, o) => a + o.bytes.byteLength, 0),
  };
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** Same length, last three digits moved on by `copy` (mod 1000): distinct for copies 0…999. */
export function shiftUid(uid: string, copy: number): string {
  const head = uid.slice(0, -3);
  const tail = Number(uid.slice(-3));
  return `${head}${String((tail + copy) % 1000).padStart(3, "0")}`;
}

function variant(bytes: Uint8Array, text: string, copy: number, perObject: (uid: string) => boolean): Uint8Array {
  const out = new Uint8Array(bytes);
  for (const m of text.matchAll(UID_RE)) {
    const uid = m[0];
    if (!perObject(uid)) continue;
    const shifted = shiftUid(uid, copy);
    for (let k = uid.length - 3; k < uid.length; k++) out[m.index + k] = shifted.charCodeAt(k);
  }
  return out;
}
