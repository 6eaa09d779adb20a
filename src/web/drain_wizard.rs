//! The **+ Add Drain** wizard: data type → scope (teams and personal spaces; category for
//! credit logs; skipped for audit logs and tool calls) → fields → destination. The last step
//! stores the destination's credentials as a secret, then validates and creates the drain
//! through the drain service (`Drains::validate`, `Drains::create`), whose preflight check
//! must pass: when it fails, the secret is deleted again, nothing is stored, and the step shows
//! why. Credentials are never carried between steps nor rendered back into a page.

use super::data_export::{self, PATH};
use super::drains::actor;
use super::error::WebError;
use super::layout::{self, Nav};
use super::pickers::{self, TeamItem};
use super::session::{Admin, Checked};
use crate::domain::{DataType, credit};
use crate::drain::DrainError;
use crate::drain::SecretInfo;
use crate::drain::dest::config::{DEFAULT_MAX_BODY_BYTES, HttpFormat, OtlpEncoding, S3Format};
use crate::drain::dest::datadog::sites;
use crate::drain::dest::{DestinationConfig, SecretPayload};
use crate::drain::request::{self, DrainRequest, ValidDrain, ValidateError};
use crate::export::spec::InputError;
use crate::http::extract::Client;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

/// The wizard's path.
pub const NEW: &str = "/settings/organization/data_export/drains/new";

/// Everything the wizard collects.
#[derive(Default, Clone, Deserialize)]
#[serde(default)]
pub struct DrainForm {
    /// The step to show next, or `create`.
    pub step: String,
    /// Data type name.
    pub data_type: String,
    /// Chosen team ids.
    pub teams: Vec<String>,
    /// The select-all box.
    pub all_teams: Option<String>,
    /// The personal-spaces toggle.
    pub personal: Option<String>,
    /// Credit-log category (empty: all).
    pub category: String,
    /// minimal, default, full or custom.
    pub field_preset: String,
    /// Custom field ids.
    pub fields: Vec<String>,
    /// Display name.
    pub name: String,
    /// http, s3, gcs, azure_blob or datadog.
    pub dest_type: String,
    /// json, ndjson, otlp (protobuf) or otlp_json.
    pub http_format: String,
    /// Endpoint URL.
    pub url: String,
    /// `Authorization` header value (secret).
    pub authorization: String,
    /// Signing secret (secret).
    pub signing_secret: String,
    /// S3 bucket.
    pub s3_bucket: String,
    /// S3 key prefix.
    pub s3_prefix: String,
    /// S3 region.
    pub s3_region: String,
    /// S3-compatible endpoint.
    pub s3_endpoint: String,
    /// Access key id (secret).
    pub s3_access_key_id: String,
    /// Secret access key (secret).
    pub s3_secret_access_key: String,
    /// S3 object format: ndjson (default), json or parquet.
    pub s3_format: String,
    /// GCS bucket.
    pub gcs_bucket: String,
    /// GCS object name prefix.
    pub gcs_prefix: String,
    /// GCS endpoint override (an emulator, a proxy).
    pub gcs_endpoint: String,
    /// GCS object format.
    pub gcs_format: String,
    /// The service account's JSON key (secret).
    pub gcs_service_account_json: String,
    /// Azure storage account name.
    pub az_account: String,
    /// Azure container.
    pub az_container: String,
    /// Azure blob name prefix.
    pub az_prefix: String,
    /// Azure account endpoint override (Azurite, a proxy).
    pub az_endpoint: String,
    /// Azure object format.
    pub az_format: String,
    /// Azure access key (secret).
    pub az_access_key: String,
    /// Azure SAS token (secret).
    pub az_sas_token: String,
    /// Datadog site.
    pub dd_site: String,
    /// Datadog service attribute.
    pub dd_service: String,
    /// Datadog API key (secret).
    pub dd_api_key: String,
    /// Gzip HTTP bodies (`Content-Encoding: gzip`).
    pub gzip: Option<String>,
    /// `new` (credentials typed in this form), `existing` (`secret_id`) or, when editing,
    /// `keep` (the drain's current secret).
    pub secret_mode: String,
    /// A stored secret chosen by id (`secret_mode=existing`).
    pub secret_id: String,
    /// `now` (new records only) or `from` (backfill from `start_ts`).
    pub start_from: String,
    /// Backfill start, `YYYY-MM-DDTHH:MM` in the organization's zone (or any form the API's
    /// `start_ts` takes).
    pub start_ts: String,
}

