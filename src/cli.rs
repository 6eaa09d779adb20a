//! Command-line interface: global flags that override configuration, and the subcommands.

use crate::config::{LogFormat, Overrides};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Outflow: usage-data exports and drains for an AI platform's administrators.
#[derive(Debug, Parser)]
#[command(name = "outflow", version, about)]
pub struct Cli {
    /// Configuration file (default: ./outflow.toml if present).
    #[arg(long, global = true, env = "OUTFLOW_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite database, generated keys, files).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://…
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// Log format.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log filter, e.g. `info` or `outflow=debug`.
    #[arg(long, global = true)]
    pub log_level: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Seed a realistic demo organization (once) and run the server.
    Demo {
        /// Address to listen on.
        #[arg(long)]
        listen: Option<String>,
        /// Multiplies the amount of demo data (1 ≈ 230,000 records).
        #[arg(long, default_value_t = 1)]
        scale: u32,
    },
    /// Export one data type of an organization to a file, straight from the database.
    Export(Box<ExportArgs>),
    /// Manage organization keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage organizations.
    #[command(subcommand)]
    Orgs(OrgsCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Check what a drain's receiver holds against what Outflow delivered, bucket by bucket
    /// (counts and id digests), and its batches against their manifests and sequence. Exits
    /// with 1 when anything differs.
    Verify(Box<VerifyArgs>),
}

/// `outflow verify …`
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Organization id (default: the only organization in the database).
    #[arg(long)]
    pub org: Option<String>,
    /// Drain id (`drn_…`).
    #[arg(long)]
    pub drain: String,
    /// A local directory holding the receiver's files (NDJSON, JSON, either gzipped; a copy of
    /// the bucket with its `_manifests/` too).
    #[arg(long, conflicts_with = "s3", required_unless_present = "s3")]
    pub dir: Option<PathBuf>,
    /// Read the drain's own object-store prefix (S3, GCS or Azure Blob), with the drain's secret.
    #[arg(long)]
    pub s3: bool,
    /// Window start: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS], wall-clock time in --tz.
    #[arg(long)]
    pub start: String,
    /// Window end, inclusive (a date covers the whole day).
    #[arg(long)]
    pub end: String,
    /// Bucket size: 1h or 1d.
    #[arg(long, default_value = "1d")]
    pub bucket: String,
    /// IANA zone of the window and buckets (default: the organization's).
    #[arg(long)]
    pub tz: Option<String>,
}

/// `outflow export …`
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Organization id (default: the only organization in the database).
    #[arg(long)]
    pub org: Option<String>,
    /// Data type: workflows, agents, agent_interactions, credit_logs, audit_logs, tool_calls.
    #[arg(long = "type", value_name = "DATA_TYPE")]
    pub data_type: String,
    /// Start: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS], wall-clock time in --tz (with a trailing Z
    /// or ±HH:MM: that exact instant).
    #[arg(long)]
    pub from: Option<String>,
    /// End, inclusive (a date covers the whole day).
    #[arg(long)]
    pub to: Option<String>,
    /// IANA zone of the range (default: the organization's).
    #[arg(long)]
    pub tz: Option<String>,
    /// Instead of --from/--to: this_billing_period, last_month, last_7_days, …
    #[arg(long)]
    pub range: Option<String>,
    /// Comma-separated team ids (default: every organization team, not personal spaces).
    #[arg(long, value_delimiter = ',')]
    pub teams: Vec<String>,
    /// Personal spaces too (without --teams: every team and personal space).
    #[arg(long)]
    pub personal: bool,
    /// Comma-separated workbook or agent ids.
    #[arg(long, value_delimiter = ',')]
    pub entities: Vec<String>,
    /// Field preset: minimal, default, full (default: default).
    #[arg(long, conflicts_with = "fields")]
    pub preset: Option<String>,
    /// Comma-separated field ids.
    #[arg(long, value_delimiter = ',')]
    pub fields: Vec<String>,
    /// Credit logs: category.
    #[arg(long)]
    pub category: Option<String>,
    /// Credit logs: custom role id or name.
    #[arg(long)]
    pub custom_role: Option<String>,
    /// Audit logs: comma-separated event types.
    #[arg(long, value_delimiter = ',')]
    pub event_types: Vec<String>,
    /// csv, ndjson or parquet.
    #[arg(long, default_value = "csv")]
    pub format: String,
    /// Gzip the output.
    #[arg(long)]
    pub gzip: bool,
    /// Keep cells that start with = + - @ as they are (CSV).
    #[arg(long)]
    pub no_formula_guard: bool,
    /// Timestamps with the offset of --tz instead of UTC.
    #[arg(long)]
    pub local_timestamps: bool,
    /// Output file.
    #[arg(short = 'o', long)]
    pub output: std::path::PathBuf,
}

