//! What benchmarks share: throwaway databases, `outflow serve` child processes, medians.

use anyhow::{Context, bail};
use sqlx::Connection;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// A database that exists for one benchmark run.
pub struct Scratch {
    /// Database URL for Outflow.
    pub url: String,
    admin_url: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Scratch {
    /// A fresh SQLite file in a temporary directory.
    pub fn sqlite() -> anyhow::Result<Scratch> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        Ok(Scratch {
            url,
            admin_url: None,
            _dir: Some(dir),
        })
    }

    /// A fresh database on the PostgreSQL server of `server_url`.
    pub async fn postgres(server_url: &str, label: &str) -> anyhow::Result<Scratch> {
        let name = format!("outflow_bench_{label}_{}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(server_url)
            .await
            .with_context(|| {
                format!(
                    "cannot reach PostgreSQL at {}",
                    crate::store::redact_url(server_url)
                )
            })?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        let mut url = url::Url::parse(server_url)?;
        url.set_path(&name);
        Ok(Scratch {
            url: url.to_string(),
            admin_url: Some((server_url.to_string(), name)),
            _dir: None,
        })
    }

    /// Drops a PostgreSQL scratch database.
    pub async fn drop_db(self) -> anyhow::Result<()> {
        if let Some((server, name)) = self.admin_url {
            let mut conn = sqlx::PgConnection::connect(&server).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await?;
        }
        Ok(())
    }
}

/// A running `outflow serve` child process.
pub struct Server {
    /// Base URL.
    pub url: String,
    _child: Child,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `outflow serve` on `database_url` with a known ingest key, waits for `/readyz`.
    pub async fn start(database_url: &str, ingest_key: &str) -> anyhow::Result<Server> {
        Self::start_with(database_url, ingest_key, &[]).await
    }

    /// Like [`start`](Self::start), with extra `OUTFLOW_*` environment variables.
    pub async fn start_with(
        database_url: &str,
        ingest_key: &str,
        env: &[(&str, String)],
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = tempfile::tempdir()?;
        let child = Command::new(std::env::current_exe()?)
            .arg("serve")
            .env("OUTFLOW_DATA_DIR", dir.path())
            .env("OUTFLOW_DATABASE_URL", database_url)
            .env("OUTFLOW_LISTEN", format!("127.0.0.1:{port}"))
            .env("OUTFLOW_INGEST_KEY", ingest_key)
            .env("OUTFLOW_LOG_LEVEL", "warn")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start outflow serve")?;
        let url = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.get(format!("{url}/readyz")).send().await
                && r.status().is_success()
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("outflow serve did not become ready within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Server {
            url,
            _child: child,
            _dir: dir,
        })
    }
}

impl Server {
    /// The child's process id.
    pub fn pid(&self) -> Option<u32> {
        self._child.id()
    }
}

/// Peak and current resident set size of a process, in MB (Linux `/proc`).
pub fn rss_mb(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

/// CPU seconds (user + system) a process has used so far (Linux `/proc`).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// The median of a non-empty sample.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// CPU time at one instant, from Linux's `/proc`: the whole machine's busy time and the time
/// of this process's finished (reaped) children, in seconds. Differences of two snapshots taken
/// around one child command split its cost into the child's own CPU and everything else the
/// machine did meanwhile — for a database client, mostly the database server's work, which
/// the wall time alone hides on a machine with few cores.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    machine: f64,
    children: f64,
}

/// What one measured command cost, in CPU seconds.
#[derive(Debug, Clone, Copy)]
pub struct CpuCost {
    /// The command's own processes.
    pub client: f64,
    /// The rest of the machine while it ran (the database server, and any other load).
    pub others: f64,
}

/// `/proc` counts in clock ticks of `USER_HZ`, which Linux fixes at 100 for user space.
const TICKS_PER_SEC: f64 = 100.0;

impl CpuSnapshot {
    /// Now; `None` where `/proc` is not Linux's.
    pub fn now() -> Option<CpuSnapshot> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let ticks: Vec<f64> = stat
            .lines()
            .next()?
            .strip_prefix("cpu ")?
            .split_whitespace()
            .map(|v| v.parse().ok())
            .collect::<Option<_>>()?;
        // user nice system idle iowait irq softirq steal …: busy is all but idle, iowait and
        // the time the hypervisor gave to someone else.
        let busy = [0, 1, 2, 5, 6]
            .iter()
            .map(|&i| ticks.get(i).copied())
            .sum::<Option<f64>>()?;
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the command name (which may hold spaces): state is field 3, cutime
        // and cstime are fields 16 and 17.
        let fields: Vec<&str> = own.rsplit_once(')')?.1.split_whitespace().collect();
        let children =
            fields.get(13)?.parse::<f64>().ok()? + fields.get(14)?.parse::<f64>().ok()?;
        Some(CpuSnapshot {
            machine: busy / TICKS_PER_SEC,
            children: children / TICKS_PER_SEC,
        })
    }

    /// The cost of what ran (and was reaped) since `self`.
    pub fn cost_until(self, later: CpuSnapshot) -> CpuCost {
        let client = (later.children - self.children).max(0.0);
        CpuCost {
            client,
            others: (later.machine - self.machine - client).max(0.0),
        }
    }
}

#[cfg(test)]
mod cpu_tests {
    use super::*;

    #[test]
    fn a_child_that_spins_is_charged_to_the_client() {
        let Some(before) = CpuSnapshot::now() else {
            panic!("this benchmark support needs Linux's /proc");
        };
        // A shell busy for about 0.3 s of CPU.
        let status = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
            .status()
            .unwrap();
        assert!(status.success());
        let cost = before.cost_until(CpuSnapshot::now().unwrap());
        assert!(cost.client > 0.05, "{cost:?}");
    }
}
