//! Fixed facts of the demo organization: its name, time zone and volume targets, the
//! stream tags of the generators, and the tables it is built from (teams, roles, names,
//! workbook and agent templates, MCP servers, models, API keys, files, working hours).

use chrono_tz::Tz;

pub(super) const ORG_ID: &str = "acme-robotics";
pub(super) const ORG_NAME: &str = "Acme Robotics";
pub(super) const DOMAIN: &str = "acme.example";
/// Days, business hours and credit resets follow the organization's local calendar.
pub(super) const ORG_TZ: Tz = chrono_tz::America::New_York;
pub(super) const BILLING_ANCHOR_DAY: u32 = 15;

pub(super) const BASE_TEAMS: usize = 10;
pub(super) const BASE_MEMBERS: usize = 112;
pub(super) const BASE_PERSONAL_WORKBOOKS: usize = 20;
pub(super) const BASE_AGENTS: usize = 40;

/// Volumes over the whole window at scale 1 that the rates are calibrated to.
pub(super) const TARGET_TOP_RUNS: f64 = 56_000.0;
pub(super) const TARGET_CHATS: f64 = 27_000.0;
pub(super) const TARGET_EXTERNAL_CALLS: f64 = 2_000.0;

/// Credits granted at every billing-period start (times `scale`).
pub(super) const MONTHLY_ALLOTMENT: f64 = 90_000.0;
pub(super) const CREDITS_PER_USD: f64 = 100.0;
pub(super) const TOOL_CALL_CREDITS: f64 = 0.3;
/// Charged per session outside the web app.
pub(super) const PLATFORM_FEE: f64 = 0.1;

// Stream tags: each stream has its own generator per day, so streams never shift each other.
pub(super) const S_ORG: u64 = 1;
pub(super) const S_RUNS: u64 = 2;
pub(super) const S_CHATS: u64 = 3;
pub(super) const S_EXTERNAL: u64 = 4;
pub(super) const S_MISC: u64 = 5;
pub(super) const S_AUDIT: u64 = 6;

#[derive(Debug)]
pub(super) struct TeamDef {
    pub(super) name: &'static str,
    pub(super) slug: &'static str,
    /// Share of the members.
    pub(super) weight: f64,
    /// Custom roles (indexes into `ROLES`) its members tend to hold.
    pub(super) roles: &'static [usize],
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
pub(super) static TEAMS: [TeamDef; 16] = [
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
pub(super) const ENGINEERING: usize = 0;
pub(super) const FINANCE: usize = 3;
pub(super) const OPERATIONS: usize = 5;

pub(super) static ROLES: [(&str, &str); 6] = [
    ("role-workflow-builders", "Workflow Builders"),
    ("role-agent-publishers", "Agent Publishers"),
    ("role-finance-approvers", "Finance Approvers"),
    ("role-sales-ops", "Sales Ops"),
    ("role-data-stewards", "Data Stewards"),
    ("role-contractors", "External Contractors"),
];
pub(super) const CONTRACTORS: usize = 5;

#[rustfmt::skip]
pub(super) static FIRST_NAMES: [&str; 64] = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark",
    "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Joshua", "Amanda", "Kevin", "Melissa",
    "Brian", "Stephanie", "George", "Rebecca", "Priya", "Wei", "Carlos", "Sofia", "Aisha",
    "Mateo", "Yuki", "Omar", "Elena", "Lucas", "Nina", "Rahul", "Fatima", "Diego", "Hannah",
    "Ethan", "Chloe", "Noah", "Maya", "Liam", "Zoe", "Arjun", "Leila", "Mei",
];

#[rustfmt::skip]
pub(super) static LAST_NAMES: [&str; 64] = [
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
pub(super) static OFFICE_IPS: [&str; 3] = ["203.0.113.10", "203.0.113.24", "203.0.113.37"];

pub(super) static BROWSERS: [&str; 5] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
];
pub(super) const API_USER_AGENT: &str = "python-requests/2.32.3";

/// How a workbook's runs start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Trigger {
    Manual,
    Webhook,
    /// Every weekday at this local hour.
    Daily(i64),
    /// Every weekday hour from 9:00 to 17:00.
    Hourly,
}

#[derive(Debug)]
pub(super) struct WbTpl {
    /// Team name; empty for personal-space workbooks.
    pub(super) team: &'static str,
    pub(super) name: &'static str,
    pub(super) ai: bool,
    pub(super) trigger: Trigger,
    pub(super) nodes: &'static [&'static str],
    /// MCP servers its nodes call.
    pub(super) servers: &'static [&'static str],
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
pub(super) static WB_TEMPLATES: &[WbTpl] = &[
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
pub(super) enum Channels {
    Chat,
    Slack,
    Api,
    Triggered(&'static [&'static str]),
}

