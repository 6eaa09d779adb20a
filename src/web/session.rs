//! Sessions, roles and CSRF: the session cookie, the [`Admin`] extractor that every page
//! takes, and the [`Checked`] extractor that every state-changing form goes through.
//!
//! **Roles.** `web::routes()` marks every route with its [`Access`]; the [`Admin`] extractor
//! reads the mark and answers 403 with a page naming the role when the admin's role may not
//! use the route. A route without a mark is refused for everyone, so a page added without an
//! access rule fails closed (and the role-walk test, which reads the same marks, notices).
//!
//! The cookie carries 256 random bits; the database keeps only their SHA-256, so a leaked
//! database holds no usable session. Each session has its own CSRF token, rendered as a hidden
//! `csrf` field into every form and compared in constant time on every POST: a POST without it
//! (or with another session's) is answered 403 before its form is even parsed. The sign-in
//! form, which has no session yet, uses a double-submit cookie instead.

use super::error::WebError;
use crate::auth::keys::{generate_secret, hash_secret};
use crate::domain::entity::Org;
use crate::domain::role::{Capability, Role};
use crate::http::extract::Client;
use crate::state::AppState;
use crate::store::admin::{self as admin_store, SessionRow};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "outflow_session";
/// Name of the sign-in form's double-submit cookie.
pub const SIGNIN_CSRF_COOKIE: &str = "outflow_signin_csrf";
/// How long a session lasts (absolute, not sliding).
pub const SESSION_HOURS: i64 = 12;
/// Largest form body accepted.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// A signed-in organization admin.
#[derive(Clone)]
pub struct Admin {
    /// The organization, as loaded for this request.
    pub org: Org,
    /// Admin id.
    pub user_id: String,
    /// Admin email.
    pub email: String,
    /// The session's CSRF token (rendered into forms).
    pub csrf: String,
    /// SHA-256 of the session token (for sign-out).
    pub token_hash: String,
    /// What the admin may do.
    pub role: Role,
}

impl Admin {
    /// The organization id.
    pub fn org_id(&self) -> &str {
        &self.org.id
    }

    /// Whether the admin's role may use what needs `cap` (pages hide what it may not).
    pub fn may(&self, cap: Capability) -> bool {
        self.role.may(cap)
    }
}

/// Who may use a route; `web::routes()` puts one on every route's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (sign-in, assets, invitation links).
    Public,
    /// A signed-in admin whose role has the capability.
    Signed(Capability),
}

/// The 403 of a role that may not use a route.
fn refused(admin: &Admin, cap: Capability) -> WebError {
    WebError::Forbidden(format!(
        "Your role, {}, may not open this page or send this form ({}). \
         An owner of {} can change your role on the Admins page.",
        admin.role.label(),
        cap.describe(),
        admin.org.name
    ))
}

/// A fresh random token (hex, 256 bits).
pub fn new_token() -> String {
    generate_secret("")
}

/// Whether the public URL is HTTPS, so cookies must be `Secure`.
pub fn secure(state: &AppState) -> bool {
    state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.trim_start().to_ascii_lowercase().starts_with("https://"))
}

fn cookie(state: &AppState, name: &str, value: &str, path: &str, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if let Some(secs) = max_age {
        c.push_str(&format!("; Max-Age={secs}"));
    }
    if secure(state) {
        c.push_str("; Secure");
    }
    c
}

