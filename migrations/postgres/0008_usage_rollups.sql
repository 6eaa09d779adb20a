-- Usage rollups (issue 14): additive sums per 15-minute UTC slot, one table per source stream
-- with the dimensions that stream has, so `GET /v1/usage` reads a few rows per slot instead of
-- every record. Every current zone offset and clock change falls on a UTC quarter hour, so the
-- buckets of any zone are unions of slots. `slot` is the slot's start in Unix seconds; missing
-- dimension values are '' (a key column may not be NULL: NULLs never conflict in an upsert).
-- Credits are integer micro-credits, so sums are exact and independent of order.
-- Ingest maintains the tables in its own transaction (src/store/rollups.rs); rows stored
-- before this migration are rolled up in bounded batches by the backfill (usage_backfill).
--
-- PostgreSQL: rollup rows are APPENDED (one per key and batch), never upserted, and the key
-- is not unique. An upsert would lock the shared row until the ingest transaction commits,
-- serializing concurrent ingest and breaking its lock-free delivery order (a transaction
-- committing first would wait for one that commits later). Queries sum rows anyway, so
-- several rows per key give the same answer.

CREATE TABLE usage_credits (
    org_id      TEXT NOT NULL,
    slot        BIGINT NOT NULL,
    team_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    category    TEXT NOT NULL,
    custom_role TEXT NOT NULL,
    spent       BIGINT NOT NULL,
    granted     BIGINT NOT NULL
);
CREATE INDEX usage_credits_slot ON usage_credits (org_id, slot);

CREATE TABLE usage_runs (
    org_id      TEXT NOT NULL,
    slot        BIGINT NOT NULL,
    team_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    workbook_id TEXT NOT NULL,
    runs        BIGINT NOT NULL,
    failed_runs BIGINT NOT NULL,
    run_credits BIGINT NOT NULL
);
CREATE INDEX usage_runs_slot ON usage_runs (org_id, slot);

CREATE TABLE usage_interactions (
    org_id              TEXT NOT NULL,
    slot                BIGINT NOT NULL,
    team_id             TEXT NOT NULL,
    user_id             TEXT NOT NULL,
    agent_id            TEXT NOT NULL,
    model               TEXT NOT NULL,
    api_key_id          TEXT NOT NULL,
    interactions        BIGINT NOT NULL,
    interaction_credits BIGINT NOT NULL,
    input_tokens        BIGINT NOT NULL,
    output_tokens       BIGINT NOT NULL
);
CREATE INDEX usage_interactions_slot ON usage_interactions (org_id, slot);

CREATE TABLE usage_tool_calls (
    org_id           TEXT NOT NULL,
    slot             BIGINT NOT NULL,
    team_id          TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    agent_id         TEXT NOT NULL,
    tool_calls       BIGINT NOT NULL,
    tool_call_errors BIGINT NOT NULL
);
CREATE INDEX usage_tool_calls_slot ON usage_tool_calls (org_id, slot);

-- Tool-call latency as a mergeable histogram (src/domain/histogram.rs): one row per
-- non-empty bucket, so merging is a SUM like every other rollup.
CREATE TABLE usage_tool_latency (
    org_id   TEXT NOT NULL,
    slot     BIGINT NOT NULL,
    team_id  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    bin      BIGINT NOT NULL,
    n        BIGINT NOT NULL
);
CREATE INDEX usage_tool_latency_slot ON usage_tool_latency (org_id, slot);

-- Which members were active (any record of the four streams) in a slot: active users are a
-- distinct count, which sums cannot answer.
CREATE TABLE usage_active (
    org_id  TEXT NOT NULL,
    slot    BIGINT NOT NULL,
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL
);
CREATE INDEX usage_active_slot ON usage_active (org_id, slot);

-- The smallest whole millisecond of each histogram bucket (filled at start-up from the
-- histogram's own bucket function, so SQL and Rust can never disagree), to bucket latencies
-- in SQL without a logarithm (SQLite has none).
CREATE TABLE usage_latency_bounds (
    first_ms BIGINT PRIMARY KEY,
    bin      BIGINT NOT NULL
);

-- What the backfill still has to roll up: per organization and stream, the positions
-- [next_pos, upto] stored before this migration. Ingest rolls up everything after.
CREATE TABLE usage_backfill (
    org_id   TEXT NOT NULL,
    stream   TEXT NOT NULL,
    next_pos BIGINT NOT NULL,
    upto     BIGINT NOT NULL,
    PRIMARY KEY (org_id, stream)
);

INSERT INTO usage_backfill (org_id, stream, next_pos, upto)
SELECT org_id, 'credit_logs', MIN(pos), MAX(pos) FROM credit_logs GROUP BY org_id;
INSERT INTO usage_backfill (org_id, stream, next_pos, upto)
SELECT org_id, 'workflow_runs', MIN(pos), MAX(pos) FROM workflow_runs GROUP BY org_id;
INSERT INTO usage_backfill (org_id, stream, next_pos, upto)
SELECT org_id, 'agent_interactions', MIN(pos), MAX(pos) FROM agent_interactions GROUP BY org_id;
INSERT INTO usage_backfill (org_id, stream, next_pos, upto)
SELECT org_id, 'tool_calls', MIN(pos), MAX(pos) FROM tool_calls GROUP BY org_id;
