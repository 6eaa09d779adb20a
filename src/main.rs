//! The `outflow` binary: parse the command line, load configuration, dispatch.

use clap::Parser;
use outflow::cli::{BenchCommand, Cli, Command, KeysCommand, OrgsCommand};
use outflow::config::{Config, LogFormat};
use outflow::{app, commands};

/// mimalloc: rows are decoded on one thread and freed on another, which glibc malloc handles
/// with lock contention and frequent consolidation (measured with perf on exports and drains).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay`, which the sys crate has no constant for: in mimalloc.h's
/// `mi_option_e` (v3, the version libmimalloc-sys builds) it comes right before
/// `mi_option_use_numa_nodes`. The test below checks it by its documented default.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t =
    libmimalloc_sys::mi_option_use_numa_nodes - 1;

/// mimalloc gives pages that fall empty back to the OS only after a delay, 1 s in v3. An
/// export frees and refills its read-ahead and encoder buffers far faster than that, so a
/// PostgreSQL export of 835,000 credit logs (full preset) peaked at 58–64 MiB, at the goal's
/// edge. 10 ms (v2's default) holds every run at 43–44 MiB for about 8 % more CPU; 0 would
/// hold 39 MiB for about 20 % more (`outflow bench export --backend postgres --type
/// credit_logs --preset full --rows 835000 --runs 5`, with `MIMALLOC_PURGE_DELAY` set to
/// compare). An operator's own `MIMALLOC_PURGE_DELAY` (mimalloc reads it itself) wins.
#[allow(unsafe_code)]
fn purge_freed_pages_promptly() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: mi_option_set only stores an integer in mimalloc's option table; 10 is a valid
    // purge delay in milliseconds. It runs first in `main`, before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10) }
}

fn main() -> anyhow::Result<()> {
    purge_freed_pages_promptly();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref(), &cli.overrides())?;
    init_tracing(&config, matches!(cli.command, Command::Bench(_)));
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
        Command::Orgs(OrgsCommand::AddAdmin { org, email, role }) => {
            commands::orgs_add_admin(&config, &org, &email, role).await
        }
        Command::Orgs(OrgsCommand::Sso(cmd)) => commands::sso::run(&config, cmd).await,
        Command::Bench(BenchCommand::Ingest(args)) => outflow::bench::ingest::run(args).await,
        Command::Bench(BenchCommand::Export(args)) => outflow::bench::export::run(args).await,
        Command::Bench(BenchCommand::Drain(args)) => outflow::bench::drain::run(args).await,
        Command::Bench(BenchCommand::Usage(args)) => outflow::bench::usage::run(args).await,
        Command::Verify(args) => {
            if !commands::verify::run(&config, *args).await? {
                // Differences were printed; the exit status says so to scripts.
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

fn init_tracing(config: &Config, bench: bool) {
    // PostgreSQL NOTICEs (e.g. "database … does not exist, skipping") are chatter, not events.
    let mut directives = config.log_level.clone();
    if !directives.contains("sqlx::postgres::notice") {
        directives.push_str(",sqlx::postgres::notice=warn");
    }
    // A benchmark's bulk fill is slow by design; sqlx's slow-statement warning would print the
    // whole INSERT … SELECT in the middle of its table.
    if bench && !directives.contains("sqlx::query") {
        directives.push_str(",sqlx::query=error");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(unsafe_code)]
    fn the_option_set_is_mimallocs_purge_delay() {
        // SAFETY: reads one integer from mimalloc's option table. `main` has not run here, so
        // the value is mimalloc v3's default purge delay (1000 ms).
        let delay = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(delay, 1000);
    }
}
