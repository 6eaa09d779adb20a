-- Replays remember how far they got: the (time, position) of the last record a delivered
-- batch read, in the window's time order. A replay interrupted by a restart resumes after it
-- on the node that ran it, and reads the window through the (org_id, time, …) index instead
-- of scanning the stream from position 0.
CREATE TABLE drain_replays (
    id         TEXT PRIMARY KEY,
    drain_id   TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    from_ts    INTEGER NOT NULL,
    to_ts      INTEGER NOT NULL,
    after_ts   INTEGER NOT NULL,
    after_pos  INTEGER NOT NULL,
    records    INTEGER NOT NULL DEFAULT 0,
    -- The replay's own batch sequence (space `replay:{id}`): the last delivered batch's
    -- seq and key, so a resumed replay carries on numbering without a gap or a repeat.
    batch_seq  INTEGER NOT NULL DEFAULT 0,
    batch_prev TEXT,
    status     TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    error      TEXT,
    node       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX drain_replays_node ON drain_replays (node, status);

-- When records were stored: one mark per organization per ingest transaction, the last
-- position it wrote and the commit's wall-clock time. A drain's ingest-time lag is the age of
-- the first mark past its cursor — a backfill of old events shows its real delivery delay, not
-- the events' age. Marks every drain has passed are pruned after a while.
CREATE TABLE ingest_marks (
    data_type TEXT NOT NULL,
    org_id    TEXT NOT NULL,
    last_pos  INTEGER NOT NULL,
    at        INTEGER NOT NULL
) STRICT;
CREATE INDEX ingest_marks_pos ON ingest_marks (data_type, org_id, last_pos);
