//! Risk rules: a verdict (tactic, severity, rule id) for each CloudTrail event worth a second
//! look. The rules are data (`assets/risk-rules.toml`, compiled in); a user's own TOML file can
//! replace a built-in rule by reusing its id, switch one off with `enabled = false`, or add new
//! ones. Classification runs over every event of a timeline (up to a million), so exact event
//! names are looked up in a hash map and only the few prefix entries are scanned.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use serde::de::IntoDeserializer;

use super::model::{Event, Risk, Severity, Tactic, Text};

/// The built-in rule file.
pub const BUILTIN_RULES: &str = include_str!("../../../../assets/risk-rules.toml");

/// What a rule needs to know beyond the event itself.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Regions the account used before the leak. Empty means "unknown": `new_region` conditions
    /// then never hold, rather than flagging every region as new.
    pub baseline_regions: &'a HashSet<String>,
}

/// Conditions of a rule; every one that is set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// An error code or message is present (`true`) or absent (`false`).
    pub error: Option<bool>,
    /// The error code is one of these. A `Client.`/`Server.` prefix on the event's code is
    /// ignored, so `UnauthorizedOperation` also matches EC2's `Client.UnauthorizedOperation`.
    pub error_codes: Vec<String>,
    /// The user agent contains one of these, ignoring case (stored lower-cased).
    pub user_agent_contains: Vec<String>,
    /// `Event::mfa_used` equals this (an unknown MFA state never matches).
    pub mfa: Option<bool>,
    /// The event's region is outside (`true`) or inside (`false`) the baseline.
    pub new_region: Option<bool>,
    /// `requestParameters.userName` names someone other than the caller (`true`), or is absent
    /// or names the caller (`false`).
    pub other_user: Option<bool>,
    /// The call was refused for lack of permission (`Event::denied`), or was not.
    pub denied: Option<bool>,
}

/// One compiled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: Text,
    pub tactic: Tactic,
    pub severity: Severity,
    /// Event names matched exactly.
    pub events: Vec<String>,
    /// Event-name prefixes (entries written `Name*`); an empty prefix matches every event.
    pub prefixes: Vec<String>,
    /// Allowed `eventSource` values; empty means any.
    pub sources: Vec<String>,
    /// One line for the detail pane, possibly empty.
    pub note: String,
    pub when: Conditions,
    /// Decides only when no other rule matches: a verdict about the caller (a refused call, a
    /// tool's user agent) that must not hide what the call itself does.
    pub fallback: bool,
}

/// A set of rules, indexed for classification.
#[derive(Debug, Clone, Default)]
pub struct RiskRules {
    rules: Vec<Rule>,
    /// Exact event name → indices of the rules naming it, in file order.
    exact: HashMap<String, Vec<usize>>,
    /// (prefix, rule index), in file order.
    prefixes: Vec<(String, usize)>,
}

/// A rule as written in a file, before checking.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    tactic: Option<String>,
    severity: Option<String>,
    events: Option<Vec<String>>,
    sources: Option<Vec<String>>,
    note: Option<String>,
    enabled: Option<bool>,
    error: Option<bool>,
    error_codes: Option<Vec<String>>,
    user_agent_contains: Option<Vec<String>>,
    mfa: Option<bool>,
    new_region: Option<bool>,
    other_user: Option<bool>,
    denied: Option<bool>,
    fallback: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rule: Vec<toml::Value>,
}

/// A rule entry of one file: either a rule or the instruction to drop the rule with that id.
enum Entry {
    Rule(Rule),
    Disabled(String),
}

/// The user's own rules file when no `--rules` is given:
/// `$XDG_CONFIG_HOME/keyspill/risk-rules.toml`, if it exists.
pub fn default_user_file() -> Option<std::path::PathBuf> {
    let path = dirs::config_dir()?.join("keyspill").join("risk-rules.toml");
    path.is_file().then_some(path)
}

impl RiskRules {
    /// The built-in rules. They are checked by the test suite; should they ever fail to parse,
    /// this returns an empty set (and `load` reports the error).
    pub fn builtin() -> RiskRules {
        Self::load(None).unwrap_or_default()
    }

    /// The built-in rules, with `user_file` (when given) applied on top: a rule with a built-in
    /// id replaces that rule in place, `enabled = false` removes it, other rules are appended.
    pub fn load(user_file: Option<&Path>) -> Result<RiskRules, String> {
        let mut rules: Vec<Rule> = Vec::new();
        for entry in parse_rules(BUILTIN_RULES, "built-in risk rules")? {
            if let Entry::Rule(rule) = entry {
                rules.push(rule);
            }
        }
        if let Some(path) = user_file {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|err| format!("cannot read risk rules {name}: {err}"))?;
            for entry in parse_rules(&text, &name)? {
                match entry {
                    Entry::Rule(rule) => {
                        match rules.iter_mut().find(|existing| existing.id == rule.id) {
                            Some(slot) => *slot = rule,
                            None => rules.push(rule),
                        }
                    }
                    Entry::Disabled(id) => rules.retain(|existing| *existing.id != *id),
                }
            }
        }
        Ok(Self::from_rules(rules))
    }

    /// Rules from one TOML text alone (no built-ins), `name` naming it in errors.
    pub fn from_toml(text: &str, name: &str) -> Result<RiskRules, String> {
        let rules = parse_rules(text, name)?
            .into_iter()
            .filter_map(|entry| match entry {
                Entry::Rule(rule) => Some(rule),
                Entry::Disabled(_) => None,
            })
            .collect();
        Ok(Self::from_rules(rules))
    }

    fn from_rules(rules: Vec<Rule>) -> RiskRules {
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        let mut prefixes = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            for name in &rule.events {
                let slot = exact.entry(name.clone()).or_default();
                if slot.last() != Some(&index) {
                    slot.push(index);
                }
            }
            for prefix in &rule.prefixes {
                prefixes.push((prefix.clone(), index));
            }
        }
        RiskRules {
            rules,
            exact,
            prefixes,
        }
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every rule, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this id, for "why is this flagged".
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| &*rule.id == id)
    }

    /// The verdict of the most severe rule matching `e`; between equally severe rules, the
    /// earlier one. A fallback rule decides only when no other rule matches. `None` when no
    /// rule matches.
    pub fn classify(&self, e: &Event, ctx: &Context) -> Option<Risk> {
        // The best rule so far, of the ordinary rules and of the fallbacks.
        let mut best: [Option<(Severity, usize)>; 2] = [None, None];
        let mut probe = Probe::new(e);
        let mut consider = |index: usize| {
            let Some(rule) = self.rules.get(index) else {
                return;
            };
            let slot = &mut best[usize::from(rule.fallback)];
            // Skip the condition checks when this rule could not beat the current verdict.
            if let Some((severity, at)) = *slot
                && (rule.severity < severity || (rule.severity == severity && index >= at))
            {
                return;
            }
            if rule.holds(&mut probe, ctx) {
                *slot = Some((rule.severity, index));
            }
        };
        if let Some(indices) = self.exact.get(&*e.name) {
            for &index in indices {
                consider(index);
            }
        }
        for (prefix, index) in &self.prefixes {
            if e.name.starts_with(prefix.as_str()) {
                consider(*index);
            }
        }
        let [ordinary, fallback] = best;
        let (_, index) = ordinary.or(fallback)?;
        let rule = self.rules.get(index)?;
        Some(Risk {
            tactic: rule.tactic,
            severity: rule.severity,
            rule: rule.id.clone(),
        })
    }

    /// Sets `risk` on every event; returns how many were flagged.
    pub fn annotate(&self, events: &mut [Event], ctx: &Context) -> usize {
        let mut flagged = 0;
        for e in events.iter_mut() {
            e.risk = self.classify(e, ctx);
            if e.risk.is_some() {
                flagged += 1;
            }
        }
        flagged
    }
}

