-- Admin pages (issue 5): organization admins who sign in with an email and an argon2id
-- password hash, their sessions (the cookie's token is stored only as its SHA-256), and recent
-- failed sign-ins, which slow down and then refuse further attempts.

CREATE TABLE admin_users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX admin_users_org ON admin_users (org_id);

CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    user_id    TEXT NOT NULL REFERENCES admin_users (id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX admin_sessions_user ON admin_sessions (user_id);
CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);

CREATE TABLE admin_sign_in_failures (
    email     TEXT NOT NULL,
    source_ip TEXT NOT NULL,
    failed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX admin_sign_in_failures_key ON admin_sign_in_failures (email, source_ip, failed_at);
