-- The one writer of groups.last_seq: takes a group's next p_count seqs and returns the last one
-- taken (null: no such group). Run in the statement or transaction that inserts the messages, so the
-- row lock orders writers and a rollback undoes the bump: committed seqs of a group have no gaps.
CREATE FUNCTION take_group_seqs(p_group_id uuid, p_count integer) RETURNS bigint
LANGUAGE sql VOLATILE AS $$
  UPDATE groups SET last_seq = last_seq + p_count WHERE id = p_group_id RETURNING last_seq
$$;
