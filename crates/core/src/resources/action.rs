//! The removal calls a plan is made of. Each is one AWS request (or a short, fixed sequence
//! for one object) that the executor brackets with journal lines.

use std::fmt;

use crate::resources::evidence::Keep;
use crate::resources::kind::Kind;

/// One removal call, on the step's target resource.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// `autoscaling:DeleteAutoScalingGroup` with `ForceDelete` (its instances go with it).
    DeleteAutoScalingGroup,
    /// `ec2:CancelSpotFleetRequests` with `TerminateInstances`.
    CancelSpotFleet,
    /// `ec2:DeleteFleets` with `TerminateInstances`.
    DeleteEc2Fleet,
    /// `ec2:CancelSpotInstanceRequests` (its instance is terminated by its own step).
    CancelSpotRequest,
    /// `ec2:ModifyInstanceAttribute` `DisableApiTermination=false`.
    DisableTerminationProtection,
    /// `ec2:TerminateInstances`.
    TerminateInstance,
    /// `ec2:DeleteLaunchTemplate`.
    DeleteLaunchTemplate,
    /// `lambda:DeleteFunction`.
    DeleteFunction,
    /// `lightsail:DeleteInstance`.
    DeleteLightsailInstance,
    /// `ec2:DeleteKeyPair`.
    DeleteKeyPair,
    /// `ec2:DeleteSecurityGroup`.
    DeleteSecurityGroup,
    /// `ec2:ModifySnapshotAttribute` removing every `createVolumePermission`.
    UnshareSnapshot,
    /// `ec2:ModifyImageAttribute` removing every `launchPermission`.
    UnshareImage,
    // An IAM user, in the documented order.
    DeleteLoginProfile,
    DeleteAccessKey(String),
    DeleteSigningCertificate(String),
    DeleteSshPublicKey(String),
    /// `(service name, credential id)`.
    DeleteServiceSpecificCredential(String),
    /// Deactivate the device, and delete it when it is a virtual one (its serial is an ARN).
    RemoveMfaDevice(String),
    DeleteUserPolicy(String),
    DetachUserPolicy(String),
    RemoveUserFromGroup(String),
    /// Last: lists what is left on the user (an attacker may have added a key since the plan
    /// was made), removes it, then deletes the user.
    DeleteUser,
    // An IAM role.
    DeleteRolePolicy(String),
    DetachRolePolicy(String),
    RemoveRoleFromInstanceProfile(String),
    DeleteRole,
    /// A customer managed policy: detached from every entity, non-default versions deleted,
    /// then the policy.
    DeletePolicy,
    DeleteOidcProvider,
    DeleteSamlProvider,
    /// Evidence kept before anything is changed (`resources::evidence`); carried out by the
    /// executor through `keyspill_aws::evidence::keep`, never by `resources::perform`.
    Keep(Keep),
    // Isolating an instance instead of terminating it.
    /// `autoscaling:DetachInstances` (desired capacity decremented), so its group neither
    /// replaces nor terminates it.
    DetachFromAutoScalingGroup,
    /// The instance's security groups replaced by the VPC's isolation group (created when
    /// missing: no inbound rule, no outbound rule).
    IsolateNetwork,
    /// `ec2:DisassociateIamInstanceProfile`: the instance's role credentials stop being issued.
    DetachInstanceProfile,
    /// `ec2:ModifyInstanceAttribute` `DisableApiTermination=true`.
    EnableTerminationProtection,
}

