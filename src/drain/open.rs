//! Opens a drain's destination: reads and decrypts its secret, then builds the destination.

use super::dest::{self, DestContext, Destination, DestinationConfig};
use super::secrets::{self, SecretBox};
use crate::store::Store;

/// Why a destination could not be opened (a configuration problem: retrying cannot help).
#[derive(Debug, thiserror::Error)]
pub enum OpenDestError {
    /// The secret is gone.
    #[error("secret `{0}` does not exist in this organization")]
    MissingSecret(String),
    /// The secret does not decrypt, or the destination refuses its settings.
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The S3 bucket of an S3 drain, to read back what it wrote (`outflow verify`).
pub async fn open_s3(
    store: &Store,
    secret_box: &SecretBox,
    ctx: &DestContext,
    drain: &super::model::Drain,
) -> Result<dest::s3::S3Destination, OpenDestError> {
    let sealed = secrets::sealed(store, &drain.org_id, &drain.secret_id)
        .await?
        .ok_or_else(|| OpenDestError::MissingSecret(drain.secret_id.clone()))?;
    let payload = secret_box
        .open(&drain.org_id, &drain.secret_id, &sealed)
        .map_err(|e| OpenDestError::Invalid(e.to_string()))?;
    dest::s3::build(&drain.destination, &payload, ctx).map_err(OpenDestError::Invalid)
}

/// The destination of `config` with the credentials of secret `secret_id` of `org`.
pub async fn open(
    store: &Store,
    secret_box: &SecretBox,
    ctx: &DestContext,
    org: &str,
    config: &DestinationConfig,
    secret_id: &str,
) -> Result<Box<dyn Destination>, OpenDestError> {
    let sealed = secrets::sealed(store, org, secret_id)
        .await?
        .ok_or_else(|| OpenDestError::MissingSecret(secret_id.to_string()))?;
    let payload = secret_box
        .open(org, secret_id, &sealed)
        .map_err(|e| OpenDestError::Invalid(e.to_string()))?;
    dest::build(config, &payload, ctx).map_err(OpenDestError::Invalid)
}
