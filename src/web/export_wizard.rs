//! The export wizard: data type → date range → teams and entity ids (team-scoped types) or
//! filters (credit logs, audit logs) → fields and format. Plain forms: every step posts the choices so far (as hidden fields) and the button
//! pressed names the step to show next; moving forward checks the steps being left, and the
//! last step requests the export through `state.exports.request` — the same checks and
//! messages as the API — which validates the whole request and queues the job.

use super::data_export::{self, PATH};
use super::error::WebError;
use super::layout::{self, Nav};
use super::pickers::{self, TeamItem};
use super::session::{Admin, Checked};
use crate::audit::Actor;
use crate::domain::DataType;
use crate::domain::catalog::{self, Preset};
use crate::domain::range::{RangePreset, preset_range};
use crate::export::ExportJob;
use crate::export::request::{CheckError, RequestError};
use crate::export::spec::{self, ExportInput, InputError};
use crate::http::extract::Client;
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

mod filters;
mod repeat;

/// The wizard's path.
pub const NEW: &str = "/settings/organization/data_export/exports/new";

/// Everything the wizard collects; each step posts all of it.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ExportForm {
    /// The step to show next, or `create`.
    pub step: String,
    /// Data type name.
    pub data_type: String,
    /// A range preset name, or `custom`.
    pub preset: String,
    /// Custom start date (`YYYY-MM-DD`).
    pub start: String,
    /// Custom end date, inclusive.
    pub end: String,
    /// IANA zone.
    pub timezone: String,
    /// Chosen team ids.
    pub teams: Vec<String>,
    /// The select-all box.
    pub all_teams: Option<String>,
    /// The personal-spaces toggle.
    pub personal: Option<String>,
    /// Workbook or agent ids, comma-separated (team-scoped types).
    pub entity_ids: String,
    /// Credit-log category (internal value); empty for any.
    pub category: String,
    /// Credit-log custom role (id or name); empty for any.
    pub custom_role: String,
    /// Audit-log event types; none for every event.
    pub event_types: Vec<String>,
    /// minimal, default, full or custom.
    pub field_preset: String,
    /// Custom field ids.
    pub fields: Vec<String>,
    /// csv, ndjson or parquet.
    pub format: String,
    /// The gzip box.
    pub gzip: Option<String>,
    /// `once` (default), or a schedule: `day`, `week`, `month`, `billing_period`.
    pub repeat: String,
    /// A schedule's run time, `HH:MM` (default 06:00).
    pub at: String,
    /// The "email the admins" box of a schedule.
    pub email_admins: Option<String>,
    /// A schedule's destination besides email: empty (none), `s3` or `http`.
    pub deliver_to: String,
    /// The stored secret the destination uses (kind `aws` for s3, `http` for http).
    pub deliver_secret: String,
    /// S3 bucket of a schedule's destination.
    pub deliver_bucket: String,
    /// S3 key prefix.
    pub deliver_prefix: String,
    /// S3 region.
    pub deliver_region: String,
    /// S3-compatible endpoint.
    pub deliver_endpoint: String,
}

impl ExportForm {
    fn with_defaults(mut self, admin: &Admin) -> Self {
        if self.preset.is_empty() {
            self.preset = "this_billing_period".into();
        }
        if self.timezone.is_empty() {
            self.timezone = admin.org.timezone.clone();
        }
        if self.field_preset.is_empty() {
            self.field_preset = "default".into();
        }
        if self.format.is_empty() {
            self.format = "csv".into();
        }
        self
    }

    fn data_type(&self) -> Option<DataType> {
        pickers::parse_type(&self.data_type)
    }
}

/// The steps of a data type: the team step only for team-scoped types; `None` (not chosen
/// yet) lists every step of the wizard.
fn steps(dt: Option<DataType>) -> Vec<(&'static str, &'static str)> {
    let mut s = vec![("type", "Data type"), ("range", "Date range")];
    if dt.is_none_or(pickers::team_scoped) {
        s.push(("teams", "Teams"));
    }
    if dt.is_none_or(filters::has_filter_step) {
        s.push(("filters", "Filters"));
    }
    s.push(("fields", "Fields and format"));
    s
}

