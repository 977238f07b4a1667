//! Evidence before eradication: what a plan keeps of a resource before it changes or removes
//! it, and the manifest line each kept thing gets. Pure: the adapter (`keyspill_aws::evidence`)
//! reads AWS into a [`Kept`], the runtime writes it under the incident directory's `evidence/`
//! with a [`ManifestEntry`] per file or snapshot, and the journal carries the same entries for
//! the report.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The directory under the incident directory that evidence is written to.
pub const EVIDENCE_DIR: &str = "evidence";
/// The manifest in that directory: one JSON line per file or snapshot kept.
pub const MANIFEST_FILE: &str = "manifest.jsonl";
/// The tag every snapshot keyspill takes carries, with the incident's id as its value.
pub const INCIDENT_TAG: &str = "keyspill:incident";
/// The tag naming the instance a snapshot's volume was attached to.
pub const INSTANCE_TAG: &str = "keyspill:instance";

/// How the journal's intent line names a keep step's call (`keep ec2:CreateSnapshot`), so the
/// report never takes it for a change to the resource.
pub const KEEP_CALL_PREFIX: &str = "keep ";

/// What one preservation step keeps of its target.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Keep {
    /// `ec2:CreateSnapshot` of every EBS volume attached to the instance, each tagged with the
    /// incident id ([`INCIDENT_TAG`]) and the instance id ([`INSTANCE_TAG`]).
    Volumes,
    /// The instance's description, its user data and its console output.
    Instance,
    /// The function's code package (checked against the `CodeSha256` Lambda reports) and its
    /// configuration, environment variable values masked unless `environment_values`.
    Function { environment_values: bool },
    /// A user's or role's policy documents (inline; attached, at their default version; a
    /// role's trust policy), its group memberships, its keys' ids and their last use.
    Principal,
    /// The definition as the service describes it: a launch template's versions, an Auto
    /// Scaling group, a fleet or spot request, a security group's rules, a key pair's public
    /// key, a managed policy's versions, an identity provider, a snapshot's or image's sharing.
    Definition,
}

impl Keep {
    /// The main call, as the journal's intent line names it: [`KEEP_CALL_PREFIX`] and the
    /// call (`keep ec2:CreateSnapshot`).
    pub fn call(&self) -> &'static str {
        match self {
            Keep::Volumes => "keep ec2:CreateSnapshot",
            Keep::Instance => "keep ec2:DescribeInstances",
            Keep::Function { .. } => "keep lambda:GetFunction",
            Keep::Principal => "keep iam:Get*",
            Keep::Definition => "keep describe",
        }
    }
}

impl fmt::Display for Keep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Keep::Volumes => f.write_str("snapshot its EBS volumes (tagged)"),
            Keep::Instance => f.write_str("save description, user data, console output"),
            Keep::Function {
                environment_values: false,
            } => f.write_str("save code package and configuration (environment values masked)"),
            Keep::Function {
                environment_values: true,
            } => f.write_str("save code package and configuration (environment values IN CLEAR)"),
            Keep::Principal => {
                f.write_str("save policy documents, trust, groups, keys and their last use")
            }
            Keep::Definition => f.write_str("save its definition"),
        }
    }
}

/// One file a preservation step read, before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptFile {
    /// A plain file name (`description.xml`, `user-data.bin`, `package.zip`); the runtime puts
    /// it in the resource's own directory under `evidence/`.
    pub name: String,
    /// What it is, in words, with the call it came from: `user data (ec2:DescribeInstanceAttribute)`.
    pub what: String,
    pub bytes: Vec<u8>,
}

/// A snapshot a preservation step started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptSnapshot {
    pub snapshot_id: String,
    pub volume_id: String,
    /// The device the volume was attached as (`/dev/xvda`).
    pub device: String,
    /// As EC2 said it when the snapshot was created (`pending`, `completed`).
    pub state: String,
}

/// What a preservation step brought back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Kept {
    pub files: Vec<KeptFile>,
    pub snapshots: Vec<KeptSnapshot>,
    /// What could not be kept without failing the step, and why: an instance-store volume,
    /// no console output yet.
    pub notes: Vec<String>,
}

/// What the plan knew of a target when it was drawn, for the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetFacts {
    pub arn: Option<String>,
    /// What made it, per the attribution, in words (`AKIA…1234 (RunInstances, 09:14)`).
    pub made_by: Option<String>,
}

/// One line of `evidence/manifest.jsonl`, and of the journal (`Event::Kept`'s entry): one file or one
/// snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// When it was kept (RFC 3339, UTC).
    pub time: String,
    pub action_id: String,
    /// The resource it was kept from: kind (the Resources tab's word), region, id.
    pub kind: String,
    pub region: String,
    pub id: String,
    /// The other account of the organisation it was in (`--accounts`); absent: this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_arn: Option<String>,
    /// What made the resource, per the attribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_by: Option<String>,
    /// What it is, in words.
    pub what: String,
    /// The file, relative to the evidence directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The file's SHA-256, lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keep_call_carries_the_prefix_the_report_skips() {
        for k in [
            Keep::Volumes,
            Keep::Instance,
            Keep::Function {
                environment_values: true,
            },
            Keep::Principal,
            Keep::Definition,
        ] {
            assert!(k.call().starts_with(KEEP_CALL_PREFIX), "{k}");
        }
    }
}