/// Never prints the credentials.
impl std::fmt::Debug for DrainForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DrainForm")
            .field("step", &self.step)
            .field("data_type", &self.data_type)
            .field("name", &self.name)
            .field("dest_type", &self.dest_type)
            .finish_non_exhaustive()
    }
}

impl DrainForm {
    pub(super) fn with_defaults(mut self) -> Self {
        if self.field_preset.is_empty() {
            self.field_preset = "default".into();
        }
        if self.dest_type.is_empty() {
            self.dest_type = "http".into();
        }
        if self.http_format.is_empty() {
            self.http_format = "json".into();
        }
        if self.dd_site.is_empty() {
            self.dd_site = "datadoghq.com".into();
        }
        if self.secret_mode.is_empty() {
            self.secret_mode = "new".into();
        }
        if self.start_from.is_empty() {
            self.start_from = "now".into();
        }
        self
    }

    fn data_type(&self) -> Option<DataType> {
        pickers::parse_type(&self.data_type)
    }
}

pub(super) fn has_scope_step(dt: Option<DataType>) -> bool {
    dt.is_none_or(|d| pickers::team_scoped(d) || d == DataType::CreditLogs)
}

/// The steps of a data type; `None` (not chosen yet) lists every step of the wizard.
fn steps(dt: Option<DataType>) -> Vec<(&'static str, &'static str)> {
    let mut s = vec![("type", "Data type")];
    if has_scope_step(dt) {
        s.push(("scope", "Scope"));
    }
    s.push(("fields", "Fields"));
    s.push(("destination", "Destination"));
    s
}

pub(super) fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The drain request the form stands for, with `secret_id`.
pub(super) fn drain_request(f: &DrainForm, secret_id: Option<String>) -> DrainRequest {
    let dt = f.data_type();
    let scoped = dt.is_some_and(pickers::team_scoped);
    let (all, personal) = (f.all_teams.is_some(), f.personal.is_some());
    let custom = f.field_preset == "custom";
    DrainRequest {
        name: Some(f.name.clone()),
        data_type: Some(f.data_type.clone()),
        fields: custom.then(|| f.fields.clone()),
        field_preset: (!custom).then(|| f.field_preset.clone()),
        // Select-all without personal spaces names no team: every organization team,
        // including teams created later.
        workspace_ids: if scoped && !all {
            f.teams.clone()
        } else {
            Vec::new()
        },
        include_all_workspaces: scoped && all && personal,
        include_personal_workspaces: scoped && personal,
        category_filter: opt(&f.category).filter(|_| dt == Some(DataType::CreditLogs)),
        start_ts: (f.start_from == "from").then(|| f.start_ts.trim().to_string()),
        destination: destination(f),
        secret_id,
        ..DrainRequest::default()
    }
}

