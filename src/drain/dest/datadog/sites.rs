//! The Datadog sites. Each site is a separate Datadog with its own hosts: a key of one site
//! is unknown to every other, so the site picks both the logs intake and the API host.
//!
//! The list is the one of Datadog's Logs API reference, which names the intake of every site:
//! <https://docs.datadoghq.com/api/latest/logs/#send-logs>; site names and parameters as in
//! <https://docs.datadoghq.com/getting_started/site/>.

/// One Datadog site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Site {
    /// Datadog's short name (`US1`, `EU1`, …).
    pub name: &'static str,
    /// The site parameter (`DD_SITE`), e.g. `datadoghq.eu`.
    pub site: &'static str,
    /// Host of the HTTP logs intake.
    pub logs_intake: &'static str,
    /// Where its data lives.
    pub location: &'static str,
}

impl Site {
    /// Host of the site's API (key validation).
    pub fn api_host(&self) -> String {
        format!("api.{}", self.site)
    }
}

/// Every Datadog site.
pub const SITES: [Site; 9] = [
    Site {
        name: "US1",
        site: "datadoghq.com",
        logs_intake: "http-intake.logs.datadoghq.com",
        location: "US",
    },
    Site {
        name: "US3",
        site: "us3.datadoghq.com",
        logs_intake: "http-intake.logs.us3.datadoghq.com",
        location: "US",
    },
    Site {
        name: "US5",
        site: "us5.datadoghq.com",
        logs_intake: "http-intake.logs.us5.datadoghq.com",
        location: "US",
    },
    Site {
        name: "EU1",
        site: "datadoghq.eu",
        logs_intake: "http-intake.logs.datadoghq.eu",
        location: "EU (Germany)",
    },
    Site {
        name: "AP1",
        site: "ap1.datadoghq.com",
        logs_intake: "http-intake.logs.ap1.datadoghq.com",
        location: "Japan",
    },
    Site {
        name: "AP2",
        site: "ap2.datadoghq.com",
        logs_intake: "http-intake.logs.ap2.datadoghq.com",
        location: "Australia",
    },
    Site {
        name: "UK1",
        site: "uk1.datadoghq.com",
        logs_intake: "http-intake.logs.uk1.datadoghq.com",
        location: "United Kingdom",
    },
    Site {
        name: "US1-FED",
        site: "ddog-gov.com",
        logs_intake: "http-intake.logs.ddog-gov.com",
        location: "US (government)",
    },
    Site {
        name: "US2-FED",
        site: "us2.ddog-gov.com",
        logs_intake: "http-intake.logs.us2.ddog-gov.com",
        location: "US (government)",
    },
];

/// The allowed values, for error messages: `datadoghq.com (US1), …`.
pub fn allowed() -> String {
    SITES
        .iter()
        .map(|s| format!("{} ({})", s.site, s.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The site of a site parameter (`datadoghq.eu`) or short name (`EU1`), case-insensitively.
pub fn lookup(value: &str) -> Result<&'static Site, String> {
    let v = value.trim();
    SITES
        .iter()
        .find(|s| s.site.eq_ignore_ascii_case(v) || s.name.eq_ignore_ascii_case(v))
        .ok_or_else(|| format!("unknown Datadog site `{v}`; allowed: {}", allowed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_site_has_its_intake_and_lookup_works() {
        for s in SITES {
            assert_eq!(s.logs_intake, format!("http-intake.logs.{}", s.site));
            assert_eq!(lookup(s.site).unwrap(), &s);
            assert_eq!(lookup(&s.name.to_lowercase()).unwrap(), &s);
        }
        assert_eq!(lookup(" EU1 ").unwrap().api_host(), "api.datadoghq.eu");
        let err = lookup("datadoghq.org").unwrap_err();
        assert!(err.contains("`datadoghq.org`"), "{err}");
        for s in SITES {
            assert!(err.contains(s.site), "{err}");
        }
    }
}
