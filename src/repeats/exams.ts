/**
 * Study → standard exam, reusing the analytics catalogue and mapping rules (src/analytics:
 * data/exam-catalogue.json, data/exam-rules.json, user rules in exam_mapping_rules) so a repeat
 * is "the same exam" in exactly the sense the DRL analytics use (domain.md §6.1: match comparable
 * exams with a shared procedure mapping across trusts, not free text).
 */
import type { SievertDb } from "../db/client.ts";
import { ExamMapper, defaultRules, loadUserRules, type MappingKey } from "../analytics/mapping.ts";
import { loadReferenceData, type Exam } from "../analytics/reference-data.ts";

const USER_RULES_TTL_MS = 5_000;

interface CachedMapper {
  mapper: ExamMapper;
  at: number;
}

const mappers = new WeakMap<SievertDb, CachedMapper>();
const pending = new WeakMap<SievertDb, Promise<ExamMapper>>();

/** The mapper in force for this database (user rules re-read at most every 5 s). */
export async function examMapperFor(db: SievertDb, options: { fresh?: boolean } = {}): Promise<ExamMapper> {
  const cached = mappers.get(db);
  if (cached && !options.fresh && Date.now() - cached.at < USER_RULES_TTL_MS) return cached.mapper;
  let p = pending.get(db);
  if (!p) {
    p = (async () => {
      const user = await loadUserRules(db);
      const mapper = new ExamMapper([...user, ...defaultRules(loadReferenceData().defaultRules)]);
      mappers.set(db, { mapper, at: Date.now() });
      return mapper;
    })().finally(() => pending.delete(db));
    pending.set(db, p);
  }
  return p;
}

let examsByCode: Map<string, Exam> | null = null;

export function catalogueExam(code: string): Exam | undefined {
  examsByCode ??= new Map(loadReferenceData().exams.map((e) => [e.code, e]));
  return examsByCode.get(code);
}

/** Maps one study (its description, modality, devices and protocols) to an exam code, or null. */
export function mapStudy(
  mapper: ExamMapper,
  s: { trustOds: string | null; modality: string | null; description: string | null; deviceIds: number[]; protocols: string[] },
): string | null {
  const devices = s.deviceIds.length ? s.deviceIds : [null];
  for (const deviceId of devices) {
    const key: MappingKey = { trustOds: s.trustOds, deviceId, modality: s.modality, description: s.description, protocols: s.protocols };
    const hit = mapper.map(key);
    if (hit) return hit.examCode;
  }
  return null;
}

export interface RequestedExamInput {
  /** A catalogue code (CT_HEAD …). */
  code?: string | undefined;
  /** A procedure code as ordered (mapped with the exam mapping rules, e.g. an `exact` rule per local code). */
  procedureCode?: string | undefined;
  /** Procedure text as ordered ("CT head non-contrast"). */
  text?: string | undefined;
  /** Modality of the requested procedure, when known (narrows the mapping rules). */
  modality?: string | undefined;
}

/**
 * The requested exam as a catalogue code: the code itself when it is one, else the procedure code,
 * then the text, through the mapping rules (as a study description of the requesting trust).
 */
export function resolveRequestedExam(mapper: ExamMapper, input: RequestedExamInput, trustOds: string | null): { code: string; via: "code" | "procedureCode" | "text" } | null {
  const code = input.code?.trim().toUpperCase();
  if (code && catalogueExam(code)) return { code, via: "code" };
  for (const [via, value] of [["procedureCode", input.procedureCode], ["text", input.text]] as const) {
    const v = value?.trim();
    if (!v) continue;
    const given = input.modality?.trim().toUpperCase() || modalityFromText(v);
    const modalities = given ? [given] : [null, ...new Set(loadReferenceData().exams.map((e) => e.modality))];
    for (const modality of modalities) {
      const hit = mapper.map({ trustOds, deviceId: null, modality, description: v, protocols: [] });
      if (hit) return { code: hit.examCode, via };
    }
  }
  return null;
}

/** The modality a procedure text starts with ("CT …", "XR …", "FL …", "MG …", "PET …"), else null. */
export function modalityFromText(text: string): string | null {
  const t = text.trim();
  if (/^ct\b/i.test(t)) return "CT";
  if (/^(xr|dx|cr|x-?ray|radiograph)/i.test(t)) return "DX";
  if (/^(fl|rf|fluoro)/i.test(t)) return "RF";
  if (/^(mg|mammo)/i.test(t)) return "MG";
  if (/^(nm|pet)/i.test(t)) return "NM";
  return null;
}
