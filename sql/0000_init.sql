CREATE TABLE "devices" (
	"id" serial PRIMARY KEY NOT NULL,
	"identity_key" text NOT NULL,
	"manufacturer" text,
	"model" text,
	"station_name" text,
	"serial_number" text,
	"institution_name" text,
	"observer_uid" text,
	"trust_ods" text,
	"first_seen" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dose_objects" (
	"id" serial PRIMARY KEY NOT NULL,
	"sop_instance_uid" text NOT NULL,
	"sop_class_uid" text,
	"sha256" text NOT NULL,
	"kind" text NOT NULL,
	"modality" text,
	"study_id" integer,
	"device_id" integer,
	"trust_ods" text,
	"source" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"report" jsonb NOT NULL,
	"raw_bytes" "bytea"
);
--> statement-breakpoint
CREATE TABLE "irradiation_events" (
	"id" serial PRIMARY KEY NOT NULL,
	"dose_object_id" integer NOT NULL,
	"irradiation_event_uid" text,
	"ordinal" integer NOT NULL,
	"event_datetime" text,
	"protocol" text,
	"target_region" text,
	"acquisition_type" text,
	"ctdivol_mgy" double precision,
	"dlp_mgycm" double precision,
	"phantom" text,
	"dap_gym2" double precision,
	"rp_dose_gy" double precision,
	"agd_mgy" double precision,
	"kvp" double precision,
	"exposure_time_s" double precision,
	"event" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "quarantine" (
	"id" serial PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"source" text NOT NULL,
	"origin" text,
	"sha256" text NOT NULL,
	"error_code" text NOT NULL,
	"error_message" text NOT NULL,
	"raw_bytes" "bytea" NOT NULL,
	"sop_instance_uid" text,
	"trust_ods" text
);
--> statement-breakpoint
CREATE TABLE "studies" (
	"id" serial PRIMARY KEY NOT NULL,
	"study_instance_uid" text NOT NULL,
	"trust_ods" text,
	"modality" text,
	"study_date" date,
	"study_datetime" text,
	"accession_number" text,
	"description" text,
	"patient_pseudonym" text,
	"patient_sex" text,
	"patient_age_years" double precision,
	"patient_weight_kg" double precision,
	"patient_height_m" double precision,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "trusts" (
	"ods" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "devices" ADD CONSTRAINT "devices_trust_ods_trusts_ods_fk" FOREIGN KEY ("trust_ods") REFERENCES "public"."trusts"("ods") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dose_objects" ADD CONSTRAINT "dose_objects_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dose_objects" ADD CONSTRAINT "dose_objects_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dose_objects" ADD CONSTRAINT "dose_objects_trust_ods_trusts_ods_fk" FOREIGN KEY ("trust_ods") REFERENCES "public"."trusts"("ods") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "irradiation_events" ADD CONSTRAINT "irradiation_events_dose_object_id_dose_objects_id_fk" FOREIGN KEY ("dose_object_id") REFERENCES "public"."dose_objects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "studies" ADD CONSTRAINT "studies_trust_ods_trusts_ods_fk" FOREIGN KEY ("trust_ods") REFERENCES "public"."trusts"("ods") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "devices_identity_key_uq" ON "devices" USING btree ("identity_key");--> statement-breakpoint
CREATE INDEX "devices_trust_idx" ON "devices" USING btree ("trust_ods");--> statement-breakpoint
CREATE UNIQUE INDEX "dose_objects_sop_instance_uid_uq" ON "dose_objects" USING btree ("sop_instance_uid");--> statement-breakpoint
CREATE INDEX "dose_objects_study_idx" ON "dose_objects" USING btree ("study_id");--> statement-breakpoint
CREATE INDEX "dose_objects_device_idx" ON "dose_objects" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "dose_objects_trust_idx" ON "dose_objects" USING btree ("trust_ods");--> statement-breakpoint
CREATE INDEX "dose_objects_modality_idx" ON "dose_objects" USING btree ("modality");--> statement-breakpoint
CREATE INDEX "dose_objects_received_at_idx" ON "dose_objects" USING btree ("received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "irradiation_events_uid_uq" ON "irradiation_events" USING btree ("irradiation_event_uid");--> statement-breakpoint
CREATE INDEX "irradiation_events_object_idx" ON "irradiation_events" USING btree ("dose_object_id");--> statement-breakpoint
CREATE UNIQUE INDEX "quarantine_sha256_code_uq" ON "quarantine" USING btree ("sha256","error_code");--> statement-breakpoint
CREATE INDEX "quarantine_received_at_idx" ON "quarantine" USING btree ("received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "studies_study_instance_uid_uq" ON "studies" USING btree ("study_instance_uid");--> statement-breakpoint
CREATE INDEX "studies_study_date_idx" ON "studies" USING btree ("study_date");--> statement-breakpoint
CREATE INDEX "studies_trust_idx" ON "studies" USING btree ("trust_ods");--> statement-breakpoint
CREATE INDEX "studies_modality_idx" ON "studies" USING btree ("modality");--> statement-breakpoint
CREATE INDEX "studies_pseudonym_idx" ON "studies" USING btree ("patient_pseudonym");