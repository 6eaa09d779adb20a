//! Demo data: one realistic organization of an AI-workflow platform (teams, members, custom
//! roles, workbooks, agents, API keys) and thirteen months of its six record streams, for
//! `outflow demo`.
//!
//! Everything derives from `(scale, now, seed)`. Every stream draws each day from its own
//! seeded generator, so a stream that refers to another one (credit logs charge the runs and
//! chats, tool calls happen inside them, audit logs record API-started runs) regenerates that
//! day of the other stream instead of holding a year of records in memory. A day's events
//! never start before the day but may end after it (a run finishing past midnight is charged
//! then); they wait in a small heap until no earlier event can come, which keeps every stream
//! in time order.

use crate::domain::entity::{
    ApiKeyInput, CustomRoleInput, MemberInput, OrgInput, Privacy, Role, TeamInput, WorkbookInput,
};
use crate::domain::time::format_timestamp;
use crate::domain::{DataType, Id};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashSet};
use std::sync::Arc;

/// The demo organization: the entities to upsert before its records are ingested.
#[derive(Debug, Clone)]
pub struct DemoOrg {
    /// Organization id.
    pub org_id: Id,
    /// Organization settings.
    pub org: OrgInput,
    /// Custom roles (permission groups).
    pub custom_roles: Vec<(Id, CustomRoleInput)>,
    /// Organization teams only; the store creates personal spaces from `personal_team_id`.
    pub teams: Vec<(Id, TeamInput)>,
    /// Members in joining order; the first created the organization and is an admin.
    pub members: Vec<(Id, MemberInput)>,
    /// Workbooks of teams and of personal spaces.
    pub workbooks: Vec<(Id, WorkbookInput)>,
    /// Keys of the platform's own API.
    pub api_keys: Vec<(Id, ApiKeyInput)>,
    /// The first member, an admin.
    pub admin_user_id: Id,
    world: Arc<World>,
}

/// Builds the organization and its entities. `scale` >= 1 multiplies members/teams mildly and
/// records linearly.
pub fn organization(scale: u32, now: DateTime<Utc>, seed: u64) -> DemoOrg {
    let world = Arc::new(World::build(scale.max(1), now, seed));
    DemoOrg {
        org_id: id(ORG_ID),
        org: OrgInput {
            name: ORG_NAME.into(),
            billing_anchor_day: BILLING_ANCHOR_DAY as u8,
            timezone: ORG_TZ.name().into(),
            privacy: Some(Privacy::Visible),
        },
        custom_roles: ROLES
            .iter()
            .map(|(rid, name)| {
                (
                    id(rid),
                    CustomRoleInput {
                        name: (*name).into(),
                    },
                )
            })
            .collect(),
        teams: team_inputs(&world),
        members: member_inputs(&world),
        workbooks: workbook_inputs(&world),
        api_keys: key_inputs(&world),
        admin_user_id: id(&world.members[0].id),
        world,
    }
}

/// Lazily generates the records of one data type as ingest-shaped JSON objects (`org_id` plus
/// catalog field ids), roughly in time order (credit logs strictly, for their running balance).
///
/// `scale`, `now` and `seed` must be those `org` was built with: the records are derived from
/// the organization's own copy of them.
pub fn records(
    org: &DemoOrg,
    data_type: DataType,
    scale: u32,
    now: DateTime<Utc>,
    seed: u64,
) -> Box<dyn Iterator<Item = Value> + Send> {
    let w = Arc::clone(&org.world);
    debug_assert!(
        w.scale == scale.max(1) && w.now == now && w.seed == seed,
        "records() needs the arguments organization() got"
    );
    match data_type {
        DataType::Workflows => {
            let items = Ordered::new(Arc::clone(&w), run_items);
            Box::new(items.map(move |(_, run)| run_json(&w, &run)))
        }
        DataType::Agents => agent_records(w),
        DataType::AgentInteractions => {
            let items = Ordered::new(Arc::clone(&w), chat_items);
            Box::new(items.map(move |(_, chat)| chat_json(&w, &chat)))
        }
        DataType::CreditLogs => ledger(w),
        DataType::AuditLogs => audit_log(w),
        DataType::ToolCalls => {
            let items = Ordered::new(Arc::clone(&w), call_items);
            Box::new(items.map(move |(_, call)| call_json(&w, &call)))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed facts of the demo organization.

const ORG_ID: &str = "acme-robotics";
const ORG_NAME: &str = "Acme Robotics";
const DOMAIN: &str = "acme.example";
/// Days, business hours and credit resets follow the organization's local calendar.
const ORG_TZ: Tz = chrono_tz::America::New_York;
const BILLING_ANCHOR_DAY: u32 = 15;

const BASE_TEAMS: usize = 10;
const BASE_MEMBERS: usize = 112;
const BASE_PERSONAL_WORKBOOKS: usize = 20;
const BASE_AGENTS: usize = 40;

/// Volumes over the whole window at scale 1 that the rates are calibrated to.
const TARGET_TOP_RUNS: f64 = 56_000.0;
const TARGET_CHATS: f64 = 27_000.0;
const TARGET_EXTERNAL_CALLS: f64 = 2_000.0;

/// Credits granted at every billing-period start (times `scale`).
const MONTHLY_ALLOTMENT: f64 = 90_000.0;
const CREDITS_PER_USD: f64 = 100.0;
const TOOL_CALL_CREDITS: f64 = 0.3;
/// Charged per session outside the web app.
const PLATFORM_FEE: f64 = 0.1;

// Stream tags: each stream has its own generator per day, so streams never shift each other.
const S_ORG: u64 = 1;
const S_RUNS: u64 = 2;
const S_CHATS: u64 = 3;
const S_EXTERNAL: u64 = 4;
const S_MISC: u64 = 5;
const S_AUDIT: u64 = 6;

#[derive(Debug)]
struct TeamDef {
    name: &'static str,
    slug: &'static str,
    /// Share of the members.
    weight: f64,
    /// Custom roles (indexes into `ROLES`) its members tend to hold.
    roles: &'static [usize],
}

const fn team(
    name: &'static str,
    slug: &'static str,
    weight: f64,
    roles: &'static [usize],
) -> TeamDef {
    TeamDef {
        name,
        slug,
        weight,
        roles,
    }
}

/// Teams in the order they are used: the first `BASE_TEAMS` at scale 1, more as it grows.
static TEAMS: [TeamDef; 16] = [
    team("Engineering", "engineering", 22.0, &[0, 1]),
    team("Sales", "sales", 15.0, &[3]),
    team("Marketing", "marketing", 9.0, &[1]),
    team("Finance", "finance", 6.0, &[2]),
    team("Customer Success", "customer-success", 11.0, &[1, 3]),
    team("Operations", "operations", 7.0, &[0, 2]),
    team("People", "people", 5.0, &[]),
    team("Legal", "legal", 3.0, &[4]),
    team("Data & Analytics", "data", 7.0, &[0, 4]),
    team("Product", "product", 8.0, &[0, 1]),
    team("Security", "security", 4.0, &[4]),
    team("Support", "support", 7.0, &[1]),
    team("Revenue Operations", "revops", 4.0, &[3]),
    team("Design", "design", 4.0, &[]),
    team("IT", "it", 3.0, &[0]),
    team("Procurement", "procurement", 3.0, &[2]),
];
const ENGINEERING: usize = 0;
const FINANCE: usize = 3;
const OPERATIONS: usize = 5;

static ROLES: [(&str, &str); 6] = [
    ("role-workflow-builders", "Workflow Builders"),
    ("role-agent-publishers", "Agent Publishers"),
    ("role-finance-approvers", "Finance Approvers"),
    ("role-sales-ops", "Sales Ops"),
    ("role-data-stewards", "Data Stewards"),
    ("role-contractors", "External Contractors"),
];
const CONTRACTORS: usize = 5;

#[rustfmt::skip]
static FIRST_NAMES: [&str; 64] = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark",
    "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Joshua", "Amanda", "Kevin", "Melissa",
    "Brian", "Stephanie", "George", "Rebecca", "Priya", "Wei", "Carlos", "Sofia", "Aisha",
    "Mateo", "Yuki", "Omar", "Elena", "Lucas", "Nina", "Rahul", "Fatima", "Diego", "Hannah",
    "Ethan", "Chloe", "Noah", "Maya", "Liam", "Zoe", "Arjun", "Leila", "Mei",
];

#[rustfmt::skip]
static LAST_NAMES: [&str; 64] = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "Kim", "Chen", "Singh",
    "Okafor", "Novak", "Schmidt", "Rossi", "Tanaka", "Kowalski", "Haddad", "Larsen", "Dubois",
    "Murphy",
];

/// Office egress addresses (documentation ranges only).
static OFFICE_IPS: [&str; 3] = ["203.0.113.10", "203.0.113.24", "203.0.113.37"];

static BROWSERS: [&str; 5] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
];
const API_USER_AGENT: &str = "python-requests/2.32.3";

/// How a workbook's runs start.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Trigger {
    Manual,
    Webhook,
    /// Every weekday at this local hour.
    Daily(i64),
    /// Every weekday hour from 9:00 to 17:00.
    Hourly,
}

#[derive(Debug)]
struct WbTpl {
    /// Team name; empty for personal-space workbooks.
    team: &'static str,
    name: &'static str,
    ai: bool,
    trigger: Trigger,
    nodes: &'static [&'static str],
    /// MCP servers its nodes call.
    servers: &'static [&'static str],
}

const fn wb(
    team: &'static str,
    name: &'static str,
    ai: bool,
    trigger: Trigger,
    nodes: &'static [&'static str],
    servers: &'static [&'static str],
) -> WbTpl {
    WbTpl {
        team,
        name,
        ai,
        trigger,
        nodes,
        servers,
    }
}

use Trigger::{Daily, Hourly, Manual, Webhook};

