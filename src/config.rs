//! Typed configuration: defaults → `outflow.toml` (or `--config FILE`) → `OUTFLOW_*` environment
//! variables → command-line flags, later sources winning. Every key is documented here and in
//! the README's configuration table.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use crate::secret::Secret;

/// Log output format.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Outflow's configuration. Environment variables are the key in upper case with the
/// `OUTFLOW_` prefix (e.g. `OUTFLOW_DATABASE_URL`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory for the SQLite database, generated keys and export files.
    /// Default `./outflow-data`.
    pub data_dir: PathBuf,
    /// Database URL; the scheme picks the backend: `sqlite://PATH` or `postgres://…`.
    /// Default: `sqlite://{data_dir}/outflow.db`.
    pub database_url: Option<Secret>,
    /// Connections per database pool. Default 8.
    pub database_pool_size: u32,
    /// Address `outflow serve` listens on. Default `127.0.0.1:8080`.
    pub listen: String,
    /// The platform's ingest key (`Authorization: Bearer …` on ingest and entity upserts).
    /// Default: generated once into `{data_dir}/ingest.key`.
    pub ingest_key: Option<Secret>,
    /// Log format: `text` or `json`. Default `text`.
    pub log_format: LogFormat,
    /// Log filter in `tracing` syntax, e.g. `info` or `outflow=debug,sqlx=warn`. Default `info`.
    pub log_level: String,
    /// Largest accepted request body, in bytes; larger bodies get 413. Default 32 MiB.
    pub max_body_bytes: usize,
    /// Requests a minute allowed per organization key; beyond it 429 with `Retry-After`.
    /// Default 1,200.
    pub rate_limit_per_minute: u32,
    /// Requests a minute allowed for the ingest key. Default 60,000.
    pub ingest_rate_limit_per_minute: u32,
    /// Seconds to let in-flight requests finish after SIGINT/SIGTERM. Default 30.
    pub shutdown_grace_seconds: u64,
    /// Base URL that signed download links start with, e.g. `https://outflow.example.com`.
    /// Default `http://{listen}`.
    pub public_url: Option<String>,
    /// Key that signs download URLs. Default: generated once into `{data_dir}/signing.key`.
    pub signing_key: Option<Secret>,
    /// Most source records a usage report may scan in its window; beyond it 400
    /// `USAGE_EXPORT_TOO_LARGE` ("narrow the date range"). Default: no cap.
    pub report_max_rows: Option<u64>,
    /// Where export files live (`[storage]`).
    pub storage: StorageConfig,
    /// Export job execution and retention (`[exports]`).
    pub exports: ExportsConfig,
    /// Outgoing email (`[smtp]`); without a host, mail goes to `{data_dir}/outbox/` as `.eml`.
    pub smtp: crate::mail::config::SmtpConfig,
    /// Data drains (`[drains]`).
    pub drains: DrainsConfig,
    /// Scheduled exports (`[schedules]`).
    pub schedules: SchedulesConfig,
}

/// Scheduled exports. Environment: `OUTFLOW_SCHEDULES__MAX_CATCH_UP` etc.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulesConfig {
    /// Whether this process runs due schedules and delivers their files. Default true.
    pub run: bool,
    /// Most missed periods of one schedule run after downtime (the newest ones, oldest
    /// first); older missed periods are recorded as SKIPPED with the reason. Default 31.
    pub max_catch_up: u32,
    /// Seconds between two looks for due schedules and finished runs. Default 30.
    pub poll_seconds: u64,
    /// Delivery attempts of one run before the run counts as failed. Default 3.
    pub delivery_attempts: u32,
    /// Failed runs in a row that put a schedule in `error` (and mail the admins). Default 3.
    pub max_failed_runs: u32,
    /// Seconds a node holds a finished run while delivering it; a node that dies meanwhile
    /// leaves it to another after this. Default 300.
    pub lease_seconds: u64,
}

impl Default for SchedulesConfig {
    fn default() -> Self {
        SchedulesConfig {
            run: true,
            max_catch_up: 31,
            poll_seconds: 30,
            delivery_attempts: 3,
            max_failed_runs: 3,
            lease_seconds: 300,
        }
    }
}

