//! Game day: a leaked-key incident on a laptop, against a local moto server, with an attacker
//! that keeps working while the team responds.
//!
//! This module is the emulator's side of the game, not the console's: it talks to moto
//! directly through the SDK (as moto's root, as the leaked key, as the attacker's backdoor)
//! and writes CloudTrail log objects, which moto never does. The console only ever sees what
//! an AWS account would show it.
//!
//! - [`scenario`] reads a scenario (`assets/gameday/*.toml`).
//! - [`seed`] builds the account in a fresh moto: ordinary users, roles and workloads, the
//!   responder, the developer whose key leaked, a trail whose bucket holds weeks of ordinary
//!   activity, the attacker's first minutes (real resources and their CloudTrail records), and
//!   Cost Explorer history with the spike.
//! - [`attacker`] keeps attacking until told to stop, honouring what the responder does the way
//!   AWS would (a disabled key stops working, a deleted user's keys stop working, policies
//!   allow and deny), which moto alone does not.
//! - [`attacker_holdings`] says what the attacker still has, for the game's score.
//!
//! The account is moto's default one (`123456789012`): moto's root identity, which the engine
//! uses to build the account and to play AWS's part, acts on it, and so does the Cost Explorer
//! seed.
//!
//! # Time
//!
//! moto stamps what it creates with the wall clock and cannot be told otherwise, while the
//! records must be the same for a seed. So `seed` takes `now` and places every record
//! relative to it: ordinary history in the `history_days` before `now`, the leak at `now` plus
//! the scenario's lead-in (a few seconds), the attacker's first calls in the seconds after.
//! Seeding builds the ordinary account first, then waits for the wall clock to reach each of
//! the attacker's planned times before making that call, so moto's own dates agree with the
//! records: everything ordinary was created before the leak, the backdoor user's creation date
//! is its CreateUser record's time, the leaked key was last used at its last record's time.
//! Called with the present as `now`, seeding therefore takes the lead-in plus the attacker's
//! opening (about 15 seconds for `github-leak`); should building the account take longer than
//! the lead-in (a loaded machine), the leak moves to the next whole second after it, so the
//! attacker's record times then differ from run to run (nothing else does). Called with a
//! `now` in the past (tests), nothing waits and the records are simply older than the
//! resources moto dated at the present.
//!
//! # What is deterministic
//!
//! For a seed and a `now` (see above for the one exception): every name the engine chooses (the developer, the backdoor user,
//! the attacker's regions, functions, groups, buckets), every record's content and `eventID`,
//! the log objects' keys and contents apart from the ids moto generates, the Cost Explorer
//! data, and the attacker's choices during the game. moto generates instance ids, access key
//! ids and secrets, user and role ids, and session keys itself; `seed` seeds moto's own random
//! generator (`/moto-api/seed`) and makes its calls one at a time in a fixed order, so those ids
//! come out the same too in a fresh moto that nothing else talks to while seeding. Not
//! deterministic: the live attacker's record times (they are real), which of its calls
//! succeed (that depends on the responder), and anything once other clients use moto.

mod alerts;
mod attacker;
mod authz;
mod clients;
mod cost;
mod events;
pub mod gaps;
mod history;
mod holdings;
mod record;
mod rng;
mod scenario;
mod seed;

use std::fmt;

use time::OffsetDateTime;

pub use attacker::attacker;
pub use holdings::{attacker_credentials, attacker_holdings};
pub use scenario::{
    Call, DEFAULT_SCENARIO, MAX_REGIONS, Scenario, With, parse as parse_scenario, scenario,
    scenario_names,
};
pub use seed::seed;

/// An access key and whose it is. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Creds {
    pub user: String,
    pub key_id: String,
    pub secret: String,
}

impl fmt::Debug for Creds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Creds")
            .field("user", &self.user)
            .field("key_id", &self.key_id)
            .field("secret", &"<hidden>")
            .finish()
    }
}

/// The attacker's user in its own account, and the role whose trust it opened to it.
/// `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Outside {
    pub account: String,
    pub user: String,
    pub principal_id: String,
    pub key_id: String,
    pub secret: String,
    pub role: String,
}