/// Starts a session for an admin (remembering where from); the `Set-Cookie` value to send.
pub async fn start(
    state: &AppState,
    admin: &crate::store::admin::AdminUser,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<String, WebError> {
    let (org_id, user_id, email) = (&admin.org_id, &admin.id, &admin.email);
    let token = new_token();
    let row = SessionRow {
        token_hash: hash_secret(&token),
        org_id: org_id.to_string(),
        user_id: user_id.to_string(),
        email: email.to_string(),
        csrf_token: new_token(),
        expires_at: now + ChronoDuration::hours(SESSION_HOURS),
        role: admin.role,
        source_ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
    };
    admin_store::insert_session(&state.store, &row, now).await?;
    Ok(cookie(
        state,
        SESSION_COOKIE,
        &token,
        "/",
        Some(SESSION_HOURS * 3600),
    ))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(state: &AppState) -> String {
    cookie(state, SESSION_COOKIE, "", "/", Some(0))
}

/// The `Set-Cookie` value of the sign-in form's double-submit token.
pub fn signin_cookie(state: &AppState, token: &str) -> String {
    cookie(state, SIGNIN_CSRF_COOKIE, token, "/signin", None)
}

/// Name of the invitation form's double-submit cookie.
pub const INVITE_CSRF_COOKIE: &str = "outflow_invite_csrf";

/// The `Set-Cookie` value of the invitation form's double-submit token (sent back only to
/// `/invite/…`), so another site cannot make a browser accept an invitation it holds.
pub fn invite_cookie(state: &AppState, token: &str) -> String {
    cookie(state, INVITE_CSRF_COOKIE, token, "/invite", None)
}

/// The invitation form's double-submit token from the request's cookies.
pub fn invite_token(headers: &axum::http::HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(INVITE_CSRF_COOKIE)
        .map(|c| c.value().to_string())
}

/// The sign-in form's double-submit token from the request's cookies.
pub fn signin_token(parts_headers: &axum::http::HeaderMap) -> Option<String> {
    CookieJar::from_headers(parts_headers)
        .get(SIGNIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
}

/// Constant-time comparison of the expected CSRF token with the one a form sent.
pub fn csrf_matches(expected: &str, given: Option<&str>) -> bool {
    match given {
        Some(g) if !expected.is_empty() => bool::from(expected.as_bytes().ct_eq(g.as_bytes())),
        _ => false,
    }
}

/// The first value of `name` in a URL-encoded body.
pub fn form_value(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The admin of the request's session cookie, if it names a live session.
pub async fn current(
    headers: &axum::http::HeaderMap,
    state: &AppState,
) -> Result<Option<Admin>, WebError> {
    let jar = CookieJar::from_headers(headers);
    let Some(token) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    if token.is_empty() {
        return Ok(None);
    }
    let Some(row) = admin_store::session(&state.store, &hash_secret(&token), Utc::now()).await?
    else {
        return Ok(None);
    };
    let Some(org) = state.store.get_org(&row.org_id).await? else {
        return Ok(None);
    };
    Ok(Some(Admin {
        org,
        user_id: row.user_id,
        email: row.email,
        csrf: row.csrf_token,
        token_hash: row.token_hash,
        role: row.role,
    }))
}

/// Only a local path may be a sign-in's `next` (never another site).
pub fn local_path(next: &str) -> Option<&str> {
    // Browsers drop tabs and newlines from URLs, so `/\t/host` would become `//host`.
    let plain = !next.contains('\\') && !next.chars().any(char::is_control);
    (plain && next.starts_with('/') && !next.starts_with("//")).then_some(next)
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match current(&parts.headers, state).await {
            Ok(Some(admin)) => match parts.extensions.get::<Access>() {
                Some(Access::Public) => Ok(admin),
                Some(Access::Signed(cap)) if admin.may(*cap) => Ok(admin),
                Some(Access::Signed(cap)) => Err(refused(&admin, *cap).into_response()),
                None => Err(WebError::Forbidden(
                    "this page has no access rule, so no role may open it".into(),
                )
                .into_response()),
            },
            Ok(None) if parts.method == Method::GET || parts.method == Method::HEAD => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_string();
                let target = format!(
                    "/signin?next={}",
                    url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                );
                Err(Redirect::to(&target).into_response())
            }
            // A POST without a live session cannot carry a valid CSRF token.
            Ok(None) => Err(WebError::Forbidden(
                "your session has ended; sign in again and resubmit the form".into(),
            )
            .into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A state-changing form: the admin, and the form after its CSRF token checked out.
pub struct Checked<T> {
    /// Who submitted it.
    pub admin: Admin,
    /// The parsed form.
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for Checked<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let admin = Admin::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| WebError::BadRequest("the form is too large".into()).into_response())?;
        if !csrf_matches(&admin.csrf, form_value(&bytes, "csrf").as_deref()) {
            return Err(WebError::Forbidden(
                "the form's security token is missing or stale; reload the page and try again"
                    .into(),
            )
            .into_response());
        }
        let form = parse_form(bytes).await?;
        Ok(Checked { admin, form })
    }
}

/// Parses a URL-encoded body (repeated keys become lists).
pub async fn parse_form<T: DeserializeOwned>(bytes: Bytes) -> Result<T, Response> {
    // Text no backend stores alike (U+0000) is refused here, naming the field, as the API does.
    for (key, value) in url::form_urlencoded::parse(&bytes) {
        crate::domain::values::check_text(&key, &value)
            .and_then(|()| crate::domain::values::check_text("(a field name)", &key))
            .map_err(|m| WebError::BadRequest(m).into_response())?;
    }
    let req = Request::builder()
        .method(Method::POST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(bytes))
        .map_err(|_| WebError::BadRequest("unreadable form".into()).into_response())?;
    axum_extra::extract::Form::<T>::from_request(req, &())
        .await
        .map(|f| f.0)
        .map_err(|e| WebError::BadRequest(format!("the form is invalid: {e}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_must_match_exactly() {
        assert!(csrf_matches("abc", Some("abc")));
        assert!(!csrf_matches("abc", Some("abd")));
        assert!(!csrf_matches("abc", Some("")));
        assert!(!csrf_matches("abc", None));
        assert!(!csrf_matches("", Some("")));
    }

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(local_path("/settings"), Some("/settings"));
        assert_eq!(local_path("//evil.example"), None);
        assert_eq!(local_path("https://evil.example"), None);
        assert_eq!(local_path("/\\evil.example"), None);
        assert_eq!(local_path("/\t/evil.example"), None);
    }

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(
            form_value(b"a=1&csrf=x%2By&b=2", "csrf").as_deref(),
            Some("x+y")
        );
        assert_eq!(form_value(b"a=1", "csrf"), None);
    }
}
