//! The removal plan: the selected resources turned into steps, in an order nothing respawns
//! from, each step knowing which earlier steps it needs. Pure: built and tested without AWS.
//!
//! Order (DESIGN.md): Auto Scaling groups, spot fleets and EC2 fleets, spot requests,
//! termination protection off, instances, launch templates, functions, key pairs, security
//! groups, snapshot and AMI sharing, then IAM users (their parts first), roles, policies and
//! identity providers.

use std::collections::{BTreeMap, BTreeSet};

use crate::resources::action::Action;
use crate::resources::evidence::{Keep, TargetFacts};
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

/// What a plan keeps of a resource before anything changes it, in order; empty when keyspill
/// can keep nothing of its kind.
pub fn keeps_for(kind: Kind) -> Vec<Keep> {
    match kind {
        Kind::Instance => vec![Keep::Instance, Keep::Volumes],
        Kind::Function => vec![Keep::Function {
            environment_values: false,
        }],
        Kind::User | Kind::Role => vec![Keep::Principal],
        Kind::Lightsail | Kind::Tagged => Vec::new(),
        _ => vec![Keep::Definition],
    }
}

/// One step before ordering: whether it keeps evidence, its kind's rank, its target, the
/// selection position and its place within the target's own steps.
struct Draft {
    keeps: bool,
    rank: u8,
    pos: usize,
    within: usize,
    target: ResourceRef,
    name: String,
    action: Action,
}

impl Draft {
    fn key(&self) -> (bool, u8, &str, usize, usize) {
        // Keep steps first (false sorts before true), then by rank, region, selection order.
        let rank = if self.keeps { 0 } else { self.rank };
        (
            !self.keeps,
            rank,
            self.target.region.as_str(),
            self.pos,
            self.within,
        )
    }
}

fn is_gone(r: &Resource) -> bool {
    r.state == "terminated" || r.state == "shutting-down"
}

/// Builds the removal plan for `selected`, evidence first. `inventory` is everything the
/// console knows: the instances a selected Auto Scaling group or fleet will terminate with
/// itself are found there, and their evidence is kept too.
pub fn build(selected: &[&Resource], own: &Protected, inventory: &[&Resource]) -> RemovalPlan {
    let mut plan = RemovalPlan::default();
    let mut drafts: Vec<Draft> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut planned: Vec<&Resource> = Vec::new();
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
                planned.push(r);
                let unread = match &r.parts {
                    Parts::User(p) => &p.unread,
                    Parts::Role(p) => &p.unread,
                    Parts::None => &Vec::new(),
                };
                if !unread.is_empty() {
                    plan.unread.insert(r.reference(), unread.clone());
                }
                for (i, keep) in keeps_for(r.kind).into_iter().enumerate() {
                    drafts.push(Draft {
                        keeps: true,
                        rank: 0,
                        pos,
                        within: i,
                        target: r.reference(),
                        name: r.display_name().to_string(),
                        action: Action::Keep(keep),
                    });
                }
                for (i, action) in actions.into_iter().enumerate() {
                    let mut rank = r.kind.rank();
                    if action == Action::DisableTerminationProtection {
                        rank = 3;
                    }
                    // keyspill's own key is never deleted as part of a user's cleanup.
                    if let (Action::DeleteAccessKey(id), Some(own_key)) = (&action, &own.key)
                        && id == own_key
                    {
                        continue;
                    }
                    drafts.push(Draft {
                        keeps: false,
                        rank,
                        pos,
                        within: i,
                        target: r.reference(),
                        name: r.display_name().to_string(),
                        action,
                    });
                }
            }
        }
    }

    // What a launcher in the plan terminates with itself: its instances' evidence is kept
    // first, and the launcher's removal waits for it.
    let mut launched: BTreeMap<ResourceRef, Vec<ResourceRef>> = BTreeMap::new();
    let launchers: Vec<ResourceRef> = planned
        .iter()
        .filter(|r| r.kind.launches_instances())
        .map(|r| r.reference())
        .collect();
    for launcher in &launchers {
        for (n, inst) in inventory
            .iter()
            .filter(|i| i.kind == Kind::Instance && !is_gone(i))
            .filter(|i| {
                i.related.contains(launcher)
                    || planned
                        .iter()
                        .any(|p| p.reference() == *launcher && p.related.contains(&i.reference()))
            })
            .enumerate()
        {
            launched
                .entry(launcher.clone())
                .or_default()
                .push(inst.reference());
            if seen.insert(inst.reference()) {
                for (i, keep) in keeps_for(Kind::Instance).into_iter().enumerate() {
                    drafts.push(Draft {
                        keeps: true,
                        rank: 0,
                        pos: selected.len() + n,
                        within: i,
                        target: inst.reference(),
                        name: format!(
                            "{} (its {} terminates it)",
                            inst.display_name(),
                            launcher.kind
                        ),
                        action: Action::Keep(keep),
                    });
                }
            }
        }
    }

    drafts.sort_by(|a, b| a.key().cmp(&b.key()));
    let relations: BTreeMap<ResourceRef, Vec<ResourceRef>> = planned
        .iter()
        .map(|r| (r.reference(), r.related.clone()))
        .collect();
    plan.steps = wire(drafts, &relations, &launched);
    plan
}

