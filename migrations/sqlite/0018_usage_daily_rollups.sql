-- Daily usage rollups (issue 14, speed). The hourly tables of 0016 still make a local day 24
-- rows per team; these sum the same measures per UTC day and team (credits also per
-- category), and a query reads a local day as its nearest UTC day plus and less the hours
-- between the two midnights (src/usage/sql.rs). A subtraction can leave a team with no
-- records in the bucket and every measure zero, which must not be shown as a group, so every
-- coarse row now carries its record count: runs, interactions and tool calls count
-- themselves; credit rows get `n`.
--
-- The hourly credit table is rebuilt with `n`, and the hourly tables are emptied and rolled up
-- again together with the daily ones by the hourly backfill (usage_backfill_hourly, reset
-- below to every stored record), in bounded batches while ingest goes on; until it is done,
-- queries read the 15-minute tables, as after 0016. `slot` is the UTC day's start in Unix
-- seconds.

DROP TABLE usage_credits_hourly;
CREATE TABLE usage_credits_hourly (
    org_id   TEXT NOT NULL,
    slot     INTEGER NOT NULL,
    team_id  TEXT NOT NULL,
    category TEXT NOT NULL,
    spent    INTEGER NOT NULL,
    granted  INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id, category)
) STRICT, WITHOUT ROWID;
DELETE FROM usage_runs_hourly;
DELETE FROM usage_interactions_hourly;
DELETE FROM usage_tool_calls_hourly;

CREATE TABLE usage_credits_daily (
    org_id   TEXT NOT NULL,
    slot     INTEGER NOT NULL,
    team_id  TEXT NOT NULL,
    category TEXT NOT NULL,
    spent    INTEGER NOT NULL,
    granted  INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id, category)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_runs_daily (
    org_id      TEXT NOT NULL,
    slot        INTEGER NOT NULL,
    team_id     TEXT NOT NULL,
    runs        INTEGER NOT NULL,
    failed_runs INTEGER NOT NULL,
    run_credits INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_interactions_daily (
    org_id              TEXT NOT NULL,
    slot                INTEGER NOT NULL,
    team_id             TEXT NOT NULL,
    interactions        INTEGER NOT NULL,
    interaction_credits INTEGER NOT NULL,
    input_tokens        INTEGER NOT NULL,
    output_tokens       INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE usage_tool_calls_daily (
    org_id           TEXT NOT NULL,
    slot             INTEGER NOT NULL,
    team_id          TEXT NOT NULL,
    tool_calls       INTEGER NOT NULL,
    tool_call_errors INTEGER NOT NULL,
    PRIMARY KEY (org_id, slot, team_id)
) STRICT, WITHOUT ROWID;

DELETE FROM usage_backfill_hourly;
INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto)
SELECT org_id, 'credit_logs', MIN(pos), MAX(pos) FROM credit_logs GROUP BY org_id;
INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto)
SELECT org_id, 'workflow_runs', MIN(pos), MAX(pos) FROM workflow_runs GROUP BY org_id;
INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto)
SELECT org_id, 'agent_interactions', MIN(pos), MAX(pos) FROM agent_interactions GROUP BY org_id;
INSERT INTO usage_backfill_hourly (org_id, stream, next_pos, upto)
SELECT org_id, 'tool_calls', MIN(pos), MAX(pos) FROM tool_calls GROUP BY org_id;