/// The destination settings (nothing secret).
pub(super) fn destination(f: &DrainForm) -> Option<DestinationConfig> {
    Some(match f.dest_type.as_str() {
        "http" => {
            let (format, otlp_encoding) = match f.http_format.as_str() {
                "ndjson" => (HttpFormat::Ndjson, OtlpEncoding::Protobuf),
                "otlp" => (HttpFormat::Otlp, OtlpEncoding::Protobuf),
                "otlp_json" => (HttpFormat::Otlp, OtlpEncoding::Json),
                _ => (HttpFormat::Json, OtlpEncoding::Protobuf),
            };
            DestinationConfig::Http {
                format,
                otlp_encoding,
                gzip: f.gzip.is_some(),
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            }
        }
        "s3" => DestinationConfig::S3 {
            bucket: f.s3_bucket.trim().to_string(),
            prefix: f.s3_prefix.trim().trim_matches('/').to_string(),
            region: opt(&f.s3_region),
            endpoint: opt(&f.s3_endpoint),
            format: object_format(&f.s3_format),
        },
        "gcs" => DestinationConfig::Gcs {
            bucket: f.gcs_bucket.trim().to_string(),
            prefix: f.gcs_prefix.trim().trim_matches('/').to_string(),
            endpoint: opt(&f.gcs_endpoint),
            format: object_format(&f.gcs_format),
        },
        "azure_blob" => DestinationConfig::AzureBlob {
            account: f.az_account.trim().to_string(),
            container: f.az_container.trim().to_string(),
            prefix: f.az_prefix.trim().trim_matches('/').to_string(),
            endpoint: opt(&f.az_endpoint),
            format: object_format(&f.az_format),
        },
        "datadog" => DestinationConfig::Datadog {
            site: f.dd_site.trim().to_string(),
            service: opt(&f.dd_service),
            source: None,
            tags: Vec::new(),
            intake_url: None,
        },
        _ => return None,
    })
}

/// An object store's format choice; anything else is the default, gzip NDJSON.
fn object_format(v: &str) -> S3Format {
    match v {
        "json" => S3Format::Json,
        "parquet" => S3Format::Parquet,
        _ => S3Format::Ndjson,
    }
}

/// The destination's credentials, checked for presence and shape.
pub(super) fn payload(f: &DrainForm) -> Result<SecretPayload, String> {
    match f.dest_type.as_str() {
        "http" => {
            let url = f.url.trim();
            match url::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                _ => return Err("Endpoint URL: enter an absolute http:// or https:// URL.".into()),
            }
            Ok(SecretPayload::Http {
                url: url.to_string(),
                authorization: opt(&f.authorization),
                signing_secrets: opt(&f.signing_secret).into_iter().collect(),
            })
        }
        "s3" => {
            if f.s3_bucket.trim().is_empty() {
                return Err("Bucket is required.".into());
            }
            if f.s3_access_key_id.trim().is_empty() || f.s3_secret_access_key.is_empty() {
                return Err("The access key id and the secret access key are required.".into());
            }
            Ok(SecretPayload::Aws {
                access_key_id: f.s3_access_key_id.trim().to_string(),
                secret_access_key: f.s3_secret_access_key.clone(),
                session_token: None,
            })
        }
        "gcs" => {
            if f.gcs_bucket.trim().is_empty() {
                return Err("Bucket is required.".into());
            }
            if f.gcs_service_account_json.trim().is_empty() {
                return Err("The service account key (JSON) is required.".into());
            }
            Ok(SecretPayload::Gcp {
                service_account_json: f.gcs_service_account_json.trim().to_string(),
            })
        }
        "azure_blob" => {
            if f.az_account.trim().is_empty() || f.az_container.trim().is_empty() {
                return Err("The storage account and the container are required.".into());
            }
            let (key, sas) = (opt(&f.az_access_key), opt(&f.az_sas_token));
            if key.is_some() == sas.is_some() {
                return Err("Enter either the access key or a SAS token (one of them).".into());
            }
            Ok(SecretPayload::Azure {
                access_key: key,
                sas_token: sas,
            })
        }
        "datadog" => {
            sites::lookup(&f.dd_site)?;
            if f.dd_api_key.trim().is_empty() {
                return Err("The Datadog API key is required.".into());
            }
            Ok(SecretPayload::Datadog {
                api_key: f.dd_api_key.trim().to_string(),
            })
        }
        _ => Err("Choose a destination type.".into()),
    }
}

