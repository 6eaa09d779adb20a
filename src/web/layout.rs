//! The one visual frame of the admin pages: the page shell (header, navigation, sign-out),
//! shared bits (badges, times, sizes, notices, destination icons), the stylesheet and script
//! served from `/assets/`, and the security headers every page carries.

use super::session::Admin;
use crate::drain::model::DrainStatus;
use crate::export::JobState;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, html};

/// The stylesheet (the only one).
pub const CSS: &str = include_str!("assets/outflow.css");
/// The progressive-enhancement script: every page works without it.
pub const JS: &str = include_str!("assets/outflow.js");
/// The tab icon (browsers ask for one on every page; without it they log a 404).
pub const FAVICON: &str = include_str!("assets/favicon.svg");

/// Which section of the navigation is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// Data export (exports and drains).
    DataExport,
    /// Organization keys.
    Keys,
    /// Privacy settings.
    Privacy,
    /// Usage reports.
    Reports,
    /// Analytics (a page other work adds; linked once the route exists).
    Analytics,
    /// The audit log viewer (linked once the route exists).
    AuditLog,
    /// Where failures are posted besides email.
    Notifications,
    /// The organization's admins and their sessions.
    Admins,
    /// Outside the navigation (sign-in, errors).
    None,
}

/// The top navigation, in order: every area of the console. An item is shown only when the
/// admin pages serve its path and the admin's role may open it (the route's own access rule
/// decides, so the navigation never offers a page that would answer 403).
pub const NAV_ITEMS: &[(&str, &str, Nav)] = &[
    (
        "Data export",
        "/settings/organization/data_export",
        Nav::DataExport,
    ),
    (
        "Analytics",
        "/settings/organization/analytics",
        Nav::Analytics,
    ),
    ("Reports", "/settings/organization/reports", Nav::Reports),
    (
        "Audit log",
        "/settings/organization/audit_log",
        Nav::AuditLog,
    ),
    ("API keys", "/settings/organization/api_keys", Nav::Keys),
    ("Privacy", "/settings/organization/privacy", Nav::Privacy),
    (
        "Notifications",
        "/settings/organization/notifications",
        Nav::Notifications,
    ),
    ("Admins", "/settings/organization/admins", Nav::Admins),
];

/// Whether `admin` may open `GET path`, by the route's access rule (`false` when no such page).
pub fn may_open(admin: &Admin, path: &str) -> bool {
    super::rules()
        .iter()
        .find(|r| r.method == "GET" && r.path == path)
        .is_some_and(|r| match r.access {
            super::session::Access::Public => true,
            super::session::Access::Signed(cap) => admin.may(cap),
        })
}

/// The hidden CSRF field every state-changing form carries.
pub fn csrf_field(admin: &Admin) -> Markup {
    html! { input type="hidden" name="csrf" value=(admin.csrf); }
}

