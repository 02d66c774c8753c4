CREATE TABLE "pseudonym_keys" (
	"version" integer PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"rekeyed_values" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "repeat_events" (
	"id" serial PRIMARY KEY NOT NULL,
	"study_id" integer NOT NULL,
	"prior_study_id" integer NOT NULL,
	"family" text NOT NULL,
	"window_hours" double precision NOT NULL,
	"interval_hours" double precision NOT NULL,
	"trust_ods" text,
	"prior_trust_ods" text,
	"exam_code" text NOT NULL,
	"prior_exam_code" text NOT NULL,
	"month" text,
	"detected_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "repeat_events_study_uq" UNIQUE("study_id")
);
--> statement-breakpoint
CREATE TABLE "repeat_rule_overrides" (
	"family" text PRIMARY KEY NOT NULL,
	"window" jsonb,
	"exclusions" jsonb,
	"note" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "study_links" (
	"study_id" integer PRIMARY KEY NOT NULL,
	"trust_ods" text,
	"linkage_scope" text NOT NULL,
	"link_key" text,
	"exam_code" text,
	"exam_at" timestamp with time zone,
	"month" text,
	"excluded" text,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "repeat_events_rate_idx" ON "repeat_events" USING btree ("month","trust_ods","exam_code");--> statement-breakpoint
CREATE INDEX "repeat_events_prior_idx" ON "repeat_events" USING btree ("prior_study_id");--> statement-breakpoint
CREATE INDEX "study_links_link_idx" ON "study_links" USING btree ("link_key","exam_at");--> statement-breakpoint
CREATE INDEX "study_links_rate_idx" ON "study_links" USING btree ("month","trust_ods","exam_code");