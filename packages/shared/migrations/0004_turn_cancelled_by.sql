-- Who cancelled a turn, so that every client (and a reload) can say who stopped it.
ALTER TABLE "turns" ADD COLUMN "cancelled_by" uuid;--> statement-breakpoint
ALTER TABLE "turns" ADD CONSTRAINT "turns_cancelled_by_users_id_fk" FOREIGN KEY ("cancelled_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;