/// The request the form stands for; `all_team_ids` expands the select-all box when personal
/// spaces are left out.
fn input(f: &ExportForm, all_team_ids: &[String]) -> ExportInput {
    let custom_range = f.preset == "custom";
    let all = f.all_teams.is_some();
    let personal = f.personal.is_some();
    let scoped = f.data_type().is_some_and(pickers::team_scoped);
    let custom_fields = f.field_preset == "custom";
    let mut input = ExportInput {
        data_type: Some(f.data_type.clone()),
        start: custom_range
            .then(|| f.start.clone())
            .filter(|s| !s.is_empty()),
        end: custom_range
            .then(|| f.end.clone())
            .filter(|s| !s.is_empty()),
        preset: (!custom_range).then(|| f.preset.clone()),
        timezone: Some(f.timezone.clone()),
        workspace_ids: match (scoped, all, personal) {
            (true, true, false) => all_team_ids.to_vec(),
            (true, false, _) => f.teams.clone(),
            _ => Vec::new(),
        },
        include_all_workspaces: scoped && all && personal,
        include_personal_workspaces: scoped && personal,
        fields: custom_fields.then(|| f.fields.clone()),
        field_preset: (!custom_fields).then(|| f.field_preset.clone()),
        format: Some(f.format.clone()),
        gzip: f.gzip.is_some(),
        ..ExportInput::default()
    };
    filters::apply(f, f.data_type(), &mut input);
    input
}

/// The step an invalid parameter belongs to.
fn step_of(e: &InputError) -> &'static str {
    match e.param.as_str() {
        "data_type" => "type",
        "start" | "end" | "timezone" | "preset" => "range",
        "workspace_ids" | "entity_ids" => "teams",
        "category_filter" | "permission_group_filter" | "event_type_filter" => "filters",
        _ => "fields",
    }
}

/// Checks one step on its own; the message to show there.
async fn check(
    state: &AppState,
    admin: &Admin,
    f: &ExportForm,
    step: &str,
) -> Result<Option<String>, WebError> {
    let Some(dt) = f.data_type() else {
        return Ok((step == "type").then(|| "Choose a data type.".to_string()));
    };
    match step {
        "range" | "filters" => {
            // Validate the range (and the filters) alone: the other steps' parts are
            // stand-ins here; an error of a later step is left for that step.
            let mut probe = input(f, &[]);
            probe.include_all_workspaces = true;
            probe.workspace_ids.clear();
            probe.entity_ids.clear();
            probe.fields = None;
            probe.field_preset = Some("minimal".into());
            probe.format = None;
            probe.gzip = false;
            match state.exports.check(&admin.org, &probe, spec::NATIVE).await {
                Ok(_) => Ok(None),
                Err(CheckError::Input(e)) if step_of(&e) != step => Ok(None),
                // The range step's messages read on their own; a filter's names its field.
                Err(CheckError::Input(e)) if step == "range" => Ok(Some(e.message)),
                Err(CheckError::Input(e)) => Ok(Some(format!("{}: {}", e.param, e.message))),
                Err(CheckError::Store(e)) => Err(e.into()),
            }
        }
        "teams" if pickers::team_scoped(dt) => {
            let none = f.teams.is_empty()
                && f.all_teams.is_none()
                && f.personal.is_none()
                && filters::entity_ids(&f.entity_ids).is_empty();
            Ok(none.then(|| "Select at least one team, or include personal spaces.".to_string()))
        }
        "fields" => {
            let none = f.field_preset == "custom" && f.fields.is_empty();
            Ok(none.then(|| "Choose at least one field, or pick a preset.".to_string()))
        }
        _ => Ok(None),
    }
}

/// `?clone=exp_…`: start from that job's settings; or a prefill by query (the Analytics
/// chart's click): `?data_type=credit_logs&start=2026-03-02&end=2026-03-02&timezone=…&teams=a,b`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StartQuery {
    /// A job of the admin's organization to clone.
    pub clone: Option<String>,
    /// Data type name.
    pub data_type: String,
    /// First day (a custom range).
    pub start: String,
    /// Last day, inclusive.
    pub end: String,
    /// IANA zone.
    pub timezone: String,
    /// Team ids, comma-separated.
    pub teams: String,
}