// One entry per line: the tables read as tables.
#[rustfmt::skip]
static WB_TEMPLATES: &[WbTpl] = &[
    wb("Engineering", "PR Review Summaries", true, Webhook, &["GitHub Reader", "Ask AI", "Slack Message Sender"], &["github", "slack"]),
    wb("Engineering", "Incident Postmortem Drafts", true, Manual, &["Jira Reader", "Ask AI", "Google Docs Writer"], &["jira", "google-drive"]),
    wb("Engineering", "Release Notes Generator", true, Manual, &["GitHub Reader", "Summarizer", "Notion Writer"], &["github", "notion"]),
    wb("Engineering", "On-call Daily Digest", true, Daily(8), &["Jira Reader", "Slack Reader", "Ask AI", "Slack Message Sender"], &["jira", "slack"]),
    wb("Engineering", "Dependency Update Triage", true, Daily(6), &["GitHub Reader", "Categorizer", "Jira Writer"], &["github", "jira"]),
    wb("Engineering", "Bug Report Deduplication", true, Webhook, &["Jira Reader", "Embedding Search", "Jira Writer"], &["jira"]),
    wb("Sales", "Inbound Lead Enrichment", true, Webhook, &["Webhook Input", "Web Scraper", "Ask AI", "Salesforce Writer"], &["salesforce"]),
    wb("Sales", "Lead Scoring", true, Hourly, &["Salesforce Reader", "Ask AI", "Salesforce Writer"], &["salesforce"]),
    wb("Sales", "Call Notes to CRM", true, Webhook, &["Transcript Reader", "Summarizer", "Salesforce Writer"], &["salesforce"]),
    wb("Sales", "Account Research Briefs", true, Manual, &["Web Search", "Ask AI", "Google Docs Writer"], &["google-drive"]),
    wb("Sales", "Pipeline Hygiene Report", false, Daily(7), &["Salesforce Reader", "Filter", "Google Sheets Writer"], &["salesforce", "google-drive"]),
    wb("Sales", "Outbound Email Personalizer", true, Manual, &["Google Sheets Reader", "Ask AI", "Gmail Draft Creator"], &["gmail"]),
    wb("Marketing", "Blog Draft Pipeline", true, Manual, &["Google Docs Reader", "Ask AI", "Google Docs Writer"], &["google-drive"]),
    wb("Marketing", "SEO Brief Generator", true, Manual, &["Web Search", "Web Scraper", "Ask AI"], &[]),
    wb("Marketing", "Social Listening Digest", true, Daily(9), &["Web Search", "Sentiment Analyzer", "Slack Message Sender"], &["slack"]),
    wb("Marketing", "Webinar Follow-ups", true, Webhook, &["HubSpot Reader", "Ask AI", "Gmail Sender"], &["hubspot", "gmail"]),
    wb("Marketing", "Campaign Performance Report", false, Daily(7), &["HubSpot Reader", "Combine Lists", "Google Sheets Writer"], &["hubspot"]),
    wb("Finance", "Invoice Data Extraction", true, Webhook, &["Gmail Reader", "PDF Extractor", "Extract Data", "Google Sheets Writer"], &["gmail", "google-drive"]),
    wb("Finance", "Expense Policy Check", true, Webhook, &["Webhook Input", "Ask AI", "Slack Message Sender"], &["slack"]),
    wb("Finance", "Month-end Close Checklist", false, Daily(6), &["Google Sheets Reader", "Filter", "Slack Message Sender"], &["slack"]),
    wb("Finance", "Vendor Payment Reconciliation", false, Daily(5), &["Snowflake Reader", "Join", "Google Sheets Writer"], &["snowflake"]),
    wb("Finance", "Spend Anomaly Alerts", true, Daily(10), &["Snowflake Reader", "Ask AI", "Slack Message Sender"], &["snowflake", "slack"]),
    wb("Customer Success", "Churn Risk Alerts", true, Daily(7), &["Salesforce Reader", "Zendesk Reader", "Ask AI", "Slack Message Sender"], &["salesforce", "zendesk", "slack"]),
    wb("Customer Success", "QBR Deck Prep", true, Manual, &["Salesforce Reader", "Ask AI", "Google Slides Writer"], &["salesforce", "google-drive"]),
    wb("Customer Success", "Ticket Sentiment Analysis", true, Webhook, &["Zendesk Reader", "Sentiment Analyzer", "Zendesk Writer"], &["zendesk"]),
    wb("Customer Success", "Renewal Reminders", false, Daily(8), &["Salesforce Reader", "Filter", "Gmail Sender"], &["salesforce", "gmail"]),
    wb("Customer Success", "NPS Theme Analysis", true, Manual, &["Google Sheets Reader", "Categorizer", "Ask AI"], &[]),
    wb("Operations", "Weekly KPI Digest", true, Daily(7), &["Snowflake Reader", "Ask AI", "Slack Message Sender"], &["snowflake", "slack"]),
    wb("Operations", "Vendor Onboarding", false, Manual, &["Form Input", "Google Drive Writer", "Gmail Sender"], &["google-drive", "gmail"]),
    wb("Operations", "Contract Renewal Tracker", false, Daily(6), &["Google Sheets Reader", "Filter", "Slack Message Sender"], &["slack"]),
    wb("Operations", "Meeting Notes Distributor", true, Webhook, &["Google Docs Reader", "Summarizer", "Slack Message Sender"], &["google-drive", "slack"]),
    wb("Operations", "Purchase Request Routing", true, Webhook, &["Form Input", "Ask AI", "Jira Writer"], &["jira"]),
    wb("People", "Resume Screening", true, Webhook, &["Gmail Reader", "PDF Extractor", "Ask AI", "Google Sheets Writer"], &["gmail", "google-drive"]),
    wb("People", "New Hire Onboarding", false, Webhook, &["Webhook Input", "Jira Writer", "Slack Message Sender"], &["jira", "slack"]),
    wb("People", "Policy Q&A Sync", true, Daily(4), &["Notion Reader", "Embedding Indexer"], &["notion"]),
    wb("People", "Interview Feedback Summaries", true, Manual, &["Google Docs Reader", "Summarizer", "Gmail Sender"], &["google-drive", "gmail"]),
    wb("Legal", "NDA Review", true, Manual, &["Google Drive Reader", "Ask AI", "Google Docs Writer"], &["google-drive"]),
    wb("Legal", "Contract Clause Extraction", true, Manual, &["PDF Extractor", "Extract Data", "Google Sheets Writer"], &["google-drive"]),
    wb("Legal", "Regulatory Watch", true, Daily(6), &["Web Search", "Summarizer", "Gmail Sender"], &["gmail"]),
    wb("Data & Analytics", "Warehouse Freshness Check", false, Hourly, &["Snowflake Reader", "Filter", "Slack Message Sender"], &["snowflake", "slack"]),
    wb("Data & Analytics", "Metric Anomaly Explainer", true, Daily(9), &["Snowflake Reader", "Ask AI", "Slack Message Sender"], &["snowflake", "slack"]),
    wb("Data & Analytics", "Ad-hoc SQL Assistant", true, Manual, &["Text Input", "Ask AI", "Snowflake Reader"], &["snowflake"]),
    wb("Data & Analytics", "Dashboard Snapshot Digest", false, Daily(8), &["Snowflake Reader", "Chart Builder", "Gmail Sender"], &["snowflake", "gmail"]),
    wb("Data & Analytics", "Data Quality Alerts", true, Webhook, &["Webhook Input", "Ask AI", "Jira Writer"], &["jira"]),
    wb("Product", "Feature Request Clustering", true, Daily(5), &["Zendesk Reader", "Jira Reader", "Categorizer", "Notion Writer"], &["zendesk", "jira", "notion"]),
    wb("Product", "User Interview Synthesis", true, Manual, &["Google Docs Reader", "Ask AI", "Notion Writer"], &["google-drive", "notion"]),
    wb("Product", "Changelog Publisher", true, Manual, &["Notion Reader", "Ask AI", "Slack Message Sender"], &["notion", "slack"]),
    wb("Product", "Competitor Release Tracker", true, Daily(11), &["Web Scraper", "Ask AI", "Notion Writer"], &["notion"]),
    wb("Security", "Access Review Reminders", false, Daily(9), &["Google Sheets Reader", "Filter", "Slack Message Sender"], &["slack"]),
    wb("Security", "Phishing Report Triage", true, Webhook, &["Gmail Reader", "Ask AI", "Jira Writer"], &["gmail", "jira"]),
    wb("Security", "Vulnerability Digest", true, Daily(7), &["GitHub Reader", "Ask AI", "Jira Writer"], &["github", "jira"]),
    wb("Support", "Ticket Auto-Triage", true, Webhook, &["Zendesk Reader", "Categorizer", "Zendesk Writer"], &["zendesk"]),
    wb("Support", "Macro Suggestions", true, Webhook, &["Zendesk Reader", "Ask AI", "Zendesk Writer"], &["zendesk"]),
    wb("Support", "Escalation Summaries", true, Manual, &["Zendesk Reader", "Summarizer", "Slack Message Sender"], &["zendesk", "slack"]),
    wb("Revenue Operations", "Territory Assignment", false, Manual, &["Salesforce Reader", "Router", "Salesforce Writer"], &["salesforce"]),
    wb("Revenue Operations", "Forecast Rollup", false, Daily(6), &["Salesforce Reader", "Group By", "Google Sheets Writer"], &["salesforce", "google-drive"]),
    wb("Revenue Operations", "Quote Approval Router", true, Webhook, &["Webhook Input", "Ask AI", "Slack Message Sender"], &["slack"]),
    wb("Design", "Design Feedback Digest", true, Daily(9), &["Slack Reader", "Summarizer", "Notion Writer"], &["slack", "notion"]),
    wb("Design", "Asset Tagging", true, Webhook, &["Google Drive Reader", "Image Analyzer", "Google Sheets Writer"], &["google-drive"]),
    wb("IT", "Laptop Provisioning", false, Webhook, &["Form Input", "Jira Writer", "Gmail Sender"], &["jira", "gmail"]),
    wb("IT", "Helpdesk Ticket Router", true, Webhook, &["Jira Reader", "Categorizer", "Jira Writer"], &["jira"]),
    wb("IT", "License Usage Audit", false, Daily(3), &["Google Sheets Reader", "Filter", "Slack Message Sender"], &["slack"]),
    wb("Procurement", "Vendor Risk Summary", true, Manual, &["Web Search", "Ask AI", "Google Docs Writer"], &["google-drive"]),
    wb("Procurement", "PO Matching", false, Daily(6), &["Google Sheets Reader", "Join", "Gmail Sender"], &["gmail"]),
    wb("", "Inbox Triage", true, Daily(7), &["Gmail Reader", "Categorizer", "Gmail Labeler"], &["gmail"]),
    wb("", "Meeting Notes Summary", true, Manual, &["Google Docs Reader", "Summarizer"], &["google-drive"]),
    wb("", "Daily News Brief", true, Daily(6), &["Web Search", "Summarizer", "Gmail Sender"], &["gmail"]),
    wb("", "Research Scratchpad", true, Manual, &["Text Input", "Web Search", "Ask AI"], &[]),
    wb("", "LinkedIn Post Drafts", true, Manual, &["Text Input", "Ask AI"], &[]),
    wb("", "Weekly Status Update", true, Manual, &["Jira Reader", "Ask AI", "Slack Message Sender"], &["jira", "slack"]),
    wb("", "Calendar Prep Notes", true, Daily(8), &["Google Calendar Reader", "Web Search", "Ask AI"], &[]),
    wb("", "Expense Receipt Parser", true, Manual, &["Image Input", "Extract Data", "Google Sheets Writer"], &["google-drive"]),
    wb("", "Slack Catch-up", true, Daily(9), &["Slack Reader", "Summarizer"], &["slack"]),
    wb("", "Reading List Summaries", true, Manual, &["Web Scraper", "Summarizer", "Notion Writer"], &["notion"]),
    wb("", "Lead List Cleanup", false, Manual, &["Google Sheets Reader", "Deduplicate", "Google Sheets Writer"], &["google-drive"]),
    wb("", "Competitor Pricing Scraper", true, Manual, &["Web Scraper", "Extract Data", "Google Sheets Writer"], &["google-drive"]),
    wb("", "Job Posting Drafts", true, Manual, &["Text Input", "Ask AI", "Google Docs Writer"], &["google-drive"]),
    wb("", "Translate Docs", true, Manual, &["Google Docs Reader", "Translator", "Google Docs Writer"], &["google-drive"]),
    wb("", "PR Digest", true, Daily(9), &["GitHub Reader", "Summarizer", "Slack Message Sender"], &["github", "slack"]),
    wb("", "Standup Notes", true, Daily(9), &["Slack Reader", "Summarizer", "Notion Writer"], &["slack", "notion"]),
    wb("", "Podcast Transcript Notes", true, Manual, &["Audio Transcriber", "Summarizer"], &[]),
    wb("", "Customer Quote Finder", true, Manual, &["Zendesk Reader", "Ask AI"], &["zendesk"]),
];

/// Which channels an agent's sessions come through.
#[derive(Debug)]
enum Channels {
    Chat,
    Slack,
    Api,
    Triggered(&'static [&'static str]),
}

impl Channels {
    /// Weights of chat, slack, api, triggered.
    fn mix(&self) -> [f64; 4] {
        match self {
            Channels::Chat => [8.0, 1.5, 0.4, 0.0],
            Channels::Slack => [3.0, 6.0, 0.4, 0.0],
            Channels::Api => [2.0, 1.0, 6.0, 0.5],
            Channels::Triggered(_) => [3.0, 1.0, 0.3, 5.0],
        }
    }

    fn triggers(&self) -> &'static [&'static str] {
        match self {
            Channels::Triggered(t) => t,
            _ => &["time_based"],
        }
    }
}

#[derive(Debug)]
struct AgentTpl {
    /// Team name; empty for personal agents.
    team: &'static str,
    name: &'static str,
    about: &'static str,
    servers: &'static [&'static str],
    /// Index into `MODELS` of the first version.
    model: usize,
    prompt: &'static str,
    topics: &'static [&'static str],
    channels: Channels,
}

