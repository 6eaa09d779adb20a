//! Admin roles and what each may do in the admin pages (issue 16): `owner` (everything,
//! manages admins), `admin` (exports, drains, keys, privacy, notifications), `analyst`
//! (reports and exports, drains read-only), `viewer` (read-only). One table, [`Role::may`],
//! decides every page and form; the pages hide what a role may not use and the server
//! refuses it with 403.

use std::fmt;

/// An admin's role in their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Everything, including the Admins page.
    Owner,
    /// Exports, drains, schedules, keys and privacy; not the admins.
    Admin,
    /// Reports and exports; drains and history read-only.
    Analyst,
    /// Read-only: the data export tabs, export and drain details, reports.
    Viewer,
}

/// What a page or form needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Read the data export tabs, export and drain details and reports.
    View,
    /// Request, clone and cancel exports.
    Export,
    /// Add, pause, resume, test, replay and delete drains.
    ManageDrains,
    /// Pause, resume, run now and delete scheduled exports.
    ManageSchedules,
    /// See, create and revoke organization keys.
    ManageKeys,
    /// See and change the privacy settings.
    ManagePrivacy,
    /// Set where failures are posted (the notification destination).
    ManageNotifications,
    /// Invite, change the role of and remove admins; end their sessions.
    ManageAdmins,
}

impl Role {
    /// Every role, most powerful first (the order of the pages' role pickers).
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Analyst, Role::Viewer];

    /// The stored and typed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
        }
    }

    /// The name shown in pages.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Analyst => "Analyst",
            Role::Viewer => "Viewer",
        }
    }

    /// One line on what the role may do (shown beside the role pickers).
    pub fn summary(self) -> &'static str {
        match self {
            Role::Owner => "everything, including admins and their sessions",
            Role::Admin => "exports, drains, schedules, API keys, privacy and notifications",
            Role::Analyst => "reports and exports; drains read-only",
            Role::Viewer => "read-only: exports, drains and reports",
        }
    }

    /// Whether this role may use what needs `cap`.
    pub fn may(self, cap: Capability) -> bool {
        use Capability::*;
        match self {
            Role::Owner => true,
            Role::Admin => !matches!(cap, ManageAdmins),
            Role::Analyst => matches!(cap, View | Export),
            Role::Viewer => matches!(cap, View),
        }
    }

    /// Parses a role name (trimmed, any case); the error names the allowed values.
    pub fn parse(s: &str) -> Result<Role, String> {
        let wanted = s.trim().to_ascii_lowercase();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "`{}` is not a role; use one of: owner, admin, analyst, viewer",
                    s.trim()
                )
            })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::parse(s)
    }
}

impl Capability {
    /// What it is about, for the 403 page ("… may not open this page (managing API keys)").
    pub fn describe(self) -> &'static str {
        match self {
            Capability::View => "viewing data exports and reports",
            Capability::Export => "requesting and cancelling exports",
            Capability::ManageDrains => "changing drains",
            Capability::ManageSchedules => "changing scheduled exports",
            Capability::ManageKeys => "managing API keys",
            Capability::ManagePrivacy => "changing privacy settings",
            Capability::ManageNotifications => "changing notification settings",
            Capability::ManageAdmins => "managing admins",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_follows_the_issue() {
        use Capability::*;
        let all = [
            View,
            Export,
            ManageDrains,
            ManageKeys,
            ManagePrivacy,
            ManageAdmins,
        ];
        assert!(all.iter().all(|c| Role::Owner.may(*c)));
        assert!(!Role::Admin.may(ManageAdmins));
        assert!(Role::Admin.may(ManageDrains) && Role::Admin.may(ManageKeys));
        assert!(Role::Analyst.may(Export) && !Role::Analyst.may(ManageDrains));
        assert!(!Role::Analyst.may(ManageKeys));
        assert!(Role::Admin.may(ManageNotifications) && !Role::Analyst.may(ManageNotifications));
        assert!(Role::Viewer.may(View) && !Role::Viewer.may(Export));
    }

    #[test]
    fn names_parse_and_errors_list_the_roles() {
        assert_eq!(Role::parse(" Analyst "), Ok(Role::Analyst));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        let e = Role::parse("root").unwrap_err();
        assert!(e.contains("`root`") && e.contains("owner, admin, analyst, viewer"));
    }
}