/// A whole page.
pub fn page(title: &str, admin: Option<&Admin>, nav: Nav, body: Markup) -> Markup {
    let current = |n: Nav| (n == nav).then_some("page");
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Outflow" }
                link rel="icon" href="/assets/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/assets/outflow.css";
                script src="/assets/outflow.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/settings/organization/data_export" {
                        (logo()) span { "Outflow" }
                    }
                    @if let Some(a) = admin {
                        nav.mainnav aria-label="Organization settings" {
                            ul {
                                @for (label, path, section) in NAV_ITEMS {
                                    @if may_open(a, path) {
                                        li { a href=(path) aria-current=[current(*section)] { (label) } }
                                    }
                                }
                            }
                        }
                        div.who {
                            span.org { (a.org.name) }
                            span.email { (a.email) }
                            span.role data-role="role" { (a.role.label()) }
                            form method="post" action="/signout" {
                                (csrf_field(a))
                                button.linklike type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

fn logo() -> Markup {
    html! {
        svg.logo viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false" {
            path d="M4 12h10M10 6l6 6-6 6" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" {}
            path d="M19 5v14" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" {}
        }
    }
}

/// An error page (no navigation: the visitor may not be signed in).
pub fn error_page(title: &str, message: &str) -> Markup {
    page(
        title,
        None,
        Nav::None,
        html! {
            section.card.narrow {
                h1 { (title) }
                p { (message) }
                p { a href="/settings/organization/data_export" { "Back to data export" } }
            }
        },
    )
}

/// An HTML response with the admin pages' headers.
pub fn with_headers(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup).into_response();
    let h = response.headers_mut();
    // Pages show per-session tokens and one-time secrets: never cache them.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A 200 page.
pub fn ok(markup: Markup) -> Response {
    with_headers(StatusCode::OK, markup)
}

/// What a confirmation page asks and where its two buttons go.
pub struct Confirm<'a> {
    /// The page's title.
    pub title: &'a str,
    /// The question, as the page's heading.
    pub question: Markup,
    /// What happens when confirmed.
    pub consequence: Markup,
    /// The form's action (posted again with `confirm=yes`).
    pub action: String,
    /// The confirming button's text.
    pub confirm: Markup,
    /// Where "keep" leads, and its text.
    pub keep: (String, &'a str),
}

/// The page a destructive form answers when it came without `confirm=yes` (no script asked
/// in the browser): the question, and the same form again with `confirm=yes`.
pub fn confirm_page(admin: &Admin, nav: Nav, c: Confirm<'_>) -> Response {
    let body = html! {
        section.card.narrow {
            h1 { (c.question) }
            p { (c.consequence) }
            form method="post" action=(c.action) {
                (csrf_field(admin))
                input type="hidden" name="confirm" value="yes";
                div.actions-bar {
                    button.danger type="submit" { (c.confirm) }
                    a.button.secondary href=(c.keep.0) { (c.keep.1) }
                }
            }
        }
    };
    ok(page(c.title, Some(admin), nav, body))
}

/// `GET /assets/outflow.css`.
pub async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

/// `GET /assets/outflow.js`.
pub async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

/// `GET /assets/favicon.svg`.
pub async fn favicon() -> Response {
    asset(FAVICON, "image/svg+xml")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// `2026-12-02 11:29 EST`: a time in the organization's zone followed by the zone's
/// abbreviation, so that nobody has to guess whose clock a page shows (admins and servers are
/// rarely in the organization's zone).
pub fn time_text(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

/// A time as [`time_text`] writes it, machine-readable in `datetime`, the zone's full name on
/// hover.
pub fn time(t: DateTime<Utc>, tz: Tz) -> Markup {
    html! {
        time datetime=(crate::domain::time::format_timestamp(&t)) title=(tz.name()) {
            (time_text(t, tz))
        }
    }
}

/// A time, or a dash.
pub fn opt_time(t: Option<DateTime<Utc>>, tz: Tz) -> Markup {
    match t {
        Some(t) => time(t, tz),
        None => html! { span.muted { "—" } },
    }
}

/// `1.2 MB`, `340 B`.
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n.max(0) as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// `1,234,567`.
pub fn count(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `1 row`, `0 rows`, `1,234 rows`: a count and the noun that agrees with it.
pub fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// The badge class of an export state.
pub fn export_class(s: JobState) -> &'static str {
    match s {
        JobState::Requested => "badge-queued",
        JobState::InProgress => "badge-running",
        JobState::Completed => "badge-ok",
        JobState::Failed => "badge-error",
        JobState::Cancelled | JobState::Expired => "badge-muted",
    }
}

/// The colored badge of an export state.
pub fn export_badge(s: JobState) -> Markup {
    html! { span class={"badge " (export_class(s))} data-role="state" { (s.as_str()) } }
}

/// The label of a drain status.
pub fn drain_label(s: DrainStatus) -> &'static str {
    match s {
        DrainStatus::Active => "Active",
        DrainStatus::Paused => "Paused",
        DrainStatus::Error => "Error",
    }
}

/// The badge class of a drain status.
pub fn drain_class(s: DrainStatus) -> &'static str {
    match s {
        DrainStatus::Active => "badge-ok",
        DrainStatus::Paused => "badge-paused",
        DrainStatus::Error => "badge-error",
    }
}

/// The colored badge of a drain status.
pub fn drain_badge(s: DrainStatus) -> Markup {
    html! { span class={"badge " (drain_class(s))} data-role="status" { (drain_label(s)) } }
}

/// A success notice.
pub fn notice(text: &str) -> Markup {
    html! { p.notice role="status" { (text) } }
}

/// An error message tied to a form.
pub fn error_box(text: &str) -> Markup {
    html! { div.error-box role="alert" { strong { "Please check: " } (text) } }
}

/// The human name of a destination kind.
pub fn dest_label(kind: &str) -> &'static str {
    match kind {
        "http" => "Custom endpoint",
        "s3" => "Amazon S3",
        "gcs" => "Google Cloud Storage",
        "azure_blob" => "Azure Blob Storage",
        "datadog" => "Datadog",
        _ => "Destination",
    }
}

/// The icon of a destination kind, labelled for assistive technology.
pub fn dest_icon(kind: &str) -> Markup {
    let path = match kind {
        // A globe: any HTTP endpoint.
        "http" => {
            "M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18zM3 12h18M12 3c2.5 2.6 3.8 5.6 3.8 9s-1.3 6.4-3.8 9c-2.5-2.6-3.8-5.6-3.8-9S9.5 5.6 12 3z"
        }
        // A bucket: every object store.
        "s3" | "gcs" | "azure_blob" => {
            "M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zM4 6l2 13c.3 1.2 2.9 2 6 2s5.7-.8 6-2l2-13"
        }
        // A bar chart: metrics and logs.
        _ => "M4 20V10M10 20V4M16 20v-7M22 20H2",
    };
    html! {
        svg class={"dest-icon dest-" (kind)} viewBox="0 0 24 24" width="20" height="20" role="img" aria-label=(dest_label(kind)) focusable="false" {
            path d=(path) fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" {}
        }
    }
}

/// Where a wizard goes when a button names the step `wanted`: its position in `names`, the
/// steps that apply to the chosen data type. A page rendered before the data type was chosen
/// lists every step of the wizard (`all`), so its Next may name a step this type skips (the
/// drain wizard's Scope for audit logs): that means the first applicable step from there on,
/// not the first page again. An unknown name is the first step.
pub fn step_position(all: &[(&str, &str)], names: &[(&str, &str)], wanted: &str) -> usize {
    let Some(rank) = all.iter().position(|(id, _)| *id == wanted) else {
        return 0;
    };
    all[rank..]
        .iter()
        .find_map(|(id, _)| names.iter().position(|(n, _)| n == id))
        .unwrap_or(names.len().saturating_sub(1))
}

/// A wizard's step list, the current one marked.
pub fn steps(names: &[(&str, &str)], current: &str) -> Markup {
    let at = names.iter().position(|(id, _)| *id == current).unwrap_or(0);
    html! {
        ol.steps aria-label="Steps" {
            @for (i, (id, label)) in names.iter().enumerate() {
                li class=(if i < at { "done" } else if i == at { "current" } else { "todo" })
                   aria-current=[(*id == current).then_some("step")] {
                    span.num aria-hidden="true" { (i + 1) }
                    span { (label) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_counts_read_well() {
        assert_eq!(bytes(340), "340 B");
        assert_eq!(bytes(1_234_567), "1.2 MB");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(12), "12");
        assert_eq!(count(-1000), "-1,000");
    }

    #[test]
    fn times_name_their_zone_and_counts_agree() {
        let t = "2026-12-02T16:29:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            time_text(t, chrono_tz::America::New_York),
            "2026-12-02 11:29 EST"
        );
        assert_eq!(time_text(t, Tz::UTC), "2026-12-02 16:29 UTC");
        let summer = "2026-07-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            time_text(summer, chrono_tz::Europe::Berlin),
            "2026-07-01 12:00 CEST"
        );
        assert_eq!(plural(1, "row", "rows"), "1 row");
        assert_eq!(plural(0, "row", "rows"), "0 rows");
        assert_eq!(plural(1234, "row", "rows"), "1,234 rows");
    }

    #[test]
    fn a_skipped_step_leads_to_the_next_one_that_applies() {
        let all = [("type", ""), ("scope", ""), ("fields", ""), ("dest", "")];
        let audit = [("type", ""), ("fields", ""), ("dest", "")];
        assert_eq!(step_position(&all, &audit, "scope"), 1, "scope → fields");
        assert_eq!(step_position(&all, &audit, "fields"), 1);
        assert_eq!(step_position(&all, &audit, "dest"), 2);
        assert_eq!(step_position(&all, &audit, "type"), 0);
        assert_eq!(step_position(&all, &audit, "nonsense"), 0);
        assert_eq!(step_position(&all, &all, "scope"), 1);
    }

    #[test]
    fn user_text_is_escaped() {
        let m = error_page("x", "<script>alert(1)</script>").into_string();
        assert!(!m.contains("<script>alert"));
        assert!(m.contains("&lt;script&gt;"));
    }
}
