//! The wizard's last choice, **Repeat**: once (a one-time export, the default) or daily,
//! weekly, monthly, every billing period — then the wizard creates a scheduled export of the
//! same data through `state.schedules` (the same checks as `POST /v1/export-schedules`), run
//! at `at` in the chosen zone and delivered by email to the admins when the box is ticked.
//! Destinations (S3, HTTP) are set through the API.

use super::{ExportForm, render};
use crate::audit::Actor;
use crate::export::spec::ExportInput;
use crate::schedule::ScheduleBody;
use crate::schedule::model::{CadenceInput, Deliver, EmailTarget, ExportTemplate};
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

/// The Repeat fieldset of the last step.
pub(super) fn fieldset(f: &ExportForm) -> Markup {
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
    }
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
            destination: None,
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
