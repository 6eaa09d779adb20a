//! A drain's **Edit** page: name, scope, fields, destination settings and credentials on one
//! form, saved through the drain service's update (`Drains::validate`, `Drains::update`), so
//! the page accepts and refuses exactly what `PATCH /v1/drains/{id}` does and a changed
//! destination or secret is preflighted before anything is stored.
//!
//! The form starts from the drain's stored request (`DrainRequest::of`), so settings the page
//! does not show (entity and event-type filters, custom role, Datadog tags, body size) are
//! kept; object stores show their format. New credentials become a new secret that is deleted again when the update
//! is refused; the old secret stays for other drains that may use it.

use super::data_export::PATH;
use super::drain_wizard::{self, DrainForm};
use super::drains::actor;
use super::error::WebError;
use super::layout::{self, Nav};
use super::pickers;
use super::session::{Admin, Checked};
use crate::drain::DrainError;
use crate::drain::dest::DestinationConfig;
use crate::drain::dest::config::{HttpFormat, OtlpEncoding};
use crate::drain::model::Drain;
use crate::drain::request::{self, DrainRequest, ValidateError};
use crate::http::extract::Client;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

fn edit_path(id: &str) -> String {
    format!("{PATH}/drains/{id}/edit")
}

/// The form as the stored drain fills it; credentials stay where they are (`keep`).
fn form_of(d: &Drain) -> DrainForm {
    let on = |b: bool| b.then(|| "on".to_string());
    let mut f = DrainForm {
        name: d.name.clone(),
        data_type: d.data_type.as_str().to_string(),
        teams: d.scope.teams.ids.clone(),
        all_teams: on(d.scope.teams.org_teams),
        personal: on(d.scope.teams.personal),
        category: d.scope.category.clone().unwrap_or_default(),
        field_preset: "custom".into(),
        fields: d.scope.fields.clone(),
        dest_type: d.destination.kind().to_string(),
        secret_mode: "keep".into(),
        ..DrainForm::default()
    };
    match &d.destination {
        DestinationConfig::Http {
            format,
            otlp_encoding,
            gzip,
            ..
        } => {
            f.http_format = match (format, otlp_encoding) {
                (HttpFormat::Json, _) => "json",
                (HttpFormat::Ndjson, _) => "ndjson",
                (HttpFormat::Otlp, OtlpEncoding::Protobuf) => "otlp",
                (HttpFormat::Otlp, OtlpEncoding::Json) => "otlp_json",
            }
            .into();
            f.gzip = on(*gzip);
        }
        DestinationConfig::S3 {
            bucket,
            prefix,
            region,
            endpoint,
            format,
        } => {
            f.s3_bucket = bucket.clone();
            f.s3_prefix = prefix.clone();
            f.s3_region = region.clone().unwrap_or_default();
            f.s3_endpoint = endpoint.clone().unwrap_or_default();
            f.s3_format = format.as_str().into();
        }
        DestinationConfig::Gcs {
            bucket,
            prefix,
            endpoint,
            format,
        } => {
            f.gcs_bucket = bucket.clone();
            f.gcs_prefix = prefix.clone();
            f.gcs_endpoint = endpoint.clone().unwrap_or_default();
            f.gcs_format = format.as_str().into();
        }
        DestinationConfig::AzureBlob {
            account,
            container,
            prefix,
            endpoint,
            format,
        } => {
            f.az_account = account.clone();
            f.az_container = container.clone();
            f.az_prefix = prefix.clone();
            f.az_endpoint = endpoint.clone().unwrap_or_default();
            f.az_format = format.as_str().into();
        }
        DestinationConfig::Datadog { site, service, .. } => {
            f.dd_site = site.clone();
            f.dd_service = service.clone().unwrap_or_default();
        }
    }
    f
}

/// The settings of the form that the page does not show keep their stored values.
fn keep_hidden_settings(new: DestinationConfig, old: &DestinationConfig) -> DestinationConfig {
    match (new, old) {
        (
            DestinationConfig::Http {
                format,
                otlp_encoding,
                gzip,
                ..
            },
            DestinationConfig::Http { max_body_bytes, .. },
        ) => DestinationConfig::Http {
            format,
            otlp_encoding,
            gzip,
            max_body_bytes: *max_body_bytes,
        },
        (
            DestinationConfig::Datadog { site, service, .. },
            DestinationConfig::Datadog {
                source,
                tags,
                intake_url,
                ..
            },
        ) => DestinationConfig::Datadog {
            site,
            service,
            source: source.clone(),
            tags: tags.clone(),
            intake_url: intake_url.clone(),
        },
        (new, _) => new,
    }
}

/// The update the form asks for, on top of the stored drain's request.
fn update_request(d: &Drain, f: &DrainForm, secret_id: Option<String>) -> DrainRequest {
    let stored = DrainRequest::of(d);
    let form = drain_wizard::drain_request(f, secret_id);
    DrainRequest {
        start_ts: None,
        entity_ids: stored.entity_ids,
        permission_group_filter: stored.permission_group_filter,
        event_type_filter: stored.event_type_filter,
        hide_child_runs: stored.hide_child_runs,
        destination: form
            .destination
            .map(|new| keep_hidden_settings(new, &d.destination)),
        ..form
    }
}

/// `GET …/drains/{id}/edit`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let d = state.drains.get(admin.org_id(), &id).await?;
    render(&state, &admin, &d, &form_of(&d), None, StatusCode::OK).await
}

