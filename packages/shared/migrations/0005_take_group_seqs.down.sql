DROP FUNCTION IF EXISTS take_group_seqs(uuid, integer);
