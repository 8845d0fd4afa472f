DROP INDEX IF EXISTS "turns_group_start_idx";
ALTER TABLE "turns" DROP COLUMN IF EXISTS "start_seq";
