CREATE TABLE "alert_queue" (
	"id" serial PRIMARY KEY NOT NULL,
	"dose_object_id" integer NOT NULL,
	"enqueued_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alerts" (
	"id" serial PRIMARY KEY NOT NULL,
	"dedupe_key" text NOT NULL,
	"rule" text NOT NULL,
	"scope" text NOT NULL,
	"level" text NOT NULL,
	"quantity" text NOT NULL,
	"unit" text NOT NULL,
	"value" double precision NOT NULL,
	"threshold" double precision NOT NULL,
	"threshold_source" text NOT NULL,
	"threshold_verified" boolean NOT NULL,
	"message" text NOT NULL,
	"dose_object_id" integer,
	"study_id" integer,
	"irradiation_event_uid" text,
	"trust_ods" text,
	"modality" text,
	"study_date" date,
	"exam_code" text,
	"patient_pseudonym" text,
	"status" text DEFAULT 'open' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" text,
	"ack_comment" text,
	"webhook_state" text DEFAULT 'none' NOT NULL,
	"webhook_attempts" integer DEFAULT 0 NOT NULL,
	"webhook_next_at" timestamp with time zone,
	"webhook_last_error" text,
	"webhook_delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "cds_cards" (
	"id" serial PRIMARY KEY NOT NULL,
	"uuid" text NOT NULL,
	"service_id" text NOT NULL,
	"hook" text NOT NULL,
	"hook_instance" text NOT NULL,
	"exam_code" text NOT NULL,
	"prior_count" integer NOT NULL,
	"prior_trust_ods" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cds_feedback" (
	"id" serial PRIMARY KEY NOT NULL,
	"service_id" text NOT NULL,
	"card_uuid" text NOT NULL,
	"outcome" text NOT NULL,
	"override_reason_system" text,
	"override_reason_code" text,
	"override_reason_display" text,
	"accepted_suggestions" text,
	"outcome_timestamp" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_dedupe_key_uq" ON "alerts" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "alerts_status_idx" ON "alerts" USING btree ("status","created_at");--> statement-breakpoint
CREATE INDEX "alerts_webhook_idx" ON "alerts" USING btree ("webhook_state","webhook_next_at");--> statement-breakpoint
CREATE INDEX "alerts_patient_idx" ON "alerts" USING btree ("patient_pseudonym","rule");--> statement-breakpoint
CREATE UNIQUE INDEX "cds_cards_uuid_uq" ON "cds_cards" USING btree ("uuid");--> statement-breakpoint
CREATE INDEX "cds_feedback_card_idx" ON "cds_feedback" USING btree ("card_uuid");