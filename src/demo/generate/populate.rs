//! Populating the organization: members joining in waves, team and personal workbooks,
//! agents and their versions, API keys. Part of `World::build`, in its own file because
//! it is most of the world's code.

use super::facts::{
    AGENT_TEMPLATES, AgentTpl, BROWSERS, CONTRACTORS, DOMAIN, ENGINEERING, FINANCE, FIRST_NAMES,
    KEYS, LAST_NAMES, MODELS, OFFICE_IPS, OPERATIONS, PROMPT_ADDENDA, SERVERS, TEAMS, WB_TEMPLATES,
    WbTpl,
};
use super::random::{between, days, lognormal, minutes, pick, pick_ref, round2, weighted};
use super::world::{Agent, Key, Member, Space, Version, Workbook, World};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use std::collections::HashSet;

impl World {
    /// Members join in three waves: the creator, one lead per team in the first week, then a
    /// rush in the first three weeks and steady hiring after.
    pub(super) fn add_members(&mut self, rng: &mut StdRng, n: usize) {
        let weights: Vec<f64> = TEAMS[..self.n_teams].iter().map(|t| t.weight).collect();
        let late_from = self.created + Duration::days(21);
        let late_span = (self.now - Duration::days(14) - late_from)
            .num_minutes()
            .max(1);
        let mut joins: Vec<(DateTime<Utc>, usize)> = (0..n)
            .map(|i| match i {
                0 => (self.created, OPERATIONS),
                i if i <= self.n_teams => (self.created + minutes(rng, 30, 7 * 24 * 60), i - 1),
                _ => {
                    let at = if rng.random_bool(0.45) {
                        self.created + minutes(rng, 60, 21 * 24 * 60)
                    } else {
                        late_from + minutes(rng, 0, late_span)
                    };
                    (at, weighted(rng, &weights))
                }
            })
            .collect();
        joins.sort_by_key(|j| j.0);
        let mut used = HashSet::new();
        for (i, (joined, team)) in joins.into_iter().enumerate() {
            let member = self.member(rng, &mut used, i, joined, team);
            self.spaces[team].members.push(i);
            self.spaces.push(Space {
                id: format!("personal-{}", member.id),
                name: format!("{} (personal)", member.name),
                members: vec![i],
            });
            self.members.push(member);
        }
        for t in [ENGINEERING, FINANCE] {
            if let Some(&lead) = self.spaces[t].members.first() {
                self.members[lead].admin = true;
            }
        }
        self.external_users = (0..self.members.len())
            .filter(|&m| {
                let technical = matches!(
                    TEAMS[self.members[m].team].slug,
                    "engineering" | "data" | "product" | "it"
                );
                rng.random_bool(if technical { 0.4 } else { 0.05 })
            })
            .collect();
        if self.external_users.is_empty() {
            self.external_users.push(0);
        }
    }

    fn member(
        &self,
        rng: &mut StdRng,
        used: &mut HashSet<(usize, usize)>,
        i: usize,
        joined: DateTime<Utc>,
        team: usize,
    ) -> Member {
        let (first, last) = loop {
            let pair = (
                rng.random_range(0..FIRST_NAMES.len()),
                rng.random_range(0..LAST_NAMES.len()),
            );
            if used.insert(pair) {
                break (FIRST_NAMES[pair.0], LAST_NAMES[pair.1]);
            }
        };
        let id = format!("usr_{:04}", i + 1);
        let mut roles: Vec<usize> = TEAMS[team]
            .roles
            .iter()
            .copied()
            .filter(|_| rng.random_bool(0.4))
            .collect();
        if rng.random_bool(0.05) {
            roles.push(CONTRACTORS);
        }
        roles.truncate(2);
        Member {
            name: format!("{first} {last}"),
            email: format!("{}.{}@{DOMAIN}", first.to_lowercase(), last.to_lowercase()),
            joined,
            team,
            // Personal spaces follow the teams, in member order.
            personal: self.n_teams + i,
            roles,
            admin: i == 0,
            activity: lognormal(rng, 1.0, 0.5).clamp(0.2, 3.0),
            office_ip: pick(rng, &OFFICE_IPS),
            home_ip: format!("192.0.2.{}", rng.random_range(2..255)),
            browser: pick(rng, &BROWSERS),
            id,
        }
    }

    pub(super) fn add_workbooks(&mut self, rng: &mut StdRng, n_personal: usize) {
        let mut books = Vec::new();
        for (t, def) in TEAMS.iter().enumerate().take(self.n_teams) {
            for tpl in WB_TEMPLATES.iter().filter(|tpl| tpl.team == def.name) {
                let at = if rng.random_bool(0.35) {
                    self.created + minutes(rng, 60, 30 * 24 * 60)
                } else {
                    between(
                        rng,
                        self.created + Duration::days(30),
                        self.now - Duration::days(20),
                    )
                };
                let (at, owner) = self.member_at(rng, t, at);
                books.push(self.workbook(rng, tpl, t, owner, at));
            }
        }
        let personal: Vec<&'static WbTpl> =
            WB_TEMPLATES.iter().filter(|t| t.team.is_empty()).collect();
        for i in 0..n_personal {
            let owner = rng.random_range(0..self.members.len());
            let joined = self.members[owner].joined;
            let at = (joined + days(lognormal(rng, 25.0, 0.8)))
                .min(self.now - Duration::days(10))
                .max(joined + Duration::hours(1));
            books.push(self.workbook(
                rng,
                personal[i % personal.len()],
                self.members[owner].personal,
                owner,
                at,
            ));
        }
        books.sort_by_key(|b| b.created);
        for (i, b) in books.iter_mut().enumerate() {
            b.id = format!("wb_{:04}", i + 1);
        }
        self.workbooks = books;
    }

