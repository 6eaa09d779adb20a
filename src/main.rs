//! The `outflow` binary: parse the command line, load configuration, dispatch.

use clap::Parser;
use outflow::cli::{BenchCommand, Cli, Command, KeysCommand, OrgsCommand};
use outflow::config::{Config, LogFormat};
use outflow::{app, commands};

/// mimalloc: rows are decoded on one thread and freed on another, which glibc malloc handles
/// with lock contention and frequent consolidation (measured with perf on exports and drains).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (v3, the version libmimalloc-sys
/// builds); the sys crate has no constant for it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc gives pages that fall empty back to the OS only after a delay (1 s in v3). An
/// export frees and refills its read-ahead and encoder buffers faster than that, so the same
/// PostgreSQL export peaked anywhere between 57 and 78 MiB from run to run. Purging at once
/// held every run at 45–48 MiB at the same speed (`outflow bench export --type credit_logs`).
/// An operator's own `MIMALLOC_PURGE_DELAY` (which mimalloc reads itself) wins.
#[allow(unsafe_code)]
fn purge_freed_pages_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: mi_option_set only stores an integer in mimalloc's option table; 0 is a valid
    // purge delay ("purge at once"). It runs first in `main`, before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

fn main() -> anyhow::Result<()> {
    purge_freed_pages_at_once();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref(), &cli.overrides())?;
    init_tracing(&config);
    match cli.command {
        Command::Serve { .. } => commands::serve(config).await,
        Command::Migrate => {
            app::open_store(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Demo { scale, .. } => outflow::demo::run(config, scale).await,
        Command::Keys(KeysCommand::Create { org, scope, name }) => {
            commands::keys_create(&config, &org, &scope, &name).await
        }
        Command::Keys(KeysCommand::List { org }) => commands::keys_list(&config, &org).await,
        Command::Keys(KeysCommand::Revoke { org, id }) => {
            commands::keys_revoke(&config, &org, &id).await
        }
        Command::Export(args) => outflow::commands::export::run(&config, *args).await,
        Command::Orgs(OrgsCommand::List) => commands::orgs_list(&config).await,
        Command::Orgs(put @ OrgsCommand::Put { .. }) => commands::orgs_put(&config, put).await,
        Command::Orgs(OrgsCommand::AddAdmin { org, email }) => {
            commands::orgs_add_admin(&config, &org, &email).await
        }
        Command::Bench(BenchCommand::Ingest(args)) => outflow::bench::ingest::run(args).await,
        Command::Bench(BenchCommand::Export(args)) => outflow::bench::export::run(args).await,
        Command::Bench(BenchCommand::Drain(args)) => outflow::bench::drain::run(args).await,
    }
}

fn init_tracing(config: &Config) {
    // PostgreSQL NOTICEs (e.g. "database … does not exist, skipping") are chatter, not events.
    let mut directives = config.log_level.clone();
    if !directives.contains("sqlx::postgres::notice") {
        directives.push_str(",sqlx::postgres::notice=warn");
    }
    let filter = tracing_subscriber::EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
