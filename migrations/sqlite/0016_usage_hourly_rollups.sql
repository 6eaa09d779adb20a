-- Coarse usage rollups (issue 14, speed): the 15-minute tables of migration 0008 are keyed by
-- every dimension, so they hold nearly as many rows as the records and a year of daily
-- buckets read almost every one. These tables sum the same additive measures per UTC hour and
-- team only (credits also per category, a filter), so a query that groups and filters by
-- nothing finer reads a few rows per hour. Queries use them for the whole hours of a bucket
-- and the 15-minute tables for the quarter hours at its edges (zones like Asia/Kathmandu), so
-- every zone stays exact. Ingest maintains them in its own transaction, like the others
-- (src/store/rollups.rs); rows stored before this migration are rolled up in bounded batches
-- by the backfill (usage_backfill_hourly). `slot` is the hour's start in Unix seconds.

CREATE TABLE usage_credits_hourly (
    org_id   TEXT NOT NULL,
    slot     INTEGER NOT NULL,
    team_id  TEXT NOT NULL,
    category TEXT NOT NULL,
    spent    INTEGER NOT NULL,
    granted  INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id, category)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_runs_hourly (
    org_id      TEXT NOT NULL,
    slot        INTEGER NOT NULL,
    team_id     TEXT NOT NULL,
    runs        INTEGER NOT NULL,
    failed_runs INTEGER NOT NULL,
    run_credits INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_interactions_hourly (
    org_id              TEXT NOT NULL,
    slot                INTEGER NOT NULL,
    team_id             TEXT NOT NULL,
    interactions        INTEGER NOT NULL,
    interaction_credits INTEGER NOT NULL,
    input_tokens        INTEGER NOT NULL,
    output_tokens       INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_tool_calls_hourly (
    org_id           TEXT NOT NULL,
    slot             INTEGER NOT NULL,
    team_id          TEXT NOT NULL,
    tool_calls       INTEGER NOT NULL,
    tool_call_errors INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id)
) STRICT, WITHOUT ROWID;

-- What the hourly backfill still has to roll up: per organization and stream, the positions
-- [next_pos, upto] stored before this migration (including any the 0008 backfill has not
-- reached yet: the two backfills fill different tables). Ingest rolls up everything after.
CREATE TABLE usage_backfill_hourly (
    org_id   TEXT NOT NULL,
    stream   TEXT NOT NULL,
    next_pos INTEGER NOT NULL,
    upto     INTEGER NOT NULL,
    PRIMARY KEY (org_id, stream)
) STRICT;

INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto)
SELECT org_id, 'credit_logs', MIN(pos), MAX(pos) FROM credit_logs GROUP BY org_id;
INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto)
SELECT org_id, 'workflow_runs', MIN(pos), MAX(pos) FROM workflow_runs GROUP BY org_id;
INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto)
SELECT org_id, 'agent_interactions', MIN(pos), MAX(pos) FROM agent_interactions GROUP BY org_id;
INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto)
SELECT org_id, 'tool_calls', MIN(pos), MAX(pos) FROM tool_calls GROUP BY org_id;
