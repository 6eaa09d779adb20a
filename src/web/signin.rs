//! `/signin` and `/signout`: the admin's email and password, a session cookie, and an
//! `audit_logs` record of every sign-in, failed sign-in and sign-out.

use super::auth::{self, SignIn};
use super::error::WebError;
use super::layout::{self, Nav};
use super::session::{self, Admin, Checked};
use crate::audit::{self, Actor};
use crate::http::extract::Client;
use crate::state::AppState;
use crate::store::admin::AdminUser;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

/// Where to go after signing in.
#[derive(Debug, Default, Deserialize)]
pub struct NextQuery {
    /// A local path.
    #[serde(default)]
    pub next: Option<String>,
}

/// The sign-in form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInForm {
    email: String,
    password: String,
    next: String,
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

const HOME: &str = "/settings/organization/data_export";

fn target(next: Option<&str>) -> String {
    next.and_then(session::local_path)
        .filter(|p| !p.starts_with("/signin"))
        .unwrap_or(HOME)
        .to_string()
}

fn form(token: &str, email: &str, next: &str, error: Option<&str>) -> Markup {
    layout::page(
        "Sign in",
        None,
        Nav::None,
        html! {
            section.card.narrow {
                h1 { "Sign in" }
                p.lead { "Organization admins manage data exports, drains and keys here." }
                @if let Some(e) = error { (layout::error_box(e)) }
                form method="post" action="/signin" {
                    input type="hidden" name="csrf" value=(token);
                    input type="hidden" name="next" value=(next);
                    label for="email" { "Email" }
                    input #email type="email" name="email" value=(email) autocomplete="username" required autofocus;
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    div.actions-bar { button type="submit" { "Sign in" } }
                }
                p { a #sso href="/sso" { "Sign in with SSO" } }
            }
        },
    )
}

fn form_response(
    state: &AppState,
    status: StatusCode,
    email: &str,
    next: &str,
    error: Option<&str>,
) -> Response {
    let token = session::new_token();
    let mut r = layout::with_headers(status, form(&token, email, next, error));
    if let Ok(v) = HeaderValue::from_str(&session::signin_cookie(state, &token)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `GET /signin`.
pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if session::current(&headers, &state).await?.is_some() {
        return Ok(Redirect::to(&target(q.next.as_deref())).into_response());
    }
    let next = target(q.next.as_deref());
    Ok(form_response(&state, StatusCode::OK, "", &next, None))
}

fn actor(email: &str, client: &Client) -> Actor {
    Actor {
        user_id: format!("admin:{email}"),
        source_ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
    }
}

async fn audit_event(
    state: &AppState,
    admin: &AdminUser,
    event: &str,
    actor: &Actor,
    details: serde_json::Value,
) {
    let batch = audit::event(&admin.org_id, event, actor, Some(&admin.id), details);
    if let Err(e) = state.store.insert_records(&batch).await {
        tracing::warn!(error = %e, event, "sign-in audit record not written");
    }
}

/// `POST /signin`.
pub async fn submit(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let expected = session::signin_token(&headers).unwrap_or_default();
    if !session::csrf_matches(&expected, session::form_value(&body, "csrf").as_deref()) {
        return Err(WebError::Forbidden(
            "the sign-in form expired; reload the page and try again".into(),
        ));
    }
    let f: SignInForm = match session::parse_form(body).await {
        Ok(f) => f,
        Err(r) => return Ok(r),
    };
    let next = target(Some(&f.next));
    let email = auth::normalize_email(&f.email);
    let ip = client.ip.clone().unwrap_or_else(|| "unknown".into());
    let now = Utc::now();
    let actor = actor(&email, &client);
    match auth::sign_in(&state.store, &email, &f.password, &ip, now).await? {
        SignIn::Ok(admin) => {
            if let Some(refusal) = sso_gate(&state, &admin, &actor).await? {
                return Ok(form_response(
                    &state,
                    StatusCode::FORBIDDEN,
                    &email,
                    &next,
                    Some(refusal),
                ));
            }
            let cookie = session::start(&state, &admin, &client, now).await?;
            audit_event(
                &state,
                &admin,
                audit::events::ADMIN_SIGNED_IN,
                &actor,
                serde_json::json!({"email": admin.email}),
            )
            .await;
            let mut r = Redirect::to(&next).into_response();
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                h.append(header::SET_COOKIE, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(r)
        }
        SignIn::Refused(admin) => {
            if let Some(a) = &admin {
                audit_event(
                    &state,
                    a,
                    audit::events::ADMIN_SIGN_IN_FAILED,
                    &actor,
                    serde_json::json!({"email": a.email, "reason": "wrong_password"}),
                )
                .await;
            } else {
                tracing::info!(source_ip = %ip, "sign-in with an unknown email refused");
            }
            Ok(form_response(
                &state,
                StatusCode::UNAUTHORIZED,
                &email,
                &next,
                Some("The email or password is not correct."),
            ))
        }
        SignIn::Throttled(secs, admin) => {
            if let Some(a) = &admin {
                audit_event(
                    &state,
                    a,
                    audit::events::ADMIN_SIGN_IN_FAILED,
                    &actor,
                    serde_json::json!({"email": a.email, "reason": "throttled"}),
                )
                .await;
            }
            let minutes = secs.div_ceil(60);
            let mut r = form_response(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                &next,
                Some(&format!(
                    "Too many failed sign-ins. Try again in {minutes} minutes."
                )),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            Ok(r)
        }
    }
}

/// Where the organization requires single sign-on, refuses the password (audited) unless the
/// admin is its break-glass owner, whose sign-in is audited as such.
async fn sso_gate(
    state: &AppState,
    admin: &AdminUser,
    actor: &Actor,
) -> Result<Option<&'static str>, WebError> {
    let Some(config) = super::sso::service(state).get(&admin.org_id).await? else {
        return Ok(None);
    };
    if !config.require_sso {
        return Ok(None);
    }
    let details = serde_json::json!({"email": admin.email, "reason": "sso_required"});
    if !config.password_allowed(&admin.email, admin.role) {
        audit_event(
            state,
            admin,
            audit::events::ADMIN_SIGN_IN_FAILED,
            actor,
            details,
        )
        .await;
        return Ok(Some(
            "Your organization requires single sign-on: use “Sign in with SSO”.",
        ));
    }
    let details = serde_json::json!({"email": admin.email, "method": "password"});
    let event = audit::events::ADMIN_BREAK_GLASS_SIGN_IN;
    audit_event(state, admin, event, actor, details).await;
    Ok(None)
}

/// `POST /signout`.
pub async fn sign_out(
    State(state): State<AppState>,
    client: Client,
    Checked { admin, .. }: Checked<Empty>,
) -> Result<Response, WebError> {
    end(&state, &admin, &client).await?;
    let mut r = Redirect::to("/signin").into_response();
    if let Ok(v) = HeaderValue::from_str(&session::clear_cookie(&state)) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

async fn end(state: &AppState, admin: &Admin, client: &Client) -> Result<(), WebError> {
    crate::store::admin::delete_session(&state.store, &admin.token_hash).await?;
    let batch = audit::event(
        admin.org_id(),
        audit::events::ADMIN_SIGNED_OUT,
        &actor(&admin.email, client),
        Some(&admin.user_id),
        serde_json::json!({"email": admin.email}),
    );
    state.store.insert_records(&batch).await?;
    Ok(())
}
