//! The command line, in AWS CLI conventions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use time::format_description::well_known::Rfc3339;

use keyspill_core::domain::{Timestamp, validate_key_id};

#[derive(Debug, Parser)]
#[command(
    name = "keyspill",
    version,
    about = "Incident console for the hour after an AWS access key leaks",
    long_about = "keyspill shows every access key in the account with the leaked ones marked, \
                  and lets the incident commander disable, delete, rotate and revoke them, \
                  each after a typed confirmation, with every step in an incident journal.",
    args_conflicts_with_subcommands = true,
    after_help = "`console` is the default: `keyspill --key AKIA…` opens it."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the incident console (the default)
    Console(ConsoleArgs),
    /// Write the merged CloudTrail timeline of the leaked keys to stdout
    Timeline(TimelineArgs),
    /// Write the incident report (Markdown or JSON) from an incident's journal alone
    Report(ReportArgs),
    /// Print the attacker's footholds (keys, sessions, users, passwords, roles, trusts,
    /// providers), each open, reduced or closed with why, and whether the incident is contained
    Footholds(FootholdsArgs),
    /// Practise on a simulated leaked-key incident: a local AWS emulator (moto), a seeded
    /// account and an attacker that keeps working; no AWS account needed
    Gameday(GamedayArgs),
    /// Check the evidence a plan kept: every file in the manifest hashed again
    Evidence(EvidenceArgs),
}

#[derive(Debug, Clone, Args)]
pub struct EvidenceArgs {
    #[command(subcommand)]
    pub command: EvidenceCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum EvidenceCommand {
    /// Hash every file evidence/manifest.jsonl lists and compare; list files it does not.
    /// Exit 0 when everything matches, 1 otherwise, 2 for usage
    Verify {
        /// An incident directory or its evidence directory [default: the incident whose
        /// journal was written last, under the XDG state directory]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct GamedayArgs {
    /// The scenario (assets/gameday/NAME.toml); a name not built in is a usage error that
    /// lists the ones that are
    #[arg(
        long,
        default_value = "github-leak",
        value_parser = clap::builder::PossibleValuesParser::new(keyspill_gameday::scenario_names())
    )]
    pub scenario: String,
    /// Name each built-in scenario with its title, one a line, and exit
    #[arg(long)]
    pub list: bool,
    /// The same seed gives the same account, names and records
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// How fast the attacker acts (2 = twice as often)
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Seed the incident but do not run the attacker
    #[arg(long)]
    pub no_attacker: bool,
    /// moto_server to run [default: .venv/bin/moto_server, from scripts/setup-moto]
    #[arg(long, value_name = "PATH")]
    pub moto: Option<PathBuf>,
    /// Where the game's journal, report and moto log go [default: a new directory under the
    /// XDG state directory]
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ThemeName::Default)]
    pub theme: ThemeName,
    /// Who is at the keyboard, on every journal entry and action [default: $USER, else the
    /// login name, @ this host]
    #[arg(long, value_name = "NAME", value_parser = parse_operator)]
    pub operator: Option<String>,
}