impl Rule {
    /// Whether the event satisfies the rule's sources and conditions (its name already matched).
    /// Cheap checks come first; `other_user` parses the raw record, so it comes last.
    fn holds(&self, probe: &mut Probe<'_>, ctx: &Context) -> bool {
        let e = probe.event;
        let c = &self.when;
        if let Some(want) = c.error
            && e.failed() != want
        {
            return false;
        }
        if let Some(want) = c.mfa
            && e.mfa_used != Some(want)
        {
            return false;
        }
        if let Some(want) = c.denied
            && e.denied() != want
        {
            return false;
        }
        if !self.sources.is_empty() && !self.sources.iter().any(|s| **s == *e.service) {
            return false;
        }
        if !c.error_codes.is_empty() {
            let Some(code) = e.error_code.as_deref() else {
                return false;
            };
            let bare = super::model::bare_code(code);
            if !c
                .error_codes
                .iter()
                .any(|want| want == code || want == bare)
            {
                return false;
            }
        }
        if let Some(want) = c.new_region {
            if ctx.baseline_regions.is_empty() || e.region.is_empty() {
                return false;
            }
            if ctx.baseline_regions.contains(&*e.region) == want {
                return false;
            }
        }
        if !c.user_agent_contains.is_empty() && !probe.agent_contains_any(&c.user_agent_contains) {
            return false;
        }
        if let Some(want) = c.other_user
            && probe.names_other_user() != want
        {
            return false;
        }
        true
    }
}

/// One event under classification, with the derived facts several rules may ask for, each
/// worked out at most once.
struct Probe<'e> {
    event: &'e Event,
    agent_lower: Option<String>,
    other_user: Option<bool>,
}

impl<'e> Probe<'e> {
    fn new(event: &'e Event) -> Self {
        Probe {
            event,
            agent_lower: None,
            other_user: None,
        }
    }

    /// Whether the user agent contains any of `needles` (already lower-case), ignoring case.
    fn agent_contains_any(&mut self, needles: &[String]) -> bool {
        let event = self.event;
        let lower = self
            .agent_lower
            .get_or_insert_with(|| event.user_agent.to_lowercase());
        needles.iter().any(|n| lower.contains(n.as_str()))
    }

    fn names_other_user(&mut self) -> bool {
        let event = self.event;
        *self
            .other_user
            .get_or_insert_with(|| names_other_user(event))
    }
}

/// The caller's own name: the last `/`-separated part of `userIdentity.arn`.
fn caller_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Whether the record's `requestParameters.userName` is present and is not the caller.
fn names_other_user(e: &Event) -> bool {
    // Most records never mention a user name; spare them the JSON parse.
    if !e.raw.contains("userName") {
        return false;
    }
    match request_user_name(&e.raw) {
        Some(target) => !target.is_empty() && target != caller_name(&e.identity_arn),
        None => false,
    }
}

/// Only the parts of a record needed to find `requestParameters`, whether the record is bare,
/// inside an EventBridge envelope (`detail`) or a LookupEvents element (`CloudTrailEvent`).
#[derive(Deserialize)]
struct RecordView {
    #[serde(rename = "requestParameters")]
    request_parameters: Option<serde_json::Value>,
    detail: Option<Box<RecordView>>,
    #[serde(rename = "CloudTrailEvent")]
    cloudtrail_event: Option<String>,
}

fn request_user_name(raw: &str) -> Option<String> {
    let view: RecordView = serde_json::from_str(raw).ok()?;
    user_name_in(view, 0)
}

fn user_name_in(view: RecordView, depth: u8) -> Option<String> {
    if let Some(params) = &view.request_parameters
        && let Some(name) = params.get("userName").and_then(|v| v.as_str())
    {
        return Some(name.to_string());
    }
    if depth >= 2 {
        return None;
    }
    if let Some(detail) = view.detail {
        return user_name_in(*detail, depth + 1);
    }
    if let Some(inner) = view.cloudtrail_event {
        let inner: RecordView = serde_json::from_str(&inner).ok()?;
        return user_name_in(inner, depth + 1);
    }
    None
}

