/**
 * Drizzle pg-core schema: the one table definition shared by PGlite (embedded) and
 * Postgres (postgres.js). Migrations in ../../sql are generated from this file with
 * `npx drizzle-kit generate`; never edit the generated SQL by hand.
 *
 * Conventions: snake_case column names, numbers as double precision in the unit the
 * column name states (same units as the DoseReport), timestamps with time zone.
 * Patient identifiers are never stored in any column here except inside `raw_bytes`
 * (see the comment on `doseObjects.rawBytes`).
 */
import {
  customType,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import type { DoseReport } from "../dicom/dose-report.ts";

/**
 * bytea. PGlite returns Uint8Array and postgres.js returns Buffer (a Uint8Array
 * subclass); both are exposed as Uint8Array. We write a Buffer, which both drivers
 * serialise as bytea.
 */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType() {
    return "bytea";
  },
  toDriver(value: Uint8Array): Uint8Array {
    return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  },
  fromDriver(value: Uint8Array): Uint8Array {
    return value;
  },
});

/** NHS trusts (or other organisations) by ODS code. */
export const trusts = pgTable("trusts", {
  ods: text("ods").primaryKey(),
  name: text("name").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
});

/**
 * Imaging devices. `identity_key` is what makes a device unique:
 * `uid:<Device Observer UID>` when the object states one, else
 * `msn:<manufacturer>|<model>|<serial>` (see ingest/store.ts deviceIdentityKey).
 * first/last seen are the ingest (receive) times of the first and latest object.
 */
