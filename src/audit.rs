//! Outflow's own security events (keys, exports, drains, admin sign-ins, privacy), written as
//! `audit_logs` records of the organization so they flow through exports and drains like the
//! platform's events; [`search`] reads them back for the audit log viewer.

pub mod search;

use crate::domain::{DataType, catalog};
use crate::store::{Record, RecordBatch, Value};
use chrono::Utc;

/// Event types Outflow writes itself.
pub mod events {
    /// An organization key was created.
    pub const ORG_KEY_CREATED: &str = "outflow_key_created";
    /// An organization key was revoked.
    pub const ORG_KEY_REVOKED: &str = "outflow_key_revoked";
    /// An export was requested.
    pub const EXPORT_CREATED: &str = "export_created";
    /// An export file was downloaded.
    pub const EXPORT_DOWNLOADED: &str = "export_downloaded";
    /// An export failed.
    pub const EXPORT_FAILED: &str = "export_failed";
    /// A drain was created.
    pub const DRAIN_CREATED: &str = "drain_created";
    /// A drain's settings changed.
    pub const DRAIN_UPDATED: &str = "drain_updated";
    /// A drain was paused.
    pub const DRAIN_PAUSED: &str = "drain_paused";
    /// A drain was resumed.
    pub const DRAIN_RESUMED: &str = "drain_resumed";
    /// A drain was deleted.
    pub const DRAIN_DELETED: &str = "drain_deleted";
    /// A drain entered `error` (failed cycles in a row).
    pub const DRAIN_FAILED: &str = "drain_failed";
    /// A destination secret was stored.
    pub const SECRET_CREATED: &str = "secret_created";
    /// A destination secret's contents were replaced (e.g. a signing-secret rotation).
    pub const SECRET_UPDATED: &str = "secret_updated";
    /// A destination secret was deleted.
    pub const SECRET_DELETED: &str = "secret_deleted";
    /// An organization admin signed in to the admin pages.
    pub const ADMIN_SIGNED_IN: &str = "admin_signed_in";
    /// A sign-in to the admin pages was refused (wrong password or throttled).
    pub const ADMIN_SIGN_IN_FAILED: &str = "admin_sign_in_failed";
    /// An organization admin signed out.
    pub const ADMIN_SIGNED_OUT: &str = "admin_signed_out";
    /// The privacy setting of the organization or of a team changed.
    pub const PRIVACY_CHANGED: &str = "privacy_changed";
    /// A scheduled export was created.
    pub const SCHEDULE_CREATED: &str = "schedule_created";
    /// A scheduled export was changed, paused or resumed.
    pub const SCHEDULE_UPDATED: &str = "schedule_updated";
    /// A scheduled export was deleted.
    pub const SCHEDULE_DELETED: &str = "schedule_deleted";
    /// A run of a scheduled export failed (its export or its delivery).
    pub const SCHEDULE_RUN_FAILED: &str = "schedule_run_failed";
    /// An owner invited an admin (a one-time sign-in link by email).
    pub const ADMIN_INVITED: &str = "admin_invited";
    /// An invitation was withdrawn before it was used.
    pub const ADMIN_INVITE_REVOKED: &str = "admin_invite_revoked";
    /// An invited admin used the link and joined.
    pub const ADMIN_INVITE_ACCEPTED: &str = "admin_invite_accepted";
    /// An admin's role changed.
    pub const ADMIN_ROLE_CHANGED: &str = "admin_role_changed";
    /// An admin was removed from the organization.
    pub const ADMIN_REMOVED: &str = "admin_removed";
    /// An owner ended an admin's session.
    pub const ADMIN_SESSION_REVOKED: &str = "admin_session_revoked";
    /// A credit budget was created.
    pub const BUDGET_CREATED: &str = "budget_created";
    /// A credit budget was changed.
    pub const BUDGET_UPDATED: &str = "budget_updated";
    /// A credit budget was deleted.
    pub const BUDGET_DELETED: &str = "budget_deleted";
    /// A budget's spend crossed one of its thresholds in a period (once per threshold).
    pub const BUDGET_ALERT: &str = "budget_alert";
    /// The break-glass owner signed in with a password where single sign-on is required.
    pub const ADMIN_BREAK_GLASS_SIGN_IN: &str = "admin_break_glass_sign_in";
    /// An organization's single sign-on settings were set or turned off.
    pub const SSO_CHANGED: &str = "sso_changed";
    /// The organization's notification destination was set, changed or turned off.
    pub const NOTIFICATIONS_CHANGED: &str = "notifications_changed";

    /// Every event type above, so filters can accept them before any has been written.
    pub const ALL: &[&str] = &[
        ORG_KEY_CREATED,
        ORG_KEY_REVOKED,
        EXPORT_CREATED,
        EXPORT_DOWNLOADED,
        EXPORT_FAILED,
        DRAIN_CREATED,
        DRAIN_UPDATED,
        DRAIN_PAUSED,
        DRAIN_RESUMED,
        DRAIN_DELETED,
        DRAIN_FAILED,
        SECRET_CREATED,
        SECRET_UPDATED,
        SECRET_DELETED,
        ADMIN_SIGNED_IN,
        ADMIN_SIGN_IN_FAILED,
        ADMIN_SIGNED_OUT,
        PRIVACY_CHANGED,
        SCHEDULE_CREATED,
        SCHEDULE_UPDATED,
        SCHEDULE_DELETED,
        SCHEDULE_RUN_FAILED,
        ADMIN_INVITED,
        ADMIN_INVITE_REVOKED,
        ADMIN_INVITE_ACCEPTED,
        ADMIN_ROLE_CHANGED,
        ADMIN_REMOVED,
        ADMIN_SESSION_REVOKED,
        BUDGET_CREATED,
        BUDGET_UPDATED,
        BUDGET_DELETED,
        BUDGET_ALERT,
        ADMIN_BREAK_GLASS_SIGN_IN,
        SSO_CHANGED,
        NOTIFICATIONS_CHANGED,
    ];
}

/// Who did it and from where.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    /// `key:{id}`, `cli`, or a member id.
    pub user_id: String,
    /// Client address, when the action came over HTTP.
    pub source_ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

impl Actor {
    /// Outflow itself (background work such as export workers).
    pub fn system() -> Self {
        Actor {
            user_id: "outflow".into(),
            ..Actor::default()
        }
    }

    /// The command line.
    pub fn cli() -> Self {
        Actor {
            user_id: "cli".into(),
            ..Actor::default()
        }
    }
}

/// One `audit_logs` record for `org`, as a batch ready to store.
pub fn event(
    org: &str,
    event_type: &str,
    actor: &Actor,
    entity_id: Option<&str>,
    details: serde_json::Value,
) -> RecordBatch {
    let spec = catalog::spec(DataType::AuditLogs);
    let values = spec
        .fields
        .iter()
        .map(|f| match f.id {
            "event_id" => Value::Text(format!("evt_{}", uuid::Uuid::now_v7().simple())),
            "timestamp" => Value::Timestamp(Utc::now()),
            "event_type" => event_type.into(),
            "details" => Value::Json(details.clone()),
            "user_id" => actor.user_id.clone().into(),
            "source_ip" => Value::opt_text(actor.source_ip.clone()),
            "user_agent" => Value::opt_text(actor.user_agent.clone()),
            "entity_id" => Value::opt_text(entity_id),
            _ => Value::Null,
        })
        .collect();
    RecordBatch {
        data_type: DataType::AuditLogs,
        records: vec![Record {
            org_id: org.to_string(),
            values,
        }],
    }
}
