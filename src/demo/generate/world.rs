//! The generated organization: the `World` every stream reads (calendar, spaces, members,
//! workbooks, agents, keys), how it is built and calibrated to the volume targets, and the
//! lookups the streams share.

use super::calendar::{calendar, is_weekday};
use super::facts::Trigger::{Daily, Hourly, Manual, Webhook};
use super::facts::{
    AgentTpl, BASE_AGENTS, BASE_MEMBERS, BASE_PERSONAL_WORKBOOKS, BASE_TEAMS, MONTHLY_ALLOTMENT,
    ORG_ID, S_ORG, TARGET_CHATS, TARGET_EXTERNAL_CALLS, TARGET_TOP_RUNS, TEAMS, WbTpl,
};
use super::random::rng_for;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use rand::rngs::StdRng;

#[derive(Debug)]
pub(super) struct World {
    pub(super) org_id: String,
    pub(super) seed: u64,
    pub(super) scale: u32,
    pub(super) now: DateTime<Utc>,
    /// When the organization was created: nothing happens before.
    pub(super) created: DateTime<Utc>,
    pub(super) days: Vec<Day>,
    pub(super) n_teams: usize,
    /// Organization teams first (`n_teams` of them), then one personal space per member.
    pub(super) spaces: Vec<Space>,
    pub(super) members: Vec<Member>,
    pub(super) workbooks: Vec<Workbook>,
    pub(super) agents: Vec<Agent>,
    pub(super) keys: Vec<Key>,
    /// Members who call MCP servers from their own clients (IDEs, desktop assistants).
    pub(super) external_users: Vec<usize>,
    /// External tool calls per unit of day weight.
    pub(super) external_rate: f64,
    /// Multiplies per-member event rates so that volumes grow linearly with the scale.
    pub(super) per_member: f64,
    pub(super) allotment: f64,
}

/// One local calendar day of the organization.
#[derive(Debug)]
pub(super) struct Day {
    pub(super) date: NaiveDate,
    pub(super) start: DateTime<Utc>,
    pub(super) end: DateTime<Utc>,
    /// Activity relative to an ordinary weekday: weekends, holidays and adoption growth.
    pub(super) weight: f64,
}

#[derive(Debug)]
pub(super) struct Space {
    pub(super) id: String,
    pub(super) name: String,
    /// Members in joining order (a personal space: its owner).
    pub(super) members: Vec<usize>,
}

#[derive(Debug)]
pub(super) struct Member {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) joined: DateTime<Utc>,
    /// Space index of the home team.
    pub(super) team: usize,
    /// Space index of the personal space.
    pub(super) personal: usize,
    pub(super) roles: Vec<usize>,
    pub(super) admin: bool,
    pub(super) activity: f64,
    pub(super) office_ip: &'static str,
    pub(super) home_ip: String,
    pub(super) browser: &'static str,
}

#[derive(Debug)]
pub(super) struct Workbook {
    pub(super) id: String,
    pub(super) tpl: &'static WbTpl,
    pub(super) space: usize,
    pub(super) owner: usize,
    pub(super) created: DateTime<Utc>,
    /// Event-driven runs per unit of day weight (after calibration).
    pub(super) rate: f64,
    pub(super) cost_median: f64,
    pub(super) duration_median: f64,
    /// Chance that a run starts subflow runs.
    pub(super) subflow_p: f64,
    /// Days between edits of the pipeline (its version number).
    pub(super) edit_days: i64,
}

#[derive(Debug)]
pub(super) struct Agent {
    pub(super) id: String,
    pub(super) tpl: &'static AgentTpl,
    pub(super) space: usize,
    pub(super) creator: usize,
    pub(super) created: DateTime<Utc>,
    pub(super) folder: Option<(String, &'static str)>,
    pub(super) versions: Vec<Version>,
    /// Sessions per unit of day weight (after calibration).
    pub(super) rate: f64,
    /// Tool calls per conversation turn.
    pub(super) tool_rate: f64,
    /// Chance that a session runs a workflow.
    pub(super) flow_p: f64,
}

#[derive(Debug, Clone)]
pub(super) struct Version {
    pub(super) at: DateTime<Utc>,
    pub(super) model: usize,
    pub(super) prompt: String,
    pub(super) servers: Vec<&'static str>,
    pub(super) evaluations: bool,
    pub(super) temperature: f64,
}

#[derive(Debug)]
pub(super) struct Key {
    pub(super) id: String,
    pub(super) name: &'static str,
    pub(super) owner: usize,
    pub(super) team: usize,
    pub(super) created: DateTime<Utc>,
    pub(super) revoked: Option<DateTime<Utc>>,
}

impl World {
    pub(super) fn build(scale: u32, now: DateTime<Utc>, seed: u64) -> World {
        let mut rng = rng_for(seed, S_ORG, 0);
        let days = calendar(now);
        let created = days[0].start + Duration::hours(9);
        let extra = (scale - 1) as usize;
        let n_teams = (BASE_TEAMS + extra).min(TEAMS.len());
        let mut w = World {
            org_id: ORG_ID.into(),
            seed,
            scale,
            now,
            created,
            days,
            n_teams,
            spaces: TEAMS[..n_teams]
                .iter()
                .map(|t| Space {
                    id: format!("team-{}", t.slug),
                    name: t.name.into(),
                    members: Vec::new(),
                })
                .collect(),
            members: Vec::new(),
            workbooks: Vec::new(),
            agents: Vec::new(),
            keys: Vec::new(),
            external_users: Vec::new(),
            external_rate: 0.0,
            per_member: 1.0,
            allotment: MONTHLY_ALLOTMENT * f64::from(scale),
        };
        w.add_members(&mut rng, BASE_MEMBERS + 30 * extra);
        w.add_workbooks(&mut rng, BASE_PERSONAL_WORKBOOKS + 4 * extra);
        w.add_agents(&mut rng, BASE_AGENTS + 6 * extra);
        w.add_keys(&mut rng);
        w.calibrate();
        w
    }