export const devices = pgTable(
  "devices",
  {
    id: serial("id").primaryKey(),
    identityKey: text("identity_key").notNull(),
    manufacturer: text("manufacturer"),
    model: text("model"),
    stationName: text("station_name"),
    serialNumber: text("serial_number"),
    institutionName: text("institution_name"),
    observerUid: text("observer_uid"),
    trustOds: text("trust_ods").references(() => trusts.ods),
    firstSeen: timestamp("first_seen", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    lastSeen: timestamp("last_seen", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("devices_identity_key_uq").on(t.identityKey), index("devices_trust_idx").on(t.trustOds)],
);

/** One row per Study Instance UID (globally unique, whichever trust sent it first). */
export const studies = pgTable(
  "studies",
  {
    id: serial("id").primaryKey(),
    studyInstanceUid: text("study_instance_uid").notNull(),
    trustOds: text("trust_ods").references(() => trusts.ods),
    modality: text("modality"),
    studyDate: date("study_date", { mode: "string" }),
    studyDateTime: text("study_datetime"),
    accessionNumber: text("accession_number"),
    description: text("description"),
    /** Keyed HMAC-SHA-256 pseudonym (linkage/pseudonym.ts); never a plain identifier. */
    patientPseudonym: text("patient_pseudonym"),
    patientSex: text("patient_sex"),
    patientAgeYears: doublePrecision("patient_age_years"),
    patientWeightKg: doublePrecision("patient_weight_kg"),
    patientHeightM: doublePrecision("patient_height_m"),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("studies_study_instance_uid_uq").on(t.studyInstanceUid),
    index("studies_study_date_idx").on(t.studyDate),
    index("studies_trust_idx").on(t.trustOds),
    index("studies_modality_idx").on(t.modality),
    index("studies_pseudonym_idx").on(t.patientPseudonym),
  ],
);

/** Every stored dose object (RDSR or image header), one row per SOP Instance UID. */
export const doseObjects = pgTable(
  "dose_objects",
  {
    id: serial("id").primaryKey(),
    sopInstanceUid: text("sop_instance_uid").notNull(),
    sopClassUid: text("sop_class_uid"),
    /** sha256 (hex) of the bytes as received. */
    sha256: text("sha256").notNull(),
    kind: text("kind").notNull(),
    modality: text("modality"),
    studyId: integer("study_id").references(() => studies.id),
    deviceId: integer("device_id").references(() => devices.id),
    trustOds: text("trust_ods").references(() => trusts.ods),
    /** import | api | dimse | stow | backfill | … */
    source: text("source").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** The DoseReport as stored (with any storage warnings appended). Holds no patient identifiers. */
    report: jsonb("report").$type<DoseReport>().notNull(),
    /**
     * The object of record. For SR objects (kinds ending `-rdsr`) the complete bytes as
     * received; these DO contain the patient identifiers (Patient ID, name, NHS number)
     * because the original object must be retrievable unaltered. Access to this column
     * is therefore access to identifiable data. For image objects no pixel data is ever
     * stored: only the header bytes when the caller passes them, else null.
     */
    rawBytes: bytea("raw_bytes"),
    // report.totals values the analytics copy reads for every object, kept as columns beside the
    // report so the sync does not read (and decompress) each whole report for them.
    activityMbq: doublePrecision("activity_mbq"),
    radiopharmaceutical: text("radiopharmaceutical"),
    fluoroTimeTotalS: doublePrecision("fluoro_time_total_s"),
    rpDoseTotalGy: doublePrecision("rp_dose_total_gy"),
  },
  (t) => [
    uniqueIndex("dose_objects_sop_instance_uid_uq").on(t.sopInstanceUid),
    index("dose_objects_study_idx").on(t.studyId),
    index("dose_objects_device_idx").on(t.deviceId),
    index("dose_objects_trust_idx").on(t.trustOds),
    index("dose_objects_modality_idx").on(t.modality),
    index("dose_objects_received_at_idx").on(t.receivedAt),
  ],
);

/**
 * Irradiation events, de-duplicated on Irradiation Event UID across objects
 * (a Siemens "continued" RDSR repeats earlier events; the first stored copy wins).
 * The event itself, every field, is its object's `report.events[ordinal]`; the row holds the
 * values that are queried, as columns. (Until migration 0011 each row also held a copy of the
 * event's JSON: it made the table nearly eight times wider than its columns, 868 MB against
 * 112 MB for 1M CT events, and every scan of it, the analytics sync's first, read that width.)
 */
export const irradiationEvents = pgTable(
  "irradiation_events",
  {
    id: serial("id").primaryKey(),
    doseObjectId: integer("dose_object_id")
      .notNull()
      .references(() => doseObjects.id, { onDelete: "cascade" }),
    /** Unique when not null (Postgres unique indexes allow many NULLs). */
    irradiationEventUid: text("irradiation_event_uid"),
    /** Position in the object's events array (0-based, document order). */
    ordinal: integer("ordinal").notNull(),
    eventDateTime: text("event_datetime"),
    protocol: text("protocol"),
    targetRegion: text("target_region"),
    acquisitionType: text("acquisition_type"),
    ctdivolMgy: doublePrecision("ctdivol_mgy"),
    dlpMgycm: doublePrecision("dlp_mgycm"),
    phantom: text("phantom"),
    dapGym2: doublePrecision("dap_gym2"),
    rpDoseGy: doublePrecision("rp_dose_gy"),
    agdMgy: doublePrecision("agd_mgy"),
    kvp: doublePrecision("kvp"),
    exposureTimeS: doublePrecision("exposure_time_s"),
    // More event values the analytics copy reads, as columns for the same reason (the sync read
    // them out of the event's JSON for every row).
    waterEquivalentDiameterMm: doublePrecision("water_equivalent_diameter_mm"),
    sizeSpecificDoseMgy: doublePrecision("size_specific_dose_mgy"),
    mas: doublePrecision("mas"),
    compressionThicknessMm: doublePrecision("compression_thickness_mm"),
    laterality: text("laterality"),
    viewPosition: text("view_position"),
  },
  (t) => [
    uniqueIndex("irradiation_events_uid_uq").on(t.irradiationEventUid),
    index("irradiation_events_object_idx").on(t.doseObjectId),
  ],
);

/** Objects that could not be stored, with the bytes, so nothing received is lost. */
export const quarantine = pgTable(
  "quarantine",
  {
    id: serial("id").primaryKey(),
    receivedAt: timestamp("received_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    source: text("source").notNull(),
    /** File name, URL or peer AE title the bytes came from. */
    origin: text("origin"),
    sha256: text("sha256").notNull(),
    errorCode: text("error_code").notNull(),
    errorMessage: text("error_message").notNull(),
    rawBytes: bytea("raw_bytes").notNull(),
    sopInstanceUid: text("sop_instance_uid"),
    trustOds: text("trust_ods"),
  },
  (t) => [
    // The same bytes rejected for the same reason are kept once (re-running an import is idempotent).
    uniqueIndex("quarantine_sha256_code_uq").on(t.sha256, t.errorCode),
    index("quarantine_received_at_idx").on(t.receivedAt),
  ],
);

export { examMappingRules } from "./analytics-schema.ts";
import { examMappingRules } from "./analytics-schema.ts";
export { backfillCheckpoints } from "./backfill-schema.ts";
import { backfillCheckpoints } from "./backfill-schema.ts";
export { alertQueue, alerts, cdsCards, cdsFeedback } from "./alerts-schema.ts";
export { studyLinks, repeatEvents, repeatRuleOverrides, pseudonymKeys } from "./repeats-schema.ts";
export { apiTokens, auditLog } from "./auth-schema.ts";
export const schema = { trusts, devices, studies, doseObjects, irradiationEvents, quarantine, examMappingRules, backfillCheckpoints };
export type Schema = typeof schema;
