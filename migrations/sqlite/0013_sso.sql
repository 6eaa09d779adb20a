-- Single sign-on with OpenID Connect (issue 16, item 1).
--
-- One provider per organization. The client secret is stored sealed under the deployment's
-- master key, like drain destination secrets (drain/secrets.rs), bound to the organization.
-- allowed_domains is a JSON array of lower-cased email domains; role_map a JSON object from
-- a value of the claim role_claim to a role; a signed-in email that matches none gets
-- default_role.
CREATE TABLE sso_configs (
    org_id               TEXT PRIMARY KEY REFERENCES orgs (id),
    issuer               TEXT NOT NULL,
    client_id            TEXT NOT NULL,
    client_secret_sealed TEXT NOT NULL,
    allowed_domains      TEXT NOT NULL,
    role_claim           TEXT,
    role_map             TEXT NOT NULL,
    default_role         TEXT NOT NULL CHECK (default_role IN ('owner', 'admin', 'analyst', 'viewer')),
    require_sso          INTEGER NOT NULL,
    break_glass_email    TEXT,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
) STRICT;

-- Sign-ins in progress: the authorization request's state (stored as its SHA-256), nonce and
-- PKCE verifier, kept server-side until the provider sends the browser back. A row is used
-- once (deleted by the callback) and is void after expires_at.
CREATE TABLE sso_logins (
    state_hash    TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path     TEXT NOT NULL,
    expires_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX sso_logins_expiry ON sso_logins (expires_at);