impl StartQuery {
    /// The form a prefill by query stands for; every value is checked by the steps as if
    /// typed, so nothing here is trusted.
    fn prefill(&self) -> ExportForm {
        let custom = !self.start.trim().is_empty() || !self.end.trim().is_empty();
        ExportForm {
            data_type: self.data_type.trim().to_string(),
            preset: if custom {
                "custom".into()
            } else {
                String::new()
            },
            start: self.start.trim().to_string(),
            end: self.end.trim().to_string(),
            timezone: self.timezone.trim().to_string(),
            teams: self
                .teams
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            ..ExportForm::default()
        }
    }
}

/// `GET …/exports/new`, or `…/exports/new?clone={id}` (Clone on an export's page): the
/// wizard with every step prefilled from that job; the admin walks the steps and creates it.
pub async fn start(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<StartQuery>,
) -> Result<Response, WebError> {
    let f = match q.clone.as_deref() {
        None => q.prefill(),
        Some(id) => {
            let job = state
                .exports
                .get(admin.org_id(), id)
                .await?
                .ok_or_else(|| {
                    WebError::NotFound(format!("No export {id} in this organization."))
                })?;
            form_of(&job)
        }
    }
    .with_defaults(&admin);
    // Prefilled with a known type: open on the range, where the prefilled window shows.
    let first = if q.clone.is_none() && f.data_type().is_some() {
        "range"
    } else {
        "type"
    };
    render(&state, &admin, &f, first, None, StatusCode::OK).await
}

/// The wizard's form standing for `job`'s settings: its exact range as custom dates in its
/// zone, its teams, its fields (as their preset when they are one) and its file format.
/// and its row filters (entity ids, category, custom role, event types).
fn form_of(job: &ExportJob) -> ExportForm {
    let spec = &job.spec;
    let tz = spec.tz();
    let last = spec.end - chrono::Duration::microseconds(1);
    let mut chosen: Vec<&str> = spec.fields.iter().map(String::as_str).collect();
    chosen.sort_unstable();
    let preset = Preset::ALL.into_iter().find(|p| {
        let mut set = catalog::spec(spec.data_type).preset_fields(*p);
        set.sort_unstable();
        set == chosen
    });
    let on = |b: bool| b.then(|| "on".to_string());
    let teams = &spec.teams;
    let mut form = ExportForm {
        step: String::new(),
        data_type: spec.data_type.as_str().into(),
        preset: "custom".into(),
        start: spec.start.with_timezone(&tz).format("%Y-%m-%d").to_string(),
        end: last.with_timezone(&tz).format("%Y-%m-%d").to_string(),
        timezone: spec.timezone.clone(),
        teams: teams.ids.clone(),
        all_teams: on(teams.org_teams),
        personal: on(teams.personal),
        field_preset: match preset {
            Some(p) => p.as_str().into(),
            None => "custom".into(),
        },
        fields: if preset.is_some() {
            Vec::new()
        } else {
            spec.fields.clone()
        },
        format: spec.format.clone(),
        gzip: on(spec.gzip),
        ..ExportForm::default()
    };
    filters::fill(&mut form, spec);
    form
}

