//! The plain-text emails Outflow sends: a subject line and a short body that says what happened,
//! what it concerns (ids a support request can quote) and what to do next.
//!
//! Each email is a small struct of borrowed fields with a `render()`, so call sites name every
//! value instead of passing eight positional strings. Rendering gives [`Content`]; add the
//! recipients with [`Content::to`].

use super::Email;

/// Longest failure reason copied into an email. Reasons can carry a destination's whole error
/// body; the full text stays in Outflow, the email only needs enough to recognise the problem.
const MAX_REASON_CHARS: usize = 2_000;

/// A rendered email without recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    /// The subject line (one line).
    pub subject: String,
    /// The plain-text body.
    pub text: String,
}

impl Content {
    /// The email to send to `recipients`.
    pub fn to(self, recipients: Vec<String>) -> Email {
        Email {
            to: recipients,
            subject: self.subject,
            text: self.text,
        }
    }
}

/// An export finished and its file can be downloaded.
#[derive(Debug, Clone)]
pub struct ExportCompleted<'a> {
    /// The organization's display name.
    pub org_name: &'a str,
    /// The export's id.
    pub export_id: &'a str,
    /// The data type exported, e.g. `usage_events`.
    pub data_type: &'a str,
    /// The exported period, already formatted, e.g. `2025-01-01 – 2025-01-31 (Europe/Paris)`.
    pub date_range: &'a str,
    /// Rows written.
    pub rows: u64,
    /// File size in bytes.
    pub size_bytes: u64,
    /// Where to download the file.
    pub download_url: &'a str,
    /// When the download link stops working, already formatted.
    pub expires_at: &'a str,
}

impl ExportCompleted<'_> {
    /// Subject and body.
    pub fn render(&self) -> Content {
        let subject = format!(
            "Your {} export for {} is ready",
            one_line(self.data_type),
            one_line(self.org_name)
        );
        let text = format!(
            "Your export of {data_type} for {org} has completed.\n\
             \n\
             Period:  {range}\n\
             Rows:    {rows}\n\
             Size:    {size}\n\
             Export:  {id}\n\
             \n\
             Download it here:\n\
             {url}\n\
             \n\
             This link expires at {expires}. The file stays listed in the organization's \
             export history until then.\n\
             \n\
             -- \n\
             Outflow\n",
            data_type = self.data_type,
            org = self.org_name,
            range = self.date_range,
            rows = thousands(self.rows),
            size = human_size(self.size_bytes),
            id = self.export_id,
            url = self.download_url,
            expires = self.expires_at,
        );
        Content { subject, text }
    }
}

/// An export stopped with an error; nothing can be downloaded.
#[derive(Debug, Clone)]
pub struct ExportFailed<'a> {
    /// The organization's display name.
    pub org_name: &'a str,
    /// The export's id.
    pub export_id: &'a str,
    /// The data type that was being exported.
    pub data_type: &'a str,
    /// Why it failed, as recorded on the export.
    pub reason: &'a str,
}

impl ExportFailed<'_> {
    /// Subject and body.
    pub fn render(&self) -> Content {
        let subject = format!(
            "Your {} export for {} failed",
            one_line(self.data_type),
            one_line(self.org_name)
        );
        let text = format!(
            "Your export of {data_type} for {org} could not be completed.\n\
             \n\
             Export:  {id}\n\
             Reason:  {reason}\n\
             \n\
             No file was produced. You can request the export again; if it fails again, send \
             this email to your Outflow administrator with the export id above.\n\
             \n\
             -- \n\
             Outflow\n",
            data_type = self.data_type,
            org = self.org_name,
            id = self.export_id,
            reason = clip(self.reason),
        );
        Content { subject, text }
    }
}

/// A drain failed repeatedly and was moved to the `error` status (auto-paused).
#[derive(Debug, Clone)]
pub struct DrainError<'a> {
    /// The organization's display name.
    pub org_name: &'a str,
    /// The drain's name.
    pub drain_name: &'a str,
    /// The drain's id.
    pub drain_id: &'a str,
    /// The last delivery error.
    pub reason: &'a str,
}

impl DrainError<'_> {
    /// Subject and body.
    pub fn render(&self) -> Content {
        let subject = format!(
            "Drain \"{}\" for {} stopped after repeated failures",
            one_line(self.drain_name),
            one_line(self.org_name)
        );
        let text = format!(
            "The drain \"{name}\" of {org} failed several delivery cycles in a row and is now \
             in the error state: it is paused and delivers nothing until it is resumed.\n\
             \n\
             Drain:       {id}\n\
             Last error:  {reason}\n\
             \n\
             No records are lost. Fix the destination (or update the drain), then resume it: \
             delivery continues from where it stopped.\n\
             \n\
             -- \n\
             Outflow\n",
            name = self.drain_name,
            org = self.org_name,
            id = self.drain_id,
            reason = clip(self.reason),
        );
        Content { subject, text }
    }
}

/// An owner invited someone to administer an organization: a one-time sign-in link.
#[derive(Debug, Clone)]
pub struct AdminInvite<'a> {
    /// The organization's display name.
    pub org_name: &'a str,
    /// The role the invited admin gets, e.g. `Analyst`.
    pub role: &'a str,
    /// Email of the owner who invited.
    pub invited_by: &'a str,
    /// The one-time link.
    pub link: &'a str,
    /// When the link stops working, already formatted.
    pub expires_at: &'a str,
}

