//! The notification service (issue 16 item 6): an organization's notification destination
//! set, read and turned off with an audit record, and the runner that delivers the outbox
//! `notifications::raise` fills.
//!
//! ```text
//! mod.rs      Notifications: settings (validated: an `http` secret, format, event types)
//! deliver.rs  the runner: lease due events, POST them signed, back off, give up
//! ```
//!
//! **Signed like every other outbound event**: the destination is an `http` secret of the
//! destination secret store, posted through the drains' HTTP destination (SSRF guard,
//! Standard Webhooks signature, `X-Outflow-Signature`, scrubbed errors). The body is either
//! Outflow's JSON event or a Slack-compatible `{"text": …}`.

mod deliver;

pub use crate::notifications::{EventType, EventView, Format, Settings};
pub use deliver::RunDue;

use crate::audit::{self, Actor};
use crate::drain::secrets::SecretBox;
use crate::notifications::{allowed, repo};
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::ToSchema;

/// `PUT /v1/notifications`: the destination and what goes to it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// An `http` secret of this organization.
    pub secret_id: String,
    /// `outflow` (default) or `slack`.
    #[serde(default)]
    pub format: Option<String>,
    /// Event types to send (default: all of `drain.error`, `export.failed`, `schedule.failed`).
    #[serde(default)]
    pub events: Option<Vec<String>>,
}

/// Why a notification operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A field is wrong (names it and the allowed values).
    #[error("invalid `{param}`: {message}")]
    Input {
        /// The field.
        param: &'static str,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// No setting, or a secret not in the organization.
    #[error("{0}")]
    NotFound(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Delivery timing and the HTTP client's limits.
#[derive(Debug, Clone)]
pub struct NotificationsConfig {
    /// Seconds a node holds an event while posting it.
    pub lease_seconds: u64,
    /// Attempts before an event counts as failed.
    pub delivery_attempts: u32,
    /// The first retry's wait; each next one doubles (with jitter), up to an hour.
    pub retry_base_seconds: u64,
    /// Seconds between two runner passes (an event raised in this process wakes it sooner).
    pub poll_seconds: u64,
    /// Private (loopback) destinations allowed (tests).
    pub allow_private: bool,
    /// Per-request timeout.
    pub request_timeout_seconds: u64,
}

/// The notification service: settings and delivery.
#[derive(Clone)]
pub struct Notifications {
    /// Storage.
    pub store: Store,
    pub(crate) secrets: SecretBox,
    pub(crate) config: Arc<NotificationsConfig>,
    pub(crate) node: Arc<String>,
}

impl Notifications {
    /// The service.
    pub fn new(
        store: Store,
        secrets: SecretBox,
        config: NotificationsConfig,
        node: String,
    ) -> Notifications {
        Notifications {
            store,
            secrets,
            config: Arc::new(config),
            node: Arc::new(node),
        }
    }

    /// The organization's setting, if any.
    pub async fn get(&self, org: &str) -> Result<Option<Settings>, NotifyError> {
        Ok(repo::settings(&self.store, org).await?)
    }

    /// Validates and stores the organization's setting, with an audit record.
    pub async fn put(
        &self,
        org: &str,
        body: SettingsBody,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Settings, NotifyError> {
        let secret_id = body.secret_id.trim().to_string();
        if secret_id.is_empty() {
            return Err(NotifyError::Input {
                param: "secret_id",
                message: "required: the id of an `http` secret (POST /v1/secrets)".into(),
            });
        }
        match crate::drain::secrets::get(&self.store, org, &secret_id).await? {
            None => {
                return Err(NotifyError::NotFound(format!(
                    "invalid `secret_id`: secret `{secret_id}` not found in this organization"
                )));
            }
            Some(s) if s.kind != "http" => {
                return Err(NotifyError::Input {
                    param: "secret_id",
                    message: format!(
                        "secret `{secret_id}` is of kind {}; notifications need kind http",
                        s.kind
                    ),
                });
            }
            Some(_) => {}
        }
        let format = match body.format.as_deref() {
            None => Format::Outflow,
            Some(f) => Format::parse(f).map_err(|message| NotifyError::Input {
                param: "format",
                message,
            })?,
        };
        let events = match body.events {
            None => EventType::ALL.to_vec(),
            Some(list) => {
                let mut out = Vec::new();
                for e in &list {
                    let t = EventType::parse(e).map_err(|message| NotifyError::Input {
                        param: "events",
                        message,
                    })?;
                    if !out.contains(&t) {
                        out.push(t);
                    }
                }
                if out.is_empty() {
                    return Err(NotifyError::Input {
                        param: "events",
                        message: format!(
                            "name at least one of {}, or turn notifications off (DELETE)",
                            allowed()
                        ),
                    });
                }
                out
            }
        };
        let s = Settings {
            secret_id,
            format,
            events,
            updated_by: actor.user_id.clone(),
            updated_at: now,
        };
        let record = audit::event(
            org,
            audit::events::NOTIFICATIONS_CHANGED,
            actor,
            None,
            serde_json::json!({
                "secret_id": s.secret_id,
                "format": s.format,
                "events": s.events,
            }),
        );
        repo::put_settings(&self.store, org, &s, &record).await?;
        Ok(s)
    }

    /// Turns notifications off (events still pending are given up, not sent); false when
    /// they were off already.
    pub async fn delete(&self, org: &str, actor: &Actor) -> Result<bool, NotifyError> {
        if repo::settings(&self.store, org).await?.is_none() {
            return Ok(false);
        }
        let record = audit::event(
            org,
            audit::events::NOTIFICATIONS_CHANGED,
            actor,
            None,
            serde_json::json!({"off": true}),
        );
        repo::delete_settings(&self.store, org, &record).await?;
        Ok(true)
    }

    /// The organization's latest events, newest first.
    pub async fn events(&self, org: &str, limit: i64) -> Result<Vec<EventView>, NotifyError> {
        Ok(repo::recent(&self.store, org, limit).await?)
    }
}