fn parse_speed(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number (e.g. 2 or 0.5)"))?;
    if v.is_finite() && (0.05..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{s}: the speed must be between 0.05 and 100"))
    }
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Incident directory holding journal.jsonl [default: the incident whose journal was
    /// written last, under the XDG state directory]
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    /// Output: md (Markdown) or json
    #[arg(long, value_enum, default_value_t = keyspill_core::report::Format::Md)]
    pub format: keyspill_core::report::Format,
    /// Write the report to this file instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Jsonl,
    Csv,
}

#[derive(Debug, Clone, Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// A leaked access key id (repeat for several); without one, every event in --logs
    #[arg(long = "key", value_name = "AKIA…", value_parser = parse_key)]
    pub keys: Vec<String>,
    /// Only events from this time: RFC 3339 or a duration ago (36h, 2d)
    #[arg(long, value_parser = parse_since)]
    pub since: Option<Timestamp>,
    /// Only events up to this time: RFC 3339 or a duration ago
    #[arg(long, value_parser = parse_since)]
    pub until: Option<Timestamp>,
    /// CloudTrail files or directories to read (.json, .json.gz, JSON Lines; repeatable)
    #[arg(long, value_name = "PATH")]
    pub logs: Vec<PathBuf>,
    /// Read only --logs: no AWS call, no credentials needed
    #[arg(long)]
    pub no_api: bool,
    /// Output: table, jsonl or csv
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// A TOML file of risk rules adding to or overriding the built-in ones
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// How the trail logs in S3 are searched: local (downloaded and scanned here), athena
    /// (queried where they lie), or auto (Athena when the window holds more than 10 GiB)
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub engine: EngineArg,
    /// keyspill's Athena workgroup
    #[arg(
        long = "athena-workgroup",
        value_name = "NAME",
        default_value = "keyspill"
    )]
    pub athena_workgroup: String,
    /// keyspill's Athena database (one table per trail in it)
    #[arg(
        long = "athena-database",
        value_name = "NAME",
        default_value = "keyspill"
    )]
    pub athena_database: String,
    /// Where Athena writes query results (s3://BUCKET/PREFIX/), to create the workgroup
    #[arg(long = "athena-output", value_name = "S3_URL")]
    pub athena_output: Option<String>,
    /// Agree to create the Athena workgroup, database and table: type the workgroup's name
    #[arg(long = "athena-create", value_name = "WORKGROUP")]
    pub athena_create: Option<String>,
    /// No query of a workgroup created here scans more than this many GiB
    #[arg(long = "athena-cutoff-gib", value_name = "GIB", default_value_t = 1024)]
    pub athena_cutoff_gib: u64,
}

/// `--engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    Local,
    Athena,
    Auto,
}

impl From<EngineArg> for keyspill_core::timeline::athena::Engine {
    fn from(e: EngineArg) -> Self {
        match e {
            EngineArg::Local => Self::Local,
            EngineArg::Athena => Self::Athena,
            EngineArg::Auto => Self::Auto,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FootholdsFormat {
    Json,
    Text,
}

#[derive(Debug, Clone, Args)]
pub struct FootholdsArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// A leaked access key id (repeat for several)
    #[arg(long = "key", value_name = "AKIA…", value_parser = parse_key)]
    pub keys: Vec<String>,
    /// When the leak started (RFC 3339 or a duration ago); default: the leaked keys' creation
    #[arg(long, value_parser = parse_since)]
    pub since: Option<Timestamp>,
    /// CloudTrail files or directories to read besides the AWS sources (repeatable)
    #[arg(long, value_name = "PATH")]
    pub logs: Vec<PathBuf>,
    /// An incident journal directory: its rotations, clearances, leaked keys and leak start
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    /// Another account whose principals a role may trust (the organisation's; repeatable)
    #[arg(long = "trust-account", value_name = "ACCOUNT", value_parser = parse_account)]
    pub trust_accounts: Vec<String>,
    /// Add what each foothold can do with this action to the JSON, as "can": {ACTION:
    /// allowed | denied | conditional} (repeatable, e.g. iam:CreateAccessKey)
    #[arg(long = "action", value_name = "SERVICE:ACTION", value_parser = parse_action)]
    pub actions: Vec<String>,
    /// The attacker's IP address, for policies that allow or deny by aws:SourceIp
    #[arg(long, value_name = "IP")]
    pub source_ip: Option<std::net::IpAddr>,
    /// Output: json (one object) or text
    #[arg(long, value_enum, default_value_t = FootholdsFormat::Json)]
    pub format: FootholdsFormat,
    #[command(flatten)]
    pub org: OrgArgs,
}

/// The organisation's other accounts.
#[derive(Debug, Clone, Args)]
pub struct OrgArgs {
    /// The organisation's other accounts too: `all` (every account Organizations lists) or
    /// account ids, comma-separated; each entered through --role-name, and the credentials
    /// the leaked keys minted followed there
    #[arg(long, value_name = "all|ID,…", value_parser = parse_accounts)]
    pub accounts: Option<Accounts>,
    /// The role assumed in each other account
    #[arg(long = "role-name", value_name = "NAME", default_value = keyspill_aws::accounts::DEFAULT_ROLE)]
    pub role_name: String,
}

/// Which other accounts to enter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accounts {
    /// Every account of the organisation.
    All,
    List(Vec<String>),
}

/// `all`, or 12-digit account ids separated by commas.
pub fn parse_accounts(s: &str) -> Result<Accounts, String> {
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(Accounts::All);
    }
    let ids = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(parse_account)
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() {
        return Err("name the accounts: `all` or account ids, comma-separated".into());
    }
    Ok(Accounts::List(ids))
}

