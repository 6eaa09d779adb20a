//! Workflow runs: each day's scheduled and event-driven runs, their subflow children, and
//! their records.

use super::calendar::{business_time, is_weekday};
use super::facts::Trigger::{Daily, Hourly, Manual, Webhook};
use super::facts::{S_RUNS, Trigger};
use super::random::{fraction, lognormal, poisson, rng_for, round4, seconds};
use super::ts;
use super::world::{Day, World};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

/// A workflow run, top-level or child, as every stream that mentions it sees it.
#[derive(Debug)]
pub(super) struct Run {
    pub(super) id: String,
    parent: Option<String>,
    pub(super) wb: usize,
    pub(super) user: usize,
    pub(super) trigger: &'static str,
    pub(super) created: DateTime<Utc>,
    pub(super) finished: Option<DateTime<Utc>>,
    pub(super) status: &'static str,
    /// Ledger rows: when, type, credits (positive).
    pub(super) charges: Vec<(DateTime<Utc>, &'static str, f64)>,
    pub(super) cost: f64,
    pub(super) tool_calls: u32,
    /// Seeds the details of its tool calls, which only the tool-call stream draws.
    pub(super) sub_seed: u64,
}

struct RunStart {
    pub(super) id: String,
    parent: Option<String>,
    pub(super) wb: usize,
    pub(super) user: usize,
    pub(super) trigger: &'static str,
    pub(super) at: DateTime<Utc>,
    /// A child run ends before its parent does.
    deadline: Option<DateTime<Utc>>,
}

pub(super) fn run_items(w: &World, d: usize) -> Vec<(DateTime<Utc>, Run)> {
    day_runs(w, d).into_iter().map(|r| (r.created, r)).collect()
}

/// The runs started on day `d`, children after their parent.
pub(super) fn day_runs(w: &World, d: usize) -> Vec<Run> {
    let day = &w.days[d];
    let mut rng = rng_for(w.seed, S_RUNS, d as u64);
    let mut starts = run_starts(&mut rng, w, day);
    starts.sort_by_key(|s| s.0);
    let date = day.date.format("%Y%m%d").to_string();
    let mut runs = Vec::with_capacity(starts.len() * 6 / 5);
    for (k, (at, wb, trigger)) in starts.into_iter().enumerate() {
        let user = run_user(&mut rng, w, wb, at, trigger);
        let id = format!("run_{date}_{:05}", k + 1);
        let start = RunStart {
            id,
            parent: None,
            wb,
            user,
            trigger,
            at,
            deadline: None,
        };
        let top = make_run(&mut rng, w, start);
        let children = child_runs(&mut rng, w, &top);
        runs.push(top);
        runs.extend(children);
    }
    runs
}

/// When each workbook runs on `day`: schedules on weekdays, events at Poisson rates.
fn run_starts(rng: &mut StdRng, w: &World, day: &Day) -> Vec<(DateTime<Utc>, usize, &'static str)> {
    let weekday = is_weekday(day.date);
    let mut out = Vec::new();
    for (i, b) in w.workbooks.iter().enumerate() {
        let hours: Vec<i64> = match b.tpl.trigger {
            Daily(h) if weekday => vec![h],
            Hourly if weekday => (9..18).collect(),
            Daily(_) | Hourly => Vec::new(),
            Manual | Webhook => {
                for _ in 0..poisson(rng, b.rate * day.weight) {
                    let at = business_time(rng, day);
                    out.push((at, i, event_trigger(rng, b.tpl.trigger)));
                }
                Vec::new()
            }
        };
        for h in hours {
            let at = day.start
                + Duration::hours(h)
                + Duration::microseconds(rng.random_range(0..90_000_000));
            out.push((at, i, "schedule"));
        }
    }
    out.retain(|(at, i, _)| *at > w.workbooks[*i].created && *at <= w.now);
    out
}

fn event_trigger(rng: &mut StdRng, trigger: Trigger) -> &'static str {
    let u = rng.random::<f64>();
    let main = if trigger == Webhook {
        "webhook"
    } else {
        "manual"
    };
    if u < 0.88 {
        main
    } else if u < 0.95 {
        "manual"
    } else {
        "api"
    }
}