/// `POST …/exports/new`: the next step, or (`step=create`) the export.
pub async fn step(
    State(state): State<AppState>,
    client: Client,
    Checked { admin, form }: Checked<ExportForm>,
) -> Result<Response, WebError> {
    let f = form.with_defaults(&admin);
    let names = steps(f.data_type());
    let target = if f.step == "create" {
        names.len()
    } else {
        layout::step_position(&steps(None), &names, &f.step)
    };
    // Moving forward: every step being passed must hold up.
    for (id, _) in names.iter().take(target) {
        if let Some(message) = check(&state, &admin, &f, id).await? {
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
    let all_ids: Vec<String> = pickers::teams(&state.store, admin.org_id())
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let request = input(&f, &all_ids);
    let actor = Actor {
        user_id: format!("admin:{}", admin.email),
        source_ip: client.ip,
        user_agent: client.user_agent,
    };
    if !f.repeat.is_empty() && f.repeat != "once" {
        return repeat::create(&state, &admin, &f, &request, &actor).await;
    }
    let requested = state
        .exports
        .request(
            &admin.org,
            &request,
            spec::NATIVE,
            Some(&admin.email),
            &actor,
        )
        .await;
    match requested {
        Ok(_) => {}
        Err(RequestError::Input(e)) => {
            let message = format!("{}: {}", e.param, e.message);
            return render(
                &state,
                &admin,
                &f,
                step_of(&e),
                Some(&message),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
        Err(RequestError::Store(e)) => return Err(e.into()),
        Err(RequestError::Queue(e)) => return Err(WebError::Internal(e)),
    }
    Ok(Redirect::to(&format!("{PATH}?tab=exports&notice=export_created")).into_response())
}

/// Hidden inputs for everything the steps other than `step` collected.
fn carried(f: &ExportForm, step: &str) -> Markup {
    let hidden = |name: &str, value: &str| html! { input type="hidden" name=(name) value=(value); };
    html! {
        @if step != "type" { (hidden("data_type", &f.data_type)) }
        @if step != "range" {
            (hidden("preset", &f.preset)) (hidden("start", &f.start))
            (hidden("end", &f.end)) (hidden("timezone", &f.timezone))
        }
        @if step != "teams" {
            @for t in &f.teams { (hidden("teams", t)) }
            @if f.all_teams.is_some() { (hidden("all_teams", "on")) }
            @if f.personal.is_some() { (hidden("personal", "on")) }
            (hidden("entity_ids", &f.entity_ids))
        }
        @if step != "filters" { (filters::carried_filters(f)) }
        @if step != "fields" {
            (hidden("field_preset", &f.field_preset)) (hidden("format", &f.format))
            @for x in &f.fields { (hidden("fields", x)) }
            @if f.gzip.is_some() { (hidden("gzip", "on")) }
            (hidden("repeat", &f.repeat)) (hidden("at", &f.at))
            @if f.email_admins.is_some() { (hidden("email_admins", "on")) }
            @for (name, value) in [("deliver_to", &f.deliver_to), ("deliver_secret", &f.deliver_secret),
                ("deliver_bucket", &f.deliver_bucket), ("deliver_prefix", &f.deliver_prefix),
                ("deliver_region", &f.deliver_region), ("deliver_endpoint", &f.deliver_endpoint)] {
                (hidden(name, value))
            }
        }
    }
}

async fn render(
    state: &AppState,
    admin: &Admin,
    f: &ExportForm,
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
    let teams = if step == "teams" {
        pickers::teams(&state.store, admin.org_id()).await?
    } else {
        Vec::new()
    };
    let fields = match (step, dt) {
        ("type", _) | (_, None) => pickers::data_type_choice(dt),
        ("range", _) => range_step(admin, f),
        ("teams", _) => teams_step(f, dt, &teams),
        ("filters", Some(dt)) => filters::filter_step(f, dt),
        (_, Some(dt)) => fields_step(f, dt, &state.drains.secrets(admin.org_id()).await?),
    };
    let body = html! {
        p { a href={(PATH) "?tab=exports"} { "← Back to exports" } }
        h1 { "New export" }
        (layout::steps(&names, step))
        @if let Some(e) = error { (layout::error_box(e)) }
        form.card method="post" action=(NEW) data-range[step == "range"] {
            (layout::csrf_field(admin))
            (carried(f, step))
            (fields)
            div.actions-bar {
                @match next {
                    Some(n) => button type="submit" name="step" value=(n) { "Next" },
                    None => button type="submit" name="step" value="create" { "Create export" },
                }
                @if let Some(b) = back {
                    button.secondary type="submit" name="step" value=(b) formnovalidate { "Back" }
                }
                a.button.secondary href={(PATH) "?tab=exports"} { "Cancel" }
            }
        }
    };
    Ok(layout::with_headers(
        status,
        layout::page("New export", Some(admin), Nav::DataExport, body),
    ))
}

/// The label of a range preset.
pub fn preset_label(p: RangePreset) -> &'static str {
    match p {
        RangePreset::ThisBillingPeriod => "This billing period",
        RangePreset::LastBillingPeriod => "Last billing period",
        RangePreset::ThisMonth => "This month",
        RangePreset::LastMonth => "Last month",
        RangePreset::ThisWeek => "This week",
        RangePreset::LastWeek => "Last week",
        RangePreset::Last7Days => "Last 7 days",
        RangePreset::Last30Days => "Last 30 days",
        RangePreset::Last90Days => "Last 90 days",
    }
}

fn range_step(admin: &Admin, f: &ExportForm) -> Markup {
    let tz = crate::domain::range::parse_tz(&f.timezone).unwrap_or(data_export::org_tz(admin));
    let now = Utc::now();
    let option = |p: RangePreset| {
        let r = preset_range(p, tz, now, admin.org.billing_anchor_day);
        let last = (r.end - chrono::Duration::microseconds(1)).with_timezone(&tz);
        html! {
            option value=(p.as_str()) selected[f.preset == p.as_str()] {
                (preset_label(p)) " (" (r.start.with_timezone(&tz).format("%b %-d")) " – " (last.format("%b %-d, %Y")) ")"
            }
        }
    };
    let (billing, calendar): (Vec<RangePreset>, Vec<RangePreset>) =
        RangePreset::ALL.into_iter().partition(|p| {
            matches!(
                p,
                RangePreset::ThisBillingPeriod | RangePreset::LastBillingPeriod
            )
        });
    html! {
        fieldset {
            legend { "Date range" }
            label for="preset" { "Period" }
            select #preset name="preset" {
                optgroup label="Billing periods" { @for p in billing { (option(p)) } }
                optgroup label="Calendar" { @for p in calendar { (option(p)) } }
                option value="custom" selected[f.preset == "custom"] { "Custom range…" }
            }
            div #custom-range {
                div.grid {
                    div {
                        label for="start" { "Start date" }
                        input #start type="date" name="start" value=(f.start);
                    }
                    div {
                        label for="end" { "End date" span.hint { "Inclusive: the whole end day is exported." } }
                        input #end type="date" name="end" value=(f.end) aria-describedby="range-error";
                    }
                }
                p #range-error .field-error aria-live="polite" {}
            }
            label for="timezone" { "Time zone" span.hint { "Dates are read as midnight in this zone." } }
            select #timezone name="timezone" {
                @for z in chrono_tz::TZ_VARIANTS {
                    option value=(z.name()) selected[z.name() == f.timezone] { (z.name()) }
                }
            }
        }
    }
}