/// An IAM action: `service:Action`, wildcards allowed.
pub fn parse_action(s: &str) -> Result<String, String> {
    let s = s.trim();
    match s.split_once(':') {
        Some((svc, name))
            if !svc.is_empty()
                && !name.is_empty()
                && svc.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?') =>
        {
            Ok(s.to_string())
        }
        _ => Err(format!(
            "'{s}' is not an IAM action (service:Action, e.g. iam:CreateAccessKey)"
        )),
    }
}

/// A 12-digit AWS account id.
pub fn parse_account(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(format!("'{s}' is not an AWS account id (12 digits)"))
    }
}

pub use keyspill_core::ui::theme::ThemeName;

/// Which regions to sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    All,
    List(Vec<String>),
}

#[derive(Debug, Clone, Args)]
pub struct AwsArgs {
    /// Named profile from the AWS config files
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Region for regional calls that name none (default: from the profile, else us-east-1)
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,
    /// Regions to sweep: a comma-separated list or `all` (every region enabled for the account)
    #[arg(long, default_value = "all", value_parser = parse_regions)]
    pub regions: Regions,
    /// Send every AWS call to this endpoint (a local emulator, a VPC endpoint)
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// A leaked access key id (repeat for several)
    #[arg(long = "key", value_name = "AKIA…", value_parser = parse_key)]
    pub keys: Vec<String>,
    /// When the leak started: RFC 3339 (2026-11-21T08:00:00Z) or a duration ago (36h, 2d)
    /// [default: the leaked key's creation]
    #[arg(long, value_parser = parse_since)]
    pub since: Option<Timestamp>,
    /// Refuse every action that would change AWS
    #[arg(long)]
    pub read_only: bool,
    /// Colours: default or high-contrast (NO_COLOR turns colour off)
    #[arg(long, value_enum, default_value_t = ThemeName::Default)]
    pub theme: ThemeName,
    /// CloudTrail files or directories to add to the timeline (repeatable)
    #[arg(long, value_name = "PATH")]
    pub logs: Vec<PathBuf>,
    /// Risk rules adding to or overriding the built-in ones [default:
    /// $XDG_CONFIG_HOME/keyspill/risk-rules.toml when present]
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Incident directory for the journal [default: one per account and day under the XDG
    /// state directory]
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
    /// Days of daily cost the Cost tab shows (Cost Explorer; each refresh costs USD 0.03 or
    /// more).
    #[arg(long, value_name = "DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(7..=365))]
    pub cost_days: u32,
    /// Another account whose principals a role may trust without that being a foothold (the
    /// organisation's accounts; repeatable)
    #[arg(long = "trust-account", value_name = "ACCOUNT", value_parser = parse_account)]
    pub trust_accounts: Vec<String>,
    /// The attacker's IP address, for policies that allow or deny by aws:SourceIp (the
    /// permissions view's conditions)
    #[arg(long, value_name = "IP")]
    pub source_ip: Option<std::net::IpAddr>,
    #[command(flatten)]
    pub org: OrgArgs,
    /// Who is at the keyboard, on every journal entry and action (e.g. "dana" or
    /// "dana@ir-laptop") [default: $USER, else the login name, @ this host]
    #[arg(long, value_name = "NAME", value_parser = parse_operator)]
    pub operator: Option<String>,
    /// Draw one frame, report the time it took on stderr and exit (benchmarks)
    #[arg(long, hide = true)]
    pub bench_first_frame: bool,
}

/// A name for the journal: printable, on one line, not blank, at most 64 characters.
pub fn parse_operator(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("the operator's name is empty".into());
    }
    if s.chars().count() > 64 {
        return Err("the operator's name is longer than 64 characters".into());
    }
    if s.chars().any(char::is_control) {
        return Err("the operator's name holds a control character".into());
    }
    Ok(s.to_string())
}