impl fmt::Debug for Outside {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outside")
            .field("account", &self.account)
            .field("user", &self.user)
            .field("key_id", &self.key_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Temporary credentials of an assumed role. `Debug` never shows the secret or the token.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionCreds {
    pub role: String,
    pub session_name: String,
    pub key_id: String,
    pub secret: String,
    pub token: String,
    pub issued: OffsetDateTime,
    pub expires: OffsetDateTime,
}

impl fmt::Debug for SessionCreds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCreds")
            .field("role", &self.role)
            .field("session_name", &self.session_name)
            .field("key_id", &self.key_id)
            .field("issued", &self.issued)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// What the account held before the leak: the attacker's is everything else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ordinary {
    /// Every user made by the seed on the company's side (responder and developer included).
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
    /// The customer managed policies.
    pub policies: Vec<String>,
    pub buckets: Vec<String>,
    /// `(region, instance id)`.
    pub instances: Vec<(String, String)>,
    /// `(region, function name)`.
    pub functions: Vec<(String, String)>,
    /// `(region, group name)`.
    pub security_groups: Vec<(String, String)>,
    /// `(region, key pair name)`.
    pub key_pairs: Vec<(String, String)>,
}

/// How much the attacker made before the game (the live attacker's limits count from here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Made {
    pub instances: usize,
    pub functions: usize,
    pub groups: usize,
}

/// One log object the seed put in the trail bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlantedLog {
    pub key: String,
    /// The `eventID`s of its records, in order.
    pub event_ids: Vec<String>,
}

/// The seeded game: who plays whom, where to look, and what was planted.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub account: String,
    /// The identity the console runs as (AdministratorAccess; created before anything else).
    pub responder: Creds,
    /// The developer key that leaked.
    pub leaked: Creds,
    /// When the attacker's first call happened (give it to `--since`).
    pub leak_start: OffsetDateTime,
    /// The regions to sweep: the home regions, the attacker's regions before the game, then the
    /// regions it keeps for the game (at most [`MAX_REGIONS`]).
    pub regions: Vec<String>,
    pub trail_bucket: String,
    pub backdoor_user: String,
    /// Every key the backdoor user got before the game (the first is the one it uses).
    pub backdoor_keys: Vec<Creds>,
    /// The role session the attacker minted before the game (with the leaked key, or from its
    /// own account through a trust it opened), if it did.
    pub session: Option<SessionCreds>,
    /// The attacker's own account and the role it opened to it (`[trust]` scenarios).
    pub outside: Option<Outside>,
    /// Functions the attacker put on a schedule: (region, name).
    pub scheduled: Vec<(String, String)>,
    pub trail_name: String,
    pub trail_arn: String,
    pub home_regions: Vec<String>,
    /// Where it launched instances before the game.
    pub attacker_regions: Vec<String>,
    /// Regions it has not used yet and will move to during the game.
    pub live_regions: Vec<String>,
    pub deploy_role: String,
    /// The execution role the attacker's functions are given.
    pub lambda_role: String,
    pub ordinary: Ordinary,
    pub made: Made,
    /// Every log object planted, in upload order.
    pub planted: Vec<PlantedLog>,
    /// The attacker's calls before the game, as [`AttackerEvent`]s.
    pub history: Vec<AttackerEvent>,
    /// What Cost Anomaly Detection says of the spike, as `GetAnomalies` answers it (moto has
    /// no anomalies: [`gaps`] serves them).
    pub cost_anomalies: Vec<serde_json::Value>,
}

impl Seeded {
    /// How many CloudTrail records the seed planted.
    pub fn records(&self) -> usize {
        self.planted.iter().map(|p| p.event_ids.len()).sum()
    }
}

/// One call the attacker made (or tried to make).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackerEvent {
    pub at: OffsetDateTime,
    /// The access key id it signed with.
    pub with: String,
    /// The call as IAM names it: `ec2:RunInstances`, `iam:CreateAccessKey`.
    pub call: String,
    pub region: String,
    pub ok: bool,
    /// What it made or saw (`2 × p3.8xlarge: i-…, i-…`), or why it failed
    /// (`InvalidClientTokenId: The security token included in the request is invalid.`).
    pub detail: String,
    /// The error code written to CloudTrail, when it failed.
    pub code: Option<String>,
}

impl fmt::Display for AttackerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} with {}: {}",
            record::event_time(self.at),
            if self.ok { "ok    " } else { "FAILED" },
            self.call,
            self.region,
            self.with,
            self.detail
        )
    }
}
