//! The removal plan: the selected resources turned into steps, in an order nothing respawns
//! from, each step knowing which earlier steps it needs. Pure: built and tested without AWS.
//!
//! Order (DESIGN.md): Auto Scaling groups, spot fleets and EC2 fleets, spot requests,
//! termination protection off, instances, launch templates, functions, key pairs, security
//! groups, snapshot and AMI sharing, then IAM users (their parts first), roles, policies and
//! identity providers.

use std::collections::{BTreeMap, BTreeSet};

use crate::resources::action::Action;
use crate::resources::evidence::TargetFacts;
use crate::resources::kind::RemovalRule;
use crate::resources::model::{Kind, Parts, Resource, ResourceRef};

/// One call in the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub target: ResourceRef,
    /// The name shown beside the id.
    pub name: String,
    pub action: Action,
    /// Indices of earlier steps that must have succeeded for this one to be attempted.
    pub needs: Vec<usize>,
}

/// A resource left out of the plan, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excluded {
    pub target: ResourceRef,
    pub reason: String,
}

/// What a plan is for: its steps are built, confirmed and run the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Purpose {
    /// Keep evidence, then remove (`t`).
    #[default]
    Remove,
    /// Keep evidence, then isolate instances in place instead of terminating them.
    Isolate,
    /// Keep evidence only; nothing is changed.
    KeepOnly,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemovalPlan {
    pub purpose: Purpose,
    pub steps: Vec<Step>,
    pub excluded: Vec<Excluded>,
    /// How many resources the plan removes or changes (what the operator types).
    pub targets: usize,
    /// Parts of a principal that could not be listed when the plan was made.
    pub unread: BTreeMap<ResourceRef, Vec<String>>,
    /// What the console knew of each target (ARN, maker), for the evidence manifest.
    pub facts: BTreeMap<ResourceRef, TargetFacts>,
    /// The operator chose to keep no evidence for this plan (its keep steps were dropped).
    pub skipped_evidence: bool,
}

/// What keyspill itself runs as: never part of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protected {
    /// The IAM user keyspill signs as, if it is one.
    pub user: Option<String>,
    /// The role keyspill's session belongs to, if it is an assumed role.
    pub role: Option<String>,
    /// keyspill's own access key.
    pub key: Option<String>,
}

/// The steps one resource needs, in its own order (the last one removes it).
fn steps_for(r: &Resource) -> Result<Vec<Action>, String> {
    Ok(match r.kind.removal() {
        RemovalRule::Call(action) => vec![action],
        RemovalRule::Never(reason) => return Err(reason.into()),
        RemovalRule::Instance => {
            if r.state == "terminated" || r.state == "shutting-down" {
                return Err(format!("already {}", r.state));
            }
            let mut a = Vec::new();
            if r.protected {
                a.push(Action::DisableTerminationProtection);
            }
            a.push(Action::TerminateInstance);
            a
        }
        RemovalRule::SecurityGroup => {
            if r.name == "default" {
                return Err("a VPC's default security group cannot be deleted".into());
            }
            vec![Action::DeleteSecurityGroup]
        }
        RemovalRule::Unshare(action) => {
            if !r.sharing.is_shared() {
                return Err("not shared: kept as evidence".into());
            }
            vec![action]
        }
        RemovalRule::User => {
            let mut a = Vec::new();
            if let Parts::User(p) = &r.parts {
                if p.login_profile {
                    a.push(Action::DeleteLoginProfile);
                }
                a.extend(p.access_keys.iter().cloned().map(Action::DeleteAccessKey));
                a.extend(
                    p.signing_certificates
                        .iter()
                        .cloned()
                        .map(Action::DeleteSigningCertificate),
                );
                a.extend(p.ssh_keys.iter().cloned().map(Action::DeleteSshPublicKey));
                a.extend(
                    p.service_credentials
                        .iter()
                        .map(|(_, id)| Action::DeleteServiceSpecificCredential(id.clone())),
                );
                a.extend(p.mfa_devices.iter().cloned().map(Action::RemoveMfaDevice));
                a.extend(
                    p.inline_policies
                        .iter()
                        .cloned()
                        .map(Action::DeleteUserPolicy),
                );
                a.extend(
                    p.attached_policies
                        .iter()
                        .cloned()
                        .map(Action::DetachUserPolicy),
                );
                a.extend(p.groups.iter().cloned().map(Action::RemoveUserFromGroup));
            }
            a.push(Action::DeleteUser);
            a
        }
        RemovalRule::Role => {
            if r.details.iter().any(|(k, _)| k == "service-linked") {
                return Err("service-linked role: AWS manages it".into());
            }
            let mut a = Vec::new();
            if let Parts::Role(p) = &r.parts {
                a.extend(
                    p.inline_policies
                        .iter()
                        .cloned()
                        .map(Action::DeleteRolePolicy),
                );
                a.extend(
                    p.attached_policies
                        .iter()
                        .cloned()
                        .map(Action::DetachRolePolicy),
                );
                a.extend(
                    p.instance_profiles
                        .iter()
                        .cloned()
                        .map(Action::RemoveRoleFromInstanceProfile),
                );
            }
            a.push(Action::DeleteRole);
            a
        }
    })
}