// One entry per line: the tables read as tables.
#[rustfmt::skip]
static AGENT_TEMPLATES: &[AgentTpl] = &[
    AgentTpl { team: "Engineering", name: "Code Review Assistant", about: "Reviews pull requests and explains diffs", servers: &["github", "slack"], model: 0, prompt: "You are a senior engineer at Acme Robotics reviewing pull requests.", topics: &["Review PR #4821 (motor controller firmware)", "Why is the CI build flaky?", "Refactor plan for the telemetry service", "Explain this stack trace", "Migration plan for Postgres 16"], channels: Channels::Chat },
    AgentTpl { team: "Engineering", name: "Incident Commander", about: "Coordinates incidents and drafts status updates", servers: &["jira", "slack", "github"], model: 0, prompt: "You help the on-call engineer run incidents calmly and keep a precise timeline.", topics: &["SEV-2: elevated API latency", "Status page update for the EU outage", "Postmortem timeline for INC-311", "Who is on call for payments?"], channels: Channels::Slack },
    AgentTpl { team: "Engineering", name: "Engineering Docs Q&A", about: "Answers questions from the engineering handbook", servers: &["notion", "internal-docs", "github"], model: 1, prompt: "Answer engineering questions from the handbook and link the page you used.", topics: &["Rotate the staging DB credentials", "Where is the deploy runbook?", "What does fleet-sync do?", "Local setup for the simulator"], channels: Channels::Slack },
    AgentTpl { team: "Sales", name: "Sales Research Assistant", about: "Researches accounts before calls", servers: &["salesforce", "google-drive", "hubspot"], model: 4, prompt: "You research prospects for Acme Robotics account executives.", topics: &["Account brief: Globex Corporation", "Decision makers at Initech", "Prep for Umbrella Health discovery call", "Compare our pricing with the competition"], channels: Channels::Chat },
    AgentTpl { team: "Sales", name: "Deal Desk Copilot", about: "Checks quotes against the discount policy", servers: &["salesforce"], model: 2, prompt: "You check deal terms against the Acme discount and payment-terms policy.", topics: &["Discount approval for Stark Industries", "Non-standard payment terms", "Multi-year renewal quote"], channels: Channels::Api },
    AgentTpl { team: "Sales", name: "Prospecting Email Writer", about: "Drafts first-touch and follow-up emails", servers: &["gmail", "hubspot", "salesforce"], model: 3, prompt: "Write short, specific prospecting emails; never invent customer names.", topics: &["Follow-up for a new inbound lead", "Sequence step 2 for warehouse prospects", "Re-engage closed-lost accounts"], channels: Channels::Triggered(&["polling_new_record_salesforce", "time_based"]) },
    AgentTpl { team: "Marketing", name: "Content Writer", about: "Drafts blog posts and case studies", servers: &["google-drive", "notion"], model: 0, prompt: "You write in the Acme Robotics brand voice: plain, confident, concrete.", topics: &["Blog: 5 ways robots cut picking errors", "Case study draft: Vandelay Logistics", "Rewrite the homepage hero copy", "LinkedIn post for the ProMat launch"], channels: Channels::Chat },
    AgentTpl { team: "Marketing", name: "Campaign Analyst", about: "Explains campaign performance", servers: &["hubspot", "google-drive"], model: 5, prompt: "You analyse marketing campaign data and explain changes with numbers.", topics: &["Why did webinar signups drop?", "Attribution for the trade-show campaign", "Email A/B test readout"], channels: Channels::Chat },
    AgentTpl { team: "Finance", name: "Finance Analyst", about: "Answers questions on spend and forecasts", servers: &["snowflake", "google-drive"], model: 4, prompt: "You are a careful FP&A analyst; show the query behind every number.", topics: &["Variance analysis for October opex", "Cash runway scenarios", "Explain the jump in cloud spend", "Board metrics pack"], channels: Channels::Chat },
    AgentTpl { team: "Finance", name: "AP Invoice Assistant", about: "Checks incoming invoices against purchase orders", servers: &["gmail", "google-drive"], model: 3, prompt: "Extract invoice fields and match them to open purchase orders.", topics: &["Invoice from Initrode Supplies", "Duplicate invoice check", "PO mismatch on invoice 2291"], channels: Channels::Triggered(&["new_email_gmail"]) },
    AgentTpl { team: "Customer Success", name: "Support Copilot", about: "Helps CSMs answer customer questions", servers: &["zendesk", "salesforce", "slack"], model: 0, prompt: "You help customer success managers answer questions about Acme robots.", topics: &["Customer asks about SLA credits", "Gripper calibration error E42", "Draft reply to an escalated ticket", "Summarize this account's open tickets"], channels: Channels::Slack },
    AgentTpl { team: "Customer Success", name: "Account Health Monitor", about: "Watches usage and tickets for churn risk", servers: &["salesforce", "zendesk"], model: 6, prompt: "Flag accounts whose usage or ticket volume suggests churn risk.", topics: &["Weekly health digest", "Usage drop alert: Soylent Foods", "Renewal risk review"], channels: Channels::Triggered(&["time_based"]) },
    AgentTpl { team: "Operations", name: "Ops Helpdesk", about: "Answers operations and office questions", servers: &["slack", "notion", "jira"], model: 1, prompt: "Answer questions about Acme offices, travel and purchasing.", topics: &["How do I order a new laptop?", "Travel policy for customer visits", "Book the Austin office for an offsite", "Vendor contact for the badge system"], channels: Channels::Slack },
    AgentTpl { team: "Operations", name: "Vendor Manager", about: "Compares vendor quotes and contracts", servers: &["gmail", "google-drive"], model: 2, prompt: "Compare vendor offers on price, terms and risk.", topics: &["Quotes for warehouse racking", "Summarize the freight contract", "Vendor due-diligence checklist"], channels: Channels::Chat },
    AgentTpl { team: "People", name: "HR Policy Assistant", about: "Answers HR policy questions", servers: &["internal-docs", "notion"], model: 1, prompt: "Answer HR policy questions from the employee handbook only.", topics: &["How many PTO days do I have?", "Parental leave policy", "Home office expense limits", "Benefits enrollment deadline"], channels: Channels::Chat },
    AgentTpl { team: "People", name: "Recruiting Coordinator", about: "Screens candidates and schedules loops", servers: &["gmail", "google-drive"], model: 4, prompt: "Help recruiters shortlist candidates fairly against the job description.", topics: &["Shortlist for Senior Robotics Engineer", "Interview loop for the PM role", "Draft an offer letter"], channels: Channels::Chat },
    AgentTpl { team: "Legal", name: "Contract Reviewer", about: "Reviews contracts against the playbook", servers: &["google-drive"], model: 0, prompt: "Review contracts against the Acme legal playbook and cite clauses.", topics: &["Redline the Globex MSA", "Is this indemnity clause standard?", "NDA review: Hooli", "DPA gaps for EU customers"], channels: Channels::Chat },
    AgentTpl { team: "Data & Analytics", name: "SQL Copilot", about: "Writes and fixes warehouse queries", servers: &["snowflake"], model: 2, prompt: "Write Snowflake SQL against the analytics schema; explain each join.", topics: &["Weekly active robots by region", "Fix this window function", "Churn cohort query", "Why does this join duplicate rows?"], channels: Channels::Api },
    AgentTpl { team: "Data & Analytics", name: "Metrics Explainer", about: "Explains daily KPI movements", servers: &["snowflake", "slack"], model: 5, prompt: "Explain KPI movements in two sentences, then the evidence.", topics: &["Daily KPI explanation", "Anomaly: order volume spike", "Weekly metrics narrative"], channels: Channels::Triggered(&["time_based"]) },
    AgentTpl { team: "Product", name: "Product Feedback Analyst", about: "Clusters customer feedback", servers: &["zendesk", "jira", "notion"], model: 0, prompt: "Group customer feedback into themes and count how often each appears.", topics: &["Top feature requests this month", "Feedback about the fleet dashboard", "Beta feedback for Auto-Dock"], channels: Channels::Chat },
    AgentTpl { team: "Product", name: "Spec Writer", about: "Turns notes into product specs", servers: &["notion", "jira"], model: 4, prompt: "Turn rough notes into a crisp product spec with acceptance criteria.", topics: &["PRD draft: multi-site scheduling", "Acceptance criteria for the alerts API", "Turn these notes into user stories"], channels: Channels::Chat },
    AgentTpl { team: "Security", name: "Security Questionnaire Bot", about: "Answers customer security questionnaires", servers: &["google-drive", "internal-docs"], model: 1, prompt: "Answer security questionnaires from approved answers only.", topics: &["SIG Lite questionnaire for Globex", "Do we encrypt data at rest?", "SOC 2 evidence request"], channels: Channels::Api },
    AgentTpl { team: "Support", name: "Tier-1 Support Agent", about: "First-line support on the customer portal", servers: &["zendesk", "internal-docs"], model: 6, prompt: "Resolve common support questions; hand off to a human when unsure.", topics: &["Password reset help", "Robot offline troubleshooting", "Shipping status question", "Warranty claim"], channels: Channels::Api },
    AgentTpl { team: "Revenue Operations", name: "Forecast Analyst", about: "Reviews the sales forecast", servers: &["salesforce", "snowflake"], model: 4, prompt: "Review the forecast and call out slipped or risky deals.", topics: &["Commit vs best case for Q4", "Pipeline coverage by segment", "Slipped deals this week"], channels: Channels::Chat },
    AgentTpl { team: "Design", name: "Brand Voice Checker", about: "Checks copy against the brand guide", servers: &[], model: 3, prompt: "Check copy against the Acme brand guide and suggest edits.", topics: &["Check this landing page copy", "Tone review for the release email", "Alt text suggestions"], channels: Channels::Chat },
    AgentTpl { team: "IT", name: "IT Helpdesk Bot", about: "First-line IT support in Slack", servers: &["jira", "slack"], model: 1, prompt: "Help employees with IT issues and open a Jira ticket when needed.", topics: &["VPN not connecting", "Request access to Snowflake", "Reset my MFA device", "Laptop replacement"], channels: Channels::Slack },
    AgentTpl { team: "Procurement", name: "Procurement Assistant", about: "Helps buy software and services", servers: &["gmail", "google-drive"], model: 2, prompt: "Help employees buy software within the procurement policy.", topics: &["Compare three SaaS quotes", "Software renewal calendar", "RFP for contract manufacturing"], channels: Channels::Chat },
    AgentTpl { team: "", name: "Personal Assistant", about: "Email, calendar and documents", servers: &["gmail", "google-drive"], model: 0, prompt: "You are my personal assistant; be brief.", topics: &["Plan my week", "Summarize unread email", "Draft a reply to the vendor", "Prep for my 1:1"], channels: Channels::Chat },
    AgentTpl { team: "", name: "Research Buddy", about: "Reads and summarizes sources", servers: &[], model: 5, prompt: "Summarize sources faithfully and list what is uncertain.", topics: &["Reinforcement learning for grasping", "Summarize this paper", "Market size for warehouse robots"], channels: Channels::Chat },
    AgentTpl { team: "", name: "Writing Coach", about: "Edits drafts for clarity", servers: &[], model: 3, prompt: "Edit for clarity and brevity; keep my voice.", topics: &["Tighten this paragraph", "Make this email friendlier", "Proofread my self-review"], channels: Channels::Chat },
    AgentTpl { team: "", name: "Meeting Prep", about: "Prepares briefs before meetings", servers: &["google-drive", "gmail"], model: 4, prompt: "Prepare a one-page brief for my next meeting.", topics: &["Brief for the Globex QBR", "Agenda for the team offsite", "Questions for the candidate debrief"], channels: Channels::Chat },
    AgentTpl { team: "", name: "Inbox Zero Helper", about: "Triages new email", servers: &["gmail"], model: 6, prompt: "Triage my new email into act, read, archive.", topics: &["Triage new email", "Daily inbox summary", "Draft replies to follow-ups"], channels: Channels::Triggered(&["new_email_gmail"]) },
    AgentTpl { team: "", name: "Learning Tutor", about: "Explains topics step by step", servers: &[], model: 1, prompt: "Teach step by step and quiz me at the end.", topics: &["SQL window functions", "Quiz me on our product lineup", "Explain our pricing model"], channels: Channels::Chat },
];

/// Each new agent version appends one of these, so every version's configuration differs.
static PROMPT_ADDENDA: [&str; 7] = [
    "Always cite the source document.",
    "Keep answers under 200 words unless asked for detail.",
    "Ask a clarifying question when the request is ambiguous.",
    "Never share customer personal data outside the team.",
    "Use bullet points for lists of more than three items.",
    "Prefer the most recent data and state its date.",
    "Reply in the language of the question.",
];

#[derive(Debug)]
struct Server {
    id: &'static str,
    name: &'static str,
    tools: &'static [&'static str],
    /// Median latency of a successful call.
    latency_ms: f64,
    /// Hosted guMCP server (else a custom server behind the Gumstack gateway).
    hosted: bool,
    /// A typical failure of this server.
    error: &'static str,
}

