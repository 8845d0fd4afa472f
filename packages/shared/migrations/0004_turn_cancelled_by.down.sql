ALTER TABLE "turns" DROP COLUMN IF EXISTS "cancelled_by";
