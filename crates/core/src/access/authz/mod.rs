//! What a principal can still do: its effective permissions, evaluated from the account's
//! identity policies the way AWS documents the evaluation for identity-based policies, and the
//! escalation paths those permissions open.
//!
//! The data comes from the access poll (`GetAccountAuthorizationDetails`, and the AWS managed
//! policies attached, read by version): users with their groups, groups, roles, each with
//! inline and attached managed policies and a permissions boundary. Every document is parsed
//! once when the poll arrives ([`Policy::parse`]); the model evaluates parsed statements.
//!
//! Three answers, never more certain than the data: `allowed`, `denied` (explicit, with the
//! statement, or implicit) and `conditional` (a condition or a policy it cannot decide, named).
//! Not evaluated, and said so on screen: service control policies, resource policies and
//! session policies.

pub mod catalogue;
pub mod cond;
pub mod escalate;
pub mod eval;
pub mod parse;

use std::collections::BTreeMap;

use serde::Serialize;

pub use eval::{Context, SessionKind, Subject, Who};
pub use parse::{Effect, Policy, Statement};

/// The account's identity policies, by principal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Authz {
    /// By user name.
    pub users: BTreeMap<String, Entity>,
    /// By group name.
    pub groups: BTreeMap<String, Entity>,
    /// By role name.
    pub roles: BTreeMap<String, Entity>,
    /// Managed policies (customer and AWS) attached to something, or used as a boundary, by
    /// ARN: their default version.
    pub policies: BTreeMap<String, Managed>,
    /// Attached or boundary policies whose document could not be read, by ARN, with why.
    /// Evaluation treats each as a policy that may say anything: nothing it touches is
    /// `allowed` for sure.
    pub unread: BTreeMap<String, String>,
}

/// A user, group or role: what the evaluation needs of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entity {
    pub arn: String,
    /// The unique id (`AIDA…`, `AROA…`): `aws:userid`.
    pub id: String,
    /// Inline policies.
    pub inline: Vec<Inline>,
    /// ARNs of the managed policies attached.
    pub attached: Vec<String>,
    /// The permissions boundary's ARN (users and roles).
    pub boundary: Option<String>,
    /// Users: the groups it is in.
    pub groups: Vec<String>,
    /// Users and roles: their tags (`aws:PrincipalTag/…`).
    pub tags: BTreeMap<String, String>,
    /// Roles: the trust policy, parsed.
    pub trust: Option<Policy>,
    /// Roles: whether an instance profile carries it (EC2 can run as it).
    pub instance_profile: bool,
}

/// An inline policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inline {
    pub name: String,
    pub policy: Policy,
}

/// A managed policy's default version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Managed {
    pub arn: String,
    pub name: String,
    /// `v3`.
    pub version: String,
    pub policy: Policy,
    /// How many versions it keeps besides the default (`SetDefaultPolicyVersion` can switch
    /// to any of them); 0 for AWS managed policies, whose default an account cannot switch.
    pub other_versions: usize,
}

/// Where a decision came from: the policy and the statement.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Decider {
    /// `inline user/dev:keyspill-revoke`, or a managed policy's name.
    pub policy: String,
    /// The statement's `Sid`, or its position (`#2`).
    pub statement: String,
}

impl std::fmt::Display for Decider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.policy, self.statement)
    }
}

/// The three words of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Word {
    Denied,
    Conditional,
    Allowed,
}

impl Word {
    pub fn as_str(self) -> &'static str {
        match self {
            Word::Allowed => "allowed",
            Word::Denied => "denied",
            Word::Conditional => "conditional",
        }
    }
}

/// The answer for one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed, by this statement; `on` names the resources when not every resource.
    Allowed {
        by: Decider,
        on: Option<Vec<String>>,
    },
    /// Denied: by an explicit `Deny` statement, or (`by: None`) because nothing allows it;
    /// `why` says which, in words (a boundary, a session's limits).
    Denied {
        by: Option<Decider>,
        why: std::borrow::Cow<'static, str>,
    },
    /// Depends on what the console cannot know: each named (a condition key, an unreadable
    /// policy).
    Conditional {
        on: Vec<String>,
        by: Option<Decider>,
    },
}

impl Verdict {
    pub fn word(&self) -> Word {
        match self {
            Verdict::Allowed { .. } => Word::Allowed,
            Verdict::Denied { .. } => Word::Denied,
            Verdict::Conditional { .. } => Word::Conditional,
        }
    }

    /// One line: the word and what decided it.
    pub fn detail(&self) -> String {
        match self {
            Verdict::Allowed { by, on: None } => format!("allowed by {by}"),
            Verdict::Allowed { by, on: Some(on) } => {
                format!("allowed by {by}, on {}", list(on, 3))
            }
            Verdict::Denied { by: Some(by), why } => format!("denied by {by}: {why}"),
            Verdict::Denied { by: None, why } => format!("denied: {why}"),
            Verdict::Conditional { on, by } => match by {
                Some(by) => format!("conditional on {} ({by})", list(on, 3)),
                None => format!("conditional on {}", list(on, 3)),
            },
        }
    }
}

/// One cell of the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub action: String,
    pub verdict: Verdict,
}

/// `a, b, c and 4 more`.
pub(crate) fn list(items: &[String], max: usize) -> String {
    let shown = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        format!("{shown} and {} more", items.len() - max)
    } else {
        shown
    }
}

/// What the simulator (`iam:SimulatePrincipalPolicy`) answered for one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Simulated {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
}

impl Simulated {
    /// From the API's `EvalDecision`; `None` for a value this version does not know.
    pub fn from_api(decision: &str) -> Option<Simulated> {
        match decision {
            "allowed" => Some(Simulated::Allowed),
            "explicitDeny" => Some(Simulated::ExplicitDeny),
            "implicitDeny" => Some(Simulated::ImplicitDeny),
            _ => None,
        }
    }

    pub fn word(self) -> Word {
        match self {
            Simulated::Allowed => Word::Allowed,
            Simulated::ExplicitDeny | Simulated::ImplicitDeny => Word::Denied,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Simulated::Allowed => "allowed",
            Simulated::ExplicitDeny => "explicit deny",
            Simulated::ImplicitDeny => "implicit deny",
        }
    }
}

/// Where our answer and the simulator's differ. A `conditional` of ours is not a
/// disagreement: the simulator, called without context, settles conditions its own way.
pub fn disagreements<'a>(
    ours: &'a [Cell],
    sim: &'a [(String, Simulated)],
) -> Vec<(&'a Cell, Simulated)> {
    ours.iter()
        .filter_map(|c| {
            let (_, s) = sim
                .iter()
                .find(|(a, _)| a.eq_ignore_ascii_case(&c.action))?;
            let w = c.verdict.word();
            (w != Word::Conditional && w != s.word()).then_some((c, *s))
        })
        .collect()
}