// One entry per line: the tables read as tables.
#[rustfmt::skip]
static SERVERS: &[Server] = &[
    Server { id: "github", name: "GitHub", tools: &["search_issues", "get_pull_request", "list_commits", "create_issue", "add_comment"], latency_ms: 420.0, hosted: true, error: "Not Found: repository acme/legacy-api" },
    Server { id: "slack", name: "Slack", tools: &["post_message", "search_messages", "list_channels", "get_thread_replies"], latency_ms: 260.0, hosted: true, error: "channel_not_found: #deals-emea" },
    Server { id: "salesforce", name: "Salesforce", tools: &["query_records", "get_opportunity", "update_record", "create_lead"], latency_ms: 680.0, hosted: true, error: "INVALID_FIELD: No such column 'Churn_Risk__c' on entity 'Account'" },
    Server { id: "google-drive", name: "Google Drive", tools: &["search_files", "read_file", "create_document", "share_file"], latency_ms: 510.0, hosted: true, error: "File not found: 1Bx9kQ2vT0aYq" },
    Server { id: "gmail", name: "Gmail", tools: &["search_emails", "read_email", "create_draft", "send_email"], latency_ms: 390.0, hosted: true, error: "Invalid To header: 'finance-team'" },
    Server { id: "jira", name: "Jira", tools: &["search_issues", "get_issue", "create_issue", "transition_issue", "add_comment"], latency_ms: 540.0, hosted: true, error: "Issue does not exist or you do not have permission to see it." },
    Server { id: "notion", name: "Notion", tools: &["search_pages", "read_page", "create_page", "append_block"], latency_ms: 470.0, hosted: true, error: "Could not find block with ID: 9f2c1e77" },
    Server { id: "hubspot", name: "HubSpot", tools: &["get_contact", "search_companies", "update_deal", "log_activity"], latency_ms: 560.0, hosted: true, error: "Property 'lead_score_v2' does not exist" },
    Server { id: "zendesk", name: "Zendesk", tools: &["search_tickets", "get_ticket", "update_ticket", "add_internal_note"], latency_ms: 480.0, hosted: true, error: "RecordNotFound: ticket 88231" },
    Server { id: "snowflake", name: "Snowflake", tools: &["run_query", "list_tables", "describe_table"], latency_ms: 1_900.0, hosted: false, error: "SQL compilation error: Object 'ANALYTICS.PUBLIC.EVENTS_V2' does not exist" },
    Server { id: "internal-docs", name: "Internal Docs Search", tools: &["search", "fetch_document"], latency_ms: 350.0, hosted: false, error: "Index 'handbook' is rebuilding; try again shortly" },
];

static GENERIC_ERRORS: [&str; 3] = [
    "Request timed out after 30000 ms",
    "Upstream returned 502 Bad Gateway",
    "Rate limit exceeded; retry after 60 s",
];

/// A model and its list prices in US dollars per million tokens.
#[derive(Debug)]
struct Model {
    id: &'static str,
    input: f64,
    cached: f64,
    /// Cache writes; zero for providers that cache implicitly.
    write: f64,
    output: f64,
}

// One entry per line: the tables read as tables.
#[rustfmt::skip]
static MODELS: [Model; 7] = [
    Model { id: "anthropic/claude-sonnet-4-5", input: 3.0, cached: 0.3, write: 3.75, output: 15.0 },
    Model { id: "anthropic/claude-haiku-4-5", input: 1.0, cached: 0.1, write: 1.25, output: 5.0 },
    Model { id: "openai/gpt-4.1", input: 2.0, cached: 0.5, write: 0.0, output: 8.0 },
    Model { id: "openai/gpt-4.1-mini", input: 0.4, cached: 0.1, write: 0.0, output: 1.6 },
    Model { id: "openai/gpt-5", input: 1.25, cached: 0.125, write: 0.0, output: 10.0 },
    Model { id: "google/gemini-2.5-pro", input: 1.25, cached: 0.31, write: 0.0, output: 10.0 },
    Model { id: "google/gemini-2.5-flash", input: 0.3, cached: 0.075, write: 0.0, output: 2.5 },
];

/// Platform API keys: name, team (index into `TEAMS`), whether it was revoked.
static KEYS: [(&str, usize, bool); 6] = [
    ("Zapier integration", OPERATIONS, false),
    ("Customer portal", 4, false),
    ("Internal tools", ENGINEERING, false),
    ("Warehouse sync", 8, false),
    ("Legacy CI pipeline", ENGINEERING, true),
    ("Sales webhooks", 1, false),
];

