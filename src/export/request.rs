//! Checking an export request: load what validation needs to know about the organization
//! (`lookup.rs`), make sure a named requesting member exists, then validate (`spec.rs`).
//! Every surface goes through [`check`]: the API, the reference API and the admin wizard via
//! `Exports::request` (which then queues the job), the CLI and drains directly (they run or
//! keep the spec themselves), so all of them give the same errors in the same order.

use super::lookup::LoadedLookup;
use super::spec::{self, ExportInput, ExportSpec, InputError, ParamNames};
use crate::domain::entity::Org;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};

/// A request that passed validation.
#[derive(Debug, Clone)]
pub struct Checked {
    /// What the job runs.
    pub spec: ExportSpec,
    /// The email of the requesting member (`user_id`), when the request names one.
    pub requester_email: Option<String>,
}

/// Why a request did not pass [`check`].
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A parameter is wrong (or names a team or member that does not exist).
    #[error(transparent)]
    Input(#[from] InputError),
    /// Reading what validation needs failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why `Exports::request` queued no job.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// A parameter is wrong (or names a team or member that does not exist).
    #[error(transparent)]
    Input(#[from] InputError),
    /// Reading what validation needs failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request was valid but queueing the job failed.
    #[error(transparent)]
    Queue(anyhow::Error),
}

impl From<CheckError> for RequestError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Input(e) => RequestError::Input(e),
            CheckError::Store(e) => RequestError::Store(e),
        }
    }
}

/// Loads the lookup for `input` and validates it for `org`, reading presets relative to
/// `now`; `names` are the caller's parameter names (used in messages).
pub async fn check(
    store: &Store,
    org: &Org,
    input: &ExportInput,
    names: ParamNames,
    now: DateTime<Utc>,
) -> Result<Checked, CheckError> {
    let lookup = LoadedLookup::load(store, &org.id, input).await?;
    // Any named member must exist, not only a personal export's: the job's completion mail
    // and `/export_status` ownership go by it.
    if let Some(user) = &input.user_id
        && lookup.requester_email().is_none()
    {
        return Err(InputError {
            not_found: true,
            ..InputError::new(
                "user_id",
                format!("member `{user}` not found in this organization"),
            )
        }
        .into());
    }
    let spec = spec::validate(input, org, &lookup, names, now)?;
    Ok(Checked {
        spec,
        requester_email: lookup.requester_email().map(str::to_string),
    })
}
