//! Placeholder: being written.

use super::{Delivered, DeliveryError, DestContext, Destination, DestinationConfig, SecretPayload};
use crate::drain::batch::Batch;

/// Placeholder destination.
pub struct Placeholder;

/// Builds the destination.
pub fn build(
    _config: &DestinationConfig,
    _secret: &SecretPayload,
    _ctx: &DestContext,
) -> Result<Placeholder, String> {
    Err("not yet available".into())
}

#[async_trait::async_trait]
impl Destination for Placeholder {
    async fn deliver(&self, _batch: &Batch) -> Result<Delivered, DeliveryError> {
        Err(DeliveryError::permanent(None, "not yet available"))
    }
    async fn preflight(&self, _drain_id: &str) -> Result<(), DeliveryError> {
        Err(DeliveryError::permanent(None, "not yet available"))
    }
    fn max_records(&self) -> usize {
        1000
    }
}
