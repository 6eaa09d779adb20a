-- Credit budgets and their alerts (issue 14 item 4). `budget_alerts` holds one row per
-- (budget, period, threshold): its unique key is the claim that makes an alert fire exactly
-- once across concurrent evaluations, restarts and several `serve` processes. `sent_at` stays
-- NULL until every notification went out, so a crash between claim and send leaves a row the
-- runner delivers later (leased, so one node at a time).

CREATE TABLE budgets (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    name          TEXT NOT NULL,
    team_id       TEXT,
    period        TEXT NOT NULL CHECK (period IN ('month', 'billing_period')),
    limit_micros  INTEGER NOT NULL,
    thresholds    TEXT NOT NULL,
    notify        TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX budgets_org ON budgets (org_id, created_at);

CREATE TABLE budget_alerts (
    id              TEXT PRIMARY KEY,
    budget_id       TEXT NOT NULL,
    org_id          TEXT NOT NULL,
    period_start    INTEGER NOT NULL,
    period_end      INTEGER NOT NULL,
    threshold       INTEGER NOT NULL,
    spent_micros    INTEGER NOT NULL,
    limit_micros    INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    delivered       TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    UNIQUE (budget_id, period_start, threshold)
) STRICT;
CREATE INDEX budget_alerts_due ON budget_alerts (state, next_attempt_at);
