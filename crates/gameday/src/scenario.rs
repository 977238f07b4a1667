//! Game-day scenarios: the account, the people, the workloads and the attacker's script, read
//! from `assets/gameday/<name>.toml` (compiled into the binary) and checked before use.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

/// The scenario a game uses when none is named.
pub const DEFAULT_SCENARIO: &str = "github-leak";

/// Every built-in scenario: its name and its TOML text.
const BUILT_IN: [(&str, &str); 4] = [
    (
        "github-leak",
        include_str!("../../../assets/gameday/github-leak.toml"),
    ),
    (
        "role-trust-backdoor",
        include_str!("../../../assets/gameday/role-trust-backdoor.toml"),
    ),
    (
        "data-theft",
        include_str!("../../../assets/gameday/data-theft.toml"),
    ),
    (
        "lambda-persistence",
        include_str!("../../../assets/gameday/lambda-persistence.toml"),
    ),
];

/// The names of the built-in scenarios, the default first.
pub fn scenario_names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|(name, _)| *name).collect()
}

/// A built-in scenario by name, parsed and checked.
pub fn scenario(name: &str) -> Result<Scenario, String> {
    let Some((_, text)) = BUILT_IN.iter().find(|(n, _)| *n == name) else {
        return Err(format!(
            "no game-day scenario named {name:?}; built in: {}",
            scenario_names().join(", ")
        ));
    };
    parse(text).map_err(|e| format!("scenario {name:?}: {e}"))
}

/// A scenario from TOML text (for scenarios kept outside the binary, and for tests).
pub fn parse(text: &str) -> Result<Scenario, String> {
    let scenario: Scenario = toml::from_str(text).map_err(|e| e.to_string())?;
    scenario.check()?;
    Ok(scenario)
}

/// One game-day scenario. See `assets/gameday/github-leak.toml` for what each part means.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    pub description: String,
    /// A short company name used in bucket names.
    pub org: String,
    pub home_regions: Vec<String>,
    pub history_days: u32,
    pub image: String,
    pub pace: Pace,
    pub responder: Responder,
    pub developer: Developer,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub security_groups: Vec<SecurityGroup>,
    #[serde(default)]
    pub key_pairs: Vec<KeyPair>,
    #[serde(default)]
    pub instances: Vec<Instance>,
    #[serde(default)]
    pub functions: Vec<Function>,
    /// What the company keeps that the attacker is after, when the scenario is about data.
    pub data: Option<Data>,
    /// The role the attacker opens to its own account, when the scenario is about that.
    pub trust: Option<TrustDoor>,
    pub attacker: Attacker,
    pub cost: Cost,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pace {
    /// Wall-clock seconds between the start of seeding and the leak.
    pub lead_in_seconds: u32,
    /// Seconds between live attacker turns at speed 1.
    pub attacker_seconds: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Responder {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Developer {
    pub names: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    pub quarantine_policy: String,
}

/// An inline or customer managed policy: one Allow statement over `actions`, every resource.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub name: String,
    pub actions: Vec<String>,
}

impl PolicySpec {
    /// The policy document, as IAM takes it.
    pub fn document(&self) -> String {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": self.actions, "Resource": "*"}]
        })
        .to_string()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    #[serde(default)]
    pub policies: Vec<String>,
    pub inline: Option<PolicySpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    #[serde(default)]
    pub keys: u32,
    /// How many of the keys are inactive (the oldest ones).
    #[serde(default)]
    pub inactive: u32,
    #[serde(default)]
    pub console: bool,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub policies: Vec<String>,
}