impl Channels {
    /// Weights of chat, slack, api, triggered.
    pub(super) fn mix(&self) -> [f64; 4] {
        match self {
            Channels::Chat => [8.0, 1.5, 0.4, 0.0],
            Channels::Slack => [3.0, 6.0, 0.4, 0.0],
            Channels::Api => [2.0, 1.0, 6.0, 0.5],
            Channels::Triggered(_) => [3.0, 1.0, 0.3, 5.0],
        }
    }

    pub(super) fn triggers(&self) -> &'static [&'static str] {
        match self {
            Channels::Triggered(t) => t,
            _ => &["time_based"],
        }
    }
}

#[derive(Debug)]
pub(super) struct AgentTpl {
    /// Team name; empty for personal agents.
    pub(super) team: &'static str,
    pub(super) name: &'static str,
    pub(super) about: &'static str,
    pub(super) servers: &'static [&'static str],
    /// Index into `MODELS` of the first version.
    pub(super) model: usize,
    pub(super) prompt: &'static str,
    pub(super) topics: &'static [&'static str],
    pub(super) channels: Channels,
}

// One entry per line: the tables read as tables.
#[rustfmt::skip]
pub(super) static AGENT_TEMPLATES: &[AgentTpl] = &[
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
pub(super) static PROMPT_ADDENDA: [&str; 7] = [
    "Always cite the source document.",
    "Keep answers under 200 words unless asked for detail.",
    "Ask a clarifying question when the request is ambiguous.",
    "Never share customer personal data outside the team.",
    "Use bullet points for lists of more than three items.",
    "Prefer the most recent data and state its date.",
    "Reply in the language of the question.",
];

#[derive(Debug)]
pub(super) struct Server {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) tools: &'static [&'static str],
    /// Median latency of a successful call.
    pub(super) latency_ms: f64,
    /// Hosted guMCP server (else a custom server behind the Gumstack gateway).
    pub(super) hosted: bool,
    /// A typical failure of this server.
    pub(super) error: &'static str,
}

// One entry per line: the tables read as tables.
#[rustfmt::skip]
pub(super) static SERVERS: &[Server] = &[
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

pub(super) static GENERIC_ERRORS: [&str; 3] = [
    "Request timed out after 30000 ms",
    "Upstream returned 502 Bad Gateway",
    "Rate limit exceeded; retry after 60 s",
];

/// A model and its list prices in US dollars per million tokens.
#[derive(Debug)]
pub(super) struct Model {
    pub(super) id: &'static str,
    pub(super) input: f64,
    pub(super) cached: f64,
    /// Cache writes; zero for providers that cache implicitly.
    pub(super) write: f64,
    pub(super) output: f64,
}

// One entry per line: the tables read as tables.
#[rustfmt::skip]
pub(super) static MODELS: [Model; 7] = [
    Model { id: "anthropic/claude-sonnet-4-5", input: 3.0, cached: 0.3, write: 3.75, output: 15.0 },
    Model { id: "anthropic/claude-haiku-4-5", input: 1.0, cached: 0.1, write: 1.25, output: 5.0 },
    Model { id: "openai/gpt-4.1", input: 2.0, cached: 0.5, write: 0.0, output: 8.0 },
    Model { id: "openai/gpt-4.1-mini", input: 0.4, cached: 0.1, write: 0.0, output: 1.6 },
    Model { id: "openai/gpt-5", input: 1.25, cached: 0.125, write: 0.0, output: 10.0 },
    Model { id: "google/gemini-2.5-pro", input: 1.25, cached: 0.31, write: 0.0, output: 10.0 },
    Model { id: "google/gemini-2.5-flash", input: 0.3, cached: 0.075, write: 0.0, output: 2.5 },
];

/// Platform API keys: name, team (index into `TEAMS`), whether it was revoked.
pub(super) static KEYS: [(&str, usize, bool); 6] = [
    ("Zapier integration", OPERATIONS, false),
    ("Customer portal", 4, false),
    ("Internal tools", ENGINEERING, false),
    ("Warehouse sync", 8, false),
    ("Legacy CI pipeline", ENGINEERING, true),
    ("Sales webhooks", 1, false),
];

pub(super) static FILES: [(&str, &str); 10] = [
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
pub(super) static HOURS: [f64; 24] = [
    0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.5, 1.3, 3.2, 5.2, 6.0, 5.9, 4.6, 5.4, 5.9, 5.5, 4.6, 3.2,
    1.9, 1.3, 0.95, 0.7, 0.45, 0.25,
];

#[cfg(test)]
mod tests {
    use super::*;

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
}
