/**
 * NM and PET image headers (NM Image, PET Image, Enhanced PET, Legacy Converted Enhanced
 * PET): the administration from the Radiopharmaceutical Information Sequence (0054,0016).
 * No irradiation events. Activities are converted Bq → MBq and never rescaled on a guess:
 * an implausible value is kept as stated and warned.
 */
import type { DicomDataset } from "../reader/dataset.js";
import {
  HEADER_UNITS as U,
  T,
  codeMeaning,
  convert,
  isoFromDateAndTime,
  isoFromDateTime,
  type ImageDoseContext,
  type ImageDoseResult,
} from "./common.js";

/**
 * Plausible range of an administered activity, Bq. Below 0.1 MBq nothing useful can be
 * imaged; above 100 GBq exceeds even therapeutic administrations. Values outside are
 * typically another unit written into the Bq field (e.g. 764 meaning 764 MBq).
 */
const PLAUSIBLE_BQ = { min: 1e5, max: 1e11 } as const;

export function extractNmImage(ds: DicomDataset, ctx: ImageDoseContext): ImageDoseResult | null {
  const info = ds.sequence(T.RadiopharmaceuticalInformationSequence);
  if (info.length === 0) return null;
  const warnings: string[] = [];
  if (info.length > 1) warnings.push(`${ctx.name}: ${info.length} Radiopharmaceutical Information Sequence items; the first is reported`);
  const item = info[0] as DicomDataset;
  const radiopharmaceutical = codeMeaning(item, T.RadiopharmaceuticalCodeSequence) ?? item.text(T.Radiopharmaceutical);
  const radionuclide = codeMeaning(item, T.RadionuclideCodeSequence);
  const bq = item.number(T.RadionuclideTotalDose);
  if (bq !== null && (bq < PLAUSIBLE_BQ.min || bq > PLAUSIBLE_BQ.max)) {
    warnings.push(
      `${ctx.name}: Radionuclide Total Dose (0018,1074) is ${bq} Bq, implausible for an administered activity (likely another unit, e.g. MBq, written in the Bq field); kept as stated (${convert(bq, U.radionuclideTotalDose)} MBq), not rescaled`,
    );
  }
  const administrationDateTime =
    isoFromDateTime(item.ascii(T.RadiopharmaceuticalStartDateTime)) ??
    (item.ascii(T.RadiopharmaceuticalStartTime) === null ? null : isoFromDateAndTime(ds.ascii(T.StudyDate), item.ascii(T.RadiopharmaceuticalStartTime)));
  if (radiopharmaceutical === null && radionuclide === null && bq === null) return null;
  return {
    kind: "nm-image",
    events: [],
    totals: {
      // Radionuclide Total Dose (0018,1074) is in Bq (PS3.3; domain.md §1.4 lists no NM rows); 1 Bq = 1e-6 MBq.
      administeredActivity_MBq: convert(bq, U.radionuclideTotalDose),
      radiopharmaceutical,
      radionuclide,
    },
    warnings,
    administrationDateTime,
  };
}
