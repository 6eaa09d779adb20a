//! `outflow export`: runs the export pipeline against the configured database straight into a
//! local file — no server, no job row — with a progress bar (rows, rate, ETA) on a terminal
//! and plain progress lines when stderr is not one (CI logs, cron mails).

use crate::app::{NO_ORGANIZATION, open_existing_store};
use crate::cli::ExportArgs;
use crate::config::Config;
use crate::export::lookup::LoadedLookup;
use crate::export::pipeline::{self, Control};
use crate::export::spec::{self, ExportInput};
use crate::privacy::PrivacyPolicy;
use crate::store::{CellRef, StreamQuery};
use anyhow::{Context, bail};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// Runs `outflow export`.
pub async fn run(config: &Config, args: ExportArgs) -> anyhow::Result<()> {
    let store = open_existing_store(config).await?;
    let org_id = match args.org.clone() {
        Some(o) => o,
        None => {
            let orgs = store.list_orgs().await?;
            match orgs.as_slice() {
                [only] => only.id.clone(),
                [] => bail!("{NO_ORGANIZATION}"),
                _ => bail!(
                    "--org is required: the database has {} organizations ({})",
                    orgs.len(),
                    orgs.iter()
                        .map(|o| o.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    };
    let org = store
        .get_org(&org_id)
        .await?
        .with_context(|| format!("organization `{org_id}` not found"))?;
    // No --teams: every organization team; --personal adds the personal spaces.
    let no_teams = args.teams.is_empty();
    let input = ExportInput {
        data_type: Some(args.data_type.clone()),
        start: args.from.clone(),
        end: args.to.clone(),
        timezone: args.tz.clone(),
        preset: args.range.clone(),
        workspace_ids: args.teams.clone(),
        all_org_teams: no_teams,
        include_all_workspaces: no_teams && args.personal,
        include_personal_workspaces: args.personal,
        entity_ids: args.entities.clone(),
        category_filter: args.category.clone(),
        permission_group_filter: args.custom_role.clone(),
        event_type_filter: args.event_types.clone(),
        fields: (!args.fields.is_empty()).then(|| args.fields.clone()),
        field_preset: match (&args.preset, args.fields.is_empty()) {
            (Some(p), _) => Some(p.clone()),
            (None, true) => Some("default".into()),
            (None, false) => None,
        },
        format: Some(args.format.clone()),
        gzip: args.gzip,
        neutralise_formulas: Some(!args.no_formula_guard),
        local_timestamps: args.local_timestamps,
        ..ExportInput::default()
    };
    let lookup = LoadedLookup::load(&store, &org.id, &input).await?;
    let cli_names = spec::ParamNames {
        start: "--from",
        end: "--to",
        fields: "--fields",
        teams: "--teams",
    };
    let spec = spec::validate(&input, &org, &lookup, cli_names, Utc::now())
        .map_err(|e| anyhow::anyhow!("{}: {}", e.param, e.message))?;
    let policy = PrivacyPolicy::load(&store, &org.id)
        .await?
        .with_context(|| format!("organization `{}` not found", org.id))?;
    // The total only feeds the progress bar, so it is counted alongside the export, not
    // before it, and only on a terminal: off one, progress lines give rows and rate, and a
    // scripted export does not pay for a second scan of its rows, which on a small machine
    // takes a core from the export itself.
    let terminal = std::io::stderr().is_terminal();
    let total = Arc::new(AtomicU64::new(UNKNOWN));
    let counter = terminal.then(|| {
        let (store, total) = (store.clone(), total.clone());
        let (count_sql, count_params) = crate::export::query::count(&spec);
        tokio::spawn(async move {
            // Through the export read path rather than the pool: on SQLite a pool connection
            // keeps a 16 MB page cache, which a count over millions of index entries fills,
            // while the read path's own connection keeps SQLite's default 2 MB.
            let mut rows = store.stream(
                StreamQuery {
                    sql: count_sql,
                    params: count_params,
                    types: vec![crate::domain::FieldType::Integer],
                    split: None,
                    streams: 1,
                },
                1,
            );
            if let Some(Ok(block)) = rows.recv().await
                && let Some(CellRef::Integer(n)) = block.rows().next().map(|r| r.get(0))
            {
                total.store(n.max(0) as u64, Ordering::Relaxed);
            }
        })
    });

    let mut file = tokio::fs::File::create(&args.output)
        .await
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let control = Arc::new(Control::default());
    let started = Instant::now();
    let reporter = spawn_progress(control.clone(), total, terminal);
    let mut result = pipeline::run(
        &store,
        &spec,
        &policy,
        &mut file,
        control.clone(),
        config.exports.read_streams as usize,
    )
    .await;
    if result.is_ok()
        && let Err(e) = file.shutdown().await
    {
        result = Err(e.into());
    }
    reporter.abort();
    if let Some(counter) = counter {
        counter.abort();
    }
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            let _ = tokio::fs::remove_file(&args.output).await;
            return Err(e).context("export failed");
        }
    };
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "exported {} rows ({} bytes) of {} for {} in {:.1} s ({:.0} rows/s) to {}",
        outcome.rows,
        outcome.bytes,
        spec.data_type,
        org.id,
        secs,
        outcome.rows as f64 / secs,
        args.output.display()
    );
    store.close().await;
    Ok(())
}

/// `total` before the count has answered.
const UNKNOWN: u64 = u64::MAX;
/// How often progress is printed when not on a terminal.
const REPORT_EVERY: Duration = Duration::from_secs(5);

/// A progress bar (rows, rate, ETA once the count is in) on a terminal, else a plain line
/// every [`REPORT_EVERY`].
fn spawn_progress(
    control: Arc<Control>,
    total: Arc<AtomicU64>,
    terminal: bool,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if terminal {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:40.cyan/blue} {pos}/{len} rows  {per_sec}  ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            loop {
                let total = total.load(Ordering::Relaxed);
                if total != UNKNOWN {
                    bar.set_length(total);
                }
                bar.set_position(control.rows.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        } else {
            let started = Instant::now();
            loop {
                tokio::time::sleep(REPORT_EVERY).await;
                let rows = control.rows.load(Ordering::Relaxed);
                let rate = rows as f64 / started.elapsed().as_secs_f64().max(1e-9);
                eprintln!("{rows} rows, {rate:.0} rows/s");
            }
        }
    })
}
