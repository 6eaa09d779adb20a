//! The failure policy of live cycles: each failed cycle is counted; the last one allowed puts
//! the drain in `error`, with an audit record, an email to the organization's admins and a
//! `drain.error` notification event.

use super::Inner;
use super::cycle::Outcome;
use crate::audit::{self, Actor};
use crate::drain::model::Drain;
use crate::drain::repo;
use crate::mail::templates;
use crate::notifications;
use crate::store::StoreError;
use chrono::Utc;

/// Counts a failed cycle; on the last allowed one the drain is in `error`: audit record and
/// an email to the organization's admins.
pub(super) async fn fail(
    inner: &Inner,
    drain: &Drain,
    reason: &str,
) -> Result<Outcome, StoreError> {
    let max = inner.config.max_failed_cycles.max(1);
    let Some(n) = repo::fail_cycle(
        &inner.store,
        &drain.id,
        &inner.node,
        reason,
        max,
        Utc::now(),
    )
    .await?
    else {
        return Ok(Outcome::Stop);
    };
    tracing::warn!(drain = %drain.id, failed_cycles = n, reason, "drain cycle failed");
    if n < i64::from(max) {
        return Ok(Outcome::Failed);
    }
    let audit = audit::event(
        &drain.org_id,
        audit::events::DRAIN_FAILED,
        &Actor::system(),
        Some(&drain.id),
        serde_json::json!({"drain_id": drain.id, "name": drain.name, "reason": reason, "failed_cycles": n}),
    );
    // The notification event goes in with the audit record; the runner posts it later.
    let event = notifications::Event::new(
        &drain.org_id,
        notifications::EventType::DrainError,
        &drain.id,
        serde_json::json!({"drain_id": drain.id, "name": drain.name, "reason": reason, "failed_cycles": n}),
    );
    notifications::raise(&inner.store, &event, &audit).await?;
    notify_admins(inner, drain, reason).await;
    Ok(Outcome::Stop)
}

/// Best effort: a drain already in `error` stays there whether or not the email goes out.
async fn notify_admins(inner: &Inner, drain: &Drain, reason: &str) {
    let store = &inner.store;
    let admins = match repo::admin_emails(store, &drain.org_id).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the organization's admins");
            return;
        }
    };
    if admins.is_empty() {
        tracing::info!(drain = %drain.id, "drain in error; the organization has no admins to email");
        return;
    }
    let org_name = store
        .get_org(&drain.org_id)
        .await
        .ok()
        .flatten()
        .map_or_else(|| drain.org_id.clone(), |o| o.name);
    let email = templates::DrainError {
        org_name: &org_name,
        drain_name: &drain.name,
        drain_id: &drain.id,
        reason,
    }
    .render()
    .to(admins);
    if let Err(e) = inner.mailer.send(&email).await {
        tracing::warn!(drain = %drain.id, error = %e, "cannot email the drain error");
    }
}