/// `POST …/drains/{id}/edit`: saves, or shows the form again with what to correct.
pub async fn save(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    Checked { admin, form }: Checked<DrainForm>,
) -> Result<Response, WebError> {
    let d = state.drains.get(admin.org_id(), &id).await?;
    // The data type cannot change: the form's hidden value is not trusted for it.
    let f = DrainForm {
        data_type: d.data_type.as_str().to_string(),
        ..form
    }
    .with_defaults();
    match update(&state, &admin, &d, &f, client).await? {
        Ok(()) => {
            Ok(Redirect::to(&format!("{PATH}/drains/{id}?notice=drain_updated")).into_response())
        }
        Err(message) => {
            render(
                &state,
                &admin,
                &d,
                &f,
                Some(&message),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

/// Validates and stores the update; `Err(message)` when the form must be corrected.
async fn update(
    state: &AppState,
    admin: &Admin,
    d: &Drain,
    f: &DrainForm,
    client: Client,
) -> Result<Result<(), String>, WebError> {
    let org = admin.org_id();
    let actor = actor(admin, client);
    let (secret_id, created) = match f.secret_mode.as_str() {
        "keep" => (d.secret_id.clone(), false),
        "existing" => match drain_wizard::opt(&f.secret_id) {
            Some(s) => (s, false),
            None => {
                return Ok(Err(
                    "Choose a stored secret, or enter new credentials.".into()
                ));
            }
        },
        _ => {
            // Everything but the credentials first, so a bad scope stores no secret.
            match state
                .drains
                .validate(&admin.org, &update_request(d, f, None), request::NATIVE)
                .await
            {
                Err(ValidateError::Input(e)) if e.param != "secret_id" => {
                    return Ok(Err(format!("{}: {}", e.param, e.message)));
                }
                Err(ValidateError::Store(e)) => return Err(e.into()),
                _ => {}
            }
            let payload = match drain_wizard::payload(f) {
                Ok(p) => p,
                Err(m) => return Ok(Err(m)),
            };
            let name = format!("{} ({})", f.name.trim(), payload.kind());
            let secret = state
                .drains
                .create_secret(org, &name, &payload, &actor)
                .await?;
            (secret.id, true)
        }
    };
    let outcome = apply(state, admin, d, f, &secret_id, &actor).await;
    if created
        && !matches!(outcome, Ok(Ok(())))
        && let Err(e) = state.drains.delete_secret(org, &secret_id, &actor).await
    {
        tracing::warn!(error = %e, "secret of a refused drain update not removed");
    }
    outcome
}

async fn apply(
    state: &AppState,
    admin: &Admin,
    d: &Drain,
    f: &DrainForm,
    secret_id: &str,
    actor: &crate::audit::Actor,
) -> Result<Result<(), String>, WebError> {
    let req = update_request(d, f, Some(secret_id.to_string()));
    let valid = match state
        .drains
        .validate(&admin.org, &req, request::NATIVE)
        .await
    {
        Ok(v) => v,
        Err(ValidateError::Input(e)) => return Ok(Err(format!("{}: {}", e.param, e.message))),
        Err(ValidateError::Store(e)) => return Err(e.into()),
    };
    match state
        .drains
        .update(admin.org_id(), &d.id, valid, actor)
        .await
    {
        Ok(_) => Ok(Ok(())),
        Err(DrainError::Store(e)) => Err(e.into()),
        Err(e) => Ok(Err(e.to_string())),
    }
}

async fn render(
    state: &AppState,
    admin: &Admin,
    d: &Drain,
    f: &DrainForm,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let dt = d.data_type;
    let teams = if pickers::team_scoped(dt) {
        pickers::teams(&state.store, admin.org_id()).await?
    } else {
        Vec::new()
    };
    let secrets = state.drains.secrets(admin.org_id()).await?;
    let body = html! {
        p { a href={(PATH) "/drains/" (d.id)} { "← Back to the drain" } }
        h1 { "Edit drain" }
        p.lead {
            (dt.label()) " · " (d.id) ". The data type cannot change; a changed destination or credentials are checked before anything is saved."
        }
        @if let Some(e) = error { (layout::error_box(e)) }
        form.card method="post" action=(edit_path(&d.id)) autocomplete="off" {
            (layout::csrf_field(admin))
            section {
                h2 { "Destination" }
                (drain_wizard::destination_step(f, &secrets, true))
            }
            @if drain_wizard::has_scope_step(Some(dt)) {
                section {
                    h2 { "Scope" }
                    (drain_wizard::scope_step(f, dt, &teams))
                }
            }
            section {
                h2 { "Fields" }
                (pickers::field_picker(dt, &f.field_preset, &f.fields))
            }
            div.actions-bar {
                button type="submit" { "Check and save" }
                a.button.secondary href={(PATH) "/drains/" (d.id)} { "Cancel" }
            }
        }
    };
    Ok(layout::with_headers(
        status,
        layout::page("Edit drain", Some(admin), Nav::DataExport, body),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_destination_settings_survive_an_edit() {
        let old = DestinationConfig::Datadog {
            site: "datadoghq.com".into(),
            service: None,
            source: Some("src".into()),
            tags: vec!["env:prod".into()],
            intake_url: Some("http://127.0.0.1:1/".into()),
        };
        let new = DestinationConfig::Datadog {
            site: "datadoghq.eu".into(),
            service: Some("svc".into()),
            source: None,
            tags: Vec::new(),
            intake_url: None,
        };
        assert_eq!(
            keep_hidden_settings(new, &old),
            DestinationConfig::Datadog {
                site: "datadoghq.eu".into(),
                service: Some("svc".into()),
                source: Some("src".into()),
                tags: vec!["env:prod".into()],
                intake_url: Some("http://127.0.0.1:1/".into()),
            }
        );
    }
}