impl Action {
    /// The API call, as IAM policies name it (for the plan, the journal and AccessDenied).
    pub fn call(&self) -> &'static str {
        match self {
            Action::DeleteAutoScalingGroup => "autoscaling:DeleteAutoScalingGroup",
            Action::CancelSpotFleet => "ec2:CancelSpotFleetRequests",
            Action::DeleteEc2Fleet => "ec2:DeleteFleets",
            Action::CancelSpotRequest => "ec2:CancelSpotInstanceRequests",
            Action::DisableTerminationProtection => "ec2:ModifyInstanceAttribute",
            Action::TerminateInstance => "ec2:TerminateInstances",
            Action::DeleteLaunchTemplate => "ec2:DeleteLaunchTemplate",
            Action::DeleteFunction => "lambda:DeleteFunction",
            Action::DeleteLightsailInstance => "lightsail:DeleteInstance",
            Action::DeleteKeyPair => "ec2:DeleteKeyPair",
            Action::DeleteSecurityGroup => "ec2:DeleteSecurityGroup",
            Action::UnshareSnapshot => "ec2:ModifySnapshotAttribute",
            Action::UnshareImage => "ec2:ModifyImageAttribute",
            Action::DeleteLoginProfile => "iam:DeleteLoginProfile",
            Action::DeleteAccessKey(_) => "iam:DeleteAccessKey",
            Action::DeleteSigningCertificate(_) => "iam:DeleteSigningCertificate",
            Action::DeleteSshPublicKey(_) => "iam:DeleteSSHPublicKey",
            Action::DeleteServiceSpecificCredential(_) => "iam:DeleteServiceSpecificCredential",
            Action::RemoveMfaDevice(_) => "iam:DeactivateMFADevice",
            Action::DeleteUserPolicy(_) => "iam:DeleteUserPolicy",
            Action::DetachUserPolicy(_) => "iam:DetachUserPolicy",
            Action::RemoveUserFromGroup(_) => "iam:RemoveUserFromGroup",
            Action::DeleteUser => "iam:DeleteUser",
            Action::DeleteRolePolicy(_) => "iam:DeleteRolePolicy",
            Action::DetachRolePolicy(_) => "iam:DetachRolePolicy",
            Action::RemoveRoleFromInstanceProfile(_) => "iam:RemoveRoleFromInstanceProfile",
            Action::DeleteRole => "iam:DeleteRole",
            Action::DeletePolicy => "iam:DeletePolicy",
            Action::DeleteOidcProvider => "iam:DeleteOpenIDConnectProvider",
            Action::DeleteSamlProvider => "iam:DeleteSAMLProvider",
            Action::Keep(k) => k.call(),
            Action::DetachFromAutoScalingGroup => "autoscaling:DetachInstances",
            Action::IsolateNetwork => "ec2:ModifyInstanceAttribute",
            Action::DetachInstanceProfile => "ec2:DisassociateIamInstanceProfile",
            Action::EnableTerminationProtection => "ec2:ModifyInstanceAttribute",
        }
    }

    /// Whether the target resource is gone once this action succeeded (so the executor can
    /// read it back and the plan can count it).
    pub fn removes_target(&self) -> bool {
        match self {
            Action::DeleteAutoScalingGroup
            | Action::CancelSpotFleet
            | Action::DeleteEc2Fleet
            | Action::TerminateInstance
            | Action::DeleteLaunchTemplate
            | Action::DeleteFunction
            | Action::DeleteLightsailInstance
            | Action::DeleteKeyPair
            | Action::DeleteSecurityGroup
            | Action::DeleteUser
            | Action::DeleteRole
            | Action::DeletePolicy
            | Action::DeleteOidcProvider
            | Action::DeleteSamlProvider => true,
            Action::DisableTerminationProtection
            | Action::CancelSpotRequest
            | Action::UnshareSnapshot
            | Action::UnshareImage
            | Action::DeleteLoginProfile
            | Action::DeleteAccessKey(_)
            | Action::DeleteSigningCertificate(_)
            | Action::DeleteSshPublicKey(_)
            | Action::DeleteServiceSpecificCredential(_)
            | Action::RemoveMfaDevice(_)
            | Action::DeleteUserPolicy(_)
            | Action::DetachUserPolicy(_)
            | Action::RemoveUserFromGroup(_)
            | Action::DeleteRolePolicy(_)
            | Action::DetachRolePolicy(_)
            | Action::RemoveRoleFromInstanceProfile(_)
            | Action::Keep(_)
            | Action::DetachFromAutoScalingGroup
            | Action::IsolateNetwork
            | Action::DetachInstanceProfile
            | Action::EnableTerminationProtection => false,
        }
    }

    /// Whether the action keeps evidence (and changes nothing).
    pub fn keeps(&self) -> bool {
        matches!(self, Action::Keep(_))
    }

    /// Whether the action is meant for a target of `kind` (the adapter refuses it on another).
    pub fn fits(&self, kind: Kind) -> bool {
        match self.target_kind() {
            Some(k) => k == kind,
            // Evidence: what is kept follows the kind; the adapter says when it has nothing to
            // keep for one.
            None => match self {
                Action::Keep(Keep::Volumes | Keep::Instance) => kind == Kind::Instance,
                Action::Keep(Keep::Function { .. }) => kind == Kind::Function,
                Action::Keep(Keep::Principal) => matches!(kind, Kind::User | Kind::Role),
                _ => true,
            },
        }
    }

    /// Which kind of target the action is meant for, when it is meant for one kind only.
    pub fn target_kind(&self) -> Option<Kind> {
        Some(match self {
            Action::DeleteAutoScalingGroup => Kind::AutoScalingGroup,
            Action::CancelSpotFleet => Kind::SpotFleet,
            Action::DeleteEc2Fleet => Kind::Ec2Fleet,
            Action::CancelSpotRequest => Kind::SpotRequest,
            Action::DisableTerminationProtection | Action::TerminateInstance => Kind::Instance,
            Action::DeleteLaunchTemplate => Kind::LaunchTemplate,
            Action::DeleteFunction => Kind::Function,
            Action::DeleteLightsailInstance => Kind::Lightsail,
            Action::DeleteKeyPair => Kind::KeyPair,
            Action::DeleteSecurityGroup => Kind::SecurityGroup,
            Action::UnshareSnapshot => Kind::Snapshot,
            Action::UnshareImage => Kind::Image,
            Action::DeleteLoginProfile
            | Action::DeleteAccessKey(_)
            | Action::DeleteSigningCertificate(_)
            | Action::DeleteSshPublicKey(_)
            | Action::DeleteServiceSpecificCredential(_)
            | Action::RemoveMfaDevice(_)
            | Action::DeleteUserPolicy(_)
            | Action::DetachUserPolicy(_)
            | Action::RemoveUserFromGroup(_)
            | Action::DeleteUser => Kind::User,
            Action::DeleteRolePolicy(_)
            | Action::DetachRolePolicy(_)
            | Action::RemoveRoleFromInstanceProfile(_)
            | Action::DeleteRole => Kind::Role,
            Action::DeletePolicy => Kind::Policy,
            Action::DeleteOidcProvider => Kind::OidcProvider,
            Action::DeleteSamlProvider => Kind::SamlProvider,
            Action::DetachFromAutoScalingGroup
            | Action::IsolateNetwork
            | Action::DetachInstanceProfile
            | Action::EnableTerminationProtection => Kind::Instance,
            Action::Keep(_) => return None,
        })
    }
}