/// Turns ordered drafts into steps and wires what needs what:
/// - a keep step needs nothing;
/// - a changing step needs its target's keep steps and earlier changing steps, the earlier
///   changing steps of resources related to it (either way), and, for a launcher, the keep
///   steps of the instances it terminates.
fn wire(
    drafts: Vec<Draft>,
    relations: &BTreeMap<ResourceRef, Vec<ResourceRef>>,
    launched: &BTreeMap<ResourceRef, Vec<ResourceRef>>,
) -> Vec<Step> {
    let mut keeps: BTreeMap<ResourceRef, Vec<usize>> = BTreeMap::new();
    let mut changes: BTreeMap<ResourceRef, Vec<usize>> = BTreeMap::new();
    for (i, d) in drafts.iter().enumerate() {
        let map = if d.keeps { &mut keeps } else { &mut changes };
        map.entry(d.target.clone()).or_default().push(i);
    }
    let mut steps: Vec<Step> = Vec::with_capacity(drafts.len());
    for (i, d) in drafts.into_iter().enumerate() {
        let mut needs = BTreeSet::new();
        if !d.keeps {
            let earlier = |list: Option<&Vec<usize>>, needs: &mut BTreeSet<usize>| {
                needs.extend(list.into_iter().flatten().copied().filter(|&j| j < i));
            };
            earlier(keeps.get(&d.target), &mut needs);
            earlier(changes.get(&d.target), &mut needs);
            let related = relations.get(&d.target).into_iter().flatten();
            let back = relations
                .iter()
                .filter(|(_, rel)| rel.contains(&d.target))
                .map(|(k, _)| k);
            for other in related.chain(back) {
                earlier(changes.get(other), &mut needs);
            }
            for inst in launched.get(&d.target).into_iter().flatten() {
                earlier(keeps.get(inst), &mut needs);
            }
        }
        steps.push(Step {
            target: d.target,
            name: d.name,
            action: d.action,
            needs: needs.into_iter().collect(),
        });
    }
    steps
}