fn parse_key(s: &str) -> Result<String, String> {
    let s = s.trim();
    validate_key_id(s)?;
    Ok(s.to_string())
}

fn parse_regions(s: &str) -> Result<Regions, String> {
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(Regions::All);
    }
    let list: Vec<String> = s
        .split(',')
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    if list.is_empty() {
        return Err("give a comma-separated list of regions, or `all`".into());
    }
    for r in &list {
        let ok = r.split('-').count() >= 3
            && r.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && r.ends_with(|c: char| c.is_ascii_digit());
        if !ok {
            return Err(format!("'{r}' is not a region name (like eu-west-1)"));
        }
    }
    Ok(Regions::List(list))
}

/// RFC 3339, or a duration before now (`36h`, `2d`, `90min`).
pub fn parse_since(s: &str) -> Result<Timestamp, String> {
    let s = s.trim();
    if let Ok(t) = Timestamp::parse(s, &Rfc3339) {
        return Ok(t.to_offset(time::UtcOffset::UTC));
    }
    match humantime::parse_duration(s) {
        Ok(d) => {
            let d = time::Duration::try_from(d).map_err(|e| e.to_string())?;
            Ok(time::OffsetDateTime::now_utc() - d)
        }
        Err(_) => Err(format!(
            "'{s}' is neither an RFC 3339 time (2026-11-21T08:00:00Z) nor a duration (36h, 2d)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn console_is_the_default_subcommand() {
        let cli = Cli::try_parse_from(["keyspill", "--key", "AKIAIOSFODNN7EXAMPLE", "--read-only"])
            .expect("parses");
        assert!(cli.command.is_none());
        assert_eq!(cli.console.keys, vec!["AKIAIOSFODNN7EXAMPLE"]);
        assert!(cli.console.read_only);
        let cli = Cli::try_parse_from(["keyspill", "console", "--key", "AKIAIOSFODNN7EXAMPLE"])
            .expect("parses");
        assert!(matches!(cli.command, Some(Command::Console(_))));
    }

    #[test]
    fn accounts_are_all_or_account_ids() {
        assert_eq!(parse_accounts("ALL"), Ok(Accounts::All));
        assert_eq!(
            parse_accounts("111111111111, 222222222222,"),
            Ok(Accounts::List(vec![
                "111111111111".into(),
                "222222222222".into()
            ]))
        );
        assert!(parse_accounts("11111111111").is_err());
        assert!(parse_accounts(" , ").is_err());
        let cli = Cli::try_parse_from([
            "keyspill",
            "footholds",
            "--key",
            "AKIAIOSFODNN7EXAMPLE",
            "--accounts",
            "all",
        ])
        .expect("parses");
        let Some(Command::Footholds(f)) = cli.command else {
            panic!("footholds");
        };
        assert_eq!(f.org.accounts, Some(Accounts::All));
        assert_eq!(f.org.role_name, "OrganizationAccountAccessRole");
        let cli = Cli::try_parse_from([
            "keyspill",
            "--accounts",
            "111111111111",
            "--role-name",
            "IR",
        ])
        .expect("parses");
        assert_eq!(
            cli.console.org.accounts,
            Some(Accounts::List(vec!["111111111111".into()]))
        );
        assert_eq!(cli.console.org.role_name, "IR");
    }

    #[test]
    fn bad_input_is_a_usage_error() {
        let e = Cli::try_parse_from(["keyspill", "--key", "AKIA123"]).expect_err("bad key");
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("not an access key id"));
        let e = Cli::try_parse_from(["keyspill", "--since", "yesterday-ish"]).expect_err("bad");
        assert_eq!(e.exit_code(), 2);
        let e = Cli::try_parse_from(["keyspill", "--regions", "Narnia"]).expect_err("bad");
        assert_eq!(e.exit_code(), 2);
        let e = Cli::try_parse_from(["keyspill", "--frobnicate"]).expect_err("bad");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn an_unknown_scenario_is_a_usage_error_naming_the_built_in_ones() {
        let e = Cli::try_parse_from(["keyspill", "gameday", "--scenario", "nope"])
            .expect_err("no such scenario");
        assert_eq!(e.exit_code(), 2);
        let text = e.to_string();
        for name in keyspill_gameday::scenario_names() {
            assert!(text.contains(name), "{text}");
        }
        let cli = Cli::try_parse_from(["keyspill", "gameday"]).expect("the default is built in");
        let Some(Command::Gameday(g)) = cli.command else {
            panic!("not the gameday command");
        };
        assert!(keyspill_gameday::scenario(&g.scenario).is_ok());
    }

    #[test]
    fn since_and_regions_parse() {
        let t = parse_since("2026-11-21T08:00:00+02:00").expect("rfc3339");
        assert_eq!(t, time::macros::datetime!(2026-11-21 06:00:00 UTC));
        let ago = parse_since("36h").expect("duration");
        let d = time::OffsetDateTime::now_utc() - ago;
        assert!((d.whole_hours() - 36).abs() <= 1);
        assert_eq!(parse_regions("all"), Ok(Regions::All));
        assert_eq!(
            parse_regions("eu-west-1, us-east-1"),
            Ok(Regions::List(vec!["eu-west-1".into(), "us-east-1".into()]))
        );
    }
    #[test]
    fn operator_parses_on_the_console_and_the_game_day() {
        let cli =
            Cli::try_parse_from(["keyspill", "--operator", " dana@ir-laptop "]).expect("parses");
        assert_eq!(cli.console.operator.as_deref(), Some("dana@ir-laptop"));
        let cli =
            Cli::try_parse_from(["keyspill", "console", "--operator", "dana"]).expect("parses");
        let Some(Command::Console(a)) = cli.command else {
            panic!("not the console");
        };
        assert_eq!(a.operator.as_deref(), Some("dana"));
        let cli =
            Cli::try_parse_from(["keyspill", "gameday", "--operator", "dana"]).expect("parses");
        let Some(Command::Gameday(g)) = cli.command else {
            panic!("not the game day");
        };
        assert_eq!(g.operator.as_deref(), Some("dana"));
        assert!(
            Cli::try_parse_from(["keyspill"])
                .expect("parses")
                .console
                .operator
                .is_none()
        );
        for bad in ["", "   ", "a\nb", &"x".repeat(65)] {
            let e = Cli::try_parse_from(["keyspill", "--operator", bad]).expect_err(bad);
            assert_eq!(e.exit_code(), 2, "{bad:?}");
        }
    }

    #[test]
    fn the_report_subcommand_parses() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "keyspill",
            "report",
            "--journal",
            "/tmp/x",
            "--format",
            "json",
            "--out",
            "r.json",
        ])
        .expect("parses");
        let Some(crate::cli::Command::Report(a)) = cli.command else {
            panic!("not the report command");
        };
        assert_eq!(a.format, keyspill_core::report::Format::Json);
        assert_eq!(a.journal, Some(PathBuf::from("/tmp/x")));
        let cli = crate::cli::Cli::try_parse_from(["keyspill", "report"]).expect("parses");
        let Some(crate::cli::Command::Report(a)) = cli.command else {
            panic!("not the report command");
        };
        assert_eq!(a.format, keyspill_core::report::Format::Md);
        assert!(a.journal.is_none() && a.out.is_none());
        assert!(
            crate::cli::Cli::try_parse_from(["keyspill", "report", "--format", "pdf"]).is_err()
        );
    }
}