impl fmt::Display for Action {
    /// In words, for the plan dialog: `terminate`, `delete access key AKIA…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::DeleteAutoScalingGroup => f.write_str("force-delete group (and its instances)"),
            Action::CancelSpotFleet => f.write_str("cancel spot fleet, terminating its instances"),
            Action::DeleteEc2Fleet => f.write_str("delete EC2 fleet, terminating its instances"),
            Action::CancelSpotRequest => f.write_str("cancel spot request"),
            Action::DisableTerminationProtection => f.write_str("turn termination protection off"),
            Action::TerminateInstance => f.write_str("terminate"),
            Action::DeleteLaunchTemplate => f.write_str("delete launch template"),
            Action::DeleteFunction => f.write_str("delete function"),
            Action::DeleteLightsailInstance => f.write_str("delete Lightsail instance"),
            Action::DeleteKeyPair => f.write_str("delete key pair"),
            Action::DeleteSecurityGroup => f.write_str("delete security group"),
            Action::UnshareSnapshot => f.write_str("revoke snapshot sharing"),
            Action::UnshareImage => f.write_str("revoke AMI sharing"),
            Action::DeleteLoginProfile => f.write_str("delete console password"),
            Action::DeleteAccessKey(k) => write!(f, "delete access key {k}"),
            Action::DeleteSigningCertificate(c) => write!(f, "delete signing certificate {c}"),
            Action::DeleteSshPublicKey(k) => write!(f, "delete SSH key {k}"),
            Action::DeleteServiceSpecificCredential(c) => {
                write!(f, "delete service credential {c}")
            }
            Action::RemoveMfaDevice(s) => write!(f, "deactivate MFA device {s}"),
            Action::DeleteUserPolicy(p) => write!(f, "delete inline policy {p}"),
            Action::DetachUserPolicy(p) | Action::DetachRolePolicy(p) => {
                write!(f, "detach policy {p}")
            }
            Action::RemoveUserFromGroup(g) => write!(f, "remove from group {g}"),
            Action::DeleteUser => f.write_str("delete user"),
            Action::DeleteRolePolicy(p) => write!(f, "delete inline policy {p}"),
            Action::RemoveRoleFromInstanceProfile(p) => {
                write!(f, "remove from instance profile {p}")
            }
            Action::DeleteRole => f.write_str("delete role"),
            Action::DeletePolicy => {
                f.write_str("detach everywhere, delete versions, delete policy")
            }
            Action::DeleteOidcProvider => f.write_str("delete OIDC provider"),
            Action::DeleteSamlProvider => f.write_str("delete SAML provider"),
            Action::Keep(k) => write!(f, "keep evidence: {k}"),
            Action::DetachFromAutoScalingGroup => {
                f.write_str("detach from its Auto Scaling group (capacity lowered)")
            }
            Action::IsolateNetwork => {
                f.write_str("replace its security groups with the isolation group")
            }
            Action::DetachInstanceProfile => f.write_str("detach its instance profile"),
            Action::EnableTerminationProtection => f.write_str("turn termination protection on"),
        }
    }
}