/// Data drains. Environment: `OUTFLOW_DRAINS__LEASE_SECONDS` etc.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DrainsConfig {
    /// Whether this process runs drains (claims leases and delivers). `false` makes an API-only
    /// node: drains are still created, changed and shown, and other nodes deliver them.
    /// Default true.
    pub run: bool,
    /// Let destinations resolve to loopback, private, link-local or metadata addresses.
    /// Default false (the SSRF guard refuses them).
    pub allow_private_destinations: bool,
    /// Key that encrypts destination credentials (64 hex characters = 32 bytes). Default:
    /// generated once into `{data_dir}/master.key`. Losing it makes stored secrets unreadable.
    pub master_key: Option<Secret>,
    /// Seconds a node holds a drain without renewing before another node takes it over.
    /// Default 30.
    pub lease_seconds: u64,
    /// Shortest and longest idle poll interval, in seconds (new data on this database wakes
    /// drains at once; polling is the fallback). Defaults 15 and 600.
    pub poll_min_seconds: u64,
    /// See `poll_min_seconds`.
    pub poll_max_seconds: u64,
    /// Delivery attempts within one sync cycle before the cycle counts as failed. Default 3.
    pub attempts_per_cycle: u32,
    /// First retry delay within a cycle, in milliseconds; doubles per attempt, jittered.
    /// Default 500.
    pub retry_base_ms: u64,
    /// Longest wait a receiver's `Retry-After` may impose, in seconds. Default 60.
    pub retry_after_cap_seconds: u64,
    /// Failed cycles in a row that put a drain in `error`. Default 3.
    pub max_failed_cycles: u32,
    /// Seconds between a failed cycle and the next one. Default 15.
    pub cycle_backoff_seconds: u64,
    /// Timeout of one delivery request, in seconds. Default 30.
    pub request_timeout_seconds: u64,
    /// Whether drains wake on commit notifications (PostgreSQL: `LISTEN`, which a connection
    /// pooler in transaction mode does not pass on). `false` leaves the idle poll between
    /// `poll_min_seconds` and `poll_max_seconds` as the only way new data is found. Default
    /// true.
    pub commit_notifications: bool,
}

impl Default for DrainsConfig {
    fn default() -> Self {
        DrainsConfig {
            run: true,
            allow_private_destinations: false,
            master_key: None,
            lease_seconds: 30,
            poll_min_seconds: 15,
            poll_max_seconds: 600,
            attempts_per_cycle: 3,
            retry_base_ms: 500,
            retry_after_cap_seconds: 60,
            max_failed_cycles: 3,
            cycle_backoff_seconds: 15,
            request_timeout_seconds: 30,
            commit_notifications: true,
        }
    }
}

/// Where export and report files are stored. Environment: `OUTFLOW_STORAGE__BUCKET` etc.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// `local` (a directory) or `s3` (any S3-compatible store). Default `local`.
    pub kind: StorageKind,
    /// Directory of the local store. Default `{data_dir}/files`.
    pub path: Option<PathBuf>,
    /// S3 bucket.
    pub bucket: Option<String>,
    /// Key prefix inside the bucket. Default none.
    pub prefix: Option<String>,
    /// S3 region. Default `us-east-1`.
    pub region: Option<String>,
    /// Endpoint URL for S3-compatible stores (MinIO, R2, …). Default: AWS.
    pub endpoint: Option<String>,
    /// Access key id. Default: the AWS environment / instance credentials.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<Secret>,
    /// Allow a plain-HTTP endpoint (local S3-compatible servers). Default false.
    pub allow_http: bool,
}

/// Storage backend for files.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// A local directory.
    #[default]
    Local,
    /// S3 or an S3-compatible store.
    S3,
}

/// Export jobs. Environment: `OUTFLOW_EXPORTS__WORKERS` etc.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExportsConfig {
    /// Export jobs one `outflow serve` process runs at once. Default 1.
    pub workers: u32,
    /// Seconds a claimed job stays leased without a heartbeat before another node may take it
    /// over. Default 60.
    pub lease_seconds: u64,
    /// Attempts (claims) before a job whose workers keep dying is marked failed. Default 3.
    pub max_attempts: u32,
    /// Days export files are kept; then they are deleted and the job shows `EXPIRED`.
    /// Default 7.
    pub retention_days: u32,
    /// Seconds a signed download URL stays valid. Default 3600.
    pub signed_url_ttl_seconds: u64,
    /// Seconds between queue polls when idle (new jobs of this process wake it at once).
    /// Default 2.
    pub poll_seconds: u64,
    /// PostgreSQL connections one export reads on at once, as consecutive time windows of
    /// one snapshot. 1 reads with a single query. SQLite ignores it. Default 2.
    pub read_streams: u32,
}