/// Why keyspill must not remove `r`, when that is so.
fn protected_reason(r: &Resource, own: &Protected) -> Option<String> {
    match r.kind {
        Kind::User if own.user.as_deref() == Some(r.id.as_str()) => {
            Some("keyspill runs as this user".into())
        }
        Kind::Role if own.role.as_deref() == Some(r.id.as_str()) => {
            Some("keyspill's session is this role".into())
        }
        _ => None,
    }
}

/// Builds the plan for `selected`. `all` is the whole inventory, used to find relations
/// (an instance's group is not in the plan unless selected; it is still named).
pub fn build(selected: &[&Resource], own: &Protected) -> RemovalPlan {
    let mut plan = RemovalPlan::default();
    // (rank, resource position, step position within the resource) → step
    let mut ordered: Vec<(u8, usize, usize, ResourceRef, String, Action)> = Vec::new();
    let mut seen = BTreeSet::new();
    for (pos, r) in selected.iter().enumerate() {
        if !seen.insert(r.reference()) {
            continue;
        }
        if let Some(reason) = protected_reason(r, own) {
            plan.excluded.push(Excluded {
                target: r.reference(),
                reason,
            });
            continue;
        }
        match steps_for(r) {
            Err(reason) => plan.excluded.push(Excluded {
                target: r.reference(),
                reason,
            }),
            Ok(actions) => {
                plan.targets += 1;
                let unread = match &r.parts {
                    Parts::User(p) => &p.unread,
                    Parts::Role(p) => &p.unread,
                    Parts::None => &Vec::new(),
                };
                if !unread.is_empty() {
                    plan.unread.insert(r.reference(), unread.clone());
                }
                for (i, action) in actions.into_iter().enumerate() {
                    let mut k = r.kind.rank();
                    if action == Action::DisableTerminationProtection {
                        k = 3;
                    }
                    // keyspill's own key is never deleted as part of a user's cleanup.
                    if let (Action::DeleteAccessKey(id), Some(own_key)) = (&action, &own.key)
                        && id == own_key
                    {
                        continue;
                    }
                    ordered.push((
                        k,
                        pos,
                        i,
                        r.reference(),
                        r.display_name().to_string(),
                        action,
                    ));
                }
            }
        }
    }
    ordered.sort_by(|a, b| (a.0, &a.3.region, a.1, a.2).cmp(&(b.0, &b.3.region, b.1, b.2)));

    // Where each resource's steps landed, to wire up what needs what.
    let mut by_target: BTreeMap<ResourceRef, Vec<usize>> = BTreeMap::new();
    for (i, (_, _, _, target, name, action)) in ordered.into_iter().enumerate() {
        by_target.entry(target.clone()).or_default().push(i);
        plan.steps.push(Step {
            target,
            name,
            action,
            needs: Vec::new(),
        });
    }

    let relations: BTreeMap<ResourceRef, Vec<ResourceRef>> = selected
        .iter()
        .map(|r| (r.reference(), r.related.clone()))
        .collect();
    for i in 0..plan.steps.len() {
        let target = plan.steps[i].target.clone();
        let mut needs = BTreeSet::new();
        // Within one resource, each step needs the ones before it: a user is deleted only
        // after its parts, an instance is terminated only after its protection is off.
        if let Some(own_steps) = by_target.get(&target) {
            needs.extend(own_steps.iter().copied().filter(|&j| j < i));
        }
        // Across resources: a related resource's steps that come earlier must succeed
        // first (the group before its instances, the instances before their security group).
        let related = relations.get(&target).into_iter().flatten().cloned();
        let back: Vec<ResourceRef> = relations
            .iter()
            .filter(|(_, rel)| rel.contains(&target))
            .map(|(k, _)| k.clone())
            .collect();
        for other in related.chain(back) {
            if let Some(steps) = by_target.get(&other) {
                needs.extend(steps.iter().copied().filter(|&j| j < i));
            }
        }
        plan.steps[i].needs = needs.into_iter().collect();
    }
    plan
}

