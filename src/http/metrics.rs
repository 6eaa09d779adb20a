//! `GET /metrics`: Prometheus text exposition of every drain's figures — records delivered,
//! lag, last sync, status, failed cycles and delivery attempts — read from the database at
//! scrape time, so every node reports the same, whichever node holds a drain. It names
//! organizations and drains, so it takes the ingest key (`Authorization: Bearer …`), which
//! the operator's scraper holds.

use crate::http::auth::IngestAuth;
use crate::http::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::Utc;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DrainLabels {
    org_id: String,
    drain_id: String,
    data_type: String,
    destination: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    org_id: String,
    drain_id: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    drain_id: String,
    result: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

async fn metrics(
    _: IngestAuth,
    State(state): State<AppState>,
) -> Result<impl IntoResponse, ApiError> {
    let now = Utc::now();
    let drains = state.drains.list_all().await?;
    let delivered = Family::<DrainLabels, Counter>::default();
    let lag = Family::<DrainLabels, FloatGauge>::default();
    let ingest_lag = Family::<DrainLabels, FloatGauge>::default();
    let synced = Family::<DrainLabels, FloatGauge>::default();
    let failed = Family::<DrainLabels, Gauge>::default();
    let status = Family::<StatusLabels, Gauge>::default();
    for d in &drains {
        let l = DrainLabels {
            org_id: d.org_id.clone(),
            drain_id: d.id.clone(),
            data_type: d.data_type.as_str().into(),
            destination: d.destination.kind().into(),
        };
        delivered
            .get_or_create(&l)
            .inc_by(d.records_delivered.max(0) as u64);
        lag.get_or_create(&l).set(d.lag_seconds(now));
        ingest_lag.get_or_create(&l).set(d.ingest_lag_seconds(now));
        if let Some(t) = d.last_synced_at {
            synced
                .get_or_create(&l)
                .set(t.timestamp_millis() as f64 / 1000.0);
        }
        failed.get_or_create(&l).set(d.failed_cycles);
        for s in ["active", "paused", "error"] {
            status
                .get_or_create(&StatusLabels {
                    org_id: d.org_id.clone(),
                    drain_id: d.id.clone(),
                    status: s.into(),
                })
                .set(i64::from(d.status.as_str() == s));
        }
    }
    let attempts = Family::<AttemptLabels, Counter>::default();
    let attempt_ms = Family::<AttemptLabels, Counter>::default();
    for t in state.drains.live_attempt_totals().await? {
        let l = AttemptLabels {
            drain_id: t.drain_id,
            result: if t.ok { "ok" } else { "failed" }.into(),
        };
        attempts.get_or_create(&l).inc_by(t.count.max(0) as u64);
        attempt_ms
            .get_or_create(&l)
            .inc_by(t.duration_ms.max(0) as u64);
    }
    let running = Gauge::<i64>::default();
    running.set(state.drains.engine.running().len() as i64);

    let mut registry = Registry::with_prefix("outflow");
    registry.register(
        "drain_records_delivered",
        "Records delivered by the drain",
        delivered,
    );
    registry.register(
        "drain_lag_seconds",
        "Age of the oldest record read but not yet delivered (0 when caught up)",
        lag,
    );
    registry.register(
        "drain_ingest_lag_seconds",
        "Seconds since the oldest record not yet delivered was stored (0 when caught up)",
        ingest_lag,
    );
    registry.register(
        "drain_last_synced_timestamp_seconds",
        "Unix time of the drain's last successful delivery",
        synced,
    );
    registry.register("drain_failed_cycles", "Failed sync cycles in a row", failed);
    registry.register("drain_status", "1 for the drain's current status", status);
    registry.register(
        "drain_delivery_attempts",
        "Live delivery attempts by result",
        attempts,
    );
    registry.register(
        "drain_delivery_attempt_milliseconds",
        "Time spent in live delivery attempts by result",
        attempt_ms,
    );
    registry.register(
        "drains_running_on_node",
        "Drains this process holds and runs",
        running,
    );
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &registry)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("metrics encoding: {e}")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    ))
}
