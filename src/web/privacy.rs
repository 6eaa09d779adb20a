//! `/settings/organization/privacy`: how user-identifying fields appear in exports, reports
//! and drains — for the organization, and per team as an override (docs/spec.md §6). Each change is
//! an `audit_logs` record.

use super::data_export::notice_text;
use super::drains::{NoticeQuery, actor};
use super::error::WebError;
use super::layout::{self, Nav};
use super::pickers;
use super::session::{Admin, Checked};
use crate::audit;
use crate::domain::entity::Privacy;
use crate::http::extract::Client;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

/// The page's path.
pub const PATH: &str = "/settings/organization/privacy";

/// The organization or team form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PrivacyForm {
    /// visible, pseudonymized, hidden — or, for a team, `inherit`.
    privacy: String,
}

const CHOICES: [(Privacy, &str, &str); 3] = [
    (
        Privacy::Visible,
        "Visible",
        "Names and emails appear as stored.",
    ),
    (
        Privacy::Pseudonymized,
        "Pseudonymized",
        "Replaced by a stable pseudonym: the same person always gets the same one, which cannot be traced back without the organization's key.",
    ),
    (Privacy::Hidden, "Hidden", "Left empty."),
];

/// `GET /settings/organization/privacy`.
pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let teams = pickers::teams(&state.store, admin.org_id()).await?;
    let notice = q.notice.as_deref().and_then(notice_text);
    let org_setting = admin.org.privacy;
    let body = html! {
        h1 { "Privacy" }
        p.lead { "Decide how user-identifying fields (user ids, emails, names) appear in exports, usage reports and drains." }
        @if let Some(n) = notice { (layout::notice(n)) }
        section.card {
            form method="post" action=(PATH) {
                (layout::csrf_field(&admin))
                fieldset {
                    legend { "Organization setting" }
                    div.cards {
                        @for (value, label, hint) in CHOICES {
                            label {
                                span.row {
                                    input type="radio" name="privacy" value=(value.as_str()) checked[org_setting == value];
                                    (label)
                                }
                                span.hint { (hint) }
                            }
                        }
                    }
                }
                div.actions-bar { button type="submit" { "Save organization setting" } }
            }
        }
        h2 { "Team overrides" }
        p.muted { "A team can differ from the organization: its rows follow the team's setting." }
        div.table-wrap {
            table {
                thead { tr { th scope="col" { "Team" } th scope="col" { "Setting" } } }
                tbody {
                    @for t in &teams {
                        tr {
                            td { (t.name) }
                            td {
                                form.row method="post" action={(PATH) "/teams/" (t.id)} {
                                    (layout::csrf_field(&admin))
                                    label.sr-only for={"privacy-" (t.id)} { "Privacy of " (t.name) }
                                    select id={"privacy-" (t.id)} name="privacy" {
                                        option value="inherit" selected[t.privacy.is_none()] {
                                            "Same as organization (" (org_setting.as_str()) ")"
                                        }
                                        @for (value, label, _) in CHOICES {
                                            option value=(value.as_str()) selected[t.privacy.as_deref() == Some(value.as_str())] { (label) }
                                        }
                                    }
                                    button.small.secondary type="submit" aria-label={"Save privacy of " (t.name)} { "Save" }
                                }
                            }
                        }
                    }
                    @if teams.is_empty() { tr { td.empty colspan="2" { "No teams yet." } } }
                }
            }
        }
    };
    Ok(layout::ok(layout::page(
        "Privacy",
        Some(&admin),
        Nav::Privacy,
        body,
    )))
}

fn parse(value: &str) -> Result<Privacy, WebError> {
    value.parse().map_err(WebError::BadRequest)
}

/// `POST /settings/organization/privacy`.
pub async fn save_org(
    State(state): State<AppState>,
    client: Client,
    Checked { admin, form }: Checked<PrivacyForm>,
) -> Result<Response, WebError> {
    let privacy = parse(&form.privacy)?;
    let batch = audit::event(
        admin.org_id(),
        audit::events::PRIVACY_CHANGED,
        &actor(&admin, client),
        None,
        serde_json::json!({"scope": "organization", "from": admin.org.privacy, "to": privacy}),
    );
    crate::privacy::set_org_privacy(&state.store, admin.org_id(), privacy, &batch).await?;
    Ok(Redirect::to(&format!("{PATH}?notice=privacy_saved")).into_response())
}

/// `POST /settings/organization/privacy/teams/{id}`.
pub async fn save_team(
    State(state): State<AppState>,
    client: Client,
    Path(team): Path<String>,
    Checked { admin, form }: Checked<PrivacyForm>,
) -> Result<Response, WebError> {
    let privacy = match form.privacy.as_str() {
        "inherit" => None,
        other => Some(parse(other)?),
    };
    let exists = pickers::teams(&state.store, admin.org_id())
        .await?
        .iter()
        .any(|t| t.id == team);
    if !exists {
        return Err(WebError::NotFound(format!("team `{team}` not found")));
    }
    let batch = audit::event(
        admin.org_id(),
        audit::events::PRIVACY_CHANGED,
        &actor(&admin, client),
        Some(&team),
        serde_json::json!({"scope": "team", "team_id": team, "to": privacy.map_or("inherit", |p| p.as_str())}),
    );
    crate::privacy::set_team_privacy(&state.store, admin.org_id(), &team, privacy, &batch).await?;
    Ok(Redirect::to(&format!("{PATH}?notice=privacy_saved")).into_response())
}