impl RemovalPlan {
    /// The text the operator types to confirm: the number of targets.
    pub fn confirmation_text(&self) -> String {
        self.targets.to_string()
    }

    pub fn label(&self) -> String {
        format!(
            "remove {} resource{} ({} step{})",
            self.targets,
            if self.targets == 1 { "" } else { "s" },
            self.steps.len(),
            if self.steps.len() == 1 { "" } else { "s" }
        )
    }

    /// The lines of the plan dialog: each step, numbered, in order, with what it needs.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, s) in self.steps.iter().enumerate() {
            let needs = if s.needs.is_empty() {
                String::new()
            } else {
                let list: Vec<String> = s.needs.iter().map(|n| (n + 1).to_string()).collect();
                format!("  (after {})", list.join(", "))
            };
            out.push(format!(
                "{:>3}. {:<12} {} {} — {}{needs}",
                i + 1,
                s.target.region,
                s.target.kind,
                s.name,
                s.action
            ));
        }
        for s in self
            .steps
            .iter()
            .filter(|s| s.action == Action::DeleteUser || s.action == Action::DeleteRole)
        {
            if let Some(unread) = self.unread.get(&s.target) {
                for u in unread {
                    out.push(format!(
                        "       {} {}: could not list {u} — the last step looks again",
                        s.target.kind, s.target.id
                    ));
                }
            }
        }
        for e in &self.excluded {
            out.push(format!(
                "  not in plan: {} {} ({}) — {}",
                e.target.kind, e.target.id, e.target.region, e.reason
            ));
        }
        out
    }
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepState {
    Pending,
    Running,
    Done(String),
    Failed(String),
    /// Not attempted because a step it needs failed or was itself skipped.
    Skipped(String),
}

impl StepState {
    pub fn finished(&self) -> bool {
        matches!(
            self,
            StepState::Done(_) | StepState::Failed(_) | StepState::Skipped(_)
        )
    }
}

