CREATE TABLE "exam_mapping_rules" (
	"id" serial PRIMARY KEY NOT NULL,
	"exam_code" text NOT NULL,
	"field" text NOT NULL,
	"match" text NOT NULL,
	"pattern" text NOT NULL,
	"modality" text,
	"trust_ods" text,
	"device_id" integer,
	"priority" integer DEFAULT 0 NOT NULL,
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "exam_mapping_rules_exam_idx" ON "exam_mapping_rules" USING btree ("exam_code");