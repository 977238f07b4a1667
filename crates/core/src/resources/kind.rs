//! What kinds of resource keyspill inventories, each declared once with everything that
//! follows from it: its label, where it lives, where its steps go in a removal plan, how the
//! plan removes it, the CloudTrail calls that make it, its ARN service and tagging-API type.
//!
//! Adding a kind (say ECS services) touches at most four files, and forgetting a piece does
//! not compile:
//! 1. this file: one entry in [`kinds!`] below (every field of [`Facts`] must be given);
//! 2. `resources/action.rs`: its removal call, when it is a new one (`Action`'s `call`,
//!    `Display`, `target_kind` and `removes_target` are exhaustive matches);
//! 3. the adapter's service file (`crates/aws/src/resources/<service>.rs`): its lister,
//!    removal and read-back;
//! 4. `crates/aws/src/resources/mod.rs`: one arm in each of the exhaustive `match`es that
//!    pick a kind's lister and read-back and an action's removal.
//!
//! `Kind::ALL`, the sweep's cells, the tagging-API matching, attribution and the plan order
//! all follow from the entry. (A kind from a service keyspill does not call yet also needs
//! the SDK crate and a client in the adapter, as any new service does.)

use std::fmt;

use crate::resources::action::Action;

/// How a removal plan deals with a resource of a kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemovalRule {
    /// One call removes it.
    Call(Action),
    /// Termination protection off when it is on, then terminate; nothing for an instance
    /// that is already going.
    Instance,
    /// Deleted, except a VPC's `default` group (which cannot be).
    SecurityGroup,
    /// Only its sharing is revoked, and only when it is shared: it is kept as evidence.
    Unshare(Action),
    /// An IAM user's parts in the documented order, then the user.
    User,
    /// An IAM role's parts, then the role; service-linked roles are left to AWS.
    Role,
    /// Never removed by keyspill, for this reason.
    Never(&'static str),
}

/// The CloudTrail calls whose success makes a resource of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    /// Calls whose names start with one of these.
    By(&'static [&'static str]),
    /// Unknown (a kind found only through the tagging API): any creation call naming it.
    AnyCall,
}

/// Everything about a kind that does not need AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The short word in the kind column (and in the journal).
    pub label: &'static str,
    /// IAM resources live in no region.
    pub global: bool,
    /// Where its steps go in a removal plan: lower first. (Rank 3 is termination protection
    /// off, given to that step itself.)
    pub rank: u8,
    /// How the plan removes it.
    pub removal: RemovalRule,
    /// The service whose ARNs name it (`""` when not known).
    pub arn_service: &'static str,
    /// Its type as the tagging API (`GetResources`) names it, when keyspill lists it
    /// directly and completely in each region (a tagged entry of such a type that matches
    /// nothing listed is gone).
    pub tagging_type: Option<&'static str>,
    /// The calls that make it.
    pub created_by: Creation,
    /// It launches instances on its own (and may launch them again): what it launches is
    /// as much the attacker's as it is, and removal stops it first.
    pub launches_instances: bool,
    /// It carries parts (keys, policies, …) that must go before it can, read when it
    /// matters.
    pub has_parts: bool,
    /// It can sign in or be assumed: a user, a role, an identity provider.
    pub is_identity: bool,
}