impl Default for ExportsConfig {
    fn default() -> Self {
        ExportsConfig {
            workers: 1,
            lease_seconds: 60,
            max_attempts: 3,
            retention_days: 7,
            signed_url_ttl_seconds: 3600,
            poll_seconds: 2,
            read_streams: 2,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("outflow-data"),
            database_url: None,
            database_pool_size: 8,
            listen: "127.0.0.1:8080".into(),
            ingest_key: None,
            log_format: LogFormat::Text,
            log_level: "info".into(),
            max_body_bytes: 32 * 1024 * 1024,
            rate_limit_per_minute: 1_200,
            ingest_rate_limit_per_minute: 60_000,
            shutdown_grace_seconds: 30,
            public_url: None,
            signing_key: None,
            report_max_rows: None,
            storage: StorageConfig::default(),
            exports: ExportsConfig::default(),
            smtp: Default::default(),
            drains: DrainsConfig::default(),
            schedules: SchedulesConfig::default(),
        }
    }
}

/// Values given as command-line flags; `None` leaves the lower layers in force.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// `--log-format`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    /// `--log-level`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
}

/// `OUTFLOW_*` names the test suite, the benchmarks and the screenshot script read for
/// themselves: a developer who exports one (the README suggests `OUTFLOW_TEST_POSTGRES_URL`)
/// must still be able to start Outflow, while a mistyped setting is still refused.
fn is_tooling_variable(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("test_")
        || key.starts_with("bench_")
        || matches!(key.as_str(), "screenshots" | "chromium")
}

impl Config {
    /// Loads the layers. `file` is `--config`; without it `outflow.toml` is read if present
    /// (an explicitly named file must exist).
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        fig = match file {
            Some(path) if !path.exists() => {
                return Err(Box::new(figment::Error::from(format!(
                    "config file {} does not exist",
                    path.display()
                ))));
            }
            Some(path) => fig.merge(Toml::file(path)),
            None => fig.merge(Toml::file("outflow.toml")),
        };
        fig.merge(
            Env::prefixed("OUTFLOW_")
                .ignore(&["config"])
                .filter(|key| !is_tooling_variable(key.as_str()))
                .split("__"),
        )
        .merge(Serialized::globals(overrides))
        .extract()
        .map_err(Box::new)
    }

    /// The database URL in force (the default SQLite file when none is set).
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose().to_string(),
            None => format!("sqlite://{}", self.data_dir.join("outflow.db").display()),
        }
    }

    /// The base URL of links Outflow hands out (signed downloads).
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }
}

#[cfg(test)]
// figment's Jail closures return its (large) error type; that is its API, not ours.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_leak_through_debug() {
        let c = Config {
            ingest_key: Some(Secret("ofi_topsecret".into())),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("topsecret"));
    }

    #[test]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "outflow.toml",
                "listen = \"0.0.0.0:9000\"\nlog_level = \"debug\"",
            )?;
            jail.set_env("OUTFLOW_LOG_LEVEL", "warn");
            jail.set_env("OUTFLOW_DATA_DIR", "/srv/outflow");
            let overrides = Overrides {
                data_dir: Some("cli-dir".into()),
                ..Overrides::default()
            };
            let c = Config::load(None, &overrides).map_err(|e| *e)?;
            assert_eq!(c.listen, "0.0.0.0:9000");
            assert_eq!(c.log_level, "warn");
            assert_eq!(c.data_dir, PathBuf::from("cli-dir"));
            assert_eq!(c.database_url(), "sqlite://cli-dir/outflow.db");
            Ok(())
        });
    }

    #[test]
    fn the_test_suites_and_benchmarks_variables_are_not_configuration() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("OUTFLOW_TEST_POSTGRES_URL", "postgres://elsewhere/db");
            jail.set_env("OUTFLOW_BENCH_POSTGRES_URL", "postgres://elsewhere/db");
            jail.set_env("OUTFLOW_SCREENSHOTS", "1");
            jail.set_env("OUTFLOW_CHROMIUM", "/usr/bin/chromium");
            jail.set_env("OUTFLOW_LOG_LEVEL", "warn");
            let c = Config::load(None, &Overrides::default()).map_err(|e| *e)?;
            assert_eq!(c.log_level, "warn");
            // Any other unknown name is still refused, naming it.
            jail.set_env("OUTFLOW_LOG_LEVLE", "warn");
            let err = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("log_levle"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("outflow.toml", "lisen = \"x\"")?;
            let err = Config::load(None, &Overrides::default()).unwrap_err();
            assert!(err.to_string().contains("lisen"), "{err}");
            Ok(())
        });
    }
}
