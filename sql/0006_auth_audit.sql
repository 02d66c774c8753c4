CREATE TABLE "api_tokens" (
	"id" serial PRIMARY KEY NOT NULL,
	"public_id" text NOT NULL,
	"token_sha256" text NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"trusts" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" serial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"token_id" integer,
	"actor" text NOT NULL,
	"role" text NOT NULL,
	"actor_trusts" jsonb NOT NULL,
	"action" text NOT NULL,
	"method" text NOT NULL,
	"route" text NOT NULL,
	"resource" text,
	"data_trust" text,
	"status" integer NOT NULL,
	"reason" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "api_tokens_public_id_uq" ON "api_tokens" USING btree ("public_id");--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_log_action_idx" ON "audit_log" USING btree ("action","at");--> statement-breakpoint
CREATE INDEX "audit_log_token_idx" ON "audit_log" USING btree ("token_id","at");