fn teams_step(f: &ExportForm, dt: Option<DataType>, teams: &[TeamItem]) -> Markup {
    html! {
        p.lead { "Choose the teams whose data to include. Personal spaces are included only when you tick Include the personal spaces; ticked with no team, the export covers the personal spaces alone." }
        (pickers::team_picker(teams, &f.teams, f.all_teams.is_some(), f.personal.is_some()))
        (filters::entity_input(f, dt))
    }
}

fn fields_step(f: &ExportForm, dt: DataType, secrets: &[crate::drain::SecretInfo]) -> Markup {
    html! {
        // Tool calls have neither a team step nor filters: the note goes here.
        @if dt == DataType::ToolCalls { (filters::org_wide_note()) }
        (pickers::field_picker(dt, &f.field_preset, &f.fields))
        fieldset {
            legend { "File" }
            label for="format" { "Format" }
            select #format name="format" {
                @for (v, label) in [("csv", "CSV (spreadsheets)"), ("ndjson", "NDJSON (one JSON object per line)"), ("parquet", "Parquet (analytics tools)")] {
                    option value=(v) selected[f.format == v] { (label) }
                }
            }
            label.inline {
                input type="checkbox" name="gzip" checked[f.gzip.is_some()];
                "Compress with gzip (CSV and NDJSON)"
            }
        }
        (repeat::fieldset(f, secrets))
    }
}
