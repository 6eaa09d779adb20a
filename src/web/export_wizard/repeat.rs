//! The wizard's last choice, **Repeat**: once (a one-time export, the default) or daily,
//! weekly, monthly, every billing period — then the wizard creates a scheduled export of the
//! same data through `state.schedules` (the same checks as `POST /v1/export-schedules`), run
//! at `at` in the chosen zone, delivered by email to the admins when the box is ticked and,
//! when chosen, to an S3 bucket or an HTTP endpoint through a stored secret (the drains'
//! secrets: kind `aws` or `http`).

use super::{ExportForm, render};
use crate::audit::Actor;
use crate::drain::SecretInfo;
use crate::drain::dest::DestinationConfig;
use crate::drain::dest::config::{DEFAULT_MAX_BODY_BYTES, HttpFormat, OtlpEncoding, S3Format};
use crate::export::spec::ExportInput;
use crate::schedule::ScheduleBody;
use crate::schedule::model::{
    CadenceInput, Deliver, EmailTarget, ExportTemplate, ScheduleDestination,
};
use crate::state::AppState;
use crate::web::data_export::PATH;
use crate::web::error::WebError;
use crate::web::session::Admin;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::{Markup, html};

const CHOICES: [(&str, &str); 5] = [
    ("once", "Once (a one-time export of the date range)"),
    ("day", "Daily: the previous day"),
    ("week", "Weekly on Mondays: the previous week"),
    ("month", "Monthly on the 1st: the previous month"),
    (
        "billing_period",
        "Every billing period: the period just ended",
    ),
];

/// The Repeat fieldset of the last step; `secrets` are the organization's stored secrets a
/// destination can use.
pub(super) fn fieldset(f: &ExportForm, secrets: &[SecretInfo]) -> Markup {
    let repeat = if f.repeat.is_empty() {
        "once"
    } else {
        &f.repeat
    };
    let at = if f.at.is_empty() { "06:00" } else { &f.at };
    html! {
        fieldset {
            legend { "Repeat" }
            label for="repeat" { "Run" }
            select #repeat name="repeat" {
                @for (v, label) in CHOICES {
                    option value=(v) selected[repeat == v] { (label) }
                }
            }
            label for="at" { "At (repeating exports, in the date range's time zone)" }
            input #at type="time" name="at" value=(at);
            label.inline {
                input type="checkbox" name="email_admins" checked[f.email_admins.is_some() || f.repeat.is_empty()];
                "Email the organization's admins a download link after each run"
            }
            p.muted { "A repeating export covers the completed day, week, month or billing period before each run, in the time zone of the date range step; it appears on the Schedules tab." }
        }
        (delivery_fieldset(f, secrets))
    }
}

/// Where a repeating export's file goes besides the email.
fn delivery_fieldset(f: &ExportForm, secrets: &[SecretInfo]) -> Markup {
    let kinds = [
        ("", "Nowhere else (email only)"),
        (
            "s3",
            "An S3 bucket: {prefix}/{schedule}/{period}.csv[.gz], SHA-256 in its metadata",
        ),
        (
            "http",
            "An HTTP endpoint: a signed event with the download link",
        ),
    ];
    html! {
        fieldset data-role="delivery" {
            legend { "Deliver (repeating exports)" }
            label for="deliver_to" { "Also deliver each file to" }
            select #deliver_to name="deliver_to" {
                @for (v, label) in kinds {
                    option value=(v) selected[f.deliver_to == v] { (label) }
                }
            }
            label for="deliver_secret" {
                "Stored secret"
                span.hint { "The credentials: kind aws for S3, http (which holds the URL) for an endpoint. Add one with an Add Drain wizard or POST /v1/secrets." }
            }
            select #deliver_secret name="deliver_secret" {
                option value="" selected[f.deliver_secret.is_empty()] { "Choose a secret…" }
                @for s in secrets {
                    option value=(s.id) selected[f.deliver_secret == s.id] { (s.name) " — " (s.kind) " (" (s.id) ")" }
                }
            }
            div.grid {
                div { label for="deliver_bucket" { "Bucket (S3)" } input #deliver_bucket type="text" name="deliver_bucket" value=(f.deliver_bucket); }
                div { label for="deliver_prefix" { "Prefix (S3)" } input #deliver_prefix type="text" name="deliver_prefix" value=(f.deliver_prefix) placeholder="outflow"; }
                div { label for="deliver_region" { "Region (S3)" } input #deliver_region type="text" name="deliver_region" value=(f.deliver_region) placeholder="us-east-1"; }
                div { label for="deliver_endpoint" { "Endpoint (S3-compatible only)" } input #deliver_endpoint type="url" name="deliver_endpoint" value=(f.deliver_endpoint); }
            }
        }
    }
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The destination the form names; the schedule's own checks judge it (an unknown type
/// reaches them as one, so the message names the allowed values).
fn destination(f: &ExportForm) -> Option<ScheduleDestination> {
    let config = match f.deliver_to.trim() {
        "" => return None,
        "s3" => DestinationConfig::S3 {
            bucket: f.deliver_bucket.trim().to_string(),
            prefix: f.deliver_prefix.trim().trim_matches('/').to_string(),
            region: opt(&f.deliver_region),
            endpoint: opt(&f.deliver_endpoint),
            format: S3Format::Ndjson,
        },
        _ => DestinationConfig::Http {
            format: HttpFormat::Json,
            otlp_encoding: OtlpEncoding::Protobuf,
            gzip: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        },
    };
    Some(ScheduleDestination {
        config,
        secret_id: f.deliver_secret.trim().to_string(),
    })
}

/// Creates the schedule the form asks for, or shows the last step again with the error.
pub(super) async fn create(
    state: &AppState,
    admin: &Admin,
    f: &ExportForm,
    request: &ExportInput,
    actor: &Actor,
) -> Result<Response, WebError> {
    let label = CHOICES
        .iter()
        .find(|(v, _)| *v == f.repeat)
        .map_or(f.repeat.as_str(), |(_, l)| l.split(':').next().unwrap_or(l));
    let name = format!(
        "{} — {label}",
        f.data_type().map_or(f.data_type.as_str(), |d| d.label())
    );
    let body = ScheduleBody {
        name: Some(name),
        export: Some(ExportTemplate::from(request)),
        cadence: Some(CadenceInput {
            every: Some(f.repeat.clone()),
            at: Some(if f.at.is_empty() {
                "06:00".into()
            } else {
                f.at.clone()
            }),
            timezone: Some(f.timezone.clone()),
            ..CadenceInput::default()
        }),
        deliver: Some(Deliver {
            email: f
                .email_admins
                .is_some()
                .then(|| EmailTarget::Word("admins".into())),
            destination: destination(f),
        }),
    };
    match state
        .schedules
        .create(admin.org_id(), body, actor, Utc::now())
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("{PATH}?tab=schedules&notice=schedule_created")).into_response(),
        ),
        Err(crate::schedule::ScheduleError::Input(e)) => {
            let message = format!("{}: {}", e.param, e.message);
            render(
                state,
                admin,
                f,
                "fields",
                Some(&message),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
