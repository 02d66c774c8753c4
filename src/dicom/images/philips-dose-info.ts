/**
 * Philips CT "Dose Info" secondary capture (domain.md §1.5): one event per Exposure Dose
 * Sequence (0040,030E) item. CTDIvol is the item's standard (0018,9345); DLP is only in
 * private ELSCINT1 (00E1,xx21), read after verifying the private creator of its block.
 * Values from a vendor dose screen are lower trust than an RDSR: always warned.
 */
import { emptyEvent, type IrradiationEvent } from "../dose-report.js";
import type { DicomDataset } from "../reader/dataset.js";
import {
  HEADER_UNITS as U,
  T,
  eventDateTime,
  firstConverted,
  places,
  privateTag,
  type ImageDoseContext,
  type ImageDoseResult,
} from "./common.js";
import { CT_ACQUISITION_TYPE, ctPhantom, ctTechnique } from "./ct.js";

const ELSCINT1 = "ELSCINT1";
/** (00E1,xx21): DLP in mGy·cm per Exposure Dose Sequence item, and the total at top level (OpenREM ct_philips.py). */
const DLP_ELEMENT = 0x21;

export function isPhilipsDoseInfo(ds: DicomDataset): boolean {
  const manufacturer = ds.text(T.Manufacturer) ?? "";
  return /philips/i.test(manufacturer) && ds.sequence(T.ExposureDoseSequence).length > 0;
}

function privateDlp(item: DicomDataset): number | null {
  const tag = privateTag(item, 0x00e1, ELSCINT1, DLP_ELEMENT);
  return tag === null ? null : item.number(tag);
}

export function extractPhilipsDoseInfo(ds: DicomDataset, ctx: ImageDoseContext): ImageDoseResult | null {
  const items = ds.sequence(T.ExposureDoseSequence);
  if (items.length === 0) return null;
  const warnings: string[] = [
    `${ctx.name}: dose values come from a Philips "Dose Info" vendor dose screen (Exposure Dose Sequence (0040,030E) with DLP in private ELSCINT1 (00E1,1021)); lower trust than an RDSR (domain.md §1.5)`,
  ];
  const events: IrradiationEvent[] = [];
  let missingDlp = 0;
  for (const item of items) {
    const where = places(item);
    const dlp = privateDlp(item);
    if (dlp === null) missingDlp += 1;
    const acquisitionType = item.ascii(T.AcquisitionType);
    events.push({
      ...emptyEvent(),
      dateTime: eventDateTime(item),
      // The item's Series Description names the scan (e.g. "PRE KIDNEYS"); the object's
      // Protocol Name is the whole examination's protocol file.
      protocol: item.text(T.SeriesDescription) ?? item.text(T.ProtocolName) ?? ds.text(T.ProtocolName),
      acquisitionType: acquisitionType === null ? null : (CT_ACQUISITION_TYPE[acquisitionType.toUpperCase()] ?? null),
      ctdiVol_mGy: firstConverted(where, [U.ctdiVol]),
      // DLP is stated in mGy·cm (OpenREM ct_philips.py stores it unconverted as the RDSR DLP).
      dlp_mGycm: dlp,
      phantom: ctPhantom(where, item, warnings, ctx.name),
      scanLength_mm: firstConverted(where, [U.scanLength]),
      ...ctTechnique(where),
      xraySourceCount: 1,
    });
  }
  if (missingDlp > 0) warnings.push(`${ctx.name}: ${missingDlp} of ${items.length} Exposure Dose Sequence items have no ELSCINT1 DLP (00E1,1021)`);
  const dlps = events.map((e) => e.dlp_mGycm).filter((v): v is number => v !== null);
  const sum = dlps.length === 0 ? null : Number(dlps.reduce((a, b) => a + b, 0).toPrecision(12));
  const stated = privateDlp(ds);
  if (sum !== null && stated !== null && Math.abs(sum - stated) > Math.max(0.01, 1e-4 * Math.abs(stated))) {
    warnings.push(`${ctx.name}: sum of per-series DLPs (${sum} mGy·cm) differs from the screen's total DLP (00E1,1021) (${stated} mGy·cm); the sum is reported`);
  }
  return {
    kind: "ct-image",
    events,
    totals: {
      ctDlpTotal_mGycm: sum,
      ctEventCount: ds.number(T.TotalNumberOfExposures) ?? events.length,
    },
    warnings,
  };
}
