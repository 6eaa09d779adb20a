//! `/invite/{token}`: the one-time link of an invitation. Opening it shows whom the invitation
//! is for and asks for a password; only sending that form uses the link (mail scanners that
//! open links do not spend it). Using it creates the admin with the invited role, signs them
//! in and writes an `admin_invite_accepted` audit record.

use super::auth::{self, MIN_PASSWORD_CHARS};
use super::error::WebError;
use super::layout::{self, Nav};
use super::session;
use crate::audit::{self, Actor};
use crate::auth::keys::hash_secret;
use crate::http::extract::Client;
use crate::state::AppState;
use crate::store::admin::{self as admin_store, Invite};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::html;
use serde::Deserialize;

/// The link's path (`{token}`: 256 random bits, stored only as their SHA-256).
pub const PATH: &str = "/invite/{token}";

/// The accept form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AcceptForm {
    /// The password the new admin chooses.
    password: String,
    /// The double-submit token of the form.
    csrf: String,
}

const GONE: &str = "This invitation link does not work: it was used, withdrawn or has expired. \
    Ask an owner of the organization for a new one.";

async fn pending(state: &AppState, token: &str) -> Result<Invite, WebError> {
    admin_store::invite_by_token(&state.store, &hash_secret(token), Utc::now())
        .await?
        .ok_or_else(|| WebError::NotFound(GONE.into()))
}

/// The form page, with a fresh double-submit token in a hidden field and a cookie.
fn form_page(
    state: &AppState,
    state_org: &str,
    invite: &Invite,
    token: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let csrf = session::new_token();
    let body = html! {
        section.card.narrow {
            h1 { "Join " (state_org) }
            p.lead { "You are invited as " strong { (invite.role.label()) } " (" (invite.role.summary()) ") by " (invite.invited_by) "." }
            @if let Some(e) = error { (layout::error_box(e)) }
            form method="post" action=(PATH.replace("{token}", token)) {
                input type="hidden" name="csrf" value=(csrf);
                label for="email" { "Email" }
                input #email type="email" name="email" value=(invite.email) autocomplete="username" readonly;
                label for="password" { "Choose a password" }
                input #password type="password" name="password" autocomplete="new-password" minlength=(MIN_PASSWORD_CHARS) required autofocus aria-describedby="password-hint";
                p.hint #password-hint { "At least " (MIN_PASSWORD_CHARS) " characters." }
                div.actions-bar { button type="submit" { "Join and sign in" } }
            }
        }
    };
    let mut r = layout::with_headers(status, layout::page("Join", None, Nav::None, body));
    if let Ok(v) = HeaderValue::from_str(&session::invite_cookie(state, &csrf)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn org_name(state: &AppState, invite: &Invite) -> Result<String, WebError> {
    Ok(state
        .store
        .get_org(&invite.org_id)
        .await?
        .map_or_else(|| invite.org_id.clone(), |o| o.name))
}

/// `GET /invite/{token}`.
pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, WebError> {
    let invite = pending(&state, &token).await?;
    let org = org_name(&state, &invite).await?;
    Ok(form_page(
        &state,
        &org,
        &invite,
        &token,
        None,
        StatusCode::OK,
    ))
}

/// `POST /invite/{token}`.
pub async fn accept(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<AcceptForm>,
) -> Result<Response, WebError> {
    let expected = session::invite_token(&headers).unwrap_or_default();
    if !session::csrf_matches(&expected, Some(&form.csrf)) {
        return Err(WebError::Forbidden(
            "the invitation form expired; open the link again and resubmit".into(),
        ));
    }
    let invite = pending(&state, &token).await?;
    let org = org_name(&state, &invite).await?;
    if form.password.chars().count() < MIN_PASSWORD_CHARS {
        let e = format!("The password must have at least {MIN_PASSWORD_CHARS} characters.");
        return Ok(form_page(
            &state,
            &org,
            &invite,
            &token,
            Some(&e),
            StatusCode::BAD_REQUEST,
        ));
    }
    // Spend the link first: of two uses at once, one creates the admin.
    if !admin_store::consume_invite(&state.store, &invite.token_hash).await? {
        return Err(WebError::NotFound(GONE.into()));
    }
    let admin = auth::create_invited(
        &state.store,
        &invite.org_id,
        &invite.email,
        invite.role,
        &form.password,
    )
    .await?;
    let now = Utc::now();
    let cookie = session::start(&state, &admin, &client, now).await?;
    let actor = Actor {
        user_id: format!("admin:{}", admin.email),
        source_ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
    };
    let details = serde_json::json!({
        "email": admin.email, "role": admin.role.as_str(), "invite_id": invite.id,
        "invited_by": invite.invited_by,
    });
    let batch = audit::event(
        &admin.org_id,
        audit::events::ADMIN_INVITE_ACCEPTED,
        &actor,
        Some(&admin.id),
        details,
    );
    state.store.insert_records(&batch).await?;
    let mut r = Redirect::to(super::data_export::PATH).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
