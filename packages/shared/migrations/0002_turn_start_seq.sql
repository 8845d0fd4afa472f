-- Where an LLM call places the message that began a turn: after the group's last seq when the
-- turn started (a message that waited in the queue comes after the turn it waited for).
ALTER TABLE "turns" ADD COLUMN "start_seq" bigint;--> statement-breakpoint
-- the context read finds the turns that started within its window with this
CREATE INDEX "turns_group_start_idx" ON "turns" USING btree ("group_id","start_seq") WHERE "turns"."start_seq" is not null;
