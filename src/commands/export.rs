//! `outflow export`: runs the export pipeline against the configured database straight into a
//! local file — no server, no job row — with a progress bar (rows, rate, ETA) on a terminal
//! and plain progress lines when stderr is not one (CI logs, cron mails).

use crate::app::{NO_ORGANIZATION, open_existing_store};
use crate::cli::ExportArgs;
use crate::config::Config;
use crate::domain::entity::Org;
use crate::export::pipeline::{self, Control, ExportError, Outcome};
use crate::export::request::{self, CheckError};
use crate::export::spec::{self, ExportInput, ExportSpec};
use crate::privacy::PrivacyPolicy;
use crate::store::{CellRef, Store, StreamQuery};
use anyhow::{Context, bail};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// Runs `outflow export`: resolve the organization, check the request, then write the file
/// with progress.
pub async fn run(config: &Config, args: ExportArgs) -> anyhow::Result<()> {
    let store = open_existing_store(config).await?;
    let org = organization(&store, args.org.as_deref()).await?;
    let spec = check(&store, &org, &args).await?;
    let policy = PrivacyPolicy::load(&store, &org.id)
        .await?
        .with_context(|| format!("organization `{}` not found", org.id))?;
    // The total only feeds the progress bar, so it is counted alongside the export, not
    // before it, and only on a terminal: off one, progress lines give rows and rate, and a
    // scripted export does not pay for a second scan of its rows, which on a small machine
    // takes a core from the export itself.
    let terminal = std::io::stderr().is_terminal();
    let total = Arc::new(AtomicU64::new(UNKNOWN));
    let counter = terminal.then(|| spawn_count(&store, &spec, total.clone()));

    let mut file = tokio::fs::File::create(&args.output)
        .await
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let control = Arc::new(Control::default());
    let started = Instant::now();
    let reporter = spawn_progress(control.clone(), total, terminal);
    let streams = config.exports.read_streams as usize;
    let result = write(&store, &spec, &policy, &mut file, control, streams).await;
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

/// The organization named by `--org`, or else the only one in the database.
pub(crate) async fn organization(store: &Store, org: Option<&str>) -> anyhow::Result<Org> {
    let org_id = match org {
        Some(o) => o.to_string(),
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
    store
        .get_org(&org_id)
        .await?
        .with_context(|| format!("organization `{org_id}` not found"))
}

/// The CLI's parameter names, so a bad range or field list names the flag to fix.
const CLI_NAMES: spec::ParamNames = spec::ParamNames {
    start: "--from",
    end: "--to",
    fields: "--fields",
    teams: "--teams",
};

impl From<&ExportArgs> for ExportInput {
    /// The request the flags stand for: no `--teams` means every organization team
    /// (`--personal` adds the personal spaces), and neither `--fields` nor `--preset` means
    /// the default preset.
    fn from(args: &ExportArgs) -> Self {
        let no_teams = args.teams.is_empty();
        ExportInput {
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
        }
    }
}

/// Checks the request the flags stand for, as the API would (same checks, same messages).
async fn check(store: &Store, org: &Org, args: &ExportArgs) -> anyhow::Result<ExportSpec> {
    match request::check(store, org, &ExportInput::from(args), CLI_NAMES, Utc::now()).await {
        Ok(checked) => Ok(checked.spec),
        Err(CheckError::Input(e)) => Err(anyhow::anyhow!("{}: {}", e.param, e.message)),
        Err(CheckError::Store(e)) => Err(e.into()),
    }
}

/// Counts the export's rows into `total` (for the progress bar), beside the export itself.
fn spawn_count(
    store: &Store,
    spec: &ExportSpec,
    total: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<()> {
    let store = store.clone();
    let (count_sql, count_params) = crate::export::query::count(spec);
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
}

/// Runs the pipeline into `file` and flushes it.
async fn write(
    store: &Store,
    spec: &ExportSpec,
    policy: &PrivacyPolicy,
    file: &mut tokio::fs::File,
    control: Arc<Control>,
    streams: usize,
) -> Result<Outcome, ExportError> {
    let outcome = pipeline::run(store, spec, policy, file, control, streams).await?;
    file.shutdown().await?;
    Ok(outcome)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn input(flags: &[&str]) -> ExportInput {
        let argv = ["outflow", "export", "--type", "workflows", "-o", "x.csv"];
        let cli = Cli::try_parse_from(argv.iter().chain(flags)).unwrap();
        let Command::Export(args) = cli.command else {
            panic!("not an export command");
        };
        ExportInput::from(args.as_ref())
    }

    #[test]
    fn no_teams_means_every_organization_team_and_the_default_preset() {
        let i = input(&[]);
        assert!(i.all_org_teams);
        assert!(!i.include_all_workspaces && !i.include_personal_workspaces);
        assert_eq!(i.field_preset.as_deref(), Some("default"));
        assert_eq!(i.fields, None);
        assert_eq!(i.format.as_deref(), Some("csv"));
        assert_eq!(i.neutralise_formulas, Some(true));
        // --personal without --teams: every team and personal space.
        let i = input(&["--personal"]);
        assert!(i.all_org_teams && i.include_all_workspaces && i.include_personal_workspaces);
    }

    #[test]
    fn named_teams_and_fields_are_taken_as_given() {
        let i = input(&[
            "--teams",
            "t1,t2",
            "--fields",
            "run_id",
            "--no-formula-guard",
        ]);
        assert_eq!(i.workspace_ids, ["t1", "t2"]);
        assert!(!i.all_org_teams && !i.include_all_workspaces);
        assert_eq!(i.fields, Some(vec!["run_id".to_string()]));
        assert_eq!(i.field_preset, None);
        assert_eq!(i.neutralise_formulas, Some(false));
    }
}
