-- Secrets of kind `gcp` (a GCS service account) and `azure` (an Azure Blob key or SAS token),
-- for the GCS and Azure Blob drain destinations. SQLite cannot alter a CHECK constraint, so the
-- table is rebuilt. `drains.secret_id` references it: the foreign-key checks are deferred to the
-- migration's commit, by which time every secret is back under the same id.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE secrets_before_0014 AS SELECT * FROM secrets;
DROP TABLE secrets;
CREATE TABLE secrets (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('http', 'aws', 'gcp', 'azure', 'datadog')),
    sealed     TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
INSERT INTO secrets (id, org_id, name, kind, sealed, created_at)
    SELECT id, org_id, name, kind, sealed, created_at FROM secrets_before_0014;
DROP TABLE secrets_before_0014;
CREATE INDEX secrets_org ON secrets (org_id, created_at);