/// `outflow keys …`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print its secret once.
    Create {
        /// Organization id.
        #[arg(long)]
        org: String,
        /// Comma-separated scopes: usage_export, drains, admin, analytics.
        #[arg(long)]
        scope: String,
        /// Display name.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List an organization's keys.
    List {
        /// Organization id.
        #[arg(long)]
        org: String,
    },
    /// Revoke a key.
    Revoke {
        /// Organization id.
        #[arg(long)]
        org: String,
        /// Key id (from `keys list`).
        #[arg(long)]
        id: String,
    },
}

/// `outflow orgs …`
#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// List organizations.
    List,
    /// Create or update an organization.
    Put {
        /// Organization id.
        #[arg(long)]
        id: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Default IANA time zone (default: UTC for a new organization, the current setting
        /// for an existing one).
        #[arg(long)]
        timezone: Option<String>,
        /// Billing-cycle anchor day, 1–31 (default: 1 for a new organization, the current
        /// setting for an existing one).
        #[arg(long)]
        billing_anchor_day: Option<u8>,
        /// visible, pseudonymized or hidden (default: visible for a new organization, the
        /// current setting for an existing one).
        #[arg(long)]
        privacy: Option<String>,
    },
    /// Create an admin who signs in to the admin pages, and print a generated password
    /// (for an existing admin of the organization: a new password).
    AddAdmin {
        /// Organization id.
        #[arg(long)]
        org: String,
        /// The admin's email (the sign-in name).
        #[arg(long)]
        email: String,
        /// owner, admin, analyst or viewer (default: admin for a new admin; an existing
        /// admin keeps their role unless this is given).
        #[arg(long)]
        role: Option<crate::domain::role::Role>,
    },
    /// Single sign-on with OpenID Connect for an organization.
    #[command(subcommand)]
    Sso(SsoCommand),
}

/// `outflow orgs sso …`
#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Set (create or replace) the organization's OpenID Connect provider.
    Set(SsoSetArgs),
    /// Show the settings (never the client secret).
    Show {
        /// Organization id.
        #[arg(long)]
        org: String,
    },
    /// Turn single sign-on off (password sign-in works again).
    Off {
        /// Organization id.
        #[arg(long)]
        org: String,
    },
}

/// `outflow orgs sso set`.
#[derive(Debug, clap::Args)]
pub struct SsoSetArgs {
    /// Organization id.
    #[arg(long)]
    pub org: String,
    /// The provider's issuer URL (https; discovery at /.well-known/openid-configuration).
    #[arg(long)]
    pub issuer: String,
    /// The client id registered at the provider.
    #[arg(long)]
    pub client_id: String,
    /// The client secret (better: the environment variable OIDC_CLIENT_SECRET, kept out of the
    /// shell history; OUTFLOW_* names are configuration keys);
    /// omitted, the stored one is kept.
    #[arg(long, env = "OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// Email domains allowed to sign in, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub allowed_domains: Vec<String>,
    /// The ID token claim mapped to roles (e.g. `groups`).
    #[arg(long)]
    pub role_claim: Option<String>,
    /// `VALUE=ROLE` pairs (repeatable): a claim value and the role it gives.
    #[arg(long = "role-map")]
    pub role_map: Vec<String>,
    /// The role when no claim value maps (owner, admin, analyst, viewer).
    #[arg(long, default_value = "viewer")]
    pub default_role: crate::domain::role::Role,
    /// Refuse password sign-in for the organization (except the break-glass owner).
    #[arg(long)]
    pub require_sso: bool,
    /// The owner who may still sign in with a password when SSO is required.
    #[arg(long)]
    pub break_glass_email: Option<String>,
}

/// `outflow bench …`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Batched ingest over HTTP into real `outflow serve` processes, SQLite and PostgreSQL.
    Ingest(crate::bench::ingest::BenchIngestArgs),
    /// Export end to end against psql COPY / sqlite3 -csv of the same rows, with peak RSS.
    Export(crate::bench::export::BenchExportArgs),
    /// Drain latency, backlog throughput and idle cost against a local receiver.
    Drain(crate::bench::drain::BenchDrainArgs),
    /// `GET /v1/usage` from the rollups against a GROUP BY over the raw records.
    Usage(crate::bench::usage::BenchUsageArgs),
}

impl Cli {
    /// The configuration overrides given as flags.
    pub fn overrides(&self) -> Overrides {
        let listen = match &self.command {
            Command::Serve { listen } | Command::Demo { listen, .. } => listen.clone(),
            _ => None,
        };
        Overrides {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            listen,
            log_format: self.log_format,
            log_level: self.log_level.clone(),
        }
    }
}
