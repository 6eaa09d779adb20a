//! `GET /v1/drains/{id}/reconciliation`: per time bucket, the records a drain had to deliver,
//! delivered and pending, and the digest of the delivered records' ids, so a customer can
//! recompute it over what they stored (see `drain::reconcile` for the digest, and `outflow
//! verify`, which does it for them).

use crate::domain::range;
use crate::drain::reconcile::{self, Tally, show_digest};
use crate::http::api::exports::org_of;
use crate::http::api::reports::range_error;
use crate::http::auth::OrgAuth;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use crate::store::Scope;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `GET …/reconciliation` parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReconciliationQuery {
    /// Window start: a date (`2026-03-01`) or date-time, wall-clock in `timezone` (with `Z`
    /// or an offset: that instant). Required.
    #[param(nullable = false)]
    pub start: Option<String>,
    /// Window end, inclusive at its precision (a date covers the whole day). Required.
    #[param(nullable = false)]
    pub end: Option<String>,
    /// Bucket size: `1h` or `1d` (default `1d`).
    #[param(nullable = false, value_type = Option<String>, pattern = "^(1h|1d)$")]
    pub bucket: Option<String>,
    /// IANA zone of the window and the buckets (default: the organization's).
    #[param(nullable = false)]
    pub timezone: Option<String>,
}

/// One bucket.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReconciliationBucket {
    /// First instant, with the zone's offset.
    pub start: String,
    /// First instant after the bucket (exclusive).
    pub end: String,
    /// Records of the bucket the drain has to deliver (after its start, through its filters).
    pub source_records: u64,
    /// Of those, delivered.
    pub delivered_records: u64,
    /// Of those, not delivered yet.
    pub pending_records: u64,
    /// Digest of the delivered records' ids: the sum modulo 2^64 of the first 8 bytes
    /// (big-endian) of the SHA-256 of each id, as 16 hex digits.
    pub digest: String,
}

/// A drain's reconciliation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reconciliation {
    /// The drain.
    pub drain_id: String,
    /// The field whose values the digests sum (the type's record id).
    pub id_field: String,
    /// The field the records are bucketed by.
    pub time_field: String,
    /// `1h` or `1d`.
    pub bucket: String,
    /// The zone of the buckets.
    pub timezone: String,
    /// The seq of the last live batch delivered (0: none yet): a receiver holding fewer
    /// batches misses some.
    pub last_batch_seq: i64,
    /// The buckets tiling the window, in order (the first and last clipped to it).
    pub buckets: Vec<ReconciliationBucket>,
}

const NAMES: [&str; 4] = ["start", "end", "timezone", "preset"];

/// Per bucket: source, delivered and pending record counts, and the digest of the delivered
/// records' ids.
#[utoipa::path(
    get,
    path = "/v1/drains/{id}/reconciliation",
    tag = "drains",
    security(("org_key" = ["drains"])),
    params(("id" = String, Path, description = "Drain id"), ReconciliationQuery),
    responses(
        (status = 200, description = "The buckets", body = Reconciliation),
        (status = 400, description = "A bad window, bucket size or time zone", body = ErrorBody),
        (status = 404, description = "No such drain in this organization", body = ErrorBody),
    )
)]
pub(super) async fn get_reconciliation(
    auth: OrgAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReconciliationQuery>,
) -> Result<Json<Reconciliation>, ApiError> {
    auth.require(&[Scope::Drains])?;
    let org = org_of(&state, &auth).await?;
    let (Some(start), Some(end)) = (&q.start, &q.end) else {
        return Err(ApiError::BadRequest(
            "`start` and `end` are required (dates like 2026-03-01, or date-times)".into(),
        ));
    };
    let bucket = q.bucket.as_deref().unwrap_or("1d");
    let granularity = reconcile::parse_bucket(bucket)
        .map_err(|e| ApiError::BadRequest(format!("invalid `bucket`: {e}")))?;
    let tz = range::parse_tz(q.timezone.as_deref().unwrap_or(&org.timezone))
        .map_err(|e| range_error(e, NAMES))?;
    let window =
        range::explicit_range_zoned(start, tz, end, tz).map_err(|e| range_error(e, NAMES))?;
    let mut tally = Tally::new(tz, granularity, window.start, window.end)
        .map_err(|e| ApiError::BadRequest(format!("invalid `end`: {e}")))?;
    let drain = state.drains.reconcile(&org.id, &id, &mut tally).await?;
    let spec = crate::domain::catalog::spec(drain.data_type);
    Ok(Json(Reconciliation {
        drain_id: drain.id,
        id_field: spec.id_field.into(),
        time_field: spec.time_field.into(),
        bucket: bucket.trim().into(),
        timezone: tz.name().into(),
        last_batch_seq: drain.batch_seq,
        buckets: tally
            .buckets()
            .iter()
            .map(|b| ReconciliationBucket {
                start: b.period.local_start().to_rfc3339(),
                end: b.period.local_end().to_rfc3339(),
                source_records: b.source,
                delivered_records: b.delivered,
                pending_records: b.pending(),
                digest: show_digest(b.digest),
            })
            .collect(),
    }))
}
