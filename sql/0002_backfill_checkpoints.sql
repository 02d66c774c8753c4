CREATE TABLE "backfill_checkpoints" (
	"id" serial PRIMARY KEY NOT NULL,
	"job" text NOT NULL,
	"kind" text NOT NULL,
	"item" text NOT NULL,
	"objects" integer DEFAULT 0 NOT NULL,
	"completed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "backfill_checkpoints_job_kind_item_uq" ON "backfill_checkpoints" USING btree ("job","kind","item");