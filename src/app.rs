//! The application: build the state and router from a [`Config`], then serve until shutdown.
//! Tests start the real app on port 0 through the same two calls.

use crate::auth::keys::{hash_secret, load_or_create_ingest_key};
use crate::auth::rate::RateLimits;
use crate::config::Config;
use crate::drain::Drains;
use crate::drain::engine::Engine;
use crate::drain::secrets::SecretBox;
use crate::export::Exports;
use crate::export::files::Files;
use crate::http;
use crate::mail::Mailer;
use crate::state::AppState;
use crate::store::Store;
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A built, bound application, ready to serve.
pub struct App {
    state: AppState,
    listener: TcpListener,
    ingest_key: String,
}

impl App {
    /// Opens (and migrates) the database, loads or creates the ingest key, binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let store = open_store(&config).await?;
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        Self::with_parts(config, store, listener)
    }

    /// Builds around an existing store and listener.
    pub fn with_parts(config: Config, store: Store, listener: TcpListener) -> anyhow::Result<App> {
        let ingest_key = match &config.ingest_key {
            Some(k) => k.expose().to_string(),
            None => load_or_create_ingest_key(&config.data_dir)
                .context("cannot read or create the ingest key file")?,
        };
        let public_url = match &config.public_url {
            Some(_) => config.public_url(),
            None => format!("http://{}", listener.local_addr()?),
        };
        let exports = build_exports(&config, store.clone(), &public_url)?;
        let drains = build_drains(&config, store.clone(), &exports)?;
        let schedules = build_schedules(&config, &exports, &drains);
        let budgets = build_budgets(&config, &exports, &drains);
        let notifier = build_notifier(&config, &exports, &drains);
        let state = AppState {
            budgets,
            notifier,
            schedules,
            drains,
            exports,
            store,
            ingest_key_hash: Arc::new(hash_secret(&ingest_key)),
            limits: RateLimits::new(
                config.rate_limit_per_minute,
                config.ingest_rate_limit_per_minute,
            ),
            config: Arc::new(config),
        };
        Ok(App {
            state,
            listener,
            ingest_key,
        })
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// The ingest key in force (printed by `outflow demo`).
    pub fn ingest_key(&self) -> &str {
        &self.ingest_key
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish (up to the
    /// configured grace period) and closes the database.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let grace = Duration::from_secs(self.state.config.shutdown_grace_seconds);
        let store = self.state.store.clone();
        let workers_stop = tokio_util::sync::CancellationToken::new();
        let mut workers = self.state.exports.spawn(workers_stop.clone());
        if self.state.config.drains.run {
            workers.push(self.state.drains.engine.spawn(workers_stop.clone()));
        }
        // Rolls up records stored before the usage rollups existed; ends when done.
        workers.push(crate::usage::backfill::spawn(
            store.clone(),
            workers_stop.clone(),
        ));
        if self.state.config.schedules.run {
            workers.push(self.state.schedules.spawn(workers_stop.clone()));
            // Budgets share the schedule runner's switch, poll interval and lease.
            workers.push(self.state.budgets.spawn(workers_stop.clone()));
        }
        // Delivers the notification outbox; cheap when empty, and wakes when an event is
        // raised in this process.
        workers.push(self.state.notifier.spawn(workers_stop.clone()));
        workers.extend(crate::usage::compact::spawn(
            store.clone(),
            workers_stop.clone(),
        ));
        let router = router(self.state);
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down");
            let _ = stopped_tx.send(());
        });
        let serving = tokio::spawn(async move { server.await });
        tokio::pin!(serving);
        tokio::select! {
            result = &mut serving => result??,
            _ = async {
                let _ = stopped_rx.await;
                tokio::time::sleep(grace).await;
            } => tracing::warn!("grace period over; dropping open connections"),
        }
        workers_stop.cancel();
        for w in workers {
            let _ = w.await;
        }
        store.close().await;
        Ok(())
    }

    /// The export service (tests drive its workers).
    pub fn exports(&self) -> &Exports {
        &self.state.exports
    }

    /// The drain service.
    pub fn drains(&self) -> &Drains {
        &self.state.drains
    }

    /// The schedule service (tests drive its runner with `run_due`).
    pub fn schedules(&self) -> &crate::schedule::Schedules {
        &self.state.schedules
    }

    /// The budget service (tests drive its runner with `run_due`).
    pub fn budgets(&self) -> &crate::budget::Budgets {
        &self.state.budgets
    }

    /// The notification service (tests drive its runner with `run_due`).
    pub fn notifier(&self) -> &crate::notifier::Notifications {
        &self.state.notifier
    }
}

/// The budget service of a configuration: alerts mail with the exports' mailer and post with
/// the drains' secrets; timing follows `[schedules]` (run, poll_seconds, lease_seconds).
pub fn build_budgets(
    config: &Config,
    exports: &Exports,
    drains: &Drains,
) -> crate::budget::Budgets {
    crate::budget::Budgets::new(
        exports.store.clone(),
        exports.mailer.clone(),
        drains.secrets.clone(),
        crate::budget::BudgetsConfig {
            lease_seconds: config.schedules.lease_seconds,
            delivery_attempts: 5,
            poll_seconds: config.schedules.poll_seconds,
            allow_private: config.drains.allow_private_destinations,
            request_timeout_seconds: config.drains.request_timeout_seconds,
        },
        exports.node().to_string(),
    )
}

/// The notification service of a configuration: posts with the drains' secrets, client
/// limits and private-address switch; leases like the schedule runner; the first retry after
/// 30 seconds, then doubling up to an hour, 8 attempts (about two hours in all).
pub fn build_notifier(
    config: &Config,
    exports: &Exports,
    drains: &Drains,
) -> crate::notifier::Notifications {
    crate::notifier::Notifications::new(
        exports.store.clone(),
        drains.secrets.clone(),
        crate::notifier::NotificationsConfig {
            lease_seconds: config.schedules.lease_seconds,
            delivery_attempts: 8,
            retry_base_seconds: 30,
            poll_seconds: 10,
            allow_private: config.drains.allow_private_destinations,
            request_timeout_seconds: config.drains.request_timeout_seconds,
        },
        exports.node().to_string(),
    )
}

/// The schedule service of a configuration: runs on the exports' queue, delivers with the
/// drains' secrets.
pub fn build_schedules(
    config: &Config,
    exports: &Exports,
    drains: &Drains,
) -> crate::schedule::Schedules {
    crate::schedule::Schedules::new(
        exports.store.clone(),
        exports.clone(),
        drains.secrets.clone(),
        config.schedules.clone(),
        config.drains.clone(),
    )
}

/// The drain service of a configuration: the secret box, and an engine sharing the exports'
/// mailer.
pub fn build_drains(config: &Config, store: Store, exports: &Exports) -> anyhow::Result<Drains> {
    let secrets = SecretBox::load(config).context("cannot load the drains master key")?;
    let engine = Engine::new(
        store.clone(),
        secrets.clone(),
        exports.mailer.clone(),
        config.drains.clone(),
        exports.node().to_string(),
    );
    Ok(Drains {
        store,
        secrets,
        engine,
    })
}

/// The drain service of a command that reads drains and their destinations but runs none
/// (`outflow verify`).
pub fn drains_for_command(config: &Config, store: Store) -> anyhow::Result<Drains> {
    let secrets = SecretBox::load(config).context("cannot load the drains master key")?;
    let mailer = Mailer::new(&config.smtp, &config.data_dir).context("cannot set up email")?;
    let engine = Engine::new(
        store.clone(),
        secrets.clone(),
        mailer,
        config.drains.clone(),
        "command".into(),
    );
    Ok(Drains {
        store,
        secrets,
        engine,
    })
}

/// The export service of a configuration: file store, mailer, workers' settings.
pub fn build_exports(config: &Config, store: Store, public_url: &str) -> anyhow::Result<Exports> {
    let files = Files::open(config, public_url)?;
    let mailer = Mailer::new(&config.smtp, &config.data_dir).context("cannot set up email")?;
    tracing::debug!(files = files.describe(), mail = %mailer.describe(), "export service");
    Ok(Exports::new(store, files, mailer, config.exports.clone()))
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
    }
    let store = Store::connect(&url, config.database_pool_size)
        .await
        .with_context(|| format!("cannot open database {}", crate::store::redact_url(&url)))?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

/// What the commands that read an organization say when the database has none: most often
/// the command is pointed at a different database than the server.
pub const NO_ORGANIZATION: &str = "the database has no organization yet: create one with \
    `outflow orgs put` (or PUT /v1/orgs/{id}), or point at the database `outflow serve` uses \
    with --data-dir DIR or --database-url postgres://…";

/// Opens the configured database for a command that works on stored data (`export`, `keys`,
/// `orgs list`, `orgs add-admin`). A SQLite file that does not exist is an error naming where
/// Outflow looked and the flags that point elsewhere: creating an empty database there would
/// only lead to a puzzling "no organization" later.
pub async fn open_existing_store(config: &Config) -> anyhow::Result<Store> {
    if let Some(file) = sqlite_file(&config.database_url())
        && !file.exists()
    {
        anyhow::bail!(
            "no Outflow database at {}. Point at the one `outflow serve` or `outflow demo` uses \
             with --data-dir DIR (or OUTFLOW_DATA_DIR), or at a server with --database-url \
             postgres://… (or OUTFLOW_DATABASE_URL); `outflow migrate` creates a new one",
            file.display()
        );
    }
    open_store(config).await
}

/// The file of a SQLite URL (`None` for other backends and in-memory databases).
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    use std::str::FromStr;
    if !url.starts_with("sqlite:") {
        return None;
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    let file = options.get_filename();
    let name = file.to_string_lossy();
    (!name.is_empty() && name != ":memory:" && !name.starts_with("file:"))
        .then(|| file.to_path_buf())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// The `Content-Length` a request announces, if any.
fn announced_length(req: &axum::extract::Request) -> Option<u64> {
    req.headers()
        .get(axum::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Answers 413 to a body announced over `max_body_bytes`, reading none of it into memory. Up to
/// 64 MiB of it (for at most 10 s) is read and dropped first: the server would otherwise close
/// with input unread, the peer's TCP stack would answer with a reset, and a client still
/// uploading would see that instead of the answer. A larger announcement is refused at once.
async fn refuse_oversized(req: axum::extract::Request, announced: u64) -> axum::response::Response {
    use futures::StreamExt;
    const LINGER_BYTES: u64 = 64 * 1024 * 1024;
    if announced <= LINGER_BYTES {
        let mut body = req.into_body().into_data_stream();
        let drain = async { while let Some(Ok(_)) = body.next().await {} };
        let _ = tokio::time::timeout(Duration::from_secs(10), drain).await;
    }
    axum::response::IntoResponse::into_response(http::error::ApiError::body_too_large())
}

/// The complete router: the HTTP API and the admin pages over one [`AppState`], with the body
/// limit (checked on the announced length first, then while reading) and request tracing.
pub fn router(state: AppState) -> axum::Router {
    let max_body = state.config.max_body_bytes;
    axum::Router::new()
        .merge(http::routes())
        .merge(crate::web::routes())
        .fallback(|| async {
            http::error::ApiError::NotFound("no such route; see /v1/openapi.json".into())
        })
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| async move {
                match announced_length(&req) {
                    Some(n) if n > max_body as u64 => refuse_oversized(req, n).await,
                    _ => next.run(req).await,
                }
            },
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span every request is traced in. It names the matched route (`/invite/{token}`), not
/// the URI: paths carry one-time tokens (invitations, signed download links) and queries
/// carry signatures, and the default span logs both at DEBUG.
fn request_span(req: &axum::extract::Request) -> tracing::Span {
    tracing::debug_span!("request", method = %req.method(), route = route_of(req))
}

/// The route a request matched, or `unmatched` (its path is not logged either).
fn route_of(req: &axum::extract::Request) -> &str {
    req.extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn requests_are_traced_by_their_route_never_by_their_token() {
        // As in `router`: a layer over the whole router sees the matched route.
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = seen.clone();
        let app = axum::Router::new()
            .route("/invite/{token}", axum::routing::get(|| async { "ok" }))
            .layer(axum::middleware::from_fn(
                move |req: axum::extract::Request, next: axum::middleware::Next| {
                    log.lock().unwrap().push(route_of(&req).to_string());
                    next.run(req)
                },
            ));
        for uri in ["/invite/tok_s3cr3t?sig=abc", "/elsewhere/tok_s3cr3t"] {
            let req = axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .unwrap();
            app.clone().oneshot(req).await.unwrap();
        }
        assert_eq!(*seen.lock().unwrap(), ["/invite/{token}", "unmatched"]);
    }
}
