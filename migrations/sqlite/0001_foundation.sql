-- Outflow foundation schema (SQLite). Instants are INTEGER microseconds since the Unix epoch,
-- JSON is TEXT, booleans are 0/1. Record tables mirror src/domain/catalog; a test checks that.

CREATE TABLE orgs (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    billing_anchor_day INTEGER NOT NULL CHECK (billing_anchor_day BETWEEN 1 AND 31),
    timezone           TEXT NOT NULL,
    privacy            TEXT NOT NULL CHECK (privacy IN ('visible', 'pseudonymized', 'hidden')),
    pseudonym_key      TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;

CREATE TABLE teams (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    personal   INTEGER NOT NULL DEFAULT 0,
    owner_id   TEXT,
    privacy    TEXT CHECK (privacy IN ('visible', 'pseudonymized', 'hidden')),
    created_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;
CREATE INDEX teams_personal ON teams (org_id, personal);

CREATE TABLE members (
    org_id           TEXT NOT NULL REFERENCES orgs (id),
    id               TEXT NOT NULL,
    email            TEXT NOT NULL,
    name             TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    custom_role_ids  TEXT NOT NULL DEFAULT '[]',
    department       TEXT,
    joined_at        INTEGER NOT NULL,
    personal_team_id TEXT NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;
CREATE INDEX members_email ON members (org_id, email);

CREATE TABLE custom_roles (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;

CREATE TABLE workbooks (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    team_id    TEXT,
    owner_id   TEXT,
    created_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;

-- The platform's own API keys (the `api_keys` usage report), not Outflow's organization keys.
CREATE TABLE api_keys (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    owner_id   TEXT,
    team_id    TEXT,
    created_at INTEGER,
    revoked_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;

-- Latest version of each agent; every version is a row of agent_versions.
CREATE TABLE agents (
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    workspace_id  TEXT NOT NULL,
    version       INTEGER NOT NULL,
    content_hash  TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;

-- Outflow's organization keys: only the SHA-256 of the secret is stored.
CREATE TABLE org_keys (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
) STRICT;
CREATE INDEX org_keys_org ON org_keys (org_id);

-- The delivery-order counter. SQLite has one writer at a time, and the write transaction that
-- takes positions from here holds the write lock until it commits, so positions commit in order.
CREATE TABLE positions (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    next INTEGER NOT NULL
) STRICT;
INSERT INTO positions (id, next) VALUES (1, 1);

CREATE TABLE workflow_runs (
    org_id              TEXT NOT NULL,
    pos                 INTEGER NOT NULL,
    workspace_id        TEXT NOT NULL,
    workspace_name      TEXT,
    workbook_id         TEXT NOT NULL,
    workbook_name       TEXT,
    workbook_created_ts INTEGER,
    user_id             TEXT,
    user_email          TEXT,
    run_id              TEXT NOT NULL,
    parent_run_id       TEXT,
    run_status          TEXT,
    credit_cost         REAL,
    pl_run_created_ts   INTEGER NOT NULL,
    pl_run_finished_ts  INTEGER,
    pipeline            TEXT
) STRICT;
CREATE UNIQUE INDEX workflow_runs_id ON workflow_runs (org_id, run_id);
CREATE UNIQUE INDEX workflow_runs_pos ON workflow_runs (org_id, pos);
CREATE INDEX workflow_runs_time ON workflow_runs (org_id, pl_run_created_ts);
CREATE INDEX workflow_runs_team_time ON workflow_runs (org_id, workspace_id, pl_run_created_ts);

CREATE TABLE agent_versions (
    org_id                    TEXT NOT NULL,
    pos                       INTEGER NOT NULL,
    agent_id                  TEXT NOT NULL,
    agent_version             INTEGER NOT NULL,
    agent_name                TEXT,
    agent_description         TEXT,
    agent_created_ts          INTEGER NOT NULL,
    agent_updated_ts          INTEGER,
    agent_model               TEXT,
    agent_system_prompt       TEXT,
    agent_tools               TEXT,
    agent_metadata            TEXT,
    agent_evaluations_enabled INTEGER,
    creator_email             TEXT,
    workspace_id              TEXT NOT NULL,
    workspace_name            TEXT,
    folder_id                 TEXT,
    folder_name               TEXT
) STRICT;
CREATE UNIQUE INDEX agent_versions_id ON agent_versions (org_id, agent_id, agent_version);
CREATE UNIQUE INDEX agent_versions_pos ON agent_versions (org_id, pos);
CREATE INDEX agent_versions_time ON agent_versions (org_id, agent_created_ts);
CREATE INDEX agent_versions_team_time ON agent_versions (org_id, workspace_id, agent_created_ts);

CREATE TABLE agent_interactions (
    org_id                 TEXT NOT NULL,
    pos                    INTEGER NOT NULL,
    interaction_id         TEXT NOT NULL,
    agent_id               TEXT,
    agent_name             TEXT,
    interaction_type       TEXT,
    interaction_name       TEXT,
    trigger_type           TEXT,
    interaction_created_ts INTEGER NOT NULL,
    message_count          INTEGER,
    user_id                TEXT,
    user_email             TEXT,
    credit_cost            REAL,
    llm_credit_cost        REAL,
    tool_credit_cost       REAL,
    flow_credit_cost       REAL,
    model                  TEXT,
    source                 TEXT,
    api_key_id             TEXT,
    prompt_tokens          INTEGER,
    completion_tokens      INTEGER,
    cached_prompt_tokens   INTEGER,
    cache_creation_tokens  INTEGER,
    cost_usd               REAL,
    workspace_id           TEXT NOT NULL,
    workspace_name         TEXT
) STRICT;
CREATE UNIQUE INDEX agent_interactions_id ON agent_interactions (org_id, interaction_id);
CREATE UNIQUE INDEX agent_interactions_pos ON agent_interactions (org_id, pos);
CREATE INDEX agent_interactions_time ON agent_interactions (org_id, interaction_created_ts);
CREATE INDEX agent_interactions_team_time ON agent_interactions (org_id, workspace_id, interaction_created_ts);

CREATE TABLE credit_logs (
    org_id                TEXT NOT NULL,
    pos                   INTEGER NOT NULL,
    user_email            TEXT,
    user_id               TEXT,
    permission_group_id   TEXT,
    permission_group_name TEXT,
    "timestamp"           INTEGER NOT NULL,
    category              TEXT NOT NULL,
    "type"                TEXT,
    name                  TEXT,
    amount                REAL,
    balance               REAL,
    log_id                TEXT NOT NULL,
    correlation_id        TEXT,
    balance_scope         TEXT,
    project_id            TEXT
) STRICT;
CREATE UNIQUE INDEX credit_logs_id ON credit_logs (org_id, log_id);
CREATE UNIQUE INDEX credit_logs_pos ON credit_logs (org_id, pos);
CREATE INDEX credit_logs_time ON credit_logs (org_id, "timestamp");
CREATE INDEX credit_logs_category_time ON credit_logs (org_id, category, "timestamp");

CREATE TABLE audit_logs (
    org_id       TEXT NOT NULL,
    pos          INTEGER NOT NULL,
    event_id     TEXT NOT NULL,
    "timestamp"  INTEGER NOT NULL,
    event_type   TEXT NOT NULL,
    details      TEXT,
    user_id      TEXT,
    source_ip    TEXT,
    user_agent   TEXT,
    workspace_id TEXT,
    entity_id    TEXT
) STRICT;
CREATE UNIQUE INDEX audit_logs_id ON audit_logs (org_id, event_id);
CREATE UNIQUE INDEX audit_logs_pos ON audit_logs (org_id, pos);
CREATE INDEX audit_logs_time ON audit_logs (org_id, "timestamp");
CREATE INDEX audit_logs_type_time ON audit_logs (org_id, event_type, "timestamp");

CREATE TABLE tool_calls (
    org_id       TEXT NOT NULL,
    pos          INTEGER NOT NULL,
    tool_call_id TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    server_id    TEXT,
    server_name  TEXT,
    tool_name    TEXT NOT NULL,
    status       TEXT,
    latency_ms   INTEGER,
    error        TEXT,
    source       TEXT,
    user_id      TEXT,
    user_email   TEXT,
    agent_id     TEXT,
    workspace_id TEXT
) STRICT;
CREATE UNIQUE INDEX tool_calls_id ON tool_calls (org_id, tool_call_id);
CREATE UNIQUE INDEX tool_calls_pos ON tool_calls (org_id, pos);
CREATE INDEX tool_calls_time ON tool_calls (org_id, created_at);
