-- Usage rollups (issue 14): additive sums per 15-minute UTC slot, one table per source stream
-- with the dimensions that stream has, so `GET /v1/usage` reads a few rows per slot instead of
-- every record. Every current zone offset and clock change falls on a UTC quarter hour, so the
-- buckets of any zone are unions of slots. `slot` is the slot's start in Unix seconds; missing
-- dimension values are '' (a key column may not be NULL: NULLs never conflict in an upsert).
-- Credits are integer micro-credits, so sums are exact and independent of order.
-- Ingest maintains the tables in its own transaction (src/store/rollups.rs); rows stored
-- before this migration are rolled up in bounded batches by the backfill (usage_backfill).

CREATE TABLE usage_credits (
    org_id      TEXT NOT NULL,
    slot        INTEGER NOT NULL,
    team_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    category    TEXT NOT NULL,
    custom_role TEXT NOT NULL,
    spent       INTEGER NOT NULL,
    granted     INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id, user_id, category, custom_role)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_runs (
    org_id      TEXT NOT NULL,
    slot        INTEGER NOT NULL,
    team_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    workbook_id TEXT NOT NULL,
    runs        INTEGER NOT NULL,
    failed_runs INTEGER NOT NULL,
    run_credits INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id, user_id, workbook_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_interactions (
    org_id              TEXT NOT NULL,
    slot                INTEGER NOT NULL,
    team_id             TEXT NOT NULL,
    user_id             TEXT NOT NULL,
    agent_id            TEXT NOT NULL,
    model               TEXT NOT NULL,
    api_key_id          TEXT NOT NULL,
    interactions        INTEGER NOT NULL,
    interaction_credits INTEGER NOT NULL,
    input_tokens        INTEGER NOT NULL,
    output_tokens       INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id, user_id, agent_id, model, api_key_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_tool_calls (
    org_id           TEXT NOT NULL,
    slot             INTEGER NOT NULL,
    team_id          TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    agent_id         TEXT NOT NULL,
    tool_calls       INTEGER NOT NULL,
    tool_call_errors INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id, user_id, agent_id)
) STRICT, WITHOUT ROWID;

-- Tool-call latency as a mergeable histogram (src/domain/histogram.rs): one row per
-- non-empty bucket, so merging is a SUM like every other rollup.
CREATE TABLE usage_tool_latency (
    org_id   TEXT NOT NULL,
    slot     INTEGER NOT NULL,
    team_id  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    bin      INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id, user_id, agent_id, bin)
) STRICT, WITHOUT ROWID;

-- Which members were active (any record of the four streams) in a slot: active users are a
-- distinct count, which sums cannot answer.
CREATE TABLE usage_active (
    org_id  TEXT NOT NULL,
    slot    INTEGER NOT NULL,
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (org_id, slot, team_id, user_id)
) STRICT, WITHOUT ROWID;

-- The smallest whole millisecond of each histogram bucket (filled at start-up from the
-- histogram's own bucket function, so SQL and Rust can never disagree), to bucket latencies
-- in SQL without a logarithm (SQLite has none).
CREATE TABLE usage_latency_bounds (
    first_ms INTEGER PRIMARY KEY,
    bin      INTEGER NOT NULL
) STRICT;

-- What the backfill still has to roll up: per organization and stream, the positions
-- [next_pos, upto] stored before this migration. Ingest rolls up everything after.
CREATE TABLE usage_backfill (
    org_id   TEXT NOT NULL,
    stream   TEXT NOT NULL,
    next_pos INTEGER NOT NULL,
    upto     INTEGER NOT NULL,
    PRIMARY KEY (org_id, stream)
) STRICT;

INSERT INTO usage_backfill (org_id, stream, next_pos, upto)
SELECT org_id, 'credit_logs', MIN(pos), MAX(pos) FROM credit_logs GROUP BY org_id;
INSERT INTO usage_backfill (org_id, stream, next_pos, upto)
SELECT org_id, 'workflow_runs', MIN(pos), MAX(pos) FROM workflow_runs GROUP BY org_id;
INSERT INTO usage_backfill (org_id, stream, next_pos, upto)
SELECT org_id, 'agent_interactions', MIN(pos), MAX(pos) FROM agent_interactions GROUP BY org_id;
INSERT INTO usage_backfill (org_id, stream, next_pos, upto)
SELECT org_id, 'tool_calls', MIN(pos), MAX(pos) FROM tool_calls GROUP BY org_id;