/// The isolation plan: each selected instance's evidence kept, then taken off the network, its
/// instance profile detached and its termination protection turned on. It keeps running.
pub fn isolation(selected: &[&Resource], own: &Protected) -> RemovalPlan {
    let mut plan = RemovalPlan {
        purpose: Purpose::Isolate,
        ..RemovalPlan::default()
    };
    let mut drafts = Vec::new();
    let mut seen = BTreeSet::new();
    for (pos, r) in selected.iter().enumerate() {
        if !seen.insert(r.reference()) {
            continue;
        }
        let refuse = if r.kind != Kind::Instance {
            Some("isolation is for instances".to_string())
        } else if is_gone(r) {
            Some(format!("already {}", r.state))
        } else {
            protected_reason(r, own)
        };
        if let Some(reason) = refuse {
            plan.excluded.push(Excluded {
                target: r.reference(),
                reason,
            });
            continue;
        }
        plan.targets += 1;
        let mut changes = Vec::new();
        if r.related.iter().any(|x| x.kind == Kind::AutoScalingGroup) {
            changes.push(Action::DetachFromAutoScalingGroup);
        }
        changes.extend([
            Action::IsolateNetwork,
            Action::DetachInstanceProfile,
            Action::EnableTerminationProtection,
        ]);
        let keeps = keeps_for(Kind::Instance).into_iter().map(Action::Keep);
        for (i, (keeps, action)) in keeps
            .map(|a| (true, a))
            .chain(changes.into_iter().map(|a| (false, a)))
            .enumerate()
        {
            drafts.push(Draft {
                keeps,
                rank: Kind::Instance.rank(),
                pos,
                within: i,
                target: r.reference(),
                name: r.display_name().to_string(),
                action,
            });
        }
    }
    drafts.sort_by(|a, b| a.key().cmp(&b.key()));
    // The isolation steps need the evidence, not each other: a group that cannot be swapped
    // must not keep the instance profile attached.
    let mut keeps: BTreeMap<ResourceRef, Vec<usize>> = BTreeMap::new();
    for (i, d) in drafts.iter().enumerate() {
        if d.keeps {
            keeps.entry(d.target.clone()).or_default().push(i);
        }
    }
    plan.steps = drafts
        .into_iter()
        .enumerate()
        .map(|(i, d)| Step {
            needs: if d.keeps {
                Vec::new()
            } else {
                keeps
                    .get(&d.target)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&j| j < i)
                    .collect()
            },
            target: d.target,
            name: d.name,
            action: d.action,
        })
        .collect();
    plan
}

/// The keep-only plan: the evidence of each selected resource, nothing changed.
pub fn keep_only(selected: &[&Resource]) -> RemovalPlan {
    let mut plan = RemovalPlan {
        purpose: Purpose::KeepOnly,
        ..RemovalPlan::default()
    };
    let mut drafts = Vec::new();
    let mut seen = BTreeSet::new();
    for (pos, r) in selected.iter().enumerate() {
        if !seen.insert(r.reference()) {
            continue;
        }
        let keeps = keeps_for(r.kind);
        if keeps.is_empty() || (r.kind == Kind::Instance && is_gone(r)) {
            plan.excluded.push(Excluded {
                target: r.reference(),
                reason: if keeps.is_empty() {
                    "nothing keyspill can keep of this kind".into()
                } else {
                    format!("already {}", r.state)
                },
            });
            continue;
        }
        plan.targets += 1;
        for (i, keep) in keeps.into_iter().enumerate() {
            drafts.push(Draft {
                keeps: true,
                rank: 0,
                pos,
                within: i,
                target: r.reference(),
                name: r.display_name().to_string(),
                action: Action::Keep(keep),
            });
        }
    }
    drafts.sort_by(|a, b| a.key().cmp(&b.key()));
    plan.steps = wire(drafts, &BTreeMap::new(), &BTreeMap::new());
    plan
}

impl RemovalPlan {
    /// The text the operator types to confirm: the number of targets.
    pub fn confirmation_text(&self) -> String {
        self.targets.to_string()
    }