/// Whether step `i` may run given the states so far; `Err` names the step that blocks it.
pub fn ready(plan: &RemovalPlan, states: &[StepState], i: usize) -> Result<(), String> {
    let Some(step) = plan.steps.get(i) else {
        return Err("no such step".into());
    };
    for &n in &step.needs {
        match states.get(n) {
            Some(StepState::Done(_)) => {}
            Some(StepState::Failed(_)) | Some(StepState::Skipped(_)) => {
                return Err(format!("step {} did not succeed", n + 1));
            }
            _ => return Err(format!("step {} has not run", n + 1)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::model::{GLOBAL, Sharing, UserParts};

    fn res(kind: Kind, region: &str, id: &str) -> Resource {
        Resource::new(kind, region, id)
    }

    fn r(kind: Kind, region: &str, id: &str) -> ResourceRef {
        ResourceRef {
            kind,
            region: region.into(),
            id: id.into(),
        }
    }

    fn positions(plan: &RemovalPlan) -> Vec<(Kind, String, String)> {
        plan.steps
            .iter()
            .map(|s| (s.target.kind, s.target.id.clone(), s.action.to_string()))
            .collect()
    }

    #[test]
    fn one_of_every_kind_is_removed_in_the_order_kinds_are_declared() {
        // Selected in reverse, one resource of each kind, each in a state the plan removes.
        let all: Vec<Resource> = Kind::ALL
            .into_iter()
            .rev()
            .map(|k| {
                let region = if k.is_global() { GLOBAL } else { "eu-west-1" };
                let mut x = res(k, region, &format!("{k}-1"));
                x.name = format!("{k} name");
                x.state = "running".into();
                x.sharing = Sharing::Public {
                    accounts: Vec::new(),
                };
                x
            })
            .collect();
        let selected: Vec<&Resource> = all.iter().collect();
        let plan = build(&selected, &Protected::default());
        let kinds: Vec<Kind> = plan.steps.iter().map(|s| s.target.kind).collect();
        let expected: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| *k != Kind::Tagged)
            .collect();
        // Kinds of one rank keep the selection's order; across ranks, declaration order.
        let mut by_rank = expected.clone();
        by_rank.sort_by_key(|k| (k.rank(), std::cmp::Reverse(*k)));
        assert_eq!(kinds, by_rank);
        assert_eq!(plan.targets, expected.len());
        // Every removal step is meant for its target's kind, and each target's last step
        // removes it unless removal only revokes something or cancels a request.
        for s in &plan.steps {
            assert!(s.action.fits(s.target.kind), "{}", s.action);
        }
        assert_eq!(plan.excluded.len(), 1);
        assert_eq!(plan.excluded[0].target.kind, Kind::Tagged);
    }

    #[test]
    fn respawning_compute_goes_first_and_protection_is_its_own_step() {
        let asg = res(Kind::AutoScalingGroup, "eu-west-1", "miners");
        let mut from_asg = res(Kind::Instance, "eu-west-1", "i-1");
        from_asg.state = "running".into();
        from_asg.related = vec![
            r(Kind::AutoScalingGroup, "eu-west-1", "miners"),
            r(Kind::SecurityGroup, "eu-west-1", "sg-1"),
        ];
        let mut guarded = res(Kind::Instance, "eu-west-1", "i-2");
        guarded.state = "running".into();
        guarded.protected = true;
        let mut sg = res(Kind::SecurityGroup, "eu-west-1", "sg-1");
        sg.name = "open-all".into();
        let spot = res(Kind::SpotRequest, "eu-west-1", "sir-1");
        // Selected in the worst order on purpose.
        let selected = [&sg, &guarded, &from_asg, &spot, &asg];
        let plan = build(&selected, &Protected::default());
        let order: Vec<String> = plan
            .steps
            .iter()
            .map(|s| format!("{}:{}", s.target.id, s.action))
            .collect();
        assert_eq!(
            order,
            [
                "miners:force-delete group (and its instances)",
                "sir-1:cancel spot request",
                "i-2:turn termination protection off",
                "i-2:terminate",
                "i-1:terminate",
                "sg-1:delete security group",
            ]
        );
        assert_eq!(plan.targets, 5);
        assert_eq!(plan.confirmation_text(), "5");
        // The instance of the group needs the group gone; the protected one needs its
        // protection off; the security group needs the instance that uses it gone.
        assert_eq!(plan.steps[4].needs, vec![0]);
        assert_eq!(plan.steps[3].needs, vec![2]);
        assert_eq!(plan.steps[5].needs, vec![4]);
    }

    #[test]
    fn a_user_loses_its_parts_in_the_documented_order_then_goes() {
        let mut u = res(Kind::User, "global", "backdoor");
        u.parts = Parts::User(UserParts {
            login_profile: true,
            access_keys: vec!["AKIA1".into(), "AKIA2".into()],
            signing_certificates: vec!["CERT".into()],
            ssh_keys: vec!["APKA".into()],
            service_credentials: vec![("codecommit.amazonaws.com".into(), "ACCA".into())],
            mfa_devices: vec!["arn:aws:iam::1:mfa/backdoor".into()],
            inline_policies: vec!["inline".into()],
            attached_policies: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
            groups: vec!["admins".into()],
            unread: vec![],
        });
        let plan = build(&[&u], &Protected::default());
        let calls: Vec<&str> = plan.steps.iter().map(|s| s.action.call()).collect();
        assert_eq!(
            calls,
            [
                "iam:DeleteLoginProfile",
                "iam:DeleteAccessKey",
                "iam:DeleteAccessKey",
                "iam:DeleteSigningCertificate",
                "iam:DeleteSSHPublicKey",
                "iam:DeleteServiceSpecificCredential",
                "iam:DeactivateMFADevice",
                "iam:DeleteUserPolicy",
                "iam:DetachUserPolicy",
                "iam:RemoveUserFromGroup",
                "iam:DeleteUser",
            ]
        );
        assert_eq!(plan.steps[10].needs, (0..10).collect::<Vec<_>>());
        assert_eq!(plan.targets, 1);
    }

    #[test]
    fn parts_that_could_not_be_listed_are_said_in_the_plan() {
        let mut u = res(Kind::User, "global", "backdoor");
        u.parts = Parts::User(UserParts {
            unread: vec!["service-specific credentials: not available".into()],
            ..UserParts::default()
        });
        let plan = build(&[&u], &Protected::default());
        assert!(
            plan.lines()
                .iter()
                .any(|l| l.contains("could not list service-specific credentials")),
            "{:?}",
            plan.lines()
        );
    }

    #[test]
    fn keyspill_never_plans_its_own_removal() {
        let mut me = res(Kind::User, "global", "responder");
        me.parts = Parts::User(UserParts::default());
        let mut other = res(Kind::User, "global", "backdoor");
        other.parts = Parts::User(UserParts {
            access_keys: vec!["AKIAOWN".into(), "AKIAOTHER".into()],
            ..UserParts::default()
        });
        let own = Protected {
            user: Some("responder".into()),
            role: None,
            key: Some("AKIAOWN".into()),
        };
        let plan = build(&[&me, &other], &own);
        assert!(plan.steps.iter().all(|s| s.target.id != "responder"));
        assert!(
            plan.steps
                .iter()
                .all(|s| s.action != Action::DeleteAccessKey("AKIAOWN".into()))
        );
        assert_eq!(plan.excluded.len(), 1);
        assert_eq!(plan.excluded[0].reason, "keyspill runs as this user");
    }

    #[test]
    fn what_cannot_or_need_not_be_removed_is_said() {
        let mut default_sg = res(Kind::SecurityGroup, "us-east-1", "sg-0");
        default_sg.name = "default".into();
        let private_snap = res(Kind::Snapshot, "us-east-1", "snap-1");
        let mut public_ami = res(Kind::Image, "us-east-1", "ami-1");
        public_ami.sharing = Sharing::Public { accounts: vec![] };
        let tagged = res(Kind::Tagged, "us-east-1", "table/x");
        let mut gone = res(Kind::Instance, "us-east-1", "i-9");
        gone.state = "terminated".into();
        let plan = build(
            &[&default_sg, &private_snap, &public_ami, &tagged, &gone],
            &Protected::default(),
        );
        assert_eq!(
            positions(&plan),
            [(Kind::Image, "ami-1".into(), "revoke AMI sharing".into())]
        );
        assert_eq!(plan.excluded.len(), 4);
        assert!(plan.lines().iter().any(|l| l.contains("kept as evidence")));
    }

    #[test]
    fn a_failed_step_blocks_what_needs_it_and_only_that() {
        let asg = res(Kind::AutoScalingGroup, "eu-west-1", "g");
        let mut i1 = res(Kind::Instance, "eu-west-1", "i-1");
        i1.related = vec![r(Kind::AutoScalingGroup, "eu-west-1", "g")];
        let i2 = res(Kind::Instance, "eu-west-1", "i-2");
        let plan = build(&[&asg, &i1, &i2], &Protected::default());
        let states = vec![StepState::Failed("denied".into())];
        assert_eq!(
            ready(&plan, &states, 1),
            Err("step 1 did not succeed".into())
        );
        assert_eq!(ready(&plan, &states, 2), Ok(()));
    }

    #[test]
    fn regions_are_grouped_within_a_rank_and_duplicates_dropped() {
        let a = res(Kind::Function, "us-west-2", "f1");
        let b = res(Kind::Function, "ap-south-1", "f2");
        let plan = build(&[&a, &b, &a], &Protected::default());
        let ids: Vec<&str> = plan.steps.iter().map(|s| s.target.id.as_str()).collect();
        assert_eq!(ids, ["f2", "f1"]);
        assert_eq!(plan.targets, 2);
    }
}