impl AdminInvite<'_> {
    /// Subject and body.
    pub fn render(&self) -> Content {
        let subject = format!(
            "You are invited to administer {} in Outflow",
            one_line(self.org_name)
        );
        let text = format!(
            "{by} invited you to administer {org} in Outflow as {role}.\n\
             \n\
             Open this link to choose a password and sign in:\n\
             {link}\n\
             \n\
             The link works once and until {expires}. If you did not expect this email, ignore \
             it: nothing happens until the link is used.\n\
             \n\
             -- \n\
             Outflow\n",
            by = one_line(self.invited_by),
            org = one_line(self.org_name),
            role = self.role,
            link = self.link,
            expires = self.expires_at,
        );
        Content { subject, text }
    }
}

/// Control characters (newlines above all) collapsed to spaces: names come from users and a
/// subject is one line. (lettre encodes headers safely; this only keeps the subject readable.)
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_control())
        .filter(|part| !part.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `reason` cut to [`MAX_REASON_CHARS`] characters, marked when cut.
fn clip(reason: &str) -> String {
    match reason.char_indices().nth(MAX_REASON_CHARS) {
        Some((cut, _)) => format!("{}… (truncated)", &reason[..cut]),
        None => reason.to_string(),
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// Bytes in decimal units (what file managers and browsers show), one decimal place.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KB", "MB", "GB", "TB", "PB"];
    if bytes < 1_000 {
        return format!("{bytes} bytes");
    }
    // f64 is exact far beyond any export size; the rounding is to one decimal anyway.
    let mut value = bytes as f64 / 1_000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1_000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed() -> ExportCompleted<'static> {
        ExportCompleted {
            org_name: "Acme Corp",
            export_id: "exp_0193",
            data_type: "usage_events",
            date_range: "2025-01-01 – 2025-01-31 (UTC)",
            rows: 1_234_567,
            size_bytes: 48_300_000,
            download_url: "https://outflow.example.com/dl/exp_0193?sig=abc",
            expires_at: "2025-02-01 12:00 UTC",
        }
    }

    #[test]
    fn export_completed_names_the_export_and_links_the_file() {
        let c = completed().render();
        assert_eq!(c.subject, "Your usage_events export for Acme Corp is ready");
        for expected in [
            "exp_0193",
            "2025-01-01 – 2025-01-31 (UTC)",
            "1,234,567",
            "48.3 MB",
            "\nhttps://outflow.example.com/dl/exp_0193?sig=abc\n",
            "expires at 2025-02-01 12:00 UTC",
        ] {
            assert!(
                c.text.contains(expected),
                "missing {expected:?} in:\n{}",
                c.text
            );
        }
    }

    #[test]
    fn export_failed_gives_the_reason() {
        let c = ExportFailed {
            org_name: "Acme Corp",
            export_id: "exp_9",
            data_type: "audit_logs",
            reason: "object storage unreachable",
        }
        .render();
        assert_eq!(c.subject, "Your audit_logs export for Acme Corp failed");
        assert!(c.text.contains("exp_9"));
        assert!(c.text.contains("Reason:  object storage unreachable"));
    }

    #[test]
    fn drain_error_says_it_is_paused_and_how_to_recover() {
        let c = DrainError {
            org_name: "Acme Corp",
            drain_name: "SIEM",
            drain_id: "drn_42",
            reason: "HTTP 401 from https://siem.example.com",
        }
        .render();
        assert_eq!(
            c.subject,
            "Drain \"SIEM\" for Acme Corp stopped after repeated failures"
        );
        assert!(c.text.contains("drn_42"));
        assert!(c.text.contains("HTTP 401 from https://siem.example.com"));
        assert!(c.text.contains("resume"));
    }

    #[test]
    fn user_supplied_names_cannot_break_the_subject_line() {
        let c = DrainError {
            org_name: "Acme\r\nBcc: victim@example.com",
            drain_name: "x\n",
            drain_id: "d",
            reason: "r",
        }
        .render();
        assert!(!c.subject.contains('\n') && !c.subject.contains('\r'));
        assert_eq!(
            c.subject,
            "Drain \"x\" for Acme Bcc: victim@example.com stopped after repeated failures"
        );
    }

    #[test]
    fn long_reasons_are_clipped_on_a_char_boundary() {
        let reason = "é".repeat(MAX_REASON_CHARS + 10);
        let clipped = clip(&reason);
        assert!(clipped.ends_with("… (truncated)"));
        assert_eq!(
            clipped.chars().filter(|&c| c == 'é').count(),
            MAX_REASON_CHARS
        );
        assert_eq!(clip("short"), "short");
    }

    #[test]
    fn numbers_are_readable() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(999), "999 bytes");
        assert_eq!(human_size(1_000), "1.0 KB");
        assert_eq!(human_size(999_960), "1.0 MB");
        assert_eq!(human_size(2_500_000_000), "2.5 GB");
    }

    #[test]
    fn content_becomes_an_email_for_the_recipients() {
        let e = completed().render().to(vec!["a@example.com".into()]);
        assert_eq!(e.to, vec!["a@example.com".to_string()]);
        assert!(e.subject.contains("ready"));
    }
}