/// The tactic names a rule file may use: the serde names of `Tactic`.
fn tactic_names() -> Vec<String> {
    Tactic::ALL
        .iter()
        .filter_map(|t| serde_json::to_value(t).ok())
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn parse_tactic(text: &str) -> Result<Tactic, String> {
    let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
        text.into_deserializer();
    Tactic::deserialize(de).map_err(|_| {
        format!(
            "unknown tactic \"{text}\" (expected one of: {})",
            tactic_names().join(", ")
        )
    })
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
        text.into_deserializer();
    Severity::deserialize(de).map_err(|_| {
        format!("unknown severity \"{text}\" (expected one of: info, low, medium, high, critical)")
    })
}

/// Parses one rule file; `name` is how errors refer to it.
fn parse_rules(text: &str, name: &str) -> Result<Vec<Entry>, String> {
    let file: RawFile = toml::from_str(text).map_err(|err| {
        format!(
            "{name}: not a valid rule file: {}",
            err.to_string().trim_end()
        )
    })?;
    let mut seen: HashSet<String> = HashSet::new();
    let mut entries = Vec::with_capacity(file.rule.len());
    for (position, value) in file.rule.into_iter().enumerate() {
        let number = position + 1;
        let id_hint = value.get("id").and_then(|v| v.as_str()).map(str::to_string);
        let label = match &id_hint {
            Some(id) => format!("rule \"{id}\" (#{number})"),
            None => format!("rule #{number}"),
        };
        let raw: RawRule = value
            .try_into()
            .map_err(|err: toml::de::Error| format!("{name}: {label}: {}", err.message()))?;
        let entry = check_rule(raw).map_err(|what| format!("{name}: {label}: {what}"))?;
        let id = match &entry {
            Entry::Rule(rule) => &*rule.id,
            Entry::Disabled(id) => id.as_str(),
        };
        if !seen.insert(id.to_string()) {
            return Err(format!(
                "{name}: {label}: duplicate id (another rule in this file already uses it)"
            ));
        }
        entries.push(entry);
    }
    Ok(entries)
}

fn non_empty_list(field: &str, list: Option<Vec<String>>) -> Result<Vec<String>, String> {
    match list {
        None => Ok(Vec::new()),
        Some(list) if list.is_empty() => Err(format!(
            "{field} is an empty list; leave it out to mean \"any\""
        )),
        Some(list) => {
            if list.iter().any(|s| s.trim().is_empty()) {
                return Err(format!("{field} contains an empty string"));
            }
            Ok(list)
        }
    }
}

fn check_rule(raw: RawRule) -> Result<Entry, String> {
    let id = raw.id.trim().to_string();
    if id.is_empty() {
        return Err("id is empty".into());
    }
    if raw.enabled == Some(false) {
        return Ok(Entry::Disabled(id));
    }
    let tactic = parse_tactic(raw.tactic.as_deref().ok_or("tactic is missing")?)?;
    let severity = parse_severity(raw.severity.as_deref().ok_or("severity is missing")?)?;

    let listed = raw.events.ok_or("events is missing")?;
    if listed.is_empty() {
        return Err("events is empty: a rule must name at least one event (\"*\" for all)".into());
    }
    let mut events: Vec<String> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    for entry in listed {
        let entry = entry.trim();
        if entry.is_empty() {
            return Err("events contains an empty name".into());
        }
        let (stem, is_prefix) = match entry.strip_suffix('*') {
            Some(stem) => (stem, true),
            None => (entry, false),
        };
        if stem.contains('*') {
            return Err(format!(
                "event \"{entry}\": '*' may only end a name (a prefix match)"
            ));
        }
        let list = if is_prefix {
            &mut prefixes
        } else {
            &mut events
        };
        if !list.iter().any(|s| s == stem) {
            list.push(stem.to_string());
        }
    }

    let sources = non_empty_list("sources", raw.sources)?;
    let error_codes = non_empty_list("error_codes", raw.error_codes)?;
    let user_agent_contains: Vec<String> =
        non_empty_list("user_agent_contains", raw.user_agent_contains)?
            .iter()
            .map(|s| s.to_lowercase())
            .collect();
    if raw.error == Some(false) && !error_codes.is_empty() {
        return Err("error = false contradicts error_codes".into());
    }
    if raw.error == Some(false) && raw.denied == Some(true) {
        return Err("error = false contradicts denied = true".into());
    }

    Ok(Entry::Rule(Rule {
        id: id.into(),
        tactic,
        severity,
        events,
        prefixes,
        sources,
        note: raw.note.unwrap_or_default(),
        when: Conditions {
            error: raw.error,
            error_codes,
            user_agent_contains,
            mfa: raw.mfa,
            new_region: raw.new_region,
            other_user: raw.other_user,
            denied: raw.denied,
        },
        fallback: raw.fallback.unwrap_or(false),
    }))
}

/// Builders shared by the timeline tests: hand-made events and events read from the stratus-red-
/// team fixtures, without the real record parser.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::sync::Arc;

    use serde_json::Value;

    use crate::timeline::model::{Event, Minted, Origin};

    /// An event with only a name and source; the rest empty.
    pub fn event(name: &str, source: &str) -> Event {
        Event {
            id: format!("test-{name}").into(),
            time: time::OffsetDateTime::UNIX_EPOCH,
            service: source.into(),
            name: name.into(),
            region: "us-east-1".into(),
            source_ip: "".into(),
            user_agent: "aws-cli/2.15.0".into(),
            identity_type: "IAMUser".into(),
            identity_arn: "arn:aws:iam::111122223333:user/alice".into(),
            access_key_id: "AKIAAAAAAAAAAAAAAAAA".into(),
            error_code: None,
            error_message: None,
            read_only: None,
            mfa_used: None,
            minted: None,
            origin: Origin::File {
                path: "test".into(),
            },
            raw: Arc::from("{}"),
            risk: None,
        }
    }

    fn text(v: &Value, path: &[&str]) -> String {
        let mut at = v;
        for key in path {
            match at.get(key) {
                Some(next) => at = next,
                None => return String::new(),
            }
        }
        at.as_str().unwrap_or_default().to_string()
    }

    fn opt(v: &Value, key: &str) -> Option<String> {
        v.get(key).and_then(Value::as_str).map(str::to_string)
    }

    /// How a token call is described on the chain: `AssumeRole <role>`, `GetFederationToken
    /// <name>`, `GetSessionToken`.
    fn via(record: &Value, name: &str) -> String {
        let params = record.get("requestParameters");
        let detail = match name {
            "AssumeRole" => params
                .and_then(|p| p.get("roleArn"))
                .and_then(Value::as_str)
                .and_then(|arn| arn.rsplit('/').next())
                .map(str::to_string),
            "GetFederationToken" => params
                .and_then(|p| p.get("name"))
                .and_then(Value::as_str)
                .map(str::to_string),
            _ => None,
        };
        match detail {
            Some(d) => format!("{name} {d}"),
            None => name.to_string(),
        }
    }

    /// A minimal `Event` from one raw record.
    pub fn from_record(record: &Value, file: &str) -> Event {
        let name = text(record, &["eventName"]);
        let time = time::OffsetDateTime::parse(
            &text(record, &["eventTime"]),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let minted_id = text(record, &["responseElements", "credentials", "accessKeyId"]);
        let minted = (!minted_id.is_empty()).then(|| {
            Box::new(Minted {
                key_id: minted_id,
                via: via(record, &name),
            })
        });
        let mfa_used = record
            .get("additionalEventData")
            .and_then(|d| d.get("MFAUsed"))
            .and_then(Value::as_str)
            .map(|s| s.eq_ignore_ascii_case("yes"));
        Event {
            id: text(record, &["eventID"]).into(),
            time,
            service: text(record, &["eventSource"]).into(),
            name: name.into(),
            region: text(record, &["awsRegion"]).into(),
            source_ip: text(record, &["sourceIPAddress"]).into(),
            user_agent: text(record, &["userAgent"]).into(),
            identity_type: text(record, &["userIdentity", "type"]).into(),
            identity_arn: text(record, &["userIdentity", "arn"]).into(),
            access_key_id: text(record, &["userIdentity", "accessKeyId"]).into(),
            error_code: opt(record, "errorCode").map(Into::into),
            error_message: opt(record, "errorMessage").map(Into::into),
            read_only: record.get("readOnly").and_then(Value::as_bool),
            mfa_used,
            minted,
            origin: Origin::File { path: file.into() },
            raw: Arc::from(record.to_string()),
            risk: None,
        }
    }

    /// Every record of one stratus-red-team file, sorted by time (the files are not).
    pub fn stratus(file: &str) -> Vec<Event> {
        let path = format!(
            "{}/../../../shared/data/cloudtrail/stratus-red-team/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let body = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let records: Vec<Value> =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut events: Vec<Event> = records.iter().map(|r| from_record(r, file)).collect();
        events.sort_by_key(|e| e.time);
        events
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::fixtures::{event, stratus};
    use super::*;

    fn no_baseline() -> HashSet<String> {
        HashSet::new()
    }

    fn verdict(rules: &RiskRules, e: &Event) -> Option<(Tactic, Severity, String)> {
        let empty = no_baseline();
        let ctx = Context {
            baseline_regions: &empty,
        };
        rules
            .classify(e, &ctx)
            .map(|r| (r.tactic, r.severity, r.rule.to_string()))
    }

    fn rule_of(rules: &RiskRules, e: &Event) -> Option<String> {
        verdict(rules, e).map(|(_, _, id)| id)
    }

    fn user_file(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::Builder::new()
            .suffix(".toml")
            .tempfile()
            .expect("temp file");
        file.write_all(text.as_bytes()).expect("write");
        file
    }

    #[test]
    fn builtin_rules_parse_and_cover_every_tactic() {
        let loaded = RiskRules::load(None);
        assert!(loaded.is_ok(), "{loaded:?}");
        let rules = RiskRules::builtin();
        assert!(rules.len() > 60, "{}", rules.len());
        for tactic in Tactic::ALL {
            assert!(
                rules.rules().iter().any(|r| r.tactic == tactic),
                "no rule for {tactic:?}"
            );
        }
        let ids: HashSet<&str> = rules.rules().iter().map(|r| &*r.id).collect();
        assert_eq!(ids.len(), rules.len());
    }

    #[test]
    fn catalogue_severities() {
        let rules = RiskRules::builtin();
        let cases = [
            (
                "StopLogging",
                "cloudtrail.amazonaws.com",
                Severity::Critical,
            ),
            (
                "DeleteTrail",
                "cloudtrail.amazonaws.com",
                Severity::Critical,
            ),
            ("RunInstances", "ec2.amazonaws.com", Severity::High),
            ("ListBuckets", "s3.amazonaws.com", Severity::Low),
            ("GetCallerIdentity", "sts.amazonaws.com", Severity::Low),
            (
                "LeaveOrganization",
                "organizations.amazonaws.com",
                Severity::Critical,
            ),
            (
                "DeleteDetector",
                "guardduty.amazonaws.com",
                Severity::Critical,
            ),
            (
                "GetSecretValue",
                "secretsmanager.amazonaws.com",
                Severity::High,
            ),
            ("AssumeRole", "sts.amazonaws.com", Severity::Medium),
        ];
        for (name, source, severity) in cases {
            let got = verdict(&rules, &event(name, source));
            assert_eq!(got.map(|v| v.1), Some(severity), "{name}");
        }
        // Nothing flags an ordinary read.
        assert_eq!(
            verdict(&rules, &event("DescribeVpcs", "ec2.amazonaws.com")),
            None
        );
    }

    #[test]
    fn sources_disambiguate_shared_names() {
        let rules = RiskRules::builtin();
        // GuardDuty's DeleteDetector is evasion; a same-named call elsewhere is not.
        assert_eq!(
            rule_of(&rules, &event("DeleteDetector", "guardduty.amazonaws.com")).as_deref(),
            Some("evasion-guardduty-off")
        );
        assert_eq!(
            rule_of(&rules, &event("DeleteDetector", "example.amazonaws.com")),
            None
        );
        // SNS AddPermission is not the Lambda rule.
        assert_eq!(
            rule_of(&rules, &event("AddPermission", "sns.amazonaws.com")),
            None
        );
        assert_eq!(
            rule_of(&rules, &event("CreateUser", "identitystore.amazonaws.com")).as_deref(),
            Some("persistence-identity-center")
        );
    }

    #[test]
    fn lambda_names_match_by_prefix() {
        let rules = RiskRules::builtin();
        let lambda = "lambda.amazonaws.com";
        let cases = [
            (
                "UpdateFunctionCode20150331v2",
                "persistence-lambda-modified",
            ),
            (
                "UpdateFunctionConfiguration20150331v2",
                "persistence-lambda-modified",
            ),
            ("AddPermission20150331v2", "persistence-lambda-exposed"),
            ("CreateFunction20150331", "compute-lambda-function"),
            (
                "CreateFunctionUrlConfig20211031",
                "persistence-lambda-exposed",
            ),
        ];
        for (name, id) in cases {
            assert_eq!(
                rule_of(&rules, &event(name, lambda)).as_deref(),
                Some(id),
                "{name}"
            );
        }
        // A prefix is a prefix: a name that only contains it does not match.
        assert_eq!(rule_of(&rules, &event("XUpdateFunctionCode", lambda)), None);

        let own = RiskRules::from_toml(
            r#"
            [[rule]]
            id = "p"
            tactic = "persistence"
            severity = "low"
            events = ["UpdateFunctionCode*", "Exact"]
            "#,
            "own",
        )
        .expect("rules");
        assert!(rule_of(&own, &event("UpdateFunctionCode", "x")).is_some());
        assert!(rule_of(&own, &event("UpdateFunctionCode20150331v2", "x")).is_some());
        assert!(rule_of(&own, &event("Exact", "x")).is_some());
        assert!(rule_of(&own, &event("Exactly", "x")).is_none());
    }

    #[test]
    fn error_condition() {
        let rules = RiskRules::builtin();
        let mut run = event("RunInstances", "ec2.amazonaws.com");
        assert_eq!(
            rule_of(&rules, &run).as_deref(),
            Some("compute-run-instances")
        );
        run.error_code = Some("Client.VcpuLimitExceeded".into());
        assert_eq!(
            rule_of(&rules, &run).as_deref(),
            Some("compute-run-instances-refused")
        );

        // A failed AssumeRole is not a new session: still an attempt to move, rated lower.
        let mut assume = event("AssumeRole", "sts.amazonaws.com");
        assume.error_code = Some("AccessDenied".into());
        assert_eq!(
            verdict(&rules, &assume),
            Some((
                Tactic::LateralMovement,
                Severity::Low,
                "lateral-movement-refused".into()
            ))
        );
        // An error message alone (failed console sign-in) counts as an error.
        let mut login = event("ConsoleLogin", "signin.amazonaws.com");
        login.error_message = Some("Failed authentication".into());
        assert_eq!(
            rule_of(&rules, &login).as_deref(),
            Some("initial-access-console-login-failed")
        );
        // Error codes ignore EC2's Client. prefix; other failures are not "access denied".
        let mut describe = event("DescribeVpcs", "ec2.amazonaws.com");
        describe.error_code = Some("Client.UnauthorizedOperation".into());
        assert_eq!(
            rule_of(&rules, &describe).as_deref(),
            Some("recon-access-denied")
        );
        describe.error_code = Some("Client.InvalidParameterValue".into());
        assert_eq!(rule_of(&rules, &describe), None);
    }

    #[test]
    fn user_agent_condition() {
        let rules = RiskRules::builtin();
        let mut whoami = event("GetCallerIdentity", "sts.amazonaws.com");
        assert_eq!(
            rule_of(&rules, &whoami).as_deref(),
            Some("recon-get-caller-identity")
        );
        whoami.user_agent = "TruffleHog".into();
        assert_eq!(
            verdict(&rules, &whoami),
            Some((
                Tactic::Recon,
                Severity::Medium,
                "recon-scanner-verifies-key".into()
            ))
        );
        let mut other = event("DescribeVpcs", "ec2.amazonaws.com");
        other.user_agent = "aws-cli/2.9 Python/3.11 Linux/6.1.0-kali7-amd64".into();
        assert_eq!(
            rule_of(&rules, &other).as_deref(),
            Some("recon-offensive-tool-user-agent")
        );
        // Case folding is not limited to ASCII.
        let own = RiskRules::from_toml(
            "[[rule]]\nid = \"u\"\ntactic = \"recon\"\nseverity = \"low\"\nevents = [\"*\"]\n\
             user_agent_contains = [\"ÉCLAIR\"]\n",
            "own",
        )
        .expect("rules");
        other.user_agent = "tool/1.0 (éclair)".into();
        assert_eq!(rule_of(&own, &other).as_deref(), Some("u"));
        other.user_agent = "tool/1.0".into();
        assert_eq!(rule_of(&own, &other), None);
    }

    #[test]
    fn mfa_condition() {
        let rules = RiskRules::builtin();
        let mut login = event("ConsoleLogin", "signin.amazonaws.com");
        login.access_key_id = "".into();
        login.mfa_used = Some(false);
        assert_eq!(
            verdict(&rules, &login),
            Some((
                Tactic::InitialAccess,
                Severity::High,
                "initial-access-console-login-without-mfa".into()
            ))
        );
        login.mfa_used = Some(true);
        assert_eq!(
            rule_of(&rules, &login).as_deref(),
            Some("chain-console-login")
        );
        // Unknown MFA state does not count as "without MFA".
        login.mfa_used = None;
        assert_eq!(
            rule_of(&rules, &login).as_deref(),
            Some("chain-console-login")
        );
    }

    #[test]
    fn new_region_condition() {
        let rules = RiskRules::builtin();
        let baseline: HashSet<String> = ["us-east-1".to_string(), "eu-west-1".to_string()].into();
        let ctx = Context {
            baseline_regions: &baseline,
        };
        let mut run = event("RunInstances", "ec2.amazonaws.com");
        run.region = "eu-west-1".into();
        assert_eq!(
            rules.classify(&run, &ctx).map(|r| r.severity),
            Some(Severity::High)
        );
        run.region = "ap-southeast-3".into();
        let risk = rules.classify(&run, &ctx).expect("flagged");
        assert_eq!(
            (risk.severity, &*risk.rule),
            (Severity::Critical, "compute-in-new-region")
        );
        // Without a baseline nothing is "new".
        assert_eq!(verdict(&rules, &run).map(|v| v.1), Some(Severity::High));

        let own = RiskRules::from_toml(
            r#"
            [[rule]]
            id = "known-region"
            tactic = "recon"
            severity = "info"
            events = ["*"]
            new_region = false
            "#,
            "own",
        )
        .expect("rules");
        assert!(own.classify(&run, &ctx).is_none());
        run.region = "us-east-1".into();
        assert!(own.classify(&run, &ctx).is_some());
    }

    #[test]
    fn other_user_condition() {
        let rules = RiskRules::builtin();
        let mut key = event("CreateAccessKey", "iam.amazonaws.com");
        key.raw = r#"{"requestParameters":{"userName":"bob"}}"#.into();
        assert_eq!(
            verdict(&rules, &key),
            Some((
                Tactic::Persistence,
                Severity::Critical,
                "persistence-access-key-for-other-user".into()
            ))
        );
        // For oneself, or with no userName (the caller's own key), it is still persistence.
        key.raw = r#"{"requestParameters":{"userName":"alice"}}"#.into();
        assert_eq!(
            rule_of(&rules, &key).as_deref(),
            Some("persistence-access-key")
        );
        key.raw = r#"{"requestParameters":null}"#.into();
        assert_eq!(
            rule_of(&rules, &key).as_deref(),
            Some("persistence-access-key")
        );
        key.raw = "not json, but says userName".into();
        assert_eq!(
            rule_of(&rules, &key).as_deref(),
            Some("persistence-access-key")
        );
        // An assumed role (caller is its session name) making a key for a user.
        key.identity_arn = "arn:aws:sts::111122223333:assumed-role/deploy/alice-session".into();
        key.raw = r#"{"requestParameters":{"userName":"alice"}}"#.into();
        assert_eq!(
            rule_of(&rules, &key).as_deref(),
            Some("persistence-access-key-for-other-user")
        );
        // Records wrapped by EventBridge or LookupEvents are looked into.
        key.identity_arn = "arn:aws:iam::111122223333:user/alice".into();
        key.raw = r#"{"detail":{"requestParameters":{"userName":"bob"}}}"#.into();
        assert_eq!(
            rule_of(&rules, &key).as_deref(),
            Some("persistence-access-key-for-other-user")
        );
        key.raw = r#"{"CloudTrailEvent":"{\"requestParameters\":{\"userName\":\"bob\"}}"}"#.into();
        assert_eq!(
            rule_of(&rules, &key).as_deref(),
            Some("persistence-access-key-for-other-user")
        );
        let mut profile = event("UpdateLoginProfile", "iam.amazonaws.com");
        profile.raw = r#"{"requestParameters":{"userName":"root-admin"}}"#.into();
        assert_eq!(
            rule_of(&rules, &profile).as_deref(),
            Some("persistence-login-profile-for-other-user")
        );
    }

    #[test]
    fn most_severe_rule_wins_and_ties_go_to_the_first() {
        let rules = RiskRules::from_toml(
            r#"
            [[rule]]
            id = "a-low"
            tactic = "recon"
            severity = "low"
            events = ["DoThing"]

            [[rule]]
            id = "b-high"
            tactic = "compute"
            severity = "high"
            events = ["Do*"]

            [[rule]]
            id = "c-high"
            tactic = "fraud"
            severity = "high"
            events = ["DoThing"]

            [[rule]]
            id = "d-critical-when-failed"
            tactic = "defense-evasion"
            severity = "critical"
            events = ["DoThing"]
            error = true
            "#,
            "own",
        )
        .expect("rules");
        assert_eq!(rules.len(), 4);
        let mut e = event("DoThing", "x.amazonaws.com");
        assert_eq!(
            verdict(&rules, &e),
            Some((Tactic::Compute, Severity::High, "b-high".into()))
        );
        e.error_code = Some("Boom".into());
        assert_eq!(
            rule_of(&rules, &e).as_deref(),
            Some("d-critical-when-failed")
        );
        assert_eq!(
            rule_of(&rules, &event("DoOther", "x")).as_deref(),
            Some("b-high")
        );
    }

    #[test]
    fn user_file_overrides_disables_and_adds() {
        let file = user_file(
            r#"
            # Quieter about ListBuckets, silent about GetCallerIdentity, plus one of our own.
            [[rule]]
            id = "recon-s3-list-buckets"
            tactic = "exfiltration"
            severity = "info"
            events = ["ListBuckets"]

            [[rule]]
            id = "recon-get-caller-identity"
            enabled = false

            [[rule]]
            id = "ours-kms-schedule-deletion"
            tactic = "defense-evasion"
            severity = "critical"
            events = ["ScheduleKeyDeletion"]
            sources = ["kms.amazonaws.com"]
            "#,
        );
        let builtin = RiskRules::builtin();
        let rules = RiskRules::load(Some(file.path())).expect("loads");
        assert_eq!(rules.len(), builtin.len()); // one replaced, one removed, one added
        assert_eq!(
            verdict(&rules, &event("ListBuckets", "s3.amazonaws.com")),
            Some((
                Tactic::Exfiltration,
                Severity::Info,
                "recon-s3-list-buckets".into()
            ))
        );
        // The replacement keeps the built-in rule's place in the order.
        let at = |r: &RiskRules, id: &str| r.rules().iter().position(|x| &*x.id == id);
        assert!(at(&rules, "recon-s3-list-buckets") < at(&rules, "recon-access-denied"));
        assert_eq!(
            rule_of(&rules, &event("GetCallerIdentity", "sts.amazonaws.com")),
            None
        );
        assert_eq!(
            rule_of(&rules, &event("ScheduleKeyDeletion", "kms.amazonaws.com")).as_deref(),
            Some("ours-kms-schedule-deletion")
        );
        assert_eq!(
            rules.rules().last().map(|r| &*r.id),
            Some("ours-kms-schedule-deletion")
        );
    }

    #[test]
    fn bad_user_files_say_what_and_where() {
        let cases = [
            (
                "[[rule]]\nid = \"x\"\ntactic = \"impact\"\nseverity = \"high\"\nevents = [\"A\"]\n",
                vec![
                    "rule \"x\"",
                    "unknown tactic \"impact\"",
                    "privilege-escalation",
                    "lateral-movement",
                ],
            ),
            (
                "[[rule]]\nid = \"x\"\ntactic = \"recon\"\nseverity = \"high\"\nevents = []\n",
                vec!["rule \"x\"", "events is empty"],
            ),
            (
                "[[rule]]\nid = \"x\"\ntactic = \"recon\"\nseverity = \"high\"\nevents = [\"A\"]\n\
                 [[rule]]\nid = \"x\"\ntactic = \"recon\"\nseverity = \"low\"\nevents = [\"B\"]\n",
                vec!["rule \"x\" (#2)", "duplicate id"],
            ),
            (
                "[[rule]]\nid = \"x\"\ntactic = \"recon\"\nseverity = \"severe\"\nevents = [\"A\"]\n",
                vec!["rule \"x\"", "unknown severity \"severe\""],
            ),
            (
                "[[rule]]\nid = \"x\"\ntactic = \"recon\"\nseverity = \"low\"\nevents = [\"A\"]\nuser_agent = [\"k\"]\n",
                vec!["rule \"x\"", "user_agent"],
            ),
            (
                "[[rule]]\nid = \"x\"\ntactic = \"recon\"\nseverity = \"low\"\nevents = [\"*Foo\"]\n",
                vec!["rule \"x\"", "may only end a name"],
            ),
            (
                "[[rule]]\nid = \"x\"\ntactic = \"recon\"\nseverity = \"low\"\n",
                vec!["rule \"x\"", "events is missing"],
            ),
            ("[[rule]]\ntactic = \"recon\"\n", vec!["rule #1", "id"]),
            (
                "[[rule]]\nid = \"x\"\ntactic = \"recon\"\nseverity = \"low\"\nevents = [\"A\"]\nerror = false\nerror_codes = [\"AccessDenied\"]\n",
                vec!["rule \"x\"", "contradicts"],
            ),
            (
                "[[rule]]\nid = \"x\"\ntactic = \"recon\"\nseverity = \"low\"\nevents = [\"A\"]\nerror = false\ndenied = true\n",
                vec!["rule \"x\"", "contradicts denied"],
            ),
            ("[[rule]\nid = ", vec!["not a valid rule file"]),
            ("rules = []\n", vec!["not a valid rule file"]),
        ];
        for (text, wanted) in cases {
            let file = user_file(text);
            let name = file.path().display().to_string();
            let err = RiskRules::load(Some(file.path())).expect_err(text);
            assert!(err.contains(&name), "{err}");
            for w in wanted {
                assert!(err.contains(w), "{err:?} lacks {w:?}");
            }
        }
        let missing = std::path::Path::new("/nonexistent/keyspill-rules.toml");
        let err = RiskRules::load(Some(missing)).expect_err("missing file");
        assert!(err.contains("/nonexistent/keyspill-rules.toml"), "{err}");
    }

    #[test]
    fn annotate_sets_risk() {
        let rules = RiskRules::builtin();
        let mut events = vec![
            event("StopLogging", "cloudtrail.amazonaws.com"),
            event("DescribeVpcs", "ec2.amazonaws.com"),
        ];
        let empty = no_baseline();
        let n = rules.annotate(
            &mut events,
            &Context {
                baseline_regions: &empty,
            },
        );
        assert_eq!(n, 1);
        assert!(events[0].risk.is_some() && events[1].risk.is_none());
    }

    /// The real detonation records, each with the tactic a responder would give it.
    #[test]
    fn stratus_red_team_records() {
        let rules = RiskRules::builtin();
        let tactic_of = |file: &str, name: &str| -> Vec<Option<(Tactic, Severity)>> {
            stratus(file)
                .iter()
                .filter(|e| &*e.name == name)
                .map(|e| verdict(&rules, e).map(|v| (v.0, v.1)))
                .collect()
        };
        let cases = [
            (
                "aws.defense-evasion.cloudtrail-stop.json",
                "StopLogging",
                Tactic::DefenseEvasion,
                Severity::Critical,
            ),
            (
                "aws.defense-evasion.cloudtrail-delete.json",
                "DeleteTrail",
                Tactic::DefenseEvasion,
                Severity::Critical,
            ),
            (
                "aws.defense-evasion.cloudtrail-event-selectors.json",
                "PutEventSelectors",
                Tactic::DefenseEvasion,
                Severity::High,
            ),
            (
                "aws.defense-evasion.vpc-remove-flow-logs.json",
                "DeleteFlowLogs",
                Tactic::DefenseEvasion,
                Severity::High,
            ),
            (
                "aws.defense-evasion.dns-delete-logs.json",
                "DeleteResolverQueryLogConfig",
                Tactic::DefenseEvasion,
                Severity::High,
            ),
            (
                "aws.persistence.iam-create-admin-user.json",
                "CreateAccessKey",
                Tactic::Persistence,
                Severity::Critical,
            ),
            (
                "aws.persistence.iam-create-admin-user.json",
                "CreateUser",
                Tactic::Persistence,
                Severity::High,
            ),
            (
                "aws.persistence.iam-create-admin-user.json",
                "AttachUserPolicy",
                Tactic::Persistence,
                Severity::High,
            ),
            (
                "aws.persistence.iam-backdoor-user.json",
                "CreateAccessKey",
                Tactic::Persistence,
                Severity::Critical,
            ),
            (
                "aws.persistence.iam-create-user-login-profile.json",
                "CreateLoginProfile",
                Tactic::Persistence,
                Severity::Critical,
            ),
            (
                "aws.privilege-escalation.iam-update-user-login-profile.json",
                "UpdateLoginProfile",
                Tactic::Persistence,
                Severity::Critical,
            ),
            (
                "aws.persistence.iam-create-backdoor-role.json",
                "AttachRolePolicy",
                Tactic::PrivilegeEscalation,
                Severity::High,
            ),
            (
                "aws.persistence.iam-backdoor-role.json",
                "UpdateAssumeRolePolicy",
                Tactic::Persistence,
                Severity::High,
            ),
            (
                "aws.persistence.lambda-overwrite-code.json",
                "UpdateFunctionCode20150331v2",
                Tactic::Persistence,
                Severity::High,
            ),
            (
                "aws.persistence.lambda-layer-extension.json",
                "UpdateFunctionConfiguration20150331v2",
                Tactic::Persistence,
                Severity::High,
            ),
            (
                "aws.persistence.lambda-backdoor-function.json",
                "AddPermission20150331v2",
                Tactic::Persistence,
                Severity::High,
            ),
            (
                "aws.persistence.rolesanywhere-create-trust-anchor.json",
                "CreateTrustAnchor",
                Tactic::Persistence,
                Severity::High,
            ),
            (
                "aws.persistence.sts-federation-token.json",
                "GetFederationToken",
                Tactic::Persistence,
                Severity::High,
            ),
            (
                "aws.execution.ec2-launch-unusual-instances.json",
                "RunInstances",
                Tactic::Compute,
                Severity::Medium,
            ),
            (
                "aws.execution.ec2-user-data.json",
                "ModifyInstanceAttribute",
                Tactic::PrivilegeEscalation,
                Severity::High,
            ),
            (
                "aws.execution.ssm-send-command.json",
                "SendCommand",
                Tactic::PrivilegeEscalation,
                Severity::High,
            ),
            (
                "aws.credential-access.secretsmanager-retrieve-secrets.json",
                "GetSecretValue",
                Tactic::CredentialAccess,
                Severity::High,
            ),
            (
                "aws.credential-access.secretsmanager-batch-retrieve-secrets.json",
                "BatchGetSecretValue",
                Tactic::CredentialAccess,
                Severity::High,
            ),
            (
                "aws.credential-access.ssm-retrieve-securestring-parameters.json",
                "GetParameters",
                Tactic::CredentialAccess,
                Severity::High,
            ),
            (
                "aws.credential-access.ec2-get-password-data.json",
                "GetPasswordData",
                Tactic::CredentialAccess,
                Severity::Medium,
            ),
            (
                "aws.initial-access.console-login-without-mfa.json",
                "ConsoleLogin",
                Tactic::InitialAccess,
                Severity::High,
            ),
            (
                "aws.defense-evasion.organizations-leave.json",
                "LeaveOrganization",
                Tactic::Organizations,
                Severity::Critical,
            ),
            (
                "aws.exfiltration.ec2-share-ami.json",
                "ModifyImageAttribute",
                Tactic::Exfiltration,
                Severity::High,
            ),
            (
                "aws.exfiltration.ec2-share-ebs-snapshot.json",
                "ModifySnapshotAttribute",
                Tactic::Exfiltration,
                Severity::High,
            ),
            (
                "aws.exfiltration.rds-share-snapshot.json",
                "ModifyDBSnapshotAttribute",
                Tactic::Exfiltration,
                Severity::High,
            ),
            (
                "aws.exfiltration.ec2-security-group-open-port-22-ingress.json",
                "AuthorizeSecurityGroupIngress",
                Tactic::Exfiltration,
                Severity::Medium,
            ),
            (
                "aws.impact.bedrock-invoke-model.json",
                "InvokeModel",
                Tactic::Compute,
                Severity::High,
            ),
            (
                "aws.lateral-movement.ec2-instance-connect.json",
                "SendSSHPublicKey",
                Tactic::PrivilegeEscalation,
                Severity::High,
            ),
            (
                "aws.discovery.ec2-download-user-data.json",
                "AssumeRole",
                Tactic::LateralMovement,
                Severity::Medium,
            ),
            (
                "aws.defense-evasion.organizations-leave.json",
                "LeaveOrganization",
                Tactic::Organizations,
                Severity::Critical,
            ),
            (
                "aws.discovery.ec2-download-user-data.json",
                "DescribeInstanceAttribute",
                Tactic::CredentialAccess,
                Severity::Medium,
            ),
        ];
        for (file, name, tactic, severity) in cases {
            let got = tactic_of(file, name);
            assert!(!got.is_empty(), "{file}: no {name}");
            // Failed AssumeRole calls in the same file are refusals, rated lower; checked below.
            let got: Vec<_> = if name == "AssumeRole" {
                got.into_iter()
                    .filter(|v| v.map(|v| v.1) != Some(Severity::Low))
                    .collect()
            } else {
                got
            };
            assert!(
                !got.is_empty() && got.iter().all(|v| *v == Some((tactic, severity))),
                "{file} {name}: {got:?}"
            );
        }

        // The CreateAccessKey in the admin-user file is made by christophe for another user.
        let create = stratus("aws.persistence.iam-create-admin-user.json")
            .into_iter()
            .find(|e| &*e.name == "CreateAccessKey")
            .expect("CreateAccessKey");
        assert!(names_other_user(&create));
        assert_eq!(
            rule_of(&rules, &create).as_deref(),
            Some("persistence-access-key-for-other-user")
        );

        // The AccessDenied AssumeRole calls are refused attempts to move: lateral movement,
        // denied, not recon.
        let denied: Vec<_> = stratus("aws.credential-access.ec2-get-password-data.json")
            .into_iter()
            .filter(|e| &*e.name == "AssumeRole" && e.failed())
            .map(|e| (e.denied(), verdict(&rules, &e)))
            .collect();
        assert_eq!(denied.len(), 2);
        for (is_denied, v) in denied {
            assert!(is_denied);
            assert_eq!(
                v.map(|v| (v.0, v.2)),
                Some((Tactic::LateralMovement, "lateral-movement-refused".into()))
            );
        }
        // Every refused call of the detonations keeps the tactic of what it tried; none of
        // them is relabelled recon.
        for file in [
            "aws.credential-access.ec2-get-password-data.json",
            "aws.defense-evasion.organizations-leave.json",
            "aws.discovery.ec2-download-user-data.json",
            "aws.execution.ec2-launch-unusual-instances.json",
        ] {
            for e in stratus(file).iter().filter(|e| e.denied()) {
                let v = verdict(&rules, e);
                assert!(
                    v.as_ref().is_some_and(|v| v.0 != Tactic::Recon),
                    "{file} {}: {v:?}",
                    e.name
                );
            }
        }
    }

    /// A refused call keeps the tactic of what it tried to do; only a refusal no rule names
    /// falls back to recon ("probing what the key may do").
    #[test]
    fn denied_calls_keep_their_tactic() {
        let rules = RiskRules::builtin();
        let denied = |name: &str, source: &str, code: &str| {
            let mut e = event(name, source);
            e.error_code = Some(code.into());
            verdict(&rules, &e)
        };
        assert_eq!(
            denied(
                "GetSecretValue",
                "secretsmanager.amazonaws.com",
                "AccessDeniedException"
            ),
            Some((
                Tactic::CredentialAccess,
                Severity::High,
                "cred-access-secrets-manager".into()
            ))
        );
        // The quarantine policy denies CreateAccessKey and CreateUser: still persistence.
        assert_eq!(
            denied("CreateUser", "iam.amazonaws.com", "AccessDenied").map(|v| v.0),
            Some(Tactic::Persistence)
        );
        // A low-severity rule no longer loses a tie to the refusal rule.
        assert_eq!(
            denied("GetObject", "s3.amazonaws.com", "AccessDenied").map(|v| v.2),
            Some("exfil-object-read".into())
        );
        assert_eq!(
            denied("GetFederationToken", "sts.amazonaws.com", "AccessDenied").map(|v| v.0),
            Some(Tactic::Persistence)
        );
        // Nothing names DeleteBucket: the refusal itself is the signal.
        assert_eq!(
            denied("DeleteBucket", "s3.amazonaws.com", "AccessDenied").map(|v| (v.0, v.2)),
            Some((Tactic::Recon, "recon-access-denied".into()))
        );
        // A failure that is not a refusal is not recon either.
        assert_eq!(
            denied("DeleteBucket", "s3.amazonaws.com", "BucketNotEmpty"),
            None
        );
    }

    /// The attacker's tool in the user agent says who called, not what the call did.
    #[test]
    fn a_tool_user_agent_does_not_hide_the_call() {
        let rules = RiskRules::builtin();
        let kali = "aws-cli/2.9 Python/3.11 Linux/6.1.0-kali7-amd64";
        let mut assume = event("AssumeRole", "sts.amazonaws.com");
        assume.user_agent = kali.into();
        assert_eq!(
            verdict(&rules, &assume),
            Some((
                Tactic::LateralMovement,
                Severity::Medium,
                "chain-assume-role".into()
            ))
        );
        for (name, source, tactic) in [
            (
                "GetSessionToken",
                "sts.amazonaws.com",
                Tactic::LateralMovement,
            ),
            (
                "GetSigninToken",
                "signin.amazonaws.com",
                Tactic::LateralMovement,
            ),
            (
                "GetRoleCredentials",
                "sso.amazonaws.com",
                Tactic::LateralMovement,
            ),
            ("CreateAccessKey", "iam.amazonaws.com", Tactic::Persistence),
        ] {
            let mut e = event(name, source);
            e.user_agent = kali.into();
            assert_eq!(verdict(&rules, &e).map(|v| v.0), Some(tactic), "{name}");
        }
        // With nothing else to say about the call, the tool is still worth a flag.
        let mut other = event("DescribeVpcs", "ec2.amazonaws.com");
        other.user_agent = kali.into();
        assert_eq!(
            rule_of(&rules, &other).as_deref(),
            Some("recon-offensive-tool-user-agent")
        );
    }

    #[test]
    fn fallback_rules_decide_only_alone() {
        let rules = RiskRules::from_toml(
            r#"
            [[rule]]
            id = "loud-fallback"
            tactic = "recon"
            severity = "critical"
            events = ["*"]
            fallback = true

            [[rule]]
            id = "quiet"
            tactic = "compute"
            severity = "info"
            events = ["RunInstances"]
            "#,
            "own",
        )
        .expect("rules");
        assert_eq!(
            rule_of(&rules, &event("RunInstances", "ec2.amazonaws.com")).as_deref(),
            Some("quiet")
        );
        assert_eq!(
            rule_of(&rules, &event("Other", "ec2.amazonaws.com")).as_deref(),
            Some("loud-fallback")
        );
    }

    /// The ConsoleLogin record says `"MFAUsed": "No"`, which the fixture builder turns into
    /// `mfa_used: Some(false)`.
    #[test]
    fn stratus_console_login_has_no_mfa() {
        let events = stratus("aws.initial-access.console-login-without-mfa.json");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].mfa_used, Some(false));
    }
}
