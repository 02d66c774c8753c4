ALTER TABLE "dose_objects" ADD COLUMN "activity_mbq" double precision;--> statement-breakpoint
ALTER TABLE "dose_objects" ADD COLUMN "radiopharmaceutical" text;--> statement-breakpoint
ALTER TABLE "dose_objects" ADD COLUMN "fluoro_time_total_s" double precision;--> statement-breakpoint
ALTER TABLE "dose_objects" ADD COLUMN "rp_dose_total_gy" double precision;--> statement-breakpoint
ALTER TABLE "irradiation_events" ADD COLUMN "water_equivalent_diameter_mm" double precision;--> statement-breakpoint
ALTER TABLE "irradiation_events" ADD COLUMN "size_specific_dose_mgy" double precision;--> statement-breakpoint
ALTER TABLE "irradiation_events" ADD COLUMN "mas" double precision;--> statement-breakpoint
ALTER TABLE "irradiation_events" ADD COLUMN "compression_thickness_mm" double precision;--> statement-breakpoint
ALTER TABLE "irradiation_events" ADD COLUMN "laterality" text;--> statement-breakpoint
ALTER TABLE "irradiation_events" ADD COLUMN "view_position" text;