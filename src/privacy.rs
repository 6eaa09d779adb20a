//! Privacy of user-identifying fields (docs/spec.md §6), one policy for exports, reports and
//! drains.
//!
//! An organization is `visible`, `pseudonymized` or `hidden`; a team may override it. A
//! pseudonym is `anon_` + 16 hex digits of HMAC-SHA256 under the organization's own secret
//! pseudonym key: stable for the same person within the organization, different across
//! organizations, and not recomputable from an email address by anyone without the key (a
//! bare hash of an email would be).

use crate::domain::FieldType;
use crate::domain::catalog::FieldDef;
use crate::domain::entity::Privacy;
use crate::store::{CellRef, RecordBatch, RowBlock, Store, StoreError, Value};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;

/// Sets the organization's privacy and stores `audit` (its audit event) in the same transaction.
pub async fn set_org_privacy(
    store: &Store,
    org: &str,
    privacy: Privacy,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "UPDATE orgs SET privacy = ?, updated_at = ? WHERE id = ?",
            &[
                privacy.as_str().into(),
                chrono::Utc::now().into(),
                org.into(),
            ],
            audit,
        )
        .await?;
    store.settings_changed();
    Ok(())
}

/// Sets a team's privacy override (`None`: inherit the organization's) with its audit event.
pub async fn set_team_privacy(
    store: &Store,
    org: &str,
    team: &str,
    privacy: Option<Privacy>,
    audit: &RecordBatch,
) -> Result<(), StoreError> {
    store
        .execute_with_records(
            "UPDATE teams SET privacy = ?, updated_at = ? WHERE org_id = ? AND id = ?",
            &[
                Value::opt_text(privacy.map(|p| p.as_str())),
                chrono::Utc::now().into(),
                org.into(),
                team.into(),
            ],
            audit,
        )
        .await?;
    store.settings_changed();
    Ok(())
}

/// The privacy rules of one organization, loaded once per export, report or drain batch.
#[derive(Clone)]
pub struct PrivacyPolicy {
    org: Privacy,
    teams: HashMap<String, Privacy>,
    key: Vec<u8>,
}

impl std::fmt::Debug for PrivacyPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret: never printed.
        f.debug_struct("PrivacyPolicy")
            .field("org", &self.org)
            .field("teams", &self.teams)
            .finish_non_exhaustive()
    }
}

impl PrivacyPolicy {
    /// A policy from its parts (tests and callers that already hold them).
    pub fn new(org: Privacy, teams: HashMap<String, Privacy>, key: impl Into<Vec<u8>>) -> Self {
        PrivacyPolicy {
            org,
            teams,
            key: key.into(),
        }
    }

    /// Loads the organization's setting, its team overrides and its pseudonym key.
    /// `None` when the organization does not exist.
    pub async fn load(store: &Store, org: &str) -> Result<Option<PrivacyPolicy>, StoreError> {
        let Some(o) = store.get_org(org).await? else {
            return Ok(None);
        };
        let key = store.org_pseudonym_key(org).await?.unwrap_or_default();
        let rows = store
            .query(
                "SELECT id, privacy FROM teams WHERE org_id = ? AND privacy IS NOT NULL",
                &[org.into()],
                &[FieldType::Text, FieldType::Text],
            )
            .await?;
        let teams = rows
            .into_iter()
            .filter_map(|r| {
                let id = r[0].as_text()?.to_owned();
                let p = r[1].as_text()?.parse().ok()?;
                Some((id, p))
            })
            .collect();
        Ok(Some(PrivacyPolicy::new(o.privacy, teams, key)))
    }

    /// The organization-wide setting.
    pub fn org_setting(&self) -> Privacy {
        self.org
    }

    /// The setting for a row of `team` (the team's override, else the organization's).
    pub fn for_team(&self, team: Option<&str>) -> Privacy {
        team.and_then(|t| self.teams.get(t).copied())
            .unwrap_or(self.org)
    }

    /// Whether every row is shown as stored (lets hot paths skip masking entirely).
    pub fn all_visible(&self) -> bool {
        self.org == Privacy::Visible && self.teams.values().all(|p| *p == Privacy::Visible)
    }

    /// The stable pseudonym of `value` in this organization.
    pub fn pseudonym(&self, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC accepts keys of any length");
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("anon_{}", hex::encode(&digest[..8]))
    }

    /// Applies `privacy` to a user-identifying value. Non-text values (rare: ids are text)
    /// are hidden rather than pseudonymized, so nothing identifying leaks through a type gap.
    pub fn mask(&self, privacy: Privacy, value: Value) -> Value {
        match (privacy, value) {
            (Privacy::Visible, v) => v,
            (_, v) if v.is_null() => v,
            (Privacy::Pseudonymized, Value::Text(s)) => Value::Text(self.pseudonym(&s)),
            (_, Value::Timestamp(_)) => Value::NullTimestamp,
            _ => Value::Null,
        }
    }

    /// Masks the personal fields of one row whose columns are `fields`, for a row of `team`.
    pub fn apply(&self, fields: &[&FieldDef], team: Option<&str>, row: &mut [Value]) {
        let privacy = self.for_team(team);
        if privacy == Privacy::Visible {
            return;
        }
        for (def, cell) in fields.iter().zip(row.iter_mut()) {
            if def.personal {
                *cell = self.mask(privacy, std::mem::replace(cell, Value::Null));
            }
        }
    }
    /// Masks the personal fields of every row of `block` (columns `fields`, then maybe
    /// more), each by the setting of the team in column `team_column` when given.
    pub fn apply_block(
        &self,
        fields: &[&FieldDef],
        team_column: Option<usize>,
        block: &mut RowBlock,
    ) {
        if self.all_visible() {
            return;
        }
        let personal: Vec<usize> = (0..fields.len()).filter(|i| fields[*i].personal).collect();
        for r in 0..block.len() {
            let row = block.row(r);
            let team = team_column.and_then(|c| row.get(c).as_text());
            let privacy = self.for_team(team);
            if privacy == Privacy::Visible {
                continue;
            }
            for &c in &personal {
                match (privacy, block.row(r).get(c)) {
                    (_, CellRef::Null) => {}
                    (Privacy::Pseudonymized, CellRef::Text(s)) => {
                        let p = self.pseudonym(s);
                        block.set_text(r, c, &p);
                    }
                    _ => block.set_null(r, c),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(org: Privacy) -> PrivacyPolicy {
        let teams = HashMap::from([("hr".to_owned(), Privacy::Hidden)]);
        PrivacyPolicy::new(org, teams, b"org-secret".to_vec())
    }

    #[test]
    fn pseudonyms_are_stable_keyed_and_not_the_bare_hash() {
        let p = policy(Privacy::Pseudonymized);
        let a = p.pseudonym("ada@acme.example");
        assert_eq!(a, p.pseudonym("ada@acme.example"));
        assert_ne!(a, p.pseudonym("bob@acme.example"));
        let other = PrivacyPolicy::new(Privacy::Pseudonymized, HashMap::new(), b"x".to_vec());
        assert_ne!(a, other.pseudonym("ada@acme.example"));
        let bare = hex::encode(&sha2::Sha256::digest("ada@acme.example")[..8]);
        assert!(!a.contains(&bare));
        assert!(a.starts_with("anon_") && a.len() == 21);
    }

    #[test]
    fn team_overrides_win_over_the_organization() {
        let p = policy(Privacy::Visible);
        assert_eq!(p.for_team(Some("hr")), Privacy::Hidden);
        assert_eq!(p.for_team(Some("eng")), Privacy::Visible);
        assert_eq!(p.for_team(None), Privacy::Visible);
        assert!(!p.all_visible());
        let v = Value::Text("ada@acme.example".into());
        assert_eq!(p.mask(Privacy::Hidden, v.clone()), Value::Null);
        assert_eq!(p.mask(Privacy::Visible, v.clone()), v);
    }

    use sha2::Digest;
}