/// Automated runs belong to the owner; manual ones often to a teammate.
fn run_user(rng: &mut StdRng, w: &World, wb: usize, at: DateTime<Utc>, trigger: &str) -> usize {
    let b = &w.workbooks[wb];
    if trigger != "manual" || rng.random_bool(0.55) {
        return b.owner;
    }
    let (when, member) = w.member_at(rng, b.space, at);
    if when == at { member } else { b.owner }
}

fn make_run(rng: &mut StdRng, w: &World, s: RunStart) -> Run {
    let b = &w.workbooks[s.wb];
    let child = s.parent.is_some();
    let u = rng.random::<f64>();
    let status = if u < 0.905 {
        "success"
    } else if u < 0.975 {
        "failed"
    } else {
        "terminated"
    };
    let early = status == "failed" && rng.random_bool(0.5);
    let share = if status == "success" {
        1.0
    } else {
        rng.random_range(0.05..0.8)
    };
    let median = b.duration_median * if child { 0.35 } else { 1.0 };
    let secs = lognormal(rng, median, 0.8).clamp(1.5, 4.0 * 3600.0) * share;
    let mut finished = s.at + seconds(secs);
    if let Some(deadline) = s.deadline.filter(|d| finished >= *d) {
        finished = s.at + (deadline - s.at) / 2;
    }
    let credits = lognormal(rng, b.cost_median * if child { 0.45 } else { 1.0 }, 0.45) * share;
    let tool_calls = if b.tpl.servers.is_empty() {
        0
    } else {
        poisson(rng, 0.12)
    };
    let sub_seed = rng.random();
    let mut run = Run {
        id: s.id,
        parent: s.parent,
        wb: s.wb,
        user: s.user,
        trigger: s.trigger,
        created: s.at,
        finished: None,
        status: "running",
        charges: Vec::new(),
        cost: 0.0,
        tool_calls,
        sub_seed,
    };
    if finished > w.now {
        return run;
    }
    run.finished = Some(finished);
    run.status = status;
    if early {
        run.charges.push((finished, "initial_pipeline_run", 1.0));
    } else {
        let kind = if b.tpl.ai {
            "ai_node_cost"
        } else {
            "node_cost"
        };
        run.charges
            .push((finished, kind, round4(credits.max(0.01))));
    }
    if secs > 600.0 {
        run.charges
            .push((finished, "compute_time", round4(secs / 60.0 * 0.04)));
    }
    run.cost = round4(run.charges.iter().map(|c| c.2).sum());
    run
}

/// Subflow runs started while the parent runs.
fn child_runs(rng: &mut StdRng, w: &World, parent: &Run) -> Vec<Run> {
    let b = &w.workbooks[parent.wb];
    if b.subflow_p == 0.0 || !rng.random_bool(b.subflow_p) {
        return Vec::new();
    }
    let span = parent.finished.unwrap_or(w.now) - parent.created;
    let n = rng.random_range(1..=3);
    let mut children = Vec::with_capacity(n);
    for j in 0..n {
        let at = parent.created + fraction(span, rng.random_range(0.05..0.6));
        let start = RunStart {
            id: format!("{}_s{}", parent.id, j + 1),
            parent: Some(parent.id.clone()),
            wb: parent.wb,
            user: parent.user,
            trigger: "subflow",
            at,
            deadline: parent.finished,
        };
        children.push(make_run(rng, w, start));
    }
    children.retain(|c| c.created <= w.now);
    children
}

pub(super) fn run_json(w: &World, r: &Run) -> Value {
    let b = &w.workbooks[r.wb];
    let space = &w.spaces[b.space];
    let user = &w.members[r.user];
    let mut v = json!({
        "org_id": w.org_id,
        "workspace_id": space.id,
        "workspace_name": space.name,
        "workbook_id": b.id,
        "workbook_name": b.tpl.name,
        "workbook_created_ts": ts(b.created),
        "user_id": user.id,
        "user_email": user.email,
        "run_id": r.id,
        "run_status": r.status,
        "pl_run_created_ts": ts(r.created),
        "pipeline": {
            "trigger": r.trigger,
            "version": b.version_at(r.created),
            "node_count": b.tpl.nodes.len(),
            "nodes": b.tpl.nodes,
        },
    });
    if let Some(parent) = &r.parent {
        v["parent_run_id"] = parent.as_str().into();
    }
    if let Some(finished) = r.finished {
        v["pl_run_finished_ts"] = ts(finished);
        v["credit_cost"] = r.cost.into();
    }
    v
}