    /// A member of `space` who had joined by `at`; if nobody had, its first member a day
    /// after joining (and that later time).
    pub(super) fn member_at(
        &self,
        rng: &mut StdRng,
        space: usize,
        at: DateTime<Utc>,
    ) -> (DateTime<Utc>, usize) {
        let list = &self.spaces[space].members;
        let active = list.partition_point(|&m| self.members[m].joined <= at);
        if active == 0 {
            let first = list[0];
            (self.members[first].joined + Duration::days(1), first)
        } else {
            (at, list[rng.random_range(0..active)])
        }
    }

    /// Any member who had joined by `at`, favouring the more active of two picks.
    pub(super) fn active_member(&self, rng: &mut StdRng, at: DateTime<Utc>) -> Option<usize> {
        let k = self.members.partition_point(|m| m.joined <= at);
        if k == 0 {
            return None;
        }
        let (a, b) = (rng.random_range(0..k), rng.random_range(0..k));
        Some(if self.members[a].activity >= self.members[b].activity {
            a
        } else {
            b
        })
    }

    /// Scales the raw rates so the expected volumes over the window meet the targets.
    fn calibrate(&mut self) {
        let n = self.days.len();
        let mut weight_from = vec![0.0; n + 1];
        let mut weekdays_from = vec![0.0; n + 1];
        for i in (0..n).rev() {
            weight_from[i] = weight_from[i + 1] + self.days[i].weight;
            weekdays_from[i] = weekdays_from[i + 1]
                + if is_weekday(self.days[i].date) {
                    1.0
                } else {
                    0.0
                };
        }
        let scale = f64::from(self.scale);
        let (mut scheduled, mut exposure) = (0.0, 0.0);
        for b in &self.workbooks {
            let d = self.day_of(b.created);
            match b.tpl.trigger {
                Daily(_) => scheduled += weekdays_from[d],
                Hourly => scheduled += 9.0 * weekdays_from[d],
                Manual | Webhook => exposure += b.rate * weight_from[d],
            }
        }
        let target = (TARGET_TOP_RUNS * scale - scheduled).max(0.4 * TARGET_TOP_RUNS * scale);
        let k = target / f64::max(exposure, 1e-9);
        let chat_exposure: f64 = self
            .agents
            .iter()
            .map(|a| a.rate * weight_from[self.day_of(a.created)])
            .sum();
        let k_chat = TARGET_CHATS * scale / f64::max(chat_exposure, 1e-9);
        self.workbooks.iter_mut().for_each(|b| b.rate *= k);
        self.agents.iter_mut().for_each(|a| a.rate *= k_chat);
        self.external_rate = TARGET_EXTERNAL_CALLS * scale / f64::max(weight_from[0], 1e-9);
        self.per_member = scale * BASE_MEMBERS as f64 / self.members.len() as f64;
    }

    /// Index of the local day containing `at` (clamped to the window).
    fn day_of(&self, at: DateTime<Utc>) -> usize {
        self.days
            .partition_point(|d| d.end <= at)
            .min(self.days.len() - 1)
    }

    /// Platform API keys usable at `at`, preferring those of `space`.
    pub(super) fn key_for(
        &self,
        rng: &mut StdRng,
        space: usize,
        at: DateTime<Utc>,
    ) -> Option<usize> {
        let valid: Vec<usize> = (0..self.keys.len())
            .filter(|&k| self.keys[k].created <= at && self.keys[k].revoked.is_none_or(|r| r > at))
            .collect();
        let own: Vec<usize> = valid
            .iter()
            .copied()
            .filter(|&k| self.keys[k].team == space)
            .collect();
        let from = if own.is_empty() { &valid } else { &own };
        (!from.is_empty()).then(|| from[rng.random_range(0..from.len())])
    }
}

impl Workbook {
    /// Pipeline version at `at`: the workbook is edited every `edit_days` days.
    pub(super) fn version_at(&self, at: DateTime<Utc>) -> i64 {
        1 + (at - self.created).num_days() / self.edit_days
    }
}

impl Agent {
    pub(super) fn version_at(&self, at: DateTime<Utc>) -> usize {
        self.versions.iter().rposition(|v| v.at <= at).unwrap_or(0)
    }
}