static FILES: [(&str, &str); 10] = [
    (
        "Q3 forecast.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "Board deck draft.pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("MSA - Globex.pdf", "application/pdf"),
    ("Customer list export.csv", "text/csv"),
    ("Brand guidelines.pdf", "application/pdf"),
    (
        "Onboarding handbook.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("Invoice 2291.pdf", "application/pdf"),
    ("Call recording.m4a", "audio/mp4"),
    (
        "Security questionnaire.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("Product roadmap.pdf", "application/pdf"),
];

/// Relative activity of each local hour: office hours with a lunch dip.
static HOURS: [f64; 24] = [
    0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.5, 1.3, 3.2, 5.2, 6.0, 5.9, 4.6, 5.4, 5.9, 5.5, 4.6, 3.2,
    1.9, 1.3, 0.95, 0.7, 0.45, 0.25,
];

// ---------------------------------------------------------------------------------------------
// The generated organization.

#[derive(Debug)]
struct World {
    org_id: String,
    seed: u64,
    scale: u32,
    now: DateTime<Utc>,
    /// When the organization was created: nothing happens before.
    created: DateTime<Utc>,
    days: Vec<Day>,
    n_teams: usize,
    /// Organization teams first (`n_teams` of them), then one personal space per member.
    spaces: Vec<Space>,
    members: Vec<Member>,
    workbooks: Vec<Workbook>,
    agents: Vec<Agent>,
    keys: Vec<Key>,
    /// Members who call MCP servers from their own clients (IDEs, desktop assistants).
    external_users: Vec<usize>,
    /// External tool calls per unit of day weight.
    external_rate: f64,
    /// Multiplies per-member event rates so that volumes grow linearly with the scale.
    per_member: f64,
    allotment: f64,
}

/// One local calendar day of the organization.
#[derive(Debug)]
struct Day {
    date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// Activity relative to an ordinary weekday: weekends, holidays and adoption growth.
    weight: f64,
}

#[derive(Debug)]
struct Space {
    id: String,
    name: String,
    /// Members in joining order (a personal space: its owner).
    members: Vec<usize>,
}

#[derive(Debug)]
struct Member {
    id: String,
    name: String,
    email: String,
    joined: DateTime<Utc>,
    /// Space index of the home team.
    team: usize,
    /// Space index of the personal space.
    personal: usize,
    roles: Vec<usize>,
    admin: bool,
    activity: f64,
    office_ip: &'static str,
    home_ip: String,
    browser: &'static str,
}

#[derive(Debug)]
struct Workbook {
    id: String,
    tpl: &'static WbTpl,
    space: usize,
    owner: usize,
    created: DateTime<Utc>,
    /// Event-driven runs per unit of day weight (after calibration).
    rate: f64,
    cost_median: f64,
    duration_median: f64,
    /// Chance that a run starts subflow runs.
    subflow_p: f64,
    /// Days between edits of the pipeline (its version number).
    edit_days: i64,
}

#[derive(Debug)]
struct Agent {
    id: String,
    tpl: &'static AgentTpl,
    space: usize,
    creator: usize,
    created: DateTime<Utc>,
    folder: Option<(String, &'static str)>,
    versions: Vec<Version>,
    /// Sessions per unit of day weight (after calibration).
    rate: f64,
    /// Tool calls per conversation turn.
    tool_rate: f64,
    /// Chance that a session runs a workflow.
    flow_p: f64,
}

#[derive(Debug, Clone)]
struct Version {
    at: DateTime<Utc>,
    model: usize,
    prompt: String,
    servers: Vec<&'static str>,
    evaluations: bool,
    temperature: f64,
}

#[derive(Debug)]
struct Key {
    id: String,
    name: &'static str,
    owner: usize,
    team: usize,
    created: DateTime<Utc>,
    revoked: Option<DateTime<Utc>>,
}

impl World {
    fn build(scale: u32, now: DateTime<Utc>, seed: u64) -> World {
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

    /// Members join in three waves: the creator, one lead per team in the first week, then a
    /// rush in the first three weeks and steady hiring after.
    fn add_members(&mut self, rng: &mut StdRng, n: usize) {
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

    /// A member of `space` who had joined by `at`; if nobody had, its first member a day
    /// after joining (and that later time).
    fn member_at(
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
    fn active_member(&self, rng: &mut StdRng, at: DateTime<Utc>) -> Option<usize> {
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

    fn add_workbooks(&mut self, rng: &mut StdRng, n_personal: usize) {
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

    fn add_agents(&mut self, rng: &mut StdRng, n: usize) {
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

    fn add_keys(&mut self, rng: &mut StdRng) {
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
    fn key_for(&self, rng: &mut StdRng, space: usize, at: DateTime<Utc>) -> Option<usize> {
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
    fn version_at(&self, at: DateTime<Utc>) -> i64 {
        1 + (at - self.created).num_days() / self.edit_days
    }
}

impl Agent {
    fn version_at(&self, at: DateTime<Utc>) -> usize {
        self.versions.iter().rposition(|v| v.at <= at).unwrap_or(0)
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

// ---------------------------------------------------------------------------------------------
// Entity inputs.

fn team_inputs(w: &World) -> Vec<(Id, TeamInput)> {
    (0..w.n_teams)
        .map(|t| {
            let space = &w.spaces[t];
            let input = TeamInput {
                name: space.name.clone(),
                personal: false,
                owner_id: space.members.first().map(|&m| id(&w.members[m].id)),
                // HR data: the People team's records show pseudonyms whatever the org setting.
                privacy: (TEAMS[t].slug == "people").then_some(Privacy::Pseudonymized),
                created_at: Some(w.created + Duration::minutes(2 * t as i64 + 1)),
            };
            (id(&space.id), input)
        })
        .collect()
}

fn member_inputs(w: &World) -> Vec<(Id, MemberInput)> {
    w.members
        .iter()
        .map(|m| {
            let input = MemberInput {
                email: m.email.clone(),
                name: m.name.clone(),
                role: if m.admin { Role::Admin } else { Role::Member },
                custom_role_ids: m.roles.iter().map(|&r| id(ROLES[r].0)).collect(),
                department: Some(TEAMS[m.team].name.into()),
                joined_at: m.joined,
                personal_team_id: Some(id(&w.spaces[m.personal].id)),
            };
            (id(&m.id), input)
        })
        .collect()
}

fn workbook_inputs(w: &World) -> Vec<(Id, WorkbookInput)> {
    w.workbooks
        .iter()
        .map(|b| {
            let input = WorkbookInput {
                name: b.tpl.name.into(),
                team_id: Some(id(&w.spaces[b.space].id)),
                owner_id: Some(id(&w.members[b.owner].id)),
                created_at: Some(b.created),
            };
            (id(&b.id), input)
        })
        .collect()
}

fn key_inputs(w: &World) -> Vec<(Id, ApiKeyInput)> {
    w.keys
        .iter()
        .map(|k| {
            let input = ApiKeyInput {
                name: k.name.into(),
                owner_id: Some(id(&w.members[k.owner].id)),
                team_id: Some(id(&w.spaces[k.team].id)),
                created_at: Some(k.created),
                revoked_at: k.revoked,
            };
            (id(&k.id), input)
        })
        .collect()
}

fn id(s: &str) -> Id {
    Id::parse(s).expect("generated ids use only id characters")
}

// ---------------------------------------------------------------------------------------------
// Calendar.

/// The local days from just after `now - 13 months` up to today.
fn calendar(now: DateTime<Utc>) -> Vec<Day> {
    let floor = window_start(now);
    let first = (floor + Duration::hours(1))
        .with_timezone(&ORG_TZ)
        .date_naive()
        + Duration::days(1);
    let last = now.with_timezone(&ORG_TZ).date_naive();
    let dates: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let n = dates.len();
    dates
        .iter()
        .enumerate()
        .map(|(i, &date)| Day {
            date,
            start: local_midnight(date),
            end: local_midnight(date + Duration::days(1)),
            weight: seasonality(date) * (0.55 + 0.8 * i as f64 / n.max(2) as f64),
        })
        .collect()
}

/// The earliest instant any demo timestamp may have.
fn window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(13))
        .unwrap_or(now - Duration::days(396))
}

fn local_midnight(date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::MIN);
    ORG_TZ
        .from_local_datetime(&naive)
        .earliest()
        .map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc))
}

fn is_weekday(date: NaiveDate) -> bool {
    date.weekday().num_days_from_monday() < 5
}

/// Weekly rhythm, US holidays and the end-of-year and August lulls.
fn seasonality(date: NaiveDate) -> f64 {
    let week = match date.weekday() {
        Weekday::Mon => 1.0,
        Weekday::Tue => 1.08,
        Weekday::Wed => 1.1,
        Weekday::Thu => 1.05,
        Weekday::Fri => 0.86,
        Weekday::Sat => 0.2,
        Weekday::Sun => 0.16,
    };
    let (m, d) = (date.month(), date.day());
    let thanksgiving = m == 11 && date.weekday() == Weekday::Thu && (22..=28).contains(&d);
    let holiday = thanksgiving || matches!((m, d), (1, 1) | (7, 4) | (12, 24..=26) | (12, 31));
    let season = if holiday {
        0.25
    } else if (m == 12 && d >= 18) || (m == 1 && d <= 3) {
        0.6
    } else if m == 8 {
        0.85
    } else {
        1.0
    };
    week * season
}

/// A moment of `day`, mostly in office hours.
fn business_time(rng: &mut StdRng, day: &Day) -> DateTime<Utc> {
    let hour = weighted(rng, &HOURS) as i64;
    day.start + Duration::microseconds(hour * 3_600_000_000 + rng.random_range(0..3_600_000_000))
}

// ---------------------------------------------------------------------------------------------
// Randomness.

fn rng_for(seed: u64, stream: u64, key: u64) -> StdRng {
    StdRng::seed_from_u64(splitmix(
        seed ^ splitmix(stream.wrapping_mul(0x9E37_79B9) ^ splitmix(key)),
    ))
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn normal(rng: &mut StdRng) -> f64 {
    let u1 = rng.random::<f64>().max(1e-12);
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn lognormal(rng: &mut StdRng, median: f64, sigma: f64) -> f64 {
    median * (sigma * normal(rng)).exp()
}

fn poisson(rng: &mut StdRng, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda >= 30.0 {
        return (lambda + lambda.sqrt() * normal(rng)).round().max(0.0) as u32;
    }
    let limit = (-lambda).exp();
    let (mut k, mut p) = (0, rng.random::<f64>());
    while p > limit {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
}

fn weighted(rng: &mut StdRng, weights: &[f64]) -> usize {
    let mut x = rng.random::<f64>() * weights.iter().sum::<f64>();
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// A random element of a non-empty table.
fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// A random element of a non-empty table, by reference.
fn pick_ref<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn between(rng: &mut StdRng, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let span = (to - from).num_seconds().max(1);
    from + Duration::seconds(rng.random_range(0..span))
        + Duration::microseconds(rng.random_range(0..1_000_000))
}

fn minutes(rng: &mut StdRng, from: i64, to: i64) -> Duration {
    Duration::minutes(rng.random_range(from..to.max(from + 1)))
}

fn days(x: f64) -> Duration {
    Duration::microseconds((x * 86_400e6) as i64)
}

fn seconds(x: f64) -> Duration {
    Duration::microseconds((x * 1e6) as i64)
}

fn fraction(d: Duration, f: f64) -> Duration {
    Duration::microseconds((d.num_microseconds().unwrap_or(0) as f64 * f) as i64)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

// ---------------------------------------------------------------------------------------------
// Workflow runs.

/// A workflow run, top-level or child, as every stream that mentions it sees it.
#[derive(Debug)]
struct Run {
    id: String,
    parent: Option<String>,
    wb: usize,
    user: usize,
    trigger: &'static str,
    created: DateTime<Utc>,
    finished: Option<DateTime<Utc>>,
    status: &'static str,
    /// Ledger rows: when, type, credits (positive).
    charges: Vec<(DateTime<Utc>, &'static str, f64)>,
    cost: f64,
    tool_calls: u32,
    /// Seeds the details of its tool calls, which only the tool-call stream draws.
    sub_seed: u64,
}

struct RunStart {
    id: String,
    parent: Option<String>,
    wb: usize,
    user: usize,
    trigger: &'static str,
    at: DateTime<Utc>,
    /// A child run ends before its parent does.
    deadline: Option<DateTime<Utc>>,
}

fn run_items(w: &World, d: usize) -> Vec<(DateTime<Utc>, Run)> {
    day_runs(w, d).into_iter().map(|r| (r.created, r)).collect()
}

/// The runs started on day `d`, children after their parent.
fn day_runs(w: &World, d: usize) -> Vec<Run> {
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

fn run_json(w: &World, r: &Run) -> Value {
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

// ---------------------------------------------------------------------------------------------
// Agent interactions.

const KINDS: [&str; 4] = ["chat", "slack", "api", "triggered"];
const CHAT: usize = 0;
const API: usize = 2;
const TRIGGERED: usize = 3;

/// A chat session with an agent.
#[derive(Debug)]
struct Chat {
    id: String,
    agent: usize,
    version: usize,
    user: usize,
    kind: usize,
    trigger: Option<&'static str>,
    source: &'static str,
    key: Option<usize>,
    at: DateTime<Utc>,
    end: DateTime<Utc>,
    name: String,
    messages: u32,
    /// Prompt, completion, cached prompt and cache-creation tokens.
    tokens: [u64; 4],
    cost_usd: f64,
    llm: f64,
    tool: f64,
    flow: f64,
    cost: f64,
    charges: Vec<(DateTime<Utc>, &'static str, f64)>,
    tool_calls: u32,
    sub_seed: u64,
}

fn chat_items(w: &World, d: usize) -> Vec<(DateTime<Utc>, Chat)> {
    day_chats(w, d).into_iter().map(|c| (c.at, c)).collect()
}

fn day_chats(w: &World, d: usize) -> Vec<Chat> {
    let day = &w.days[d];
    let mut rng = rng_for(w.seed, S_CHATS, d as u64);
    let mut chats = Vec::new();
    for (a, agent) in w.agents.iter().enumerate() {
        if agent.created >= day.end {
            continue;
        }
        for _ in 0..poisson(&mut rng, agent.rate * day.weight) {
            let at = business_time(&mut rng, day);
            let chat = make_chat(&mut rng, w, a, at);
            if at > agent.created && at <= w.now {
                chats.push(chat);
            }
        }
    }
    chats.sort_by_key(|c| c.at);
    let date = day.date.format("%Y%m%d").to_string();
    for (k, c) in chats.iter_mut().enumerate() {
        c.id = format!("int_{date}_{:05}", k + 1);
    }
    chats
}

fn make_chat(rng: &mut StdRng, w: &World, a: usize, at: DateTime<Utc>) -> Chat {
    let agent = &w.agents[a];
    let version = agent.version_at(at);
    let v = &agent.versions[version];
    let (kind, user, key) = chat_channel(rng, w, a, at);
    let source = match kind {
        CHAT if rng.random_bool(0.14) => "MOBILE",
        CHAT => "WEB",
        API => "API",
        TRIGGERED => "TRIGGER",
        _ => "SLACK",
    };
    let trigger = (kind == TRIGGERED).then(|| pick(rng, agent.tpl.channels.triggers()));
    let topic = pick(rng, agent.tpl.topics);
    let name = match (kind, trigger) {
        (TRIGGERED, Some(t)) => format!("{topic} ({t})"),
        (API, _) => format!("API: {topic}"),
        _ => topic.to_string(),
    };
    let turns = 1 + poisson(rng, [2.6, 1.3, 0.8, 0.5][kind]);
    let messages = (2 * turns).min(60);
    let tool_calls = if v.servers.is_empty() {
        0
    } else {
        poisson(rng, agent.tool_rate * f64::from(turns)).min(12)
    };
    let (tokens, cost_usd) = usage(rng, &MODELS[v.model], turns, v.servers.len(), tool_calls);
    let flow = if agent.flow_p > 0.0 && rng.random_bool(agent.flow_p) {
        round4(lognormal(rng, 3.0, 0.6))
    } else {
        0.0
    };
    let end = (at + seconds(f64::from(messages) * lognormal(rng, 40.0, 0.5))).min(w.now);
    let mut chat = Chat {
        id: String::new(),
        agent: a,
        version,
        user,
        kind,
        trigger,
        source,
        key,
        at,
        end,
        name,
        messages,
        tokens,
        cost_usd,
        llm: round4(cost_usd * CREDITS_PER_USD),
        tool: round4(f64::from(tool_calls) * TOOL_CALL_CREDITS),
        flow,
        cost: 0.0,
        charges: Vec::new(),
        tool_calls,
        sub_seed: rng.random(),
    };
    chat_charges(&mut chat);
    chat
}

/// Ledger rows of a session: the turns, the summarisation of long conversations (part of the
/// model cost) and the platform fee of sessions outside the web app.
fn chat_charges(c: &mut Chat) {
    let compaction = if c.messages >= 16 {
        round4(c.llm * 0.18)
    } else {
        0.0
    };
    c.charges
        .push((c.end, "step", round4(c.llm - compaction + c.tool + c.flow)));
    if compaction > 0.0 {
        c.charges
            .push((c.at + (c.end - c.at) / 2, "compaction", compaction));
    }
    if c.kind != CHAT {
        c.charges.push((c.at, "platform_fee", PLATFORM_FEE));
    }
    c.cost = round4(c.charges.iter().map(|x| x.2).sum());
}

/// The channel of a session and who started it: API sessions run under a key's owner,
/// triggered ones under the agent's creator.
fn chat_channel(
    rng: &mut StdRng,
    w: &World,
    a: usize,
    at: DateTime<Utc>,
) -> (usize, usize, Option<usize>) {
    let agent = &w.agents[a];
    let personal = agent.tpl.team.is_empty();
    let mut kind = weighted(rng, &agent.tpl.channels.mix());
    if personal && kind == API {
        kind = CHAT;
    }
    let key = if kind == API {
        w.key_for(rng, agent.space, at)
    } else {
        None
    };
    if kind == API && key.is_none() {
        kind = CHAT;
    }
    let user = match (kind, key) {
        (API, Some(k)) => w.keys[k].owner,
        (TRIGGERED, _) => agent.creator,
        _ if personal => agent.creator,
        _ if rng.random_bool(0.65) => {
            let (when, m) = w.member_at(rng, agent.space, at);
            if when == at { m } else { agent.creator }
        }
        _ => w.active_member(rng, at).unwrap_or(agent.creator),
    };
    (kind, user, key)
}

/// Token counts and provider cost of a session: every turn resends the growing history, most
/// of which the provider serves from its cache.
fn usage(
    rng: &mut StdRng,
    m: &Model,
    turns: u32,
    servers: usize,
    tool_calls: u32,
) -> ([u64; 4], f64) {
    let base = 2_200.0 + 650.0 * servers as f64;
    let (mut prompt, mut first, mut completion) = (0.0, 0.0, 0.0);
    for t in 0..turns {
        let p = base + 900.0 * f64::from(t) + lognormal(rng, 500.0, 0.6);
        if t == 0 {
            first = p;
        }
        prompt += p;
        completion += lognormal(rng, 380.0, 0.6);
    }
    prompt += 1_300.0 * f64::from(tool_calls);
    let cached = (prompt - first) * rng.random_range(0.6..0.92);
    let written = if m.write > 0.0 {
        first * rng.random_range(0.7..0.95)
    } else {
        0.0
    };
    let fresh = prompt - cached - written;
    let usd =
        (fresh * m.input + cached * m.cached + written * m.write + completion * m.output) / 1e6;
    let tokens = [
        prompt.round() as u64,
        completion.round() as u64,
        cached.round() as u64,
        written.round() as u64,
    ];
    (tokens, round6(usd))
}

fn chat_json(w: &World, c: &Chat) -> Value {
    let agent = &w.agents[c.agent];
    let space = &w.spaces[agent.space];
    let user = &w.members[c.user];
    let mut v = json!({
        "org_id": w.org_id,
        "interaction_id": c.id,
        "agent_id": agent.id,
        "agent_name": agent.tpl.name,
        "interaction_type": KINDS[c.kind],
        "interaction_name": c.name,
        "interaction_created_ts": ts(c.at),
        "message_count": c.messages,
        "user_id": user.id,
        "user_email": user.email,
        "credit_cost": c.cost,
        "llm_credit_cost": c.llm,
        "tool_credit_cost": c.tool,
        "flow_credit_cost": c.flow,
        "model": MODELS[agent.versions[c.version].model].id,
        "source": c.source,
        "prompt_tokens": c.tokens[0],
        "completion_tokens": c.tokens[1],
        "cached_prompt_tokens": c.tokens[2],
        "cache_creation_tokens": c.tokens[3],
        "cost_usd": c.cost_usd,
        "workspace_id": space.id,
        "workspace_name": space.name,
    });
    if let Some(t) = c.trigger {
        v["trigger_type"] = t.into();
    }
    if let Some(k) = c.key {
        v["api_key_id"] = w.keys[k].id.as_str().into();
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Agents (one record per version).

fn agent_records(w: Arc<World>) -> Box<dyn Iterator<Item = Value> + Send> {
    let mut rows: Vec<(DateTime<Utc>, usize, usize)> = w
        .agents
        .iter()
        .enumerate()
        .flat_map(|(a, agent)| {
            agent
                .versions
                .iter()
                .enumerate()
                .map(move |(k, v)| (v.at, a, k))
        })
        .collect();
    // Version order per agent is what the store numbers versions by.
    rows.sort();
    Box::new(rows.into_iter().map(move |(_, a, k)| agent_json(&w, a, k)))
}

fn agent_json(w: &World, a: usize, k: usize) -> Value {
    let agent = &w.agents[a];
    let v = &agent.versions[k];
    let space = &w.spaces[agent.space];
    let tools: Vec<Value> = v
        .servers
        .iter()
        .map(|s| {
            let server = server(s);
            json!({"server_id": server.id, "server_name": server.name, "tools": server.tools})
        })
        .collect();
    let personal = agent.tpl.team.is_empty();
    // Personal agents have no API channel: keys belong to teams (see `chat_channel`).
    let channels: Vec<&str> = (0..4)
        .filter(|&i| agent.tpl.channels.mix()[i] > 0.0 && !(personal && i == API))
        .map(|i| KINDS[i])
        .collect();
    let mut out = json!({
        "org_id": w.org_id,
        "agent_id": agent.id,
        "agent_name": agent.tpl.name,
        "agent_description": agent.tpl.about,
        "agent_created_ts": ts(agent.created),
        "agent_updated_ts": ts(v.at),
        "agent_model": MODELS[v.model].id,
        "agent_system_prompt": v.prompt,
        "agent_tools": tools,
        "agent_metadata": {
            "temperature": v.temperature,
            "max_steps": 25,
            "channels": channels,
            "visibility": if personal { "private" } else { "team" },
        },
        "agent_evaluations_enabled": v.evaluations,
        "creator_email": w.members[agent.creator].email,
        "workspace_id": space.id,
        "workspace_name": space.name,
    });
    if let Some((folder_id, folder_name)) = &agent.folder {
        out["folder_id"] = folder_id.as_str().into();
        out["folder_name"] = (*folder_name).into();
    }
    out
}

fn server(id: &str) -> &'static Server {
    SERVERS.iter().find(|s| s.id == id).unwrap_or(&SERVERS[0])
}

// ---------------------------------------------------------------------------------------------
// Tool calls.

#[derive(Debug)]
struct Call {
    id: String,
    at: DateTime<Utc>,
    server: &'static Server,
    tool: &'static str,
    status: &'static str,
    latency_ms: i64,
    error: Option<String>,
    caller: Caller,
}

#[derive(Debug, Clone, Copy)]
struct Caller {
    source: &'static str,
    user: usize,
    agent: Option<usize>,
    space: usize,
}

fn call_items(w: &World, d: usize) -> Vec<(DateTime<Utc>, Call)> {
    let mut calls = Vec::new();
    for run in day_runs(w, d).iter().filter(|r| r.tool_calls > 0) {
        run_calls(w, run, &mut calls);
    }
    for chat in day_chats(w, d).iter().filter(|c| c.tool_calls > 0) {
        chat_calls(w, chat, &mut calls);
    }
    calls.extend(external_calls(w, d));
    calls.into_iter().map(|c| (c.at, c)).collect()
}

fn run_calls(w: &World, run: &Run, out: &mut Vec<Call>) {
    let mut rng = StdRng::seed_from_u64(run.sub_seed);
    let b = &w.workbooks[run.wb];
    let span = run.finished.unwrap_or(w.now) - run.created;
    let caller = Caller {
        source: "workflow",
        user: run.user,
        agent: None,
        space: b.space,
    };
    for k in 0..run.tool_calls {
        let at = run.created + fraction(span, f64::from(k + 1) / f64::from(run.tool_calls + 1));
        let server = server(pick(&mut rng, b.tpl.servers));
        out.push(make_call(
            &mut rng,
            format!("tc_{}_{}", run.id, k + 1),
            at,
            server,
            caller,
        ));
    }
}

fn chat_calls(w: &World, chat: &Chat, out: &mut Vec<Call>) {
    let mut rng = StdRng::seed_from_u64(chat.sub_seed);
    let agent = &w.agents[chat.agent];
    let servers = &agent.versions[chat.version].servers;
    let caller = Caller {
        source: "agent",
        user: chat.user,
        agent: Some(chat.agent),
        space: agent.space,
    };
    for k in 0..chat.tool_calls {
        let at = chat.at
            + fraction(
                chat.end - chat.at,
                f64::from(k + 1) / f64::from(chat.tool_calls + 1),
            );
        let server = server(pick(&mut rng, servers));
        out.push(make_call(
            &mut rng,
            format!("tc_{}_{}", chat.id, k + 1),
            at,
            server,
            caller,
        ));
    }
}

/// Calls from members' own MCP clients through the gateway; these are charged to the ledger.
fn external_calls(w: &World, d: usize) -> Vec<Call> {
    let day = &w.days[d];
    let mut rng = rng_for(w.seed, S_EXTERNAL, d as u64);
    let mut calls = Vec::new();
    for _ in 0..poisson(&mut rng, w.external_rate * day.weight) {
        let at = business_time(&mut rng, day);
        let user = pick(&mut rng, &w.external_users);
        let server = pick_ref(&mut rng, SERVERS);
        let caller = Caller {
            source: "external_client",
            user,
            agent: None,
            space: w.members[user].team,
        };
        let call = make_call(&mut rng, String::new(), at, server, caller);
        if at <= w.now && w.members[user].joined < at {
            calls.push(call);
        }
    }
    calls.sort_by_key(|c| c.at);
    let date = day.date.format("%Y%m%d").to_string();
    for (k, c) in calls.iter_mut().enumerate() {
        c.id = format!("tc_ext_{date}_{:05}", k + 1);
    }
    calls
}

fn make_call(
    rng: &mut StdRng,
    id: String,
    at: DateTime<Utc>,
    server: &'static Server,
    caller: Caller,
) -> Call {
    let tool = pick(rng, server.tools);
    let u = rng.random::<f64>();
    let (status, error) = if u < 0.93 {
        ("success", None)
    } else if u < 0.98 {
        let text = if rng.random_bool(0.5) {
            server.error
        } else {
            pick(rng, &GENERIC_ERRORS)
        };
        ("error", Some(text.to_string()))
    } else {
        let text = format!(
            "Permission denied: your role may not call {}.{tool}",
            server.id
        );
        ("permission_denied", Some(text))
    };
    let timed_out = error.as_deref() == Some(GENERIC_ERRORS[0]);
    let latency = if timed_out {
        30_000.0 + rng.random_range(0.0..40.0)
    } else {
        lognormal(rng, server.latency_ms, 0.55)
    };
    Call {
        id,
        at,
        server,
        tool,
        status,
        latency_ms: latency.round() as i64,
        error,
        caller,
    }
}

fn call_json(w: &World, c: &Call) -> Value {
    let user = &w.members[c.caller.user];
    let mut v = json!({
        "org_id": w.org_id,
        "tool_call_id": c.id,
        "created_at": ts(c.at),
        "server_id": c.server.id,
        "server_name": c.server.name,
        "tool_name": c.tool,
        "status": c.status,
        "latency_ms": c.latency_ms,
        "source": c.caller.source,
        "user_id": user.id,
        "user_email": user.email,
        "workspace_id": w.spaces[c.caller.space].id,
    });
    if let Some(e) = &c.error {
        v["error"] = e.as_str().into();
    }
    if let Some(a) = c.caller.agent {
        v["agent_id"] = w.agents[a].id.as_str().into();
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Credit ledger.

#[derive(Debug)]
struct Charge {
    category: &'static str,
    kind: Option<&'static str>,
    user: Option<usize>,
    name: Option<String>,
    /// Signed credits; `None` for a reset to the monthly allotment.
    amount: Option<f64>,
    correlation: Option<String>,
    /// Space the charge is attributed to.
    project: Option<usize>,
}

impl Charge {
    fn usage(
        category: &'static str,
        kind: &'static str,
        user: usize,
        name: String,
        credits: f64,
    ) -> Charge {
        Charge {
            category,
            kind: Some(kind),
            user: Some(user),
            name: Some(name),
            amount: Some(-round4(credits)),
            correlation: None,
            project: None,
        }
    }
}

/// The ledger in time order with its organization-wide running balance.
fn ledger(w: Arc<World>) -> Box<dyn Iterator<Item = Value> + Send> {
    let items = Ordered::new(Arc::clone(&w), charge_items);
    let (mut balance, mut n) = (0.0, 0u64);
    Box::new(items.map(move |(at, c)| {
        balance = match c.amount {
            Some(a) => round4(balance + a),
            None => w.allotment,
        };
        n += 1;
        charge_json(&w, at, &c, balance, n)
    }))
}

fn charge_items(w: &World, d: usize) -> Vec<(DateTime<Utc>, Charge)> {
    let mut out = Vec::new();
    reset(w, d, &mut out);
    for run in day_runs(w, d) {
        let b = &w.workbooks[run.wb];
        for &(at, kind, credits) in &run.charges {
            let mut c = Charge::usage("pipeline_run", kind, run.user, b.tpl.name.into(), credits);
            c.correlation = Some(run.id.clone());
            c.project = Some(b.space);
            out.push((at, c));
        }
    }
    for chat in day_chats(w, d) {
        let agent = &w.agents[chat.agent];
        for &(at, kind, credits) in &chat.charges {
            let mut c = Charge::usage("agent_run", kind, chat.user, agent.tpl.name.into(), credits);
            c.correlation = Some(chat.id.clone());
            c.project = Some(agent.space);
            out.push((at, c));
        }
    }
    for call in external_calls(w, d)
        .into_iter()
        .filter(|c| c.status == "success")
    {
        let (kind, credits) = if call.server.hosted {
            ("gumcp_tool_call", 0.25)
        } else {
            ("gumstack_tool_call", 0.5)
        };
        let name = format!("{}.{}", call.server.id, call.tool);
        let mut c = Charge::usage("external_gumcp_call", kind, call.caller.user, name, credits);
        c.correlation = Some(call.id);
        c.project = Some(call.caller.space);
        out.push((call.at, c));
    }
    misc_charges(w, d, &mut out);
    grants(w, d, &mut out);
    out
}

/// The balance starts at the allotment when the organization is created and returns to it at
/// every billing-period start.
fn reset(w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Charge)>) {
    let day = &w.days[d];
    let at = if d == 0 {
        w.created
    } else if day.date.day() == BILLING_ANCHOR_DAY {
        day.start
    } else {
        return;
    };
    if at <= w.now {
        let c = Charge {
            category: "credit_limit_reset",
            kind: None,
            user: None,
            name: Some("Monthly credit allotment".into()),
            amount: None,
            correlation: None,
            project: None,
        };
        out.push((at, c));
    }
}

/// Usage outside runs and chats: AI utilities, the company brain, custom-node development.
fn misc_charges(w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Charge)>) {
    let day = &w.days[d];
    let mut rng = rng_for(w.seed, S_MISC, d as u64);
    let scale = f64::from(w.scale);
    // The company brain was switched on a month in and re-indexes nightly.
    if d >= 30 {
        let at = day.start
            + Duration::hours(2)
            + Duration::microseconds(rng.random_range(0..1_200_000_000));
        let mut c = Charge::usage(
            "company_brain",
            "brain_indexing",
            0,
            "Company Brain nightly sync".into(),
            lognormal(&mut rng, 18.0 * scale, 0.4),
        );
        c.user = None;
        out.push((at, c));
    }
    let kinds: [(&str, &str, &str, f64, f64); 4] = [
        (
            "company_brain",
            "brain_query",
            "Company Brain search",
            6.0,
            0.35,
        ),
        (
            "ai_utility",
            "image_generation",
            "Image generation",
            2.5,
            2.0,
        ),
        (
            "ai_utility",
            "transcription",
            "Audio transcription",
            4.0,
            1.2,
        ),
        (
            "custom_node_rd",
            "test_run",
            "Custom node test run",
            1.0,
            0.8,
        ),
    ];
    for (category, kind, name, per_day, median) in kinds {
        if d < 30 && category == "company_brain" {
            continue;
        }
        for _ in 0..poisson(&mut rng, per_day * day.weight * scale) {
            let at = business_time(&mut rng, day);
            let credits = lognormal(&mut rng, median, 0.45);
            let Some(user) = w.active_member(&mut rng, at).filter(|_| at <= w.now) else {
                continue;
            };
            let mut c = Charge::usage(category, kind, user, name.into(), credits);
            c.project = Some(w.members[user].team);
            out.push((at, c));
        }
    }
}

/// Onboarding-checklist gifts in the first weeks and occasional top-ups by an admin.
fn grants(w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Charge)>) {
    let day = &w.days[d];
    let mut rng = rng_for(w.seed, S_MISC, 1_000_000 + d as u64);
    let scale = f64::from(w.scale);
    let mut grant =
        |rng: &mut StdRng, category: &'static str, name: &str, amount: f64, user: Option<usize>| {
            let at = business_time(rng, day);
            if at >= w.created && at <= w.now {
                let c = Charge {
                    category,
                    kind: None,
                    user,
                    name: Some(name.into()),
                    amount: Some(amount),
                    correlation: None,
                    project: None,
                };
                out.push((at, c));
            }
        };
    if d < 21 {
        for _ in 0..poisson(&mut rng, 0.6) {
            let amount = pick(&mut rng, &[100.0, 250.0, 500.0]);
            let user = Some(rng.random_range(0..w.members.len().min(12)));
            grant(
                &mut rng,
                "checklist_item_completion",
                "Onboarding checklist",
                amount,
                user,
            );
        }
    }
    if day.date.day() == 20 && rng.random_bool(0.3) {
        let amount = pick(&mut rng, &[5_000.0, 10_000.0, 15_000.0]) * scale;
        grant(
            &mut rng,
            "manual_adjustment",
            "Credit top-up",
            amount,
            Some(0),
        );
    }
}

fn charge_json(w: &World, at: DateTime<Utc>, c: &Charge, balance: f64, n: u64) -> Value {
    let mut v = json!({
        "org_id": w.org_id,
        "timestamp": ts(at),
        "category": c.category,
        "balance": balance,
        "log_id": format!("cl_{n:08}"),
        "balance_scope": "organization",
    });
    if let Some(u) = c.user {
        let m = &w.members[u];
        v["user_id"] = m.id.as_str().into();
        v["user_email"] = m.email.as_str().into();
        if !m.roles.is_empty() {
            v["permission_group_id"] = join_roles(&m.roles, |r| r.0).into();
            v["permission_group_name"] = join_roles(&m.roles, |r| r.1).into();
        }
    }
    if let Some(kind) = c.kind {
        v["type"] = kind.into();
    }
    if let Some(name) = &c.name {
        v["name"] = name.as_str().into();
    }
    if let Some(amount) = c.amount {
        v["amount"] = amount.into();
    }
    if let Some(corr) = &c.correlation {
        v["correlation_id"] = corr.as_str().into();
    }
    if let Some(p) = c.project {
        v["project_id"] = w.spaces[p].id.as_str().into();
    }
    v
}

fn join_roles(roles: &[usize], part: fn(&(&'static str, &'static str)) -> &'static str) -> String {
    roles
        .iter()
        .map(|&r| part(&ROLES[r]))
        .collect::<Vec<_>>()
        .join("; ")
}

// ---------------------------------------------------------------------------------------------
// Audit log.

#[derive(Debug)]
struct Event {
    kind: &'static str,
    user: usize,
    ip: String,
    user_agent: &'static str,
    space: Option<usize>,
    entity: Option<String>,
    details: Value,
}

fn audit_log(w: Arc<World>) -> Box<dyn Iterator<Item = Value> + Send> {
    let items = Ordered::new(Arc::clone(&w), event_items);
    let mut n = 0u64;
    Box::new(items.map(move |(at, e)| {
        n += 1;
        event_json(&w, at, &e, n)
    }))
}

fn event_items(w: &World, d: usize) -> Vec<(DateTime<Utc>, Event)> {
    let mut rng = rng_for(w.seed, S_AUDIT, d as u64);
    let mut out = Vec::new();
    membership_events(&mut rng, w, d, &mut out);
    sign_ins(&mut rng, w, d, &mut out);
    resource_events(&mut rng, w, d, &mut out);
    agent_events(&mut rng, w, d, &mut out);
    flow_executions(w, d, &mut out);
    out.retain(|(at, _)| *at <= w.now);
    out
}

/// An event by a member from one of their usual addresses.
fn by_member(
    rng: &mut StdRng,
    w: &World,
    kind: &'static str,
    user: usize,
    details: Value,
) -> Event {
    let m = &w.members[user];
    let u = rng.random::<f64>();
    let ip = if u < 0.65 {
        m.office_ip.to_string()
    } else if u < 0.9 {
        m.home_ip.clone()
    } else {
        format!("198.51.100.{}", rng.random_range(2..60))
    };
    Event {
        kind,
        user,
        ip,
        user_agent: m.browser,
        space: None,
        entity: None,
        details,
    }
}

fn membership_events(rng: &mut StdRng, w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Event)>) {
    let day = &w.days[d];
    for (i, m) in w.members.iter().enumerate().skip(1) {
        if m.joined < day.start || m.joined >= day.end {
            continue;
        }
        let role = if m.admin { "admin" } else { "member" };
        let details = json!({"member_id": m.id, "email": m.email, "role": role, "department": TEAMS[m.team].name});
        let mut add = by_member(rng, w, "org_member_add", 0, details);
        add.entity = Some(m.id.clone());
        add.space = Some(m.team);
        out.push((m.joined, add));
        let first = json!({"method": "okta_saml", "mfa": true, "first_sign_in": true});
        out.push((
            m.joined + minutes(rng, 5, 90),
            by_member(rng, w, "user_sign_in", i, first),
        ));
    }
    if d == 35 {
        let details = json!({
            "organization_id": ORG_ID,
            "slack_workspace_id": "T05ACME42",
            "slack_workspace_name": ORG_NAME,
        });
        let at = business_time(rng, day);
        out.push((
            at,
            by_member(
                rng,
                w,
                "organization_slack_workspace_registration",
                0,
                details,
            ),
        ));
    }
}

fn sign_ins(rng: &mut StdRng, w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Event)>) {
    let day = &w.days[d];
    for (i, m) in w.members.iter().enumerate() {
        if m.joined >= day.end {
            continue;
        }
        for _ in 0..poisson(rng, 0.15 * m.activity * day.weight * w.per_member) {
            let at = business_time(rng, day);
            let method = if rng.random_bool(0.88) {
                "okta_saml"
            } else {
                "password"
            };
            let session = format!("ses_{:016x}", rng.random::<u64>());
            let details = json!({"method": method, "mfa": method == "okta_saml" || rng.random_bool(0.7), "session_id": session});
            if at > m.joined {
                out.push((at, by_member(rng, w, "user_sign_in", i, details)));
            }
        }
    }
}

/// Credential and file events by active members.
fn resource_events(rng: &mut StdRng, w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Event)>) {
    let day = &w.days[d];
    let scale = f64::from(w.scale);
    let credential_kinds = [
        "credential_insertion",
        "credential_modification",
        "credential_retrieval",
        "credential_deletion",
    ];
    for _ in 0..poisson(rng, 0.8 * day.weight * scale) {
        let at = business_time(rng, day);
        let kind = credential_kinds[weighted(rng, &[0.4, 0.3, 0.2, 0.1])];
        let server = pick_ref(rng, SERVERS);
        let Some(user) = w.active_member(rng, at) else {
            continue;
        };
        let auth = if server.hosted { "oauth" } else { "api_key" };
        let details =
            json!({"service": server.name, "credential_type": format!("{}_{auth}", server.id)});
        let mut e = by_member(rng, w, kind, user, details);
        e.entity = Some(format!("cred_{}_{}", server.id, w.members[user].id));
        e.space = Some(w.members[user].team);
        out.push((at, e));
    }
    let file_kinds = ["file_upload", "file_download", "file_deletion"];
    for _ in 0..poisson(rng, 2.6 * day.weight * scale) {
        let at = business_time(rng, day);
        let kind = file_kinds[weighted(rng, &[0.62, 0.3, 0.08])];
        let (file, content_type) = pick(rng, &FILES);
        let Some(user) = w.active_member(rng, at) else {
            continue;
        };
        let details = json!({"file_name": file, "content_type": content_type, "size_bytes": rng.random_range(8_000..25_000_000)});
        let mut e = by_member(rng, w, kind, user, details);
        e.entity = Some(format!("file_{:08x}", rng.random::<u32>()));
        let m = &w.members[user];
        e.space = Some(if rng.random_bool(0.3) {
            m.personal
        } else {
            m.team
        });
        out.push((at, e));
    }
}

/// Creation and each new version of the agents (as the agents stream has them), their
/// triggers and knowledge sources.
fn agent_events(rng: &mut StdRng, w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Event)>) {
    let day = &w.days[d];
    for agent in &w.agents {
        for (k, v) in agent.versions.iter().enumerate() {
            if v.at < day.start || v.at >= day.end {
                continue;
            }
            let (kind, details) = if k == 0 {
                (
                    "agent_creation",
                    json!({"agent_name": agent.tpl.name, "operation": "create", "model": MODELS[v.model].id}),
                )
            } else {
                (
                    "agent_modification",
                    json!({"agent_name": agent.tpl.name, "operation": "version_deploy", "version": k + 1, "model": MODELS[v.model].id}),
                )
            };
            out.push((v.at, agent_event(rng, w, agent, kind, details)));
            if k == 0 && agent.tpl.channels.mix()[TRIGGERED] > 0.0 {
                let trigger = agent.tpl.channels.triggers()[0];
                let details = json!({
                    "operation": "trigger_create", "trigger_id": format!("trg_{}", agent.id),
                    "trigger_type": trigger, "trigger_name": format!("{} trigger", agent.tpl.name),
                    "active": true, "source": "ui",
                });
                out.push((
                    v.at + Duration::minutes(10),
                    agent_event(rng, w, agent, "agent_modification", details),
                ));
            }
        }
    }
    for _ in 0..poisson(rng, 0.12 * day.weight * f64::from(w.scale)) {
        let at = business_time(rng, day);
        let agent = pick_ref(rng, &w.agents);
        if agent.created < at {
            let details = json!({"agent_name": agent.tpl.name, "knowledge_source": "Google Drive folder", "folder_name": format!("{} sources", agent.tpl.name)});
            out.push((
                at,
                agent_event(rng, w, agent, "knowledge_source_attach", details),
            ));
        }
    }
}

fn agent_event(
    rng: &mut StdRng,
    w: &World,
    agent: &Agent,
    kind: &'static str,
    details: Value,
) -> Event {
    let mut e = by_member(rng, w, kind, agent.creator, details);
    e.space = Some(agent.space);
    e.entity = Some(agent.id.clone());
    e
}

/// Runs started through the platform API are audited as flow executions.
fn flow_executions(w: &World, d: usize, out: &mut Vec<(DateTime<Utc>, Event)>) {
    for run in day_runs(w, d).into_iter().filter(|r| r.trigger == "api") {
        let b = &w.workbooks[run.wb];
        let details = json!({"run_id": run.id, "workbook_name": b.tpl.name, "trigger": "api"});
        let e = Event {
            kind: "flow_execution",
            user: run.user,
            ip: format!("198.51.100.{}", 100 + run.wb % 100),
            user_agent: API_USER_AGENT,
            space: Some(b.space),
            entity: Some(b.id.clone()),
            details,
        };
        out.push((run.created, e));
    }
}

fn event_json(w: &World, at: DateTime<Utc>, e: &Event, n: u64) -> Value {
    let mut v = json!({
        "org_id": w.org_id,
        "event_id": format!("evt_{n:07}"),
        "timestamp": ts(at),
        "event_type": e.kind,
        "details": e.details,
        "user_id": w.members[e.user].id,
        "source_ip": e.ip,
        "user_agent": e.user_agent,
    });
    if let Some(s) = e.space {
        v["workspace_id"] = w.spaces[s].id.as_str().into();
    }
    if let Some(entity) = &e.entity {
        v["entity_id"] = entity.as_str().into();
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Merging days into one time-ordered stream.

type Producer<T> = fn(&World, usize) -> Vec<(DateTime<Utc>, T)>;

/// Produces day after day and releases an item once no later day can produce an earlier one:
/// a day's items never start before the day does.
struct Ordered<T> {
    world: Arc<World>,
    produce: Producer<T>,
    next_day: usize,
    seq: u64,
    heap: BinaryHeap<Reverse<Slot<T>>>,
}

struct Slot<T> {
    at: DateTime<Utc>,
    /// Production order breaks ties, so equal instants keep a stable order.
    seq: u64,
    item: T,
}

impl<T> PartialEq for Slot<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<T> Eq for Slot<T> {}

impl<T> PartialOrd for Slot<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Slot<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl<T> Ordered<T> {
    fn new(world: Arc<World>, produce: Producer<T>) -> Self {
        Ordered {
            world,
            produce,
            next_day: 0,
            seq: 0,
            heap: BinaryHeap::new(),
        }
    }
}

impl<T> Iterator for Ordered<T> {
    type Item = (DateTime<Utc>, T);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let horizon = self.world.days.get(self.next_day).map(|d| d.start);
            if let Some(Reverse(top)) = self.heap.peek()
                && horizon.is_none_or(|h| top.at < h)
            {
                let Reverse(slot) = self.heap.pop()?;
                return Some((slot.at, slot.item));
            }
            let start = horizon?;
            for (at, item) in (self.produce)(&self.world, self.next_day) {
                debug_assert!(at >= start, "a day's items start within the day");
                self.seq += 1;
                self.heap.push(Reverse(Slot {
                    at,
                    seq: self.seq,
                    item,
                }));
            }
            self.next_day += 1;
        }
    }
}

fn ts(t: DateTime<Utc>) -> Value {
    Value::String(format_timestamp(&t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FieldType;
    use crate::domain::catalog::spec;
    use crate::domain::time::parse_timestamp;
    use std::collections::hash_map::DefaultHasher;
    use std::collections::{HashMap, HashSet};
    use std::hash::{Hash, Hasher};

    const SEED: u64 = 42;

    fn now() -> DateTime<Utc> {
        "2026-03-10T15:30:00.250Z".parse().unwrap()
    }

    fn all(org: &DemoOrg, dt: DataType) -> impl Iterator<Item = Value> {
        records(org, dt, 1, now(), SEED)
    }

    fn time(v: &Value, field: &str) -> DateTime<Utc> {
        parse_timestamp(v[field].as_str().unwrap()).unwrap()
    }

    #[test]
    fn tables_are_consistent() {
        assert_eq!(TEAMS[ENGINEERING].slug, "engineering");
        assert_eq!(TEAMS[FINANCE].slug, "finance");
        assert_eq!(TEAMS[OPERATIONS].slug, "operations");
        let servers: Vec<&str> = SERVERS.iter().map(|s| s.id).collect();
        let used = WB_TEMPLATES
            .iter()
            .flat_map(|t| t.servers)
            .chain(AGENT_TEMPLATES.iter().flat_map(|t| t.servers));
        for s in used {
            assert!(servers.contains(s), "unknown server {s}");
        }
        for t in WB_TEMPLATES
            .iter()
            .map(|t| t.team)
            .chain(AGENT_TEMPLATES.iter().map(|t| t.team))
        {
            assert!(
                t.is_empty() || TEAMS.iter().any(|d| d.name == t),
                "unknown team {t}"
            );
        }
        for (_, team, _) in KEYS {
            assert!(team < BASE_TEAMS);
        }
    }

    #[test]
    fn organization_has_realistic_entities() {
        let org = organization(1, now(), SEED);
        let floor = window_start(now());
        assert!(org.teams.len() >= 8);
        assert!(org.members.len() >= 100);
        assert!(org.custom_roles.len() >= 4);
        assert!(org.workbooks.len() >= 60);
        assert!(org.world.agents.len() >= 30);
        assert_eq!(org.admin_user_id, org.members[0].0);
        assert_eq!(org.members[0].1.role, Role::Admin);
        assert!(
            org.members
                .iter()
                .filter(|m| m.1.role == Role::Admin)
                .count()
                >= 3
        );
        let emails: HashSet<_> = org.members.iter().map(|m| m.1.email.clone()).collect();
        assert_eq!(emails.len(), org.members.len());
        for (mid, m) in &org.members {
            assert_eq!(
                m.personal_team_id.as_ref().unwrap().as_str(),
                format!("personal-{mid}")
            );
            assert!(m.custom_role_ids.len() <= 2);
            assert!(m.joined_at >= floor && m.joined_at <= now());
            assert!(m.email.ends_with("@acme.example"));
        }
        let teams: HashSet<_> = org.teams.iter().map(|t| t.0.to_string()).collect();
        let personal = org
            .workbooks
            .iter()
            .filter(|b| {
                b.1.team_id
                    .as_ref()
                    .unwrap()
                    .as_str()
                    .starts_with("personal-")
            })
            .count();
        assert!(personal >= 10);
        let in_teams = org
            .workbooks
            .iter()
            .filter(|b| teams.contains(b.1.team_id.as_ref().unwrap().as_str()))
            .count();
        assert_eq!(personal + in_teams, org.workbooks.len());
        assert!(
            org.workbooks
                .iter()
                .all(|b| b.1.created_at.is_some_and(|t| t >= floor && t <= now()))
        );
        assert!(
            org.api_keys
                .iter()
                .all(|k| k.1.created_at.is_some_and(|t| t >= floor && t <= now()))
        );
        assert!(
            org.world
                .agents
                .iter()
                .all(|a| (1..=4).contains(&a.versions.len()))
        );
        crate::domain::entity::validate_org(&org.org).unwrap();
    }

    fn digest(org: &DemoOrg) -> Vec<(u64, usize)> {
        DataType::ALL
            .iter()
            .map(|dt| {
                let mut h = DefaultHasher::new();
                let mut n = 0;
                for v in all(org, *dt) {
                    v.to_string().hash(&mut h);
                    n += 1;
                }
                (h.finish(), n)
            })
            .collect()
    }

    #[test]
    fn same_inputs_give_the_same_output() {
        let a = organization(1, now(), SEED);
        let b = organization(1, now(), SEED);
        assert_eq!(
            serde_json::to_string(&a.members).unwrap(),
            serde_json::to_string(&b.members).unwrap()
        );
        assert_eq!(
            serde_json::to_string(&a.workbooks).unwrap(),
            serde_json::to_string(&b.workbooks).unwrap()
        );
        assert_eq!(digest(&a), digest(&b));
        let other = organization(1, now(), SEED + 1);
        let first = |o: &DemoOrg| records(o, DataType::Workflows, 1, now(), o.world.seed).nth(100);
        assert_ne!(first(&a), first(&other));
    }

    /// Pins the generated data to a fixed hash, so that refactoring the generator cannot change
    /// what it produces unnoticed. A deliberate change to the demo data updates the hash.
    #[test]
    fn output_is_pinned() {
        use sha2::{Digest, Sha256};
        let org = organization(1, now(), SEED);
        let mut h = Sha256::new();
        let entities = json!([
            org.org_id.to_string(),
            org.org,
            org.custom_roles,
            org.teams,
            org.members,
            org.workbooks,
            org.api_keys,
            org.admin_user_id.to_string(),
        ]);
        h.update(entities.to_string());
        for dt in DataType::ALL {
            for v in all(&org, dt) {
                h.update(v.to_string());
                h.update(b"\n");
            }
        }
        assert_eq!(
            hex::encode(h.finalize()),
            "7d6971d2b4aa1326b1dce34a3955755022508e237d1d871860b1cbe42b706367"
        );
    }

    /// Type, required-field and window checks of one record against the catalog.
    fn check_fields(dt: DataType, v: &Value, floor: DateTime<Utc>) {
        let s = spec(dt);
        let obj = v.as_object().unwrap();
        assert!(obj["org_id"].is_string());
        for (key, value) in obj.iter().filter(|(k, _)| *k != "org_id") {
            let f = s
                .field(key)
                .unwrap_or_else(|| panic!("{dt}: unknown field {key}"));
            let ok = match f.ty {
                FieldType::Text => value.is_string(),
                FieldType::Number => value.is_number(),
                FieldType::Integer => value.is_i64() || value.is_u64(),
                FieldType::Boolean => value.is_boolean(),
                FieldType::Json => true,
                FieldType::Enum(values) => values.iter().any(|(i, _)| Some(*i) == value.as_str()),
                FieldType::Timestamp => {
                    let t = time(v, key);
                    t >= floor && t <= now()
                }
            };
            assert!(ok, "{dt}.{key} = {value}");
        }
        for f in s.fields.iter().filter(|f| f.required) {
            assert!(obj.contains_key(f.id), "{dt}: missing {}", f.id);
        }
        assert!(!obj.contains_key("agent_version"));
    }

    #[test]
    fn records_fit_the_catalog_window_and_order() {
        let org = organization(1, now(), SEED);
        let floor = window_start(now());
        let mut ids: HashMap<DataType, HashSet<String>> = HashMap::new();
        let mut total = 0;
        for dt in DataType::ALL {
            let s = spec(dt);
            let mut last: Option<DateTime<Utc>> = None;
            let mut n = 0;
            for v in all(&org, dt) {
                check_fields(dt, &v, floor);
                let order_field = if dt == DataType::Agents {
                    "agent_updated_ts"
                } else {
                    s.time_field
                };
                let t = time(&v, order_field);
                assert!(last.is_none_or(|l| l <= t), "{dt} out of order at {v}");
                last = Some(t);
                let mut key = v[s.id_field].as_str().unwrap().to_string();
                if dt == DataType::Agents {
                    key.push_str(v["agent_updated_ts"].as_str().unwrap());
                }
                assert!(
                    ids.entry(dt).or_default().insert(key),
                    "{dt}: duplicate id in {v}"
                );
                n += 1;
            }
            println!("{dt}: {n}");
            total += n;
        }
        println!("total: {total}");
        assert!(total >= 210_000, "{total} records");
        assert!(ids[&DataType::Agents].len() >= 60);
        check_references(&org, &ids);
    }

    /// Credit rows and tool calls point at runs, sessions and agents that exist.
    fn check_references(org: &DemoOrg, ids: &HashMap<DataType, HashSet<String>>) {
        let agents: HashSet<String> = org.world.agents.iter().map(|a| a.id.clone()).collect();
        for v in all(org, DataType::CreditLogs) {
            let Some(corr) = v["correlation_id"].as_str() else {
                continue;
            };
            let target = match v["category"].as_str().unwrap() {
                "pipeline_run" => DataType::Workflows,
                "agent_run" => DataType::AgentInteractions,
                _ => DataType::ToolCalls,
            };
            assert!(ids[&target].contains(corr), "dangling {v}");
        }
        for v in all(org, DataType::ToolCalls) {
            if let Some(a) = v["agent_id"].as_str() {
                assert!(agents.contains(a));
                assert_eq!(v["source"], "agent");
            }
        }
        for v in all(org, DataType::AgentInteractions) {
            assert!(agents.contains(v["agent_id"].as_str().unwrap()));
            assert_eq!(v["api_key_id"].is_string(), v["interaction_type"] == "api");
            assert_eq!(
                v["trigger_type"].is_string(),
                v["interaction_type"] == "triggered"
            );
            let parts = ["llm_credit_cost", "tool_credit_cost", "flow_credit_cost"]
                .map(|f| v[f].as_f64().unwrap());
            let fee = v["credit_cost"].as_f64().unwrap() - parts.iter().sum::<f64>();
            assert!((-1e-3..=PLATFORM_FEE + 1e-3).contains(&fee), "{v}");
        }
    }

    #[test]
    fn child_runs_reference_earlier_parents() {
        let org = organization(1, now(), SEED);
        let (mut seen, mut tops, mut children) = (HashMap::new(), 0, 0);
        for v in all(&org, DataType::Workflows) {
            let created = time(&v, "pl_run_created_ts");
            if let Some(parent) = v["parent_run_id"].as_str() {
                let parent_created: &DateTime<Utc> =
                    seen.get(parent).expect("parent emitted first");
                assert!(*parent_created <= created);
                children += 1;
            } else {
                tops += 1;
            }
            if v["pl_run_finished_ts"].is_string() {
                assert!(time(&v, "pl_run_finished_ts") >= created);
            } else {
                assert_eq!(v["run_status"], "running");
            }
            seen.insert(v["run_id"].as_str().unwrap().to_string(), created);
        }
        let share = f64::from(children) / f64::from(tops);
        assert!(
            (0.1..0.35).contains(&share),
            "{children} children for {tops} runs"
        );
    }

    #[test]
    fn credit_balances_are_running_sums() {
        let org = organization(1, now(), SEED);
        let mut balance: Option<f64> = None;
        let (mut resets, mut categories) = (0, HashSet::new());
        let mut low = f64::MAX;
        for v in all(&org, DataType::CreditLogs) {
            let b = v["balance"].as_f64().unwrap();
            let category = v["category"].as_str().unwrap().to_string();
            match v["amount"].as_f64() {
                Some(a) => {
                    let prev = balance.expect("the ledger starts with a reset");
                    assert!((prev + a - b).abs() < 1e-6, "{prev} + {a} != {b}");
                    let usage =
                        crate::domain::credit::USAGE_CATEGORIES.contains(&category.as_str());
                    assert_eq!(a < 0.0, usage, "{v}");
                    assert_eq!(round4(a), a);
                }
                None => {
                    assert_eq!(category, "credit_limit_reset");
                    assert_eq!(b, MONTHLY_ALLOTMENT);
                    resets += 1;
                }
            }
            low = low.min(b);
            balance = Some(b);
            categories.insert(category);
        }
        println!("lowest balance: {low}, categories: {categories:?}");
        assert!(resets >= 13, "{resets} resets");
        assert!(categories.len() >= 8, "{categories:?}");
    }
}