/// Declares [`Kind`] and [`Kind::ALL`] from one list, so neither can drift from the other,
/// and [`Kind::facts`] as an exhaustive `match` over the same list.
macro_rules! kinds {
    ($( $(#[$doc:meta])* $kind:ident => $facts:expr ),+ $(,)?) => {
        /// What kind of thing a resource is. The order is the order of the tab's kind column
        /// sort, of a sweep's cells, and of [`Kind::ALL`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $( $(#[$doc])* $kind, )+
        }

        impl Kind {
            /// Every kind, in declaration order.
            pub const ALL: [Kind; [$(stringify!($kind)),+].len()] = [$(Kind::$kind),+];

            /// Everything that follows from the kind.
            pub fn facts(self) -> Facts {
                match self {
                    $( Kind::$kind => $facts, )+
                }
            }
        }
    };
}

kinds! {
    AutoScalingGroup => Facts {
        label: "asg",
        global: false,
        rank: 0,
        removal: RemovalRule::Call(Action::DeleteAutoScalingGroup),
        arn_service: "autoscaling",
        tagging_type: Some("autoscaling:autoScalingGroup"),
        created_by: Creation::By(&["CreateAutoScalingGroup"]),
        launches_instances: true,
        has_parts: false,
        is_identity: false,
    },
    SpotFleet => Facts {
        label: "spot-fleet",
        global: false,
        rank: 1,
        removal: RemovalRule::Call(Action::CancelSpotFleet),
        arn_service: "ec2",
        tagging_type: Some("ec2:spot-fleet-request"),
        created_by: Creation::By(&["RequestSpotFleet"]),
        launches_instances: true,
        has_parts: false,
        is_identity: false,
    },
    Ec2Fleet => Facts {
        label: "ec2-fleet",
        global: false,
        rank: 1,
        removal: RemovalRule::Call(Action::DeleteEc2Fleet),
        arn_service: "ec2",
        tagging_type: Some("ec2:fleet"),
        created_by: Creation::By(&["CreateFleet"]),
        launches_instances: true,
        has_parts: false,
        is_identity: false,
    },
    SpotRequest => Facts {
        label: "spot-request",
        global: false,
        rank: 2,
        removal: RemovalRule::Call(Action::CancelSpotRequest),
        arn_service: "ec2",
        tagging_type: Some("ec2:spot-instances-request"),
        created_by: Creation::By(&["RequestSpotInstances"]),
        launches_instances: true,
        has_parts: false,
        is_identity: false,
    },
    Instance => Facts {
        label: "instance",
        global: false,
        rank: 4,
        removal: RemovalRule::Instance,
        arn_service: "ec2",
        tagging_type: Some("ec2:instance"),
        created_by: Creation::By(&[
            "RunInstances",
            "RequestSpotInstances",
            "RequestSpotFleet",
            "CreateFleet",
        ]),
        launches_instances: false,
        has_parts: false,
        is_identity: false,
    },
    LaunchTemplate => Facts {
        label: "launch-template",
        global: false,
        rank: 5,
        removal: RemovalRule::Call(Action::DeleteLaunchTemplate),
        arn_service: "ec2",
        tagging_type: Some("ec2:launch-template"),
        created_by: Creation::By(&["CreateLaunchTemplate"]),
        launches_instances: false,
        has_parts: false,
        is_identity: false,
    },
    Function => Facts {
        label: "lambda",
        global: false,
        rank: 6,
        removal: RemovalRule::Call(Action::DeleteFunction),
        arn_service: "lambda",
        tagging_type: Some("lambda:function"),
        created_by: Creation::By(&["CreateFunction"]),
        launches_instances: false,
        has_parts: false,
        is_identity: false,
    },
    Lightsail => Facts {
        label: "lightsail",
        global: false,
        rank: 6,
        removal: RemovalRule::Call(Action::DeleteLightsailInstance),
        arn_service: "lightsail",
        tagging_type: None,
        created_by: Creation::By(&["CreateInstances"]),
        launches_instances: false,
        has_parts: false,
        is_identity: false,
    },
    KeyPair => Facts {
        label: "key-pair",
        global: false,
        rank: 7,
        removal: RemovalRule::Call(Action::DeleteKeyPair),
        arn_service: "ec2",
        tagging_type: Some("ec2:key-pair"),
        created_by: Creation::By(&["CreateKeyPair", "ImportKeyPair"]),
        launches_instances: false,
        has_parts: false,
        is_identity: false,
    },
    SecurityGroup => Facts {
        label: "security-group",
        global: false,
        rank: 8,
        removal: RemovalRule::SecurityGroup,
        arn_service: "ec2",
        tagging_type: Some("ec2:security-group"),
        created_by: Creation::By(&["CreateSecurityGroup"]),
        launches_instances: false,
        has_parts: false,
        is_identity: false,
    },
    Snapshot => Facts {
        label: "snapshot",
        global: false,
        rank: 9,
        removal: RemovalRule::Unshare(Action::UnshareSnapshot),
        arn_service: "ec2",
        tagging_type: Some("ec2:snapshot"),
        created_by: Creation::By(&["CreateSnapshot", "CopySnapshot"]),
        launches_instances: false,
        has_parts: false,
        is_identity: false,
    },
    Image => Facts {
        label: "ami",
        global: false,
        rank: 9,
        removal: RemovalRule::Unshare(Action::UnshareImage),
        arn_service: "ec2",
        tagging_type: Some("ec2:image"),
        created_by: Creation::By(&["CreateImage", "CopyImage", "RegisterImage"]),
        launches_instances: false,
        has_parts: false,
        is_identity: false,
    },
    User => Facts {
        label: "iam-user",
        global: true,
        rank: 10,
        removal: RemovalRule::User,
        arn_service: "iam",
        tagging_type: None,
        created_by: Creation::By(&["CreateUser"]),
        launches_instances: false,
        has_parts: true,
        is_identity: true,
    },
    Role => Facts {
        label: "iam-role",
        global: true,
        rank: 11,
        removal: RemovalRule::Role,
        arn_service: "iam",
        tagging_type: None,
        created_by: Creation::By(&["CreateRole"]),
        launches_instances: false,
        has_parts: true,
        is_identity: true,
    },
    Policy => Facts {
        label: "iam-policy",
        global: true,
        rank: 12,
        removal: RemovalRule::Call(Action::DeletePolicy),
        arn_service: "iam",
        tagging_type: None,
        created_by: Creation::By(&["CreatePolicy"]),
        launches_instances: false,
        has_parts: false,
        is_identity: false,
    },
    OidcProvider => Facts {
        label: "oidc-provider",
        global: true,
        rank: 13,
        removal: RemovalRule::Call(Action::DeleteOidcProvider),
        arn_service: "iam",
        tagging_type: None,
        created_by: Creation::By(&["CreateOpenIDConnectProvider"]),
        launches_instances: false,
        has_parts: false,
        is_identity: true,
    },
    SamlProvider => Facts {
        label: "saml-provider",
        global: true,
        rank: 13,
        removal: RemovalRule::Call(Action::DeleteSamlProvider),
        arn_service: "iam",
        tagging_type: None,
        created_by: Creation::By(&["CreateSAMLProvider"]),
        launches_instances: false,
        has_parts: false,
        is_identity: true,
    },
    /// Found only through the tagging API (`GetResources`): shown, never removed by keyspill.
    Tagged => Facts {
        label: "tagged",
        global: false,
        rank: u8::MAX,
        removal: RemovalRule::Never(
            "found only through the tagging API: remove it in its own console",
        ),
        arn_service: "",
        tagging_type: None,
        created_by: Creation::AnyCall,
        launches_instances: false,
        has_parts: false,
        is_identity: false,
    },
}

impl Kind {
    /// The short word in the kind column.
    pub fn label(self) -> &'static str {
        self.facts().label
    }

    /// The kind a label names (the journal stores labels).
    pub fn from_label(label: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.label() == label)
    }

    /// IAM resources live in no region.
    pub fn is_global(self) -> bool {
        self.facts().global
    }

    /// The order rank of the kind's steps in a removal plan.
    pub fn rank(self) -> u8 {
        self.facts().rank
    }

    /// The tagging API's resource type (`service:type`) of a kind keyspill lists directly.
    pub fn tagging_type(self) -> Option<&'static str> {
        self.facts().tagging_type
    }

    /// The service whose ARNs name resources of this kind (for matching tagged entries).
    pub fn arn_service(self) -> &'static str {
        self.facts().arn_service
    }

    /// Whether a creation call of this name makes this kind of resource (RunInstances names
    /// the security group it uses; that does not make the group).
    pub fn created_by(self, call: &str) -> bool {
        match self.facts().created_by {
            Creation::By(calls) => calls.iter().any(|c| call.starts_with(c)),
            Creation::AnyCall => true,
        }
    }

    /// Kinds that launch instances on their own.
    pub fn launches_instances(self) -> bool {
        self.facts().launches_instances
    }

    /// IAM users and roles: they carry parts that go before they can.
    pub fn has_parts(self) -> bool {
        self.facts().has_parts
    }

    /// Users, roles and identity providers: what can sign in or be assumed.
    pub fn is_identity(self) -> bool {
        self.facts().is_identity
    }

    /// How a removal plan deals with it.
    pub fn removal(self) -> RemovalRule {
        self.facts().removal
    }

    /// Instances: termination protection is read, shown and turned off before removal.
    pub fn has_termination_protection(self) -> bool {
        matches!(self.removal(), RemovalRule::Instance)
    }

    /// Snapshots and images: who they are shared with is read and shown.
    pub fn can_be_shared(self) -> bool {
        matches!(self.removal(), RemovalRule::Unshare(_))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.label())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn all_holds_every_kind_once_in_declaration_order() {
        let unique: BTreeSet<Kind> = Kind::ALL.into_iter().collect();
        assert_eq!(unique.len(), Kind::ALL.len());
        // Declaration order is `Ord`'s order.
        assert!(Kind::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Kind::ALL.first(), Some(&Kind::AutoScalingGroup));
        assert_eq!(Kind::ALL.last(), Some(&Kind::Tagged));
    }

    #[test]
    fn labels_are_unique_and_name_their_kind() {
        let labels: BTreeSet<&str> = Kind::ALL.into_iter().map(Kind::label).collect();
        assert_eq!(labels.len(), Kind::ALL.len());
        for k in Kind::ALL {
            assert_eq!(Kind::from_label(k.label()), Some(k));
            assert_eq!(k.to_string(), k.label());
        }
        assert_eq!(Kind::from_label("nonsense"), None);
    }

    #[test]
    fn the_plan_order_follows_the_declaration_order() {
        // Launchers come before what they launch; regional kinds before IAM; the tagging
        // API's finds last (they are never removed).
        assert!(Kind::ALL.windows(2).all(|w| w[0].rank() <= w[1].rank()));
        let launchers: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| k.launches_instances())
            .collect();
        assert_eq!(
            launchers,
            [
                Kind::AutoScalingGroup,
                Kind::SpotFleet,
                Kind::Ec2Fleet,
                Kind::SpotRequest
            ]
        );
        assert!(
            launchers
                .iter()
                .all(|l| l.rank() < 3 && Kind::Instance.rank() > 3)
        );
        let last_regional = Kind::ALL
            .into_iter()
            .filter(|k| !k.is_global() && *k != Kind::Tagged)
            .map(Kind::rank)
            .max();
        let first_global = Kind::ALL
            .into_iter()
            .filter(|k| k.is_global())
            .map(Kind::rank)
            .min();
        assert!(last_regional < first_global);
        assert!(
            Kind::ALL
                .into_iter()
                .all(|k| k.rank() <= Kind::Tagged.rank())
        );
    }

    #[test]
    fn every_removal_call_is_meant_for_its_kind() {
        for k in Kind::ALL {
            match k.removal() {
                RemovalRule::Call(a) | RemovalRule::Unshare(a) => {
                    assert_eq!(a.target_kind(), Some(k), "{a:?}");
                }
                RemovalRule::Never(reason) => assert!(!reason.is_empty()),
                RemovalRule::Instance
                | RemovalRule::SecurityGroup
                | RemovalRule::User
                | RemovalRule::Role => {}
            }
        }
    }

    #[test]
    fn global_kinds_are_iam_and_identities_are_principals_or_providers() {
        for k in Kind::ALL {
            assert_eq!(k.is_global(), k.arn_service() == "iam", "{k}");
            if k.has_parts() {
                assert!(k.is_identity());
            }
            // The tagging API lists regional resources only.
            if k.tagging_type().is_some() {
                assert!(!k.is_global());
                let ty = k.tagging_type().unwrap_or_default();
                assert!(ty.starts_with(&format!("{}:", k.arn_service())), "{ty}");
            }
        }
    }

    #[test]
    fn creation_calls_name_their_kind() {
        assert!(Kind::Instance.created_by("RunInstances"));
        assert!(!Kind::SecurityGroup.created_by("RunInstances"));
        assert!(Kind::KeyPair.created_by("ImportKeyPair"));
        assert!(Kind::Tagged.created_by("CreateBucket"));
        for k in Kind::ALL {
            if let Creation::By(calls) = k.facts().created_by {
                assert!(!calls.is_empty(), "{k}");
            }
        }
    }
}
