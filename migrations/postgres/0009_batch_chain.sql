-- Per-batch sequence and chain (issue 17): the seq of the last live batch a drain delivered
-- and its idempotency key. The pending batch is numbered batch_seq + 1 and names batch_prev,
-- so a retry (also after a crash) carries the same seq and prev. Both move in the commit of
-- a delivered batch, fenced like the cursor.
ALTER TABLE drains ADD COLUMN batch_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE drains ADD COLUMN batch_prev TEXT;
-- Reconciliation (issue 17): the cursor a drain started from. Records at or before it were
-- never the drain's to deliver (a drain without start_ts starts after everything stored at
-- its creation). Drains from before this migration count from the beginning of the stream.
ALTER TABLE drains ADD COLUMN start_pos BIGINT NOT NULL DEFAULT 0;