/// What a role is for: it decides how the ordinary history uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleKind {
    /// Assumed by CI (and the developer) to deploy; the attacker assumes it too.
    Deploy,
    /// A Lambda function's execution role.
    Lambda,
    /// Assumed from another account by a monitoring vendor.
    Monitoring,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub name: String,
    pub kind: RoleKind,
    #[serde(default)]
    pub trusted_users: Vec<String>,
    pub trusted_account: Option<String>,
    pub service: Option<String>,
    #[serde(default)]
    pub policies: Vec<String>,
    pub managed: Option<PolicySpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroup {
    pub name: String,
    pub region: String,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPair {
    pub name: String,
    pub region: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    pub name: String,
    pub region: String,
    #[serde(rename = "type")]
    pub instance_type: String,
    pub security_group: Option<String>,
    pub key_pair: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Function {
    pub name: String,
    pub region: String,
    pub role: String,
}

/// The company's data: a bucket of objects and the names of its secrets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustDoor {
    /// One of the scenario's roles.
    pub role: String,
    /// The attacker's own account, which it adds to the role's trust.
    pub account: String,
    /// The user it signs in as there (its calls into this account name only the account).
    pub principal: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Data {
    /// The bucket (in the first home region).
    pub bucket: String,
    /// Object keys, each seeded with a few lines of made-up records.
    pub objects: Vec<String>,
    /// Secrets Manager secret names. moto is not asked for them (the game has no Secrets
    /// Manager client): the attacker's reads are gated and recorded like every other call.
    #[serde(default)]
    pub secrets: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attacker {
    pub regions: Vec<String>,
    pub history_regions: usize,
    pub live_regions: usize,
    pub backdoor_names: Vec<String>,
    pub function_names: Vec<String>,
    pub group_names: Vec<String>,
    pub instance_types: Vec<String>,
    pub addresses: Vec<String>,
    pub scanner_address: String,
    pub scanner_agent: String,
    pub agents: Vec<String>,
    pub session_name: String,
    /// The role the attacker gives its functions (a role of the scenario); the first role of
    /// kind "lambda" when absent.
    #[serde(default)]
    pub function_role: Option<String>,
    pub limits: Limits,
    pub history: Vec<Step>,
    pub live: Vec<Step>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub instances: usize,
    pub functions: usize,
    pub groups: usize,
    pub backdoor_keys: usize,
}

/// The calls the attacker knows how to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum Call {
    GetCallerIdentity,
    ListBuckets,
    DescribeRegions,
    DescribeInstances,
    /// Creates the backdoor user.
    CreateUser,
    /// A key for the backdoor user; in the live game, re-creates the backdoor user first when
    /// the responder removed it.
    CreateAccessKey,
    /// `AdministratorAccess` on the backdoor user.
    AttachUserPolicy,
    /// Into the scenario's deploy role.
    AssumeRole,
    RunInstances,
    /// A launch template, then a group launching from it.
    CreateAutoScalingGroup,
    CreateFunction,
    /// On the scenario's trail.
    StopLogging,
    /// The data bucket's listing (an S3 data event: in the trail's logs, never in
    /// LookupEvents).
    ListObjects,
    /// Every object of the data bucket, one data event each.
    GetObject,
    /// Every secret of the scenario (a management read event).
    GetSecretValue,
    /// Adds the attacker's own account to the trust of the scenario's `[trust]` role.
    UpdateAssumeRolePolicy,
    /// An EventBridge schedule for the function it made last: from then on the function runs
    /// during the game and remakes the backdoor user whenever it is gone. (Recorded, not asked
    /// of moto: the game has no EventBridge client.)
    ScheduleFunction,
}

/// Which credentials a history step uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum With {
    Leaked,
    Session,
    Backdoor,
    /// The attacker's own account, through the trust it opened (`AssumeRole` only).
    Outside,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Seconds after the leak (history steps only).
    #[serde(default)]
    pub at: u32,
    pub call: Call,
    /// History steps only; live steps try the leaked key, then the backdoor keys.
    pub with: Option<With>,
    /// See the scenario file's header; `us-east-1` when absent.
    pub region: Option<String>,
    /// `"scanner"` for the secret scanner's user agent and address.
    pub agent: Option<String>,
    /// How many instances, `[least, most]`.
    pub count: Option<[u32; 2]>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cost {
    pub baseline: BTreeMap<String, f64>,
    pub home_shares: Vec<f64>,
    pub instance_day: BTreeMap<String, f64>,
    pub days: u32,
    pub repeats: u32,
}

/// The most regions a game sweeps (home plus attacker regions).
pub const MAX_REGIONS: usize = 8;

impl Scenario {
    /// Every region the game uses: home, the attacker's history regions, its live regions.
    pub fn region_count(&self) -> usize {
        self.home_regions.len() + self.attacker.history_regions + self.attacker.live_regions
    }

    /// A `home:N` reference, or a region name, to a home region's name.
    pub(crate) fn home_region(&self, reference: &str) -> Option<String> {
        match reference.strip_prefix("home:") {
            Some(n) => n
                .parse::<usize>()
                .ok()
                .and_then(|i| self.home_regions.get(i).cloned()),
            None => Some(reference.to_string()),
        }
    }

    fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let mut fail = |s: String| problems.push(s);
        if self.home_regions.is_empty() {
            fail("home_regions is empty".into());
        }
        if self.pace.attacker_seconds.is_nan() || self.pace.attacker_seconds <= 0.0 {
            fail("pace.attacker_seconds must be above zero".into());
        }
        if self.developer.names.is_empty() {
            fail("developer.names is empty".into());
        }
        let a = &self.attacker;
        let home: BTreeSet<&str> = self.home_regions.iter().map(String::as_str).collect();
        let pool: BTreeSet<&str> = a.regions.iter().map(String::as_str).collect();
        if pool.len() != a.regions.len() {
            fail("attacker.regions names a region twice".into());
        }
        if let Some(r) = pool.iter().find(|r| home.contains(*r)) {
            fail(format!("attacker region {r} is a home region"));
        }
        if a.history_regions + a.live_regions > pool.len() {
            fail(format!(
                "attacker.regions has {} regions, fewer than history_regions + live_regions ({})",
                pool.len(),
                a.history_regions + a.live_regions
            ));
        }
        if self.region_count() > MAX_REGIONS {
            fail(format!(
                "the game would use {} regions; at most {MAX_REGIONS}",
                self.region_count()
            ));
        }
        for (what, list) in [
            ("attacker.backdoor_names", &a.backdoor_names),
            ("attacker.function_names", &a.function_names),
            ("attacker.group_names", &a.group_names),
            ("attacker.instance_types", &a.instance_types),
            ("attacker.addresses", &a.addresses),
            ("attacker.agents", &a.agents),
        ] {
            if list.is_empty() {
                fail(format!("{what} is empty"));
            }
        }
        for t in &a.instance_types {
            if !self.cost.instance_day.contains_key(t) {
                fail(format!("cost.instance_day has no price for {t}"));
            }
        }
        if self
            .roles
            .iter()
            .filter(|r| r.kind == RoleKind::Deploy)
            .count()
            != 1
        {
            fail("exactly one role must be of kind \"deploy\"".into());
        }
        let roles: BTreeSet<&str> = self.roles.iter().map(|r| r.name.as_str()).collect();
        for f in &self.functions {
            if !roles.contains(f.role.as_str()) {
                fail(format!("function {} names unknown role {}", f.name, f.role));
            }
        }
        if !self.roles.iter().any(|r| r.kind == RoleKind::Lambda) {
            fail("a role of kind \"lambda\" is needed for the attacker's functions".into());
        }
        let data_calls = [Call::ListObjects, Call::GetObject, Call::GetSecretValue];
        if self.data.is_none()
            && a.history
                .iter()
                .chain(&a.live)
                .any(|s| data_calls.contains(&s.call))
        {
            fail("the attacker reads data but the scenario has no [data]".into());
        }
        if let Some(r) = &a.function_role
            && !roles.contains(r.as_str())
        {
            fail(format!("attacker.function_role names unknown role {r}"));
        }
        let uses_trust = a
            .history
            .iter()
            .chain(&a.live)
            .any(|s| s.call == Call::UpdateAssumeRolePolicy || s.with == Some(With::Outside));
        match &self.trust {
            None if uses_trust => {
                fail("the attacker uses a role's trust but the scenario has no [trust]".into())
            }
            Some(t) => {
                if !roles.contains(t.role.as_str()) {
                    fail(format!("trust.role names unknown role {}", t.role));
                }
                if t.account.len() != 12 || !t.account.bytes().all(|b| b.is_ascii_digit()) {
                    fail(format!("trust.account {} is not an account id", t.account));
                }
            }
            None => {}
        }
        for (i, step) in a.history.iter().enumerate() {
            if step.with == Some(With::Outside) && step.call != Call::AssumeRole {
                fail(format!(
                    "attacker.history step {}: the outside account only assumes the role",
                    i + 1
                ));
            }
        }
        let groups: BTreeSet<&str> = self.groups.iter().map(|g| g.name.as_str()).collect();
        for g in self
            .users
            .iter()
            .flat_map(|u| u.groups.iter())
            .chain(&self.developer.groups)
        {
            if !groups.contains(g.as_str()) {
                fail(format!("unknown group {g}"));
            }
        }
        let mut names: BTreeSet<&str> = BTreeSet::new();
        for n in std::iter::once(&self.responder.name)
            .chain(self.users.iter().map(|u| &u.name))
            .chain(&self.developer.names)
            .chain(&a.backdoor_names)
        {
            if !names.insert(n) {
                fail(format!("user name {n} is used twice"));
            }
        }
        for u in &self.users {
            if u.inactive > u.keys || u.keys > 2 {
                fail(format!(
                    "user {}: at most 2 keys, and no more inactive than keys",
                    u.name
                ));
            }
        }
        for r in self
            .instances
            .iter()
            .map(|i| &i.region)
            .chain(self.security_groups.iter().map(|s| &s.region))
            .chain(self.key_pairs.iter().map(|k| &k.region))
            .chain(self.functions.iter().map(|f| &f.region))
        {
            match self.home_region(r) {
                Some(name) if home.contains(name.as_str()) => {}
                _ => fail(format!("{r} is not a home region")),
            }
        }
        for (i, step) in a.history.iter().enumerate() {
            if step.with.is_none() {
                fail(format!("attacker.history step {} has no `with`", i + 1));
            }
            if let Some(r) = &step.region {
                check_region(r, a.history_regions, false, &mut fail);
            }
        }
        // A session or a backdoor key can only be used once the history has made it.
        let (mut minted, mut keyed) = (false, false);
        for (i, step) in a.history.iter().enumerate() {
            match step.with {
                Some(With::Session) if !minted => fail(format!(
                    "attacker.history step {} uses a session before any AssumeRole",
                    i + 1
                )),
                Some(With::Backdoor) if !keyed => fail(format!(
                    "attacker.history step {} uses the backdoor before any CreateAccessKey",
                    i + 1
                )),
                _ => {}
            }
            minted |= step.call == Call::AssumeRole;
            keyed |= step.call == Call::CreateAccessKey;
        }
        if !a.history.windows(2).all(|w| w[0].at <= w[1].at) {
            fail("attacker.history steps must be in time order".into());
        }
        if a.live.is_empty() {
            fail("attacker.live is empty".into());
        }
        for step in &a.live {
            if let Some(r) = &step.region {
                check_region(r, a.history_regions, true, &mut fail);
            }
        }
        if self.cost.home_shares.len() != self.home_regions.len() {
            fail("cost.home_shares needs one share per home region".into());
        }
        if self.cost.days < 2 || self.cost.repeats == 0 {
            fail("cost.days must be at least 2 and cost.repeats at least 1".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

fn check_region(r: &str, history_regions: usize, live: bool, fail: &mut impl FnMut(String)) {
    if live && (r == "new" || r == "any") {
        return;
    }
    if let Some(n) = r.strip_prefix("attacker:") {
        if n.parse::<usize>().map_or(true, |i| i >= history_regions) {
            fail(format!(
                "region {r}: the attacker has {history_regions} history regions"
            ));
        }
        return;
    }
    if r.starts_with("home:") || r.contains(':') || r.is_empty() {
        fail(format!("region {r} is not allowed in an attacker step"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_scenarios_parse_and_pass_their_checks() {
        for name in scenario_names() {
            let s = scenario(name).expect("built-in scenario");
            assert_eq!(s.name, name);
            assert!(s.region_count() <= MAX_REGIONS);
        }
        assert_eq!(scenario_names()[0], DEFAULT_SCENARIO);
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let e = scenario("nope").expect_err("unknown");
        assert!(e.contains("github-leak"), "{e}");
    }

    #[test]
    fn a_session_used_before_it_is_minted_is_refused() {
        let text = include_str!("../../../assets/gameday/github-leak.toml").replacen(
            "call = \"ListBuckets\"\nwith = \"leaked\"",
            "call = \"ListBuckets\"\nwith = \"session\"",
            1,
        );
        let e = parse(&text).expect_err("session too early");
        assert!(e.contains("before any AssumeRole"), "{e}");
    }

    #[test]
    fn checks_catch_a_broken_scenario() {
        let text = include_str!("../../../assets/gameday/github-leak.toml")
            .replace("history_regions = 4", "history_regions = 9");
        let e = parse(&text).expect_err("too many regions");
        assert!(e.contains("regions"), "{e}");
    }
}
