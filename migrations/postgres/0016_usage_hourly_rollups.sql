-- Coarse usage rollups (issue 14, speed): the 15-minute tables of migration 0008 are keyed by
-- every dimension, so they hold nearly as many rows as the records and a year of daily
-- buckets read almost every one. These tables sum the same additive measures per UTC hour and
-- team only (credits also per category, a filter), so a query that groups and filters by
-- nothing finer reads a few rows per hour. Queries use them for the whole hours of a bucket
-- and the 15-minute tables for the quarter hours at its edges (zones like Asia/Kathmandu), so
-- every zone stays exact. Ingest maintains them in its own transaction, like the others
-- (src/store/rollups.rs); rows stored before this migration are rolled up in bounded batches
-- by the backfill (usage_backfill_hourly). `slot` is the hour's start in Unix seconds.
--
-- PostgreSQL: rows are APPENDED per key and batch and the key is not unique, as in 0008
-- (an upsert would serialize concurrent ingest); compaction merges them.

CREATE TABLE usage_credits_hourly (
    org_id   TEXT NOT NULL,
    slot     BIGINT NOT NULL,
    team_id  TEXT NOT NULL,
    category TEXT NOT NULL,
    spent    BIGINT NOT NULL,
    granted  BIGINT NOT NULL
);
CREATE INDEX usage_credits_hourly_slot ON usage_credits_hourly (org_id, slot);

CREATE TABLE usage_runs_hourly (
    org_id      TEXT NOT NULL,
    slot        BIGINT NOT NULL,
    team_id     TEXT NOT NULL,
    runs        BIGINT NOT NULL,
    failed_runs BIGINT NOT NULL,
    run_credits BIGINT NOT NULL
);
CREATE INDEX usage_runs_hourly_slot ON usage_runs_hourly (org_id, slot);

CREATE TABLE usage_interactions_hourly (
    org_id              TEXT NOT NULL,
    slot                BIGINT NOT NULL,
    team_id             TEXT NOT NULL,
    interactions        BIGINT NOT NULL,
    interaction_credits BIGINT NOT NULL,
    input_tokens        BIGINT NOT NULL,
    output_tokens       BIGINT NOT NULL
);
CREATE INDEX usage_interactions_hourly_slot ON usage_interactions_hourly (org_id, slot);

CREATE TABLE usage_tool_calls_hourly (
    org_id           TEXT NOT NULL,
    slot             BIGINT NOT NULL,
    team_id          TEXT NOT NULL,
    tool_calls       BIGINT NOT NULL,
    tool_call_errors BIGINT NOT NULL
);
CREATE INDEX usage_tool_calls_hourly_slot ON usage_tool_calls_hourly (org_id, slot);

-- What the hourly backfill still has to roll up: per organization and stream, the positions
-- [next_pos, upto] stored before this migration (including any the 0008 backfill has not
-- reached yet: the two backfills fill different tables). Ingest rolls up everything after.
CREATE TABLE usage_backfill_hourly (
    org_id   TEXT NOT NULL,
    stream   TEXT NOT NULL,
    next_pos BIGINT NOT NULL,
    upto     BIGINT NOT NULL,
    PRIMARY KEY (org_id, stream)
);

INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto)
SELECT org_id, 'credit_logs', MIN(pos), MAX(pos) FROM credit_logs GROUP BY org_id;
INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto)
SELECT org_id, 'workflow_runs', MIN(pos), MAX(pos) FROM workflow_runs GROUP BY org_id;
INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto)
SELECT org_id, 'agent_interactions', MIN(pos), MAX(pos) FROM agent_interactions GROUP BY org_id;
INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto)
SELECT org_id, 'tool_calls', MIN(pos), MAX(pos) FROM tool_calls GROUP BY org_id;
