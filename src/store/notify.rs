//! Commit notifications: "records of type T for organization O were committed", so that
//! drains wake within milliseconds instead of waiting for their next poll.
//!
//! On SQLite (one process) the store announces each commit itself. On PostgreSQL every ingest
//! transaction calls `pg_notify('outflow_records', '{type}:{position}:{org}')`, which the
//! server delivers to every listening process when — and only if — the transaction commits;
//! one listener connection per process turns those into the same in-process announcements.
//! `position` is the first position the transaction wrote, so a reader can tell whether its
//! visibility horizon (`store::postgres::position`) has passed it yet.
//!
//! Notifications are a latency optimisation only: a listener that loses its connection
//! announces [`Committed::everything`] once it is back, and drains still poll.

use crate::domain::DataType;
use tokio::sync::broadcast;

/// PostgreSQL channel name.
pub const CHANNEL: &str = "outflow_records";

/// One commit (or "anything may have changed" when `data_type` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The records' type; `None` means every drain should look.
    pub data_type: Option<DataType>,
    /// The organization.
    pub org: String,
    /// First position the transaction wrote (0 when positions are visible at commit).
    pub position: i64,
}

impl Committed {
    /// Wakes everything (notifications may have been missed).
    pub fn everything() -> Self {
        Committed {
            data_type: None,
            org: String::new(),
            position: 0,
        }
    }

    /// The `pg_notify` payload.
    pub fn payload(data_type: DataType, position: i64, org: &str) -> String {
        format!("{}:{position}:{org}", data_type.as_str())
    }

    /// Parses a payload; `None` for anything malformed.
    pub fn parse(payload: &str) -> Option<Self> {
        let mut parts = payload.splitn(3, ':');
        let data_type = parts.next()?.parse().ok()?;
        let position = parts.next()?.parse().ok()?;
        let org = parts.next()?.to_string();
        Some(Committed {
            data_type: Some(data_type),
            org,
            position,
        })
    }
}

/// The in-process fan-out of commit notifications.
#[derive(Clone)]
pub struct Notifier {
    tx: broadcast::Sender<Committed>,
}

impl Default for Notifier {
    fn default() -> Self {
        // Slow subscribers lag and get `Lagged`, which they treat as "everything".
        let (tx, _) = broadcast::channel(4096);
        Notifier { tx }
    }
}

impl Notifier {
    /// Announces a commit (nobody listening is fine).
    pub fn send(&self, c: Committed) {
        let _ = self.tx.send(c);
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<Committed> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_with_colons_in_org() {
        let p = Committed::payload(DataType::CreditLogs, 42 << 16, "org:x");
        let c = Committed::parse(&p).unwrap();
        assert_eq!(c.data_type, Some(DataType::CreditLogs));
        assert_eq!(c.position, 42 << 16);
        assert_eq!(c.org, "org:x");
        assert!(Committed::parse("nonsense").is_none());
    }
}
