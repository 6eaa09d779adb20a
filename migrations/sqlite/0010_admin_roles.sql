-- Admin roles, invitations and session details (issue 16).
--
-- Every admin gets a role. Admins that exist already become `owner`: until now each of them
-- could do everything, including (through an operator) adding admins, so `owner` keeps what
-- they could do, and an organization is never left without someone who may open the Admins
-- page. The column's default is `admin`, the role `outflow orgs add-admin` gives by default.

ALTER TABLE admin_users ADD COLUMN role TEXT NOT NULL DEFAULT 'admin'
    CHECK (role IN ('owner', 'admin', 'analyst', 'viewer'));
UPDATE admin_users SET role = 'owner';

-- Where a session was started, so owners can tell sessions apart before revoking one.
ALTER TABLE admin_sessions ADD COLUMN source_ip TEXT;
ALTER TABLE admin_sessions ADD COLUMN user_agent TEXT;

-- Pending invitations: a one-time sign-in link (its token stored only as its SHA-256) that
-- creates the admin with the role chosen when it is used.
CREATE TABLE admin_invites (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    email      TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'analyst', 'viewer')),
    invited_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX admin_invites_org ON admin_invites (org_id);