    fn workbook(
        &self,
        rng: &mut StdRng,
        tpl: &'static WbTpl,
        space: usize,
        owner: usize,
        created: DateTime<Utc>,
    ) -> Workbook {
        let (cost, secs) = if tpl.ai { (6.0, 75.0) } else { (1.5, 20.0) };
        Workbook {
            id: String::new(),
            tpl,
            space,
            owner,
            created,
            rate: lognormal(rng, 1.0, 0.9),
            cost_median: lognormal(rng, cost, 0.5),
            duration_median: lognormal(rng, secs, 0.6),
            subflow_p: if rng.random_bool(0.45) { 0.22 } else { 0.0 },
            edit_days: rng.random_range(12..60),
        }
    }

    pub(super) fn add_agents(&mut self, rng: &mut StdRng, n: usize) {
        let mut agents = Vec::new();
        for (t, def) in TEAMS.iter().enumerate().take(self.n_teams) {
            for tpl in AGENT_TEMPLATES.iter().filter(|a| a.team == def.name) {
                let at = between(
                    rng,
                    self.created + Duration::days(14),
                    self.now - Duration::days(21),
                );
                let (at, creator) = self.member_at(rng, t, at);
                let folder = match rng.random_range(0..4) {
                    0 => Some((format!("fld_{}_prod", def.slug), "Production")),
                    1 => Some((format!("fld_{}_exp", def.slug), "Experiments")),
                    _ => None,
                };
                agents.push(self.agent(rng, tpl, t, creator, at, folder));
            }
        }
        let personal: Vec<&'static AgentTpl> = AGENT_TEMPLATES
            .iter()
            .filter(|a| a.team.is_empty())
            .collect();
        for i in agents.len()..n {
            let owner = rng.random_range(0..self.members.len());
            let joined = self.members[owner].joined;
            let at = (joined + days(lognormal(rng, 40.0, 0.8)))
                .min(self.now - Duration::days(5))
                .max(joined + Duration::hours(2));
            let tpl = personal[i % personal.len()];
            agents.push(self.agent(rng, tpl, self.members[owner].personal, owner, at, None));
        }
        agents.sort_by_key(|a| a.created);
        for (i, a) in agents.iter_mut().enumerate() {
            a.id = format!("agt_{:04}", i + 1);
        }
        self.agents = agents;
    }

    fn agent(
        &self,
        rng: &mut StdRng,
        tpl: &'static AgentTpl,
        space: usize,
        creator: usize,
        created: DateTime<Utc>,
        folder: Option<(String, &'static str)>,
    ) -> Agent {
        let personal = tpl.team.is_empty();
        Agent {
            id: String::new(),
            tpl,
            space,
            creator,
            created,
            folder,
            versions: versions(rng, tpl, created, self.now),
            rate: lognormal(rng, 1.0, 0.7) * if personal { 0.45 } else { 1.0 },
            tool_rate: rng.random_range(0.08..0.35),
            flow_p: if rng.random_bool(0.25) { 0.3 } else { 0.0 },
        }
    }

    pub(super) fn add_keys(&mut self, rng: &mut StdRng) {
        for (i, &(name, team, revoked)) in KEYS.iter().enumerate() {
            let owner = self.spaces[team].members[0];
            let created =
                self.members[owner].joined + Duration::days(1) + minutes(rng, 0, 120 * 24 * 60);
            let revoked = revoked
                .then(|| created + Duration::days(rng.random_range(150..220)))
                .filter(|r| *r < self.now - Duration::days(7));
            self.keys.push(Key {
                id: format!("ak_{:04}", i + 1),
                name,
                owner,
                team,
                created,
                revoked,
            });
        }
    }
}

/// One to four configurations, weeks apart; each differs from the previous one.
fn versions(
    rng: &mut StdRng,
    tpl: &AgentTpl,
    created: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Version> {
    let mut current = Version {
        at: created,
        model: tpl.model,
        prompt: tpl.prompt.into(),
        servers: tpl.servers.to_vec(),
        evaluations: false,
        temperature: round2(rng.random_range(0.1..0.6)),
    };
    let n = pick(rng, &[1, 2, 2, 3, 3, 4, 4]);
    let offset = rng.random_range(0..PROMPT_ADDENDA.len());
    let mut out = vec![current.clone()];
    for k in 1..n {
        current.at += days(lognormal(rng, 14.0, 0.7)) + Duration::hours(1);
        if current.at > now - Duration::hours(2) {
            break;
        }
        current.prompt.push(' ');
        current
            .prompt
            .push_str(PROMPT_ADDENDA[(offset + k) % PROMPT_ADDENDA.len()]);
        if rng.random_bool(0.35) {
            current.model = rng.random_range(0..MODELS.len());
        }
        if rng.random_bool(0.3) {
            let extra = pick_ref(rng, SERVERS).id;
            if !current.servers.contains(&extra) {
                current.servers.push(extra);
            }
        }
        if rng.random_bool(0.3) {
            current.evaluations = !current.evaluations;
        }
        out.push(current.clone());
    }
    out
}
