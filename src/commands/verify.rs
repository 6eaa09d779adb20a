//! `outflow verify`: compares what a drain's receiver holds with what Outflow delivered. Outflow's
//! side is the drain's reconciliation (`drain::reconcile`) read from the database; the
//! receiver's side is read from a local directory or the drain's own object-store prefix —
//! S3, GCS or Azure Blob, through the drain's secret (`--s3`; `drain::received`). Prints the buckets that differ and every problem found (an altered or
//! missing object, a missing batch), and returns false when there is any.

use crate::app::{drains_for_command, open_existing_store};
use crate::cli::VerifyArgs;
use crate::config::Config;
use crate::domain::range;
use crate::drain::received::{self, Expected, File};
use crate::drain::reconcile::{self, Tally, show_digest};
use anyhow::{Context, bail};
use std::path::Path;

/// Runs the check; `Ok(true)` when everything matches.
pub async fn run(config: &Config, args: VerifyArgs) -> anyhow::Result<bool> {
    let store = open_existing_store(config).await?;
    let org = super::export::organization(&store, args.org.as_deref()).await?;
    let drains = drains_for_command(config, store.clone())?;
    let drain = drains
        .get(&org.id, &args.drain)
        .await
        .map_err(|e| anyhow::anyhow!("{e} in `{}`", org.id))?;
    let tz = range::parse_tz(args.tz.as_deref().unwrap_or(&org.timezone))
        .map_err(|e| anyhow::anyhow!("--tz: {}", e.message))?;
    let window = range::explicit_range_zoned(&args.start, tz, &args.end, tz).map_err(|e| {
        let flag = match e.field {
            range::RangeField::End => "--end",
            _ => "--start",
        };
        anyhow::anyhow!("{flag}: {}", e.message)
    })?;
    let granularity =
        reconcile::parse_bucket(&args.bucket).map_err(|e| anyhow::anyhow!("--bucket: {e}"))?;
    let new_tally = || Tally::new(tz, granularity, window.start, window.end);
    let mut ours = new_tally().map_err(anyhow::Error::msg)?;
    drains.reconcile(&org.id, &drain.id, &mut ours).await?;

    let files = match (&args.dir, args.s3) {
        (Some(dir), _) => read_dir(dir)?,
        (None, true) => {
            if drain.destination.object_format().is_none() {
                bail!(
                    "--s3: drain `{}` does not deliver to object storage (s3, gcs, azure_blob); \
                     copy what its receiver holds to a directory and use --dir",
                    drain.id
                );
            }
            drains
                .read_s3(&drain)
                .await?
                .into_iter()
                .map(|(key, bytes)| File { key, bytes })
                .collect()
        }
        (None, false) => bail!("give --dir DIR or --s3"),
    };
    let mut theirs = new_tally().map_err(anyhow::Error::msg)?;
    let expected = Expected {
        drain_id: &drain.id,
        data_type: drain.data_type,
        last_seq: drain.batch_seq,
    };
    let found = received::read(&files, &expected, &mut theirs);
    store.close().await;

    println!(
        "drain {} ({}): {} buckets of {} in {}, {} files, {} manifests, {} distinct records",
        drain.id,
        drain.data_type.as_str(),
        ours.buckets().len(),
        args.bucket,
        tz.name(),
        found.files,
        found.manifests,
        found.records
    );
    let differences = ours.differences(&theirs);
    for (a, b) in &differences {
        println!(
            "DIFFERS {} .. {}: Outflow delivered {} (digest {}), the receiver holds {} (digest {})",
            a.period.local_start().to_rfc3339(),
            a.period.local_end().to_rfc3339(),
            a.delivered,
            show_digest(a.digest),
            b.delivered,
            show_digest(b.digest)
        );
    }
    for p in &found.problems {
        println!("PROBLEM {p}");
    }
    let ok = differences.is_empty() && found.problems.is_empty();
    if ok {
        println!("OK: every bucket matches");
    } else {
        println!(
            "{} buckets differ, {} problems",
            differences.len(),
            found.problems.len()
        );
    }
    Ok(ok)
}

/// Every file below `root`, keyed by its `/`-separated path relative to it.
fn read_dir(root: &Path) -> anyhow::Result<Vec<File>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<File>) -> anyhow::Result<()> {
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else {
                let key = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                out.push(File { key, bytes });
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    Ok(out)
}