pub(super) fn step_of(e: &InputError) -> &'static str {
    match e.param.as_str() {
        "data_type" => "type",
        "workspace_ids" | "entity_ids" | "category_filter" | "permission_group_filter" => "scope",
        "fields" | "field_preset" => "fields",
        _ => "destination",
    }
}

fn check(f: &DrainForm, step: &str) -> Option<String> {
    match step {
        "type" if f.data_type().is_none() => Some("Choose a data type.".into()),
        "fields" if f.field_preset == "custom" && f.fields.is_empty() => {
            Some("Choose at least one field, or pick a preset.".into())
        }
        "destination" if f.start_from == "from" && f.start_ts.trim().is_empty() => Some(
            "Backfill from: choose the date and time to start from, or deliver new records only."
                .into(),
        ),
        _ => None,
    }
}

/// `GET …/drains/new`.
pub async fn start(State(state): State<AppState>, admin: Admin) -> Result<Response, WebError> {
    let f = DrainForm::default().with_defaults();
    render(&state, &admin, &f, "type", None, StatusCode::OK).await
}

/// `POST …/drains/new`: the next step, or (`step=create`) the drain.
pub async fn step(
    State(state): State<AppState>,
    client: Client,
    Checked { admin, form }: Checked<DrainForm>,
) -> Result<Response, WebError> {
    let f = form.with_defaults();
    let names = steps(f.data_type());
    let target = if f.step == "create" {
        names.len()
    } else {
        layout::step_position(&steps(None), &names, &f.step)
    };
    for (id, _) in names.iter().take(target) {
        if let Some(message) = check(&f, id) {
            return render(
                &state,
                &admin,
                &f,
                id,
                Some(&message),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    }
    if f.step != "create" {
        let id = names.get(target).map_or("type", |(id, _)| *id);
        return render(&state, &admin, &f, id, None, StatusCode::OK).await;
    }
    match create(&state, &admin, &f, client).await? {
        Ok(id) => {
            Ok(Redirect::to(&format!("{PATH}/drains/{id}?notice=drain_created")).into_response())
        }
        Err((step, message)) => {
            render(
                &state,
                &admin,
                &f,
                step,
                Some(&message),
                StatusCode::BAD_REQUEST,
            )
            .await
        }
    }
}

/// Creates the secret and the drain; `Err((step, message))` when the form must be corrected.
async fn create(
    state: &AppState,
    admin: &Admin,
    f: &DrainForm,
    client: Client,
) -> Result<Result<String, (&'static str, String)>, WebError> {
    let org = admin.org_id();
    // Everything but the credentials first: only a missing secret_id may remain.
    match state
        .drains
        .validate(&admin.org, &drain_request(f, None), request::NATIVE)
        .await
    {
        Err(ValidateError::Input(e)) if e.param != "secret_id" => {
            return Ok(Err((step_of(&e), format!("{}: {}", e.param, e.message))));
        }
        Err(ValidateError::Store(e)) => return Err(e.into()),
        _ => {}
    }
    let actor = actor(admin, client);
    if f.secret_mode == "existing" {
        let Some(secret_id) = opt(&f.secret_id) else {
            return Ok(Err((
                "destination",
                "Choose a stored secret, or enter new credentials.".into(),
            )));
        };
        return finish(state, admin, f, &secret_id, &actor).await;
    }
    let payload = match payload(f) {
        Ok(p) => p,
        Err(m) => return Ok(Err(("destination", m))),
    };
    let secret_name = format!("{} ({})", f.name.trim(), payload.kind());
    let secret = state
        .drains
        .create_secret(org, &secret_name, &payload, &actor)
        .await?;
    let outcome = finish(state, admin, f, &secret.id, &actor).await;
    if !matches!(outcome, Ok(Ok(_)))
        && let Err(e) = state.drains.delete_secret(org, &secret.id, &actor).await
    {
        tracing::warn!(error = %e, "secret of a refused drain not removed");
    }
    outcome
}

/// Validates the drain with its new secret and creates it (preflight included).
async fn finish(
    state: &AppState,
    admin: &Admin,
    f: &DrainForm,
    secret_id: &str,
    actor: &crate::audit::Actor,
) -> Result<Result<String, (&'static str, String)>, WebError> {
    let req = drain_request(f, Some(secret_id.to_string()));
    let valid: ValidDrain = match state
        .drains
        .validate(&admin.org, &req, request::NATIVE)
        .await
    {
        Ok(v) => v,
        Err(ValidateError::Input(e)) => {
            return Ok(Err((step_of(&e), format!("{}: {}", e.param, e.message))));
        }
        Err(ValidateError::Store(e)) => return Err(e.into()),
    };
    match state.drains.create(admin.org_id(), valid, actor).await {
        Ok(d) => Ok(Ok(d.id)),
        Err(DrainError::Store(e)) => Err(e.into()),
        Err(e) => Ok(Err(("destination", e.to_string()))),
    }
}

/// Hidden inputs for what the other steps collected (never credentials).
fn carried(f: &DrainForm, step: &str) -> Markup {
    let hidden = |name: &str, value: &str| html! { input type="hidden" name=(name) value=(value); };
    html! {
        @if step != "type" { (hidden("data_type", &f.data_type)) }
        @if step != "scope" {
            @for t in &f.teams { (hidden("teams", t)) }
            @if f.all_teams.is_some() { (hidden("all_teams", "on")) }
            @if f.personal.is_some() { (hidden("personal", "on")) }
            (hidden("category", &f.category))
        }
        @if step != "fields" {
            (hidden("field_preset", &f.field_preset))
            @for x in &f.fields { (hidden("fields", x)) }
        }
        @if step != "destination" {
            @for (name, value) in [("name", &f.name), ("dest_type", &f.dest_type), ("http_format", &f.http_format),
                ("url", &f.url), ("s3_bucket", &f.s3_bucket), ("s3_prefix", &f.s3_prefix), ("s3_region", &f.s3_region),
                ("s3_endpoint", &f.s3_endpoint), ("s3_format", &f.s3_format), ("gcs_bucket", &f.gcs_bucket),
                ("gcs_prefix", &f.gcs_prefix), ("gcs_endpoint", &f.gcs_endpoint), ("gcs_format", &f.gcs_format),
                ("az_account", &f.az_account), ("az_container", &f.az_container), ("az_prefix", &f.az_prefix),
                ("az_endpoint", &f.az_endpoint), ("az_format", &f.az_format),
                ("dd_site", &f.dd_site), ("dd_service", &f.dd_service),
                ("secret_mode", &f.secret_mode), ("secret_id", &f.secret_id), ("start_from", &f.start_from),
                ("start_ts", &f.start_ts)] {
                (hidden(name, value))
            }
            @if f.gzip.is_some() { (hidden("gzip", "on")) }
        }
    }
}

async fn render(
    state: &AppState,
    admin: &Admin,
    f: &DrainForm,
    step: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let dt = f.data_type();
    let names = steps(dt);
    let at = names.iter().position(|(id, _)| *id == step).unwrap_or(0);
    let next = names.get(at + 1).map(|(id, _)| *id);
    let back = at
        .checked_sub(1)
        .and_then(|i| names.get(i))
        .map(|(id, _)| *id);
    let teams = if step == "scope" && dt.is_some_and(pickers::team_scoped) {
        pickers::teams(&state.store, admin.org_id()).await?
    } else {
        Vec::new()
    };
    let content = match (step, dt) {
        ("type", _) | (_, None) => pickers::data_type_choice(dt),
        ("scope", Some(dt)) => scope_step(f, dt, &teams),
        ("fields", Some(dt)) => html! {
            p.lead { "Drains deliver the chosen fields of every new record; the record's time field is always included." }
            (pickers::field_picker(dt, &f.field_preset, &f.fields))
        },
        _ => html! {
            (destination_step(f, &state.drains.secrets(admin.org_id()).await?, false))
            (start_section(f, data_export::org_tz(admin)))
        },
    };
    let body = html! {
        p { a href={(PATH) "?tab=drains"} { "← Back to drains" } }
        h1 { "Add drain" }
        (layout::steps(&names, step))
        @if let Some(e) = error { (layout::error_box(e)) }
        form.card method="post" action=(NEW) autocomplete="off" {
            (layout::csrf_field(admin))
            (carried(f, step))
            (content)
            div.actions-bar {
                @match next {
                    Some(n) => button type="submit" name="step" value=(n) { "Next" },
                    None => button type="submit" name="step" value="create" { "Check destination and create drain" },
                }
                @if let Some(b) = back {
                    button.secondary type="submit" name="step" value=(b) formnovalidate { "Back" }
                }
                a.button.secondary href={(PATH) "?tab=drains"} { "Cancel" }
            }
        }
    };
    Ok(layout::with_headers(
        status,
        layout::page("Add drain", Some(admin), Nav::DataExport, body),
    ))
}

pub(super) fn scope_step(f: &DrainForm, dt: DataType, teams: &[TeamItem]) -> Markup {
    if dt == DataType::CreditLogs {
        return html! {
            p.lead { "Credit logs cover the whole organization; optionally keep one category." }
            label for="category" { "Category" }
            select #category name="category" {
                option value="" selected[f.category.is_empty()] { "All categories" }
                @for (value, label) in credit::CATEGORIES {
                    option value=(value) selected[f.category == *value] { (label) }
                }
            }
        };
    }
    html! {
        p.lead {
            "Choose the teams to drain. With no team ticked, or Select all teams, the drain carries every organization team, including teams created later. "
            "Personal spaces are drained only when you tick Include the personal spaces; ticked with no team, the drain carries the personal spaces alone."
        }
        (pickers::team_picker(teams, &f.teams, f.all_teams.is_some(), f.personal.is_some()))
    }
}

/// The destination step: name, destination type and settings, and where the credentials
/// come from (typed in, a stored secret of the organization, or — `editing` — the drain's
/// current secret).
pub(super) fn destination_step(f: &DrainForm, secrets: &[SecretInfo], editing: bool) -> Markup {
    let kinds = [
        (
            "http",
            "Send batches to an HTTP endpoint you control (JSON, NDJSON or OTLP).",
        ),
        (
            "s3",
            "Write gzip NDJSON, JSON or Parquet objects to a bucket (AWS S3, MinIO, R2, …).",
        ),
        (
            "gcs",
            "Write gzip NDJSON, JSON or Parquet objects to a Google Cloud Storage bucket.",
        ),
        (
            "azure_blob",
            "Write gzip NDJSON, JSON or Parquet blobs to an Azure Blob Storage container.",
        ),
        ("datadog", "Send records to Datadog Logs."),
    ];
    html! {
        label for="name" { "Drain name" }
        input #name type="text" name="name" value=(f.name) required maxlength="200";
        fieldset data-dest-types {
            legend { "Destination type" }
            div.cards {
                @for (kind, hint) in kinds {
                    label {
                        span.row {
                            input type="radio" name="dest_type" value=(kind) checked[f.dest_type == kind];
                            (layout::dest_icon(kind)) (layout::dest_label(kind))
                        }
                        span.hint { (hint) }
                    }
                }
            }
        }
        fieldset data-dest="http" {
            legend { "Custom endpoint" }
            label for="url" { "Endpoint URL" }
            input #url type="url" name="url" value=(f.url) placeholder="https://example.com/outflow";
            label for="http_format" { "Format" }
            select #http_format name="http_format" {
                @for (v, label) in [("json", "JSON (default)"), ("ndjson", "NDJSON"), ("otlp", "OTLP logs (protobuf)"), ("otlp_json", "OTLP logs (JSON)")] {
                    option value=(v) selected[f.http_format == v] { (label) }
                }
            }
            label for="authorization" { "Authorization header" span.hint { "Optional, sent as the Authorization header, e.g. Bearer …" } }
            input #authorization type="password" name="authorization" autocomplete="off";
            label for="signing_secret" { "Signing secret" span.hint { "Optional. Signs every body (X-Outflow-Signature and Standard Webhooks headers)." } }
            input #signing_secret type="password" name="signing_secret" autocomplete="off";
            label.inline {
                input type="checkbox" name="gzip" checked[f.gzip.is_some()];
                "Compress bodies with gzip (Content-Encoding: gzip)"
            }
        }
        fieldset data-dest="s3" {
            legend { "Amazon S3 or S3-compatible storage" }
            div.grid {
                div { label for="s3_bucket" { "Bucket" } input #s3_bucket type="text" name="s3_bucket" value=(f.s3_bucket); }
                div { label for="s3_prefix" { "Prefix" } input #s3_prefix type="text" name="s3_prefix" value=(f.s3_prefix) placeholder="outflow"; }
                div { label for="s3_region" { "Region" } input #s3_region type="text" name="s3_region" value=(f.s3_region) placeholder="us-east-1"; }
                div { label for="s3_endpoint" { "Endpoint" span.hint { "Only for MinIO, R2 and the like." } } input #s3_endpoint type="url" name="s3_endpoint" value=(f.s3_endpoint); }
                div { label for="s3_access_key_id" { "Access key id" } input #s3_access_key_id type="text" name="s3_access_key_id" autocomplete="off"; }
                div { label for="s3_secret_access_key" { "Secret access key" } input #s3_secret_access_key type="password" name="s3_secret_access_key" autocomplete="off"; }
                div { (format_select("s3_format", &f.s3_format)) }
            }
        }
        fieldset data-dest="gcs" {
            legend { "Google Cloud Storage" }
            div.grid {
                div { label for="gcs_bucket" { "Bucket" } input #gcs_bucket type="text" name="gcs_bucket" value=(f.gcs_bucket); }
                div { label for="gcs_prefix" { "Prefix" } input #gcs_prefix type="text" name="gcs_prefix" value=(f.gcs_prefix) placeholder="outflow"; }
                div { label for="gcs_endpoint" { "Endpoint" span.hint { "Optional; only for a proxy or an emulator." } } input #gcs_endpoint type="url" name="gcs_endpoint" value=(f.gcs_endpoint) placeholder="https://storage.googleapis.com"; }
                div { (format_select("gcs_format", &f.gcs_format)) }
            }
            label for="gcs_service_account_json" { "Service account key (JSON)" span.hint { "The key file of a service account with Storage Object Creator, Viewer and Deleter on the bucket." } }
            textarea #gcs_service_account_json name="gcs_service_account_json" rows="4" autocomplete="off" spellcheck="false" {}
        }
        fieldset data-dest="azure_blob" {
            legend { "Azure Blob Storage" }
            div.grid {
                div { label for="az_account" { "Storage account" } input #az_account type="text" name="az_account" value=(f.az_account); }
                div { label for="az_container" { "Container" } input #az_container type="text" name="az_container" value=(f.az_container); }
                div { label for="az_prefix" { "Prefix" } input #az_prefix type="text" name="az_prefix" value=(f.az_prefix) placeholder="outflow"; }
                div { label for="az_endpoint" { "Endpoint" span.hint { "Optional; default https://<account>.blob.core.windows.net." } } input #az_endpoint type="url" name="az_endpoint" value=(f.az_endpoint); }
                div { label for="az_access_key" { "Access key" span.hint { "Or a SAS token below." } } input #az_access_key type="password" name="az_access_key" autocomplete="off"; }
                div { label for="az_sas_token" { "SAS token" span.hint { "Read, write, delete and list on the container." } } input #az_sas_token type="password" name="az_sas_token" autocomplete="off"; }
                div { (format_select("az_format", &f.az_format)) }
            }
        }
        fieldset data-dest="datadog" {
            legend { "Datadog" }
            label for="dd_site" { "Site" }
            select #dd_site name="dd_site" {
                @for s in &sites::SITES {
                    option value=(s.site) selected[f.dd_site == s.site] { (s.name) " — " (s.site) " (" (s.location) ")" }
                }
            }
            label for="dd_service" { "Service" span.hint { "Optional; default outflow.<data type>." } }
            input #dd_service type="text" name="dd_service" value=(f.dd_service);
            label for="dd_api_key" { "API key" }
            input #dd_api_key type="password" name="dd_api_key" autocomplete="off";
        }
        (credentials_choice(f, secrets, editing))
        p.hint { "Credentials are stored encrypted and are never shown again. The destination is checked before the drain is saved." }
    }
}

/// An object store's format choice (named per destination, so each card keeps its own).
fn format_select(name: &str, current: &str) -> Markup {
    let formats = [
        ("ndjson", "NDJSON, gzip (default)"),
        ("json", "JSON envelope"),
        ("parquet", "Parquet (typed columns)"),
    ];
    let current = if current.is_empty() {
        "ndjson"
    } else {
        current
    };
    html! {
        label for=(name) { "Object format" }
        select id=(name) name=(name) {
            @for (v, label) in formats {
                option value=(v) selected[current == v] { (label) }
            }
        }
    }
}

/// Typed-in credentials, a stored secret, or (editing) the current one.
fn credentials_choice(f: &DrainForm, secrets: &[SecretInfo], editing: bool) -> Markup {
    let mut modes = vec![("new", "Use the credentials entered above")];
    if editing {
        modes.insert(0, ("keep", "Keep the drain's current credentials"));
    }
    modes.push(("existing", "Use a stored secret"));
    html! {
        fieldset data-role="credentials" {
            legend { "Credentials" }
            @for (mode, label) in modes {
                label.inline {
                    input type="radio" name="secret_mode" value=(mode) checked[f.secret_mode == mode];
                    (label)
                }
            }
            label for="secret_id" {
                "Stored secret"
                span.hint { "A secret holds a destination's credentials; for an HTTP endpoint it holds the URL too, so the URL above is then not used." }
            }
            select #secret_id name="secret_id" {
                option value="" selected[f.secret_id.is_empty()] { "Choose a secret…" }
                @for s in secrets {
                    option value=(s.id) selected[f.secret_id == s.id] {
                        (s.name) " — " (secret_kind_label(&s.kind)) " (" (s.id) ")"
                    }
                }
            }
        }
    }
}

/// The destination a secret kind serves.
fn secret_kind_label(kind: &str) -> &'static str {
    match kind {
        "http" => "HTTP endpoint",
        "aws" => "Amazon S3",
        "gcp" => "Google Cloud Storage",
        "azure" => "Azure Blob Storage",
        "datadog" => "Datadog",
        _ => "other",
    }
}

/// Where a new drain starts: new records only, or a backfill from a time in the
/// organization's zone.
fn start_section(f: &DrainForm, tz: chrono_tz::Tz) -> Markup {
    html! {
        fieldset data-role="start" {
            legend { "Start" }
            label.inline {
                input type="radio" name="start_from" value="now" checked[f.start_from != "from"];
                "Deliver new records only, from now"
            }
            label.inline {
                input type="radio" name="start_from" value="from" checked[f.start_from == "from"];
                "Also deliver past records, from:"
            }
            label for="start_ts" { "Backfill from" span.hint { "In " (tz.name()) "; records with a time at or after it are delivered first, oldest first." } }
            input #start_ts type="datetime-local" name="start_ts" value=(f.start_ts);
        }
    }
}
