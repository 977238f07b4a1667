//! What the Resources tab inventories: the things an attacker leaves running or behind, in
//! keyspill's own words. The AWS adapter (`keyspill_aws::resources`) fills these in; attribution, the
//! removal plan and the tab read them.

use std::fmt;

use crate::domain::{Failure, Timestamp};
pub use crate::resources::kind::Kind;

/// The region name used for global resources (IAM).
pub const GLOBAL: &str = "global";

/// Identifies a resource across sweeps: kind, region (or [`GLOBAL`]) and id, and the other
/// account of the organisation it is in (`--accounts`), `None` for this one. (IAM names and
/// some ids are only unique within an account.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceRef {
    pub kind: Kind,
    pub region: String,
    pub id: String,
    pub account: Option<String>,
}

impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.kind, self.id, self.region)?;
        if let Some(a) = &self.account {
            write!(f, " in account {a}")?;
        }
        Ok(())
    }
}

/// Who a snapshot or image is shared with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Sharing {
    #[default]
    Private,
    /// Anyone can use it (`group: all`), possibly besides named accounts.
    Public {
        accounts: Vec<String>,
    },
    Accounts(Vec<String>),
    /// The permission could not be read (the reason).
    Unknown(String),
}

impl Sharing {
    pub fn is_shared(&self) -> bool {
        matches!(self, Sharing::Public { .. } | Sharing::Accounts(_))
    }
}

/// What an IAM user carries that must go before the user can be deleted, in the documented
/// deletion order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserParts {
    pub login_profile: bool,
    pub access_keys: Vec<String>,
    pub signing_certificates: Vec<String>,
    pub ssh_keys: Vec<String>,
    /// `(service name, credential id)`.
    pub service_credentials: Vec<(String, String)>,
    /// MFA device serial numbers (virtual devices are ARNs).
    pub mfa_devices: Vec<String>,
    pub inline_policies: Vec<String>,
    /// Attached managed policy ARNs.
    pub attached_policies: Vec<String>,
    pub groups: Vec<String>,
    /// Parts that could not be listed, with the reason (shown in the plan).
    pub unread: Vec<String>,
}

/// What a role carries that must go before the role can be deleted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoleParts {
    pub inline_policies: Vec<String>,
    pub attached_policies: Vec<String>,
    pub instance_profiles: Vec<String>,
    pub unread: Vec<String>,
}

/// The parts of an IAM principal, read when it matters (created after the leak or linked to
/// the timeline).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Parts {
    #[default]
    None,
    User(UserParts),
    Role(RoleParts),
}

/// One thing found in the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub kind: Kind,
    /// The region, or [`GLOBAL`].
    pub region: String,
    /// What the API calls it by: instance id, group name, function name, user name, policy
    /// ARN, provider ARN, key pair name, …
    pub id: String,
    pub arn: Option<String>,
    /// A human name: the `Name` tag, or the name when the id is something else.
    pub name: String,
    pub created: Option<Timestamp>,
    /// `running`, `active`, `InService`, … as the service says it.
    pub state: String,
    pub tags: Vec<(String, String)>,
    /// Resources this one is tied to: an instance's Auto Scaling group, spot request, fleet,
    /// security groups, key pair and launch template; a group's launch template; a user's
    /// policies. Used for ordering removal and for the detail pane.
    pub related: Vec<ResourceRef>,
    /// Instances only: termination protection (`disableApiTermination`).
    pub protected: bool,
    /// Snapshots and images only.
    pub sharing: Sharing,
    pub parts: Parts,
    /// Extra facts for the detail pane (`instance type`, `runtime`, …).
    pub details: Vec<(String, String)>,
    /// The other account it is in (`--accounts`); `None`: this one.
    pub account: Option<String>,
}

impl Resource {
    /// A resource with only its identity filled in.
    pub fn new(kind: Kind, region: impl Into<String>, id: impl Into<String>) -> Resource {
        let id = id.into();
        Resource {
            kind,
            region: region.into(),
            name: String::new(),
            id,
            arn: None,
            created: None,
            state: String::new(),
            tags: Vec::new(),
            related: Vec::new(),
            protected: false,
            sharing: Sharing::Private,
            parts: Parts::None,
            details: Vec::new(),
            account: None,
        }
    }

    pub fn reference(&self) -> ResourceRef {
        ResourceRef {
            kind: self.kind,
            region: self.region.clone(),
            id: self.id.clone(),
            account: self.account.clone(),
        }
    }

    /// The same resource, as found in another account of the organisation: it and every
    /// resource it names are that account's.
    pub fn in_account(mut self, account: &str) -> Resource {
        self.account = Some(account.to_string());
        for r in &mut self.related {
            r.account = Some(account.to_string());
        }
        self
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The name to show: the name, else the id.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.id
        } else {
            &self.name
        }
    }

    /// Every string that names this resource in a CloudTrail record: id, ARN, name.
    pub fn identifiers(&self) -> Vec<&str> {
        let mut out = vec![self.id.as_str()];
        if let Some(a) = &self.arn {
            out.push(a);
        }
        if !self.name.is_empty() && self.name != self.id {
            out.push(&self.name);
        }
        out.retain(|s| s.len() >= 3);
        out
    }
}

/// What one region answered for one kind of resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellState {
    Ok(usize),
    /// The service is not available there, or not at all (Lightsail in most regions, or
    /// an emulator): said in the cell, never fatal to the sweep.
    Unavailable(String),
    Failed(Failure),
}

/// The outcome of one sweep of one region (or of IAM, with region [`GLOBAL`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionSweep {
    pub region: String,
    pub resources: Vec<Resource>,
    /// Per kind (by label): how many were found or why none could be.
    pub cells: Vec<(&'static str, CellState)>,
}

impl RegionSweep {
    pub fn errors(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.cells.iter().filter_map(|(k, c)| match c {
            CellState::Failed(e) => Some((*k, e.text.as_str())),
            _ => None,
        })
    }
}