    pub fn label(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let steps = plural(self.steps.len(), "step", "steps");
        let mut out = match self.purpose {
            Purpose::Remove => format!(
                "remove {} ({steps})",
                plural(self.targets, "resource", "resources")
            ),
            Purpose::Isolate => format!(
                "isolate {} ({steps})",
                plural(self.targets, "instance", "instances")
            ),
            Purpose::KeepOnly => format!(
                "keep evidence of {} ({steps})",
                plural(self.targets, "resource", "resources")
            ),
        };
        if self.skipped_evidence {
            out.push_str(", no evidence kept");
        }
        out
    }

    /// Whether any step keeps evidence.
    pub fn keeps_evidence(&self) -> bool {
        self.steps.iter().any(|s| s.action.keeps())
    }

    /// Whether a function's package and configuration are kept (the environment choice
    /// applies).
    pub fn has_function_keep(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.action, Action::Keep(Keep::Function { .. })))
    }

    /// Whether Lambda environment values are kept in clear.
    pub fn environment_values(&self) -> bool {
        self.steps.iter().any(|s| {
            matches!(
                s.action,
                Action::Keep(Keep::Function {
                    environment_values: true
                })
            )
        })
    }

    /// The same plan with its keep steps dropped: the operator chose to keep no evidence.
    /// A keep-only plan is returned as it is.
    pub fn without_evidence(&self) -> RemovalPlan {
        if self.purpose == Purpose::KeepOnly {
            return self.clone();
        }
        let mut map = vec![None; self.steps.len()];
        let mut steps = Vec::new();
        for (i, s) in self.steps.iter().enumerate() {
            if s.action.keeps() {
                continue;
            }
            map[i] = Some(steps.len());
            let mut s = s.clone();
            s.needs = s
                .needs
                .iter()
                .filter_map(|&n| map.get(n).copied().flatten())
                .collect();
            steps.push(s);
        }
        RemovalPlan {
            steps,
            skipped_evidence: true,
            ..self.clone()
        }
    }

    /// The same plan with Lambda environment values kept in clear (`true`) or masked.
    pub fn with_environment_values(&self, on: bool) -> RemovalPlan {
        let mut plan = self.clone();
        for s in &mut plan.steps {
            if let Action::Keep(Keep::Function { environment_values }) = &mut s.action {
                *environment_values = on;
            }
        }
        plan
    }

    /// The lines of the plan dialog: each step, numbered, in order, with what it needs.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.skipped_evidence {
            out.push(
                "  NO EVIDENCE IS KEPT: no snapshot, no code package, no policy document.".into(),
            );
        }
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
            account: None,
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
        let plan = build(&selected, &Protected::default(), &[]).without_evidence();
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
        let plan = build(&selected, &Protected::default(), &[]).without_evidence();
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
        let plan = build(&[&u], &Protected::default(), &[]).without_evidence();
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
        let plan = build(&[&u], &Protected::default(), &[]).without_evidence();
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
        let plan = build(&[&me, &other], &own, &[]);
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
            &[],
        )
        .without_evidence();
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
        let plan = build(&[&asg, &i1, &i2], &Protected::default(), &[]).without_evidence();
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
        let plan = build(&[&a, &b, &a], &Protected::default(), &[]).without_evidence();
        let ids: Vec<&str> = plan.steps.iter().map(|s| s.target.id.as_str()).collect();
        assert_eq!(ids, ["f2", "f1"]);
        assert_eq!(plan.targets, 2);
    }

    fn running(kind: Kind, id: &str) -> Resource {
        let mut x = res(kind, "eu-west-1", id);
        x.state = "running".into();
        x
    }

    fn calls(plan: &RemovalPlan) -> Vec<String> {
        plan.steps
            .iter()
            .map(|s| format!("{}:{}", s.target.id, s.action.call()))
            .collect()
    }

    #[test]
    fn evidence_is_kept_first_and_each_change_waits_for_its_own_target_s() {
        let mut i1 = running(Kind::Instance, "i-1");
        i1.related = vec![r(Kind::SecurityGroup, "eu-west-1", "sg-1")];
        let sg = res(Kind::SecurityGroup, "eu-west-1", "sg-1");
        let f = res(Kind::Function, "eu-west-1", "miner");
        let mut u = res(Kind::User, GLOBAL, "backdoor");
        u.parts = Parts::User(UserParts {
            access_keys: vec!["AKIA1".into()],
            ..UserParts::default()
        });
        let plan = build(&[&sg, &f, &i1, &u], &Protected::default(), &[]);
        assert_eq!(
            calls(&plan),
            [
                "sg-1:keep describe",
                "miner:keep lambda:GetFunction",
                "i-1:keep ec2:DescribeInstances",
                "i-1:keep ec2:CreateSnapshot",
                "backdoor:keep iam:Get*",
                "i-1:ec2:TerminateInstances",
                "miner:lambda:DeleteFunction",
                "sg-1:ec2:DeleteSecurityGroup",
                "backdoor:iam:DeleteAccessKey",
                "backdoor:iam:DeleteUser",
            ]
        );
        assert_eq!(plan.targets, 4);
        assert!(plan.keeps_evidence() && plan.has_function_keep());
        // Keep steps need nothing; the instance's termination needs its two keep steps only
        // (not the security group's definition); the group waits for the instance to go.
        assert!(plan.steps[..5].iter().all(|s| s.needs.is_empty()));
        assert_eq!(plan.steps[5].needs, vec![2, 3]);
        assert_eq!(plan.steps[6].needs, vec![1]);
        assert_eq!(plan.steps[7].needs, vec![0, 5]);
        assert_eq!(plan.steps[9].needs, vec![4, 8]);
        // A failed keep step blocks its own target's changes, and nothing else.
        let mut states = vec![StepState::Done(String::new()); 10];
        states[3] = StepState::Failed("AccessDenied".into());
        assert_eq!(
            ready(&plan, &states, 5),
            Err("step 4 did not succeed".into())
        );
        assert_eq!(ready(&plan, &states, 6), Ok(()));
        assert_eq!(ready(&plan, &states, 8), Ok(()));
    }

    #[test]
    fn a_launcher_waits_for_the_evidence_of_the_instances_it_terminates() {
        let mut asg = res(Kind::AutoScalingGroup, "eu-west-1", "miners");
        asg.related = vec![r(Kind::Instance, "eu-west-1", "i-9")];
        let mut i9 = running(Kind::Instance, "i-9");
        i9.related = vec![r(Kind::AutoScalingGroup, "eu-west-1", "miners")];
        let other = running(Kind::Instance, "i-other");
        let inventory = [&asg, &i9, &other];
        // Only the group is selected: its instance's evidence is kept anyway.
        let plan = build(&[&asg], &Protected::default(), &inventory);
        assert_eq!(
            calls(&plan),
            [
                "miners:keep describe",
                "i-9:keep ec2:DescribeInstances",
                "i-9:keep ec2:CreateSnapshot",
                "miners:autoscaling:DeleteAutoScalingGroup",
            ]
        );
        assert_eq!(plan.steps[3].needs, vec![0, 1, 2]);
        assert!(
            plan.steps[1].name.contains("terminates it"),
            "{}",
            plan.steps[1].name
        );
        // The instance is kept, not removed: the plan still counts one target.
        assert_eq!(plan.targets, 1);
    }

    #[test]
    fn without_evidence_drops_the_keep_steps_and_renumbers_what_needs_what() {
        let asg = res(Kind::AutoScalingGroup, "eu-west-1", "g");
        let mut i1 = running(Kind::Instance, "i-1");
        i1.related = vec![r(Kind::AutoScalingGroup, "eu-west-1", "g")];
        i1.protected = true;
        let full = build(&[&asg, &i1], &Protected::default(), &[]);
        assert!(!full.skipped_evidence);
        let bare = full.without_evidence();
        assert!(bare.skipped_evidence && !bare.keeps_evidence());
        assert_eq!(
            calls(&bare),
            [
                "g:autoscaling:DeleteAutoScalingGroup",
                "i-1:ec2:ModifyInstanceAttribute",
                "i-1:ec2:TerminateInstances",
            ]
        );
        assert_eq!(bare.steps[1].needs, vec![0]);
        assert_eq!(bare.steps[2].needs, vec![0, 1]);
        assert_eq!(bare.targets, full.targets);
        assert!(
            bare.label().ends_with("no evidence kept"),
            "{}",
            bare.label()
        );
        assert!(bare.lines()[0].contains("NO EVIDENCE IS KEPT"));
    }

    #[test]
    fn environment_values_are_masked_unless_the_operator_opts_in() {
        let f = res(Kind::Function, "eu-west-1", "miner");
        let plan = build(&[&f], &Protected::default(), &[]);
        assert!(!plan.environment_values());
        let clear = plan.with_environment_values(true);
        assert!(clear.environment_values());
        assert!(clear.lines().iter().any(|l| l.contains("IN CLEAR")));
        assert!(!clear.with_environment_values(false).environment_values());
    }

    #[test]
    fn isolation_keeps_evidence_then_cuts_the_instance_off_and_leaves_it_running() {
        let mut in_group = running(Kind::Instance, "i-1");
        in_group.related = vec![r(Kind::AutoScalingGroup, "eu-west-1", "g")];
        let alone = running(Kind::Instance, "i-2");
        let f = res(Kind::Function, "eu-west-1", "miner");
        let mut gone = running(Kind::Instance, "i-3");
        gone.state = "terminated".into();
        let plan = isolation(&[&in_group, &alone, &f, &gone], &Protected::default());
        assert_eq!(plan.purpose, Purpose::Isolate);
        assert_eq!(plan.targets, 2);
        assert_eq!(
            calls(&plan),
            [
                "i-1:keep ec2:DescribeInstances",
                "i-1:keep ec2:CreateSnapshot",
                "i-2:keep ec2:DescribeInstances",
                "i-2:keep ec2:CreateSnapshot",
                "i-1:autoscaling:DetachInstances",
                "i-1:ec2:ModifyInstanceAttribute",
                "i-1:ec2:DisassociateIamInstanceProfile",
                "i-1:ec2:ModifyInstanceAttribute",
                "i-2:ec2:ModifyInstanceAttribute",
                "i-2:ec2:DisassociateIamInstanceProfile",
                "i-2:ec2:ModifyInstanceAttribute",
            ]
        );
        assert!(plan.steps.iter().all(|s| !s.action.removes_target()));
        // Each isolation step needs its instance's evidence, not the other isolation steps.
        assert_eq!(plan.steps[6].needs, vec![0, 1]);
        assert_eq!(plan.steps[10].needs, vec![2, 3]);
        let mut states = vec![StepState::Done(String::new()); 11];
        states[5] = StepState::Failed("denied".into());
        assert_eq!(ready(&plan, &states, 6), Ok(()));
        let why: Vec<&str> = plan.excluded.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(why, ["isolation is for instances", "already terminated"]);
        assert!(plan.label().starts_with("isolate 2 instances"));
    }

    #[test]
    fn keep_only_changes_nothing_and_says_what_it_cannot_keep() {
        let i = running(Kind::Instance, "i-1");
        let tagged = res(Kind::Tagged, "eu-west-1", "table/x");
        let plan = keep_only(&[&i, &tagged]);
        assert_eq!(plan.purpose, Purpose::KeepOnly);
        assert!(plan.steps.iter().all(|s| s.action.keeps()));
        assert_eq!(plan.targets, 1);
        assert_eq!(
            plan.excluded[0].reason,
            "nothing keyspill can keep of this kind"
        );
        // Evidence cannot be turned off in a plan that only keeps evidence.
        assert_eq!(plan.without_evidence(), plan);
    }
}
