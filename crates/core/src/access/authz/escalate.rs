//! Escalation: the known combinations of permissions that turn a limited principal into a
//! stronger one, and the roles it can assume (two hops). The methods are the published IAM
//! privilege-escalation paths (Rhino Security Labs' list, as Pacu's `iam__privesc_scan` and
//! PMapper check them), plus running code on the account's instances.

use super::eval::{Bound, Res, action_matches, conditions};
use super::parse::{Effect, Principals};
use super::{Authz, Context, Entity, SessionKind, Subject, Verdict, Who, Word};
use crate::access::authz::cond::Tri;

/// How many targets a path names before "and N more".
pub const TARGETS_SHOWN: usize = 5;
/// How many first-hop roles are followed to a second hop.
const SECOND_HOPS_FROM: usize = 50;

/// One way up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// What the attacker would do, in words.
    pub method: &'static str,
    /// The permissions it takes, each with its verdict (the weakest decides the path).
    pub needs: Vec<(String, Word)>,
    /// Whom it reaches: administrators first.
    pub targets: Vec<Target>,
    /// Targets not named.
    pub more: usize,
    pub word: Word,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `user ops-admin`, `role deploy-role`, `itself`.
    pub name: String,
    /// Whether it can do everything the grid's IAM writes name (an administrator in effect).
    pub admin: bool,
    /// The principal, while whether it is an administrator is not asked yet.
    who: Option<Who>,
}

/// A role it can assume, directly or through another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub role: String,
    /// The role assumed first, for a second hop.
    pub via: Option<String>,
    pub word: Word,
    pub admin: bool,
}

/// Everything a principal can reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    pub paths: Vec<Path>,
    pub assumable: Vec<Hop>,
}

/// The actions that make a principal an administrator in effect.
const ADMIN_PROBE: &[&str] = &[
    "iam:CreateAccessKey",
    "iam:AttachUserPolicy",
    "iam:PutRolePolicy",
    "iam:PassRole",
    "iam:UpdateAssumeRolePolicy",
];

/// Whether the principal is allowed every action of the probe, for sure.
pub fn is_admin(authz: &Authz, who: &Who, ctx: &Context) -> bool {
    authz.bind(who).is_some_and(|b| {
        ADMIN_PROBE
            .iter()
            .all(|a| b.evaluate(a, Res::Any, ctx).word() == Word::Allowed)
    })
}

/// Can `b` (acting with `ctx`) assume `role`? Same account: a trust policy that names the
/// principal is enough; one that names the account (or anyone) needs the principal's own
/// policies to allow `sts:AssumeRole` on the role. An explicit deny in either wins.
pub fn can_assume(b: &Bound<'_>, ctx: &Context, role: &Entity) -> Word {
    if ctx.kind == SessionKind::Federation || role.arn.contains(":role/aws-service-role/") {
        return Word::Denied;
    }
    let Some(trust) = &role.trust else {
        return Word::Denied;
    };
    if trust.error.is_some() {
        return Word::Conditional;
    }
    let me = b.arn();
    let account = me.split(':').nth(4).unwrap_or_default();
    let root = format!("arn:aws:iam::{account}:root");
    let look = |k: &str| b.lookup(k, ctx);
    let mut named = Word::Denied;
    let mut by_account = Word::Denied;
    for s in &trust.statements {
        if !action_matches(s, "sts:assumerole") {
            continue;
        }
        let hit = match &s.principals {
            Some(Principals::Is(ps)) => ps
                .iter()
                .filter(|(k, _)| k == "AWS" || k == "*")
                .map(|(_, v)| names(v, me, account, &root))
                .max()
                .unwrap_or(Named::No),
            Some(Principals::Not(_)) => Named::Unsure,
            None => Named::No,
        };
        if hit == Named::No {
            continue;
        }
        let tri = conditions(s, &look);
        let word = match (&tri, hit) {
            (Tri::False, _) => continue,
            (Tri::Unknown(_), _) | (_, Named::Unsure) => Word::Conditional,
            (Tri::True, _) => Word::Allowed,
        };
        match s.effect {
            Effect::Deny if word == Word::Allowed => return Word::Denied,
            Effect::Deny => {
                named = named.min(Word::Conditional);
                by_account = by_account.min(Word::Conditional);
            }
            Effect::Allow if hit == Named::Me => named = named.max(word),
            Effect::Allow => by_account = by_account.max(word),
        }
    }
    if named == Word::Denied && by_account == Word::Denied {
        // The trust names neither the principal nor its account: nothing to evaluate.
        return Word::Denied;
    }
    let own = b.evaluate("sts:AssumeRole", Res::Arn(&role.arn), ctx);
    if let Verdict::Denied { by: Some(_), .. } = own {
        return Word::Denied;
    }
    let through_account = by_account.min(own.word());
    named.max(through_account)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Named {
    No,
    /// The account, or anyone: the principal's own policies must allow too.
    Account,
    /// A `NotPrincipal`, or a pattern: cannot tell.
    Unsure,
    /// This principal, by ARN.
    Me,
}

fn names(value: &str, me: &str, account: &str, root: &str) -> Named {
    if value == me {
        Named::Me
    } else if value == "*" || value == account || value == root {
        Named::Account
    } else {
        Named::No
    }
}

/// Whether an `Allow` of the role's trust policy names this principal (`Service`,
/// `Federated`, `AWS`) by value.
pub fn trusts(role: &Entity, kind: &str, value: &str) -> bool {
    role.trust.as_ref().is_some_and(|t| {
        t.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && matches!(&s.principals, Some(Principals::Is(ps))
                    if ps.iter().any(|(k, v)| k == kind && v == value))
        })
    })
}

/// The paths and hops open to `subject`.
pub fn reach(authz: &Authz, subject: &Subject) -> Reach {
    let Some(b) = authz.bind(&subject.who) else {
        return Reach::default();
    };
    let ctx = &subject.ctx;
    let fresh = Context::session(ctx.now, SessionKind::AssumedRole, ctx.now);
    let any = |a: &str| b.evaluate(a, Res::Any, ctx).word();
    let on = |a: &str, arn: &str| b.evaluate(a, Res::Arn(arn), ctx).word();
    // Whether a principal is an administrator, asked once each: a path may name thousands.
    let admins: std::cell::RefCell<std::collections::HashMap<Who, bool>> = Default::default();
    let admin = |who: Who, c: &Context| -> bool {
        if let Some(a) = admins.borrow().get(&who) {
            return *a;
        }
        let a = is_admin(authz, &who, c);
        admins.borrow_mut().insert(who, a);
        a
    };
    let long_term = Context::long_term(ctx.now);
    let admin_user = |n: &str| admin(Who::User(n.to_string()), &long_term);
    let admin_role = |n: &str| admin(Who::Role(n.to_string()), &fresh);
    let mut paths: Vec<Path> = Vec::new();
    let me = b.entity();
    let self_name = match &subject.who {
        Who::User(n) | Who::Role(n) => n.clone(),
    };

    // Its own policies: a new version of one, another version made default.
    for arn in held_policies(authz, me) {
        let Some(m) = authz.policies.get(arn) else {
            continue;
        };
        if arn.split(':').nth(4) == Some("aws") {
            continue;
        }
        push(
            &mut paths,
            "CreatePolicyVersion on a policy it holds: write any permission into it",
            vec![(
                "iam:CreatePolicyVersion".into(),
                on("iam:CreatePolicyVersion", arn),
            )],
            vec![Target {
                name: format!("itself, through {}", m.name),
                admin: true,
                who: None,
            }],
        );
        if m.other_versions > 0 {
            push(
                &mut paths,
                "SetDefaultPolicyVersion on a policy it holds: switch to another version",
                vec![(
                    "iam:SetDefaultPolicyVersion".into(),
                    on("iam:SetDefaultPolicyVersion", arn),
                )],
                vec![Target {
                    name: format!("itself, through {}", m.name),
                    admin: false,
                    who: None,
                }],
            );
        }
    }
    // Writing its own policies.
    let own: &[(&str, &str)] = match &subject.who {
        Who::User(_) => &[
            ("iam:AttachUserPolicy", "AttachUserPolicy on itself"),
            ("iam:PutUserPolicy", "PutUserPolicy on itself"),
        ],
        Who::Role(_) => &[
            ("iam:AttachRolePolicy", "AttachRolePolicy on its own role"),
            ("iam:PutRolePolicy", "PutRolePolicy on its own role"),
        ],
    };
    for (action, method) in own {
        push(
            &mut paths,
            method,
            vec![((*action).into(), on(action, &me.arn))],
            vec![Target {
                name: "itself: any policy".into(),
                admin: true,
                who: None,
            }],
        );
    }
    if let Who::User(_) = &subject.who {
        for g in &me.groups {
            let Some(ge) = authz.groups.get(g) else {
                continue;
            };
            for (action, method) in [
                ("iam:AttachGroupPolicy", "AttachGroupPolicy on its group"),
                ("iam:PutGroupPolicy", "PutGroupPolicy on its group"),
            ] {
                push(
                    &mut paths,
                    method,
                    vec![(action.into(), on(action, &ge.arn))],
                    vec![Target {
                        name: format!("itself, through group {g}"),
                        admin: true,
                        who: None,
                    }],
                );
            }
        }
        // Joining another group.
        let mut targets = Vec::new();
        let mut word = Word::Denied;
        for (g, ge) in &authz.groups {
            if me.groups.contains(g) {
                continue;
            }
            let w = on("iam:AddUserToGroup", &ge.arn);
            if w != Word::Denied {
                word = word.max(w);
                targets.push(Target {
                    name: format!("group {g}"),
                    admin: group_is_admin(authz, g, ctx),
                    who: None,
                });
            }
        }
        push(
            &mut paths,
            "AddUserToGroup: join a stronger group",
            vec![("iam:AddUserToGroup".into(), word)],
            targets,
        );
    }

    // Other users' credentials.
    for (actions, method) in [
        (
            &["iam:CreateAccessKey"][..],
            "CreateAccessKey on another user",
        ),
        (
            &["iam:CreateLoginProfile", "iam:UpdateLoginProfile"][..],
            "Create or UpdateLoginProfile on another user: its console",
        ),
    ] {
        let mut targets = Vec::new();
        let mut word = Word::Denied;
        for (u, ue) in &authz.users {
            if matches!(&subject.who, Who::User(n) if n == u) {
                continue;
            }
            let w = actions
                .iter()
                .map(|a| on(a, &ue.arn))
                .max()
                .unwrap_or(Word::Denied);
            if w != Word::Denied {
                word = word.max(w);
                targets.push(Target {
                    name: format!("user {u}"),
                    admin: false,
                    who: Some(Who::User(u.clone())),
                });
            }
        }
        push(
            &mut paths,
            method,
            vec![(actions.join(" or "), word)],
            targets,
        );
    }

    // Roles: rewriting a trust policy, and passing a role to a service that runs code.
    let assume_any = any("sts:AssumeRole");
    let mut rewrite = Vec::new();
    let mut rewrite_word = Word::Denied;
    for (r, re) in &authz.roles {
        if re.arn.contains(":role/aws-service-role/") {
            continue;
        }
        let w = on("iam:UpdateAssumeRolePolicy", &re.arn);
        if w != Word::Denied {
            rewrite_word = rewrite_word.max(w);
            rewrite.push(Target {
                name: format!("role {r}"),
                admin: false,
                who: Some(Who::Role(r.clone())),
            });
        }
    }
    push(
        &mut paths,
        "UpdateAssumeRolePolicy on a role, then AssumeRole",
        vec![
            ("iam:UpdateAssumeRolePolicy".into(), rewrite_word),
            ("sts:AssumeRole".into(), assume_any),
        ],
        rewrite,
    );
    let services: &[(&str, &[&str], &str)] = &[
        (
            "ec2.amazonaws.com",
            &["ec2:RunInstances"],
            "PassRole to EC2: run an instance as the role",
        ),
        (
            "lambda.amazonaws.com",
            &["lambda:CreateFunction", "lambda:InvokeFunction"],
            "PassRole to Lambda: create and invoke a function as the role",
        ),
        (
            "cloudformation.amazonaws.com",
            &["cloudformation:CreateStack"],
            "PassRole to CloudFormation: a stack creates anything as the role",
        ),
        (
            "glue.amazonaws.com",
            &["glue:CreateDevEndpoint"],
            "PassRole to Glue: a dev endpoint runs as the role",
        ),
    ];
    for (service, actions, method) in services {
        let mut needs: Vec<(String, Word)> =
            actions.iter().map(|a| ((*a).to_string(), any(a))).collect();
        let passing = Context {
            passed_to: Some((*service).to_string()),
            ..ctx.clone()
        };
        let mut targets = Vec::new();
        let mut word = Word::Denied;
        for (r, re) in &authz.roles {
            if !trusts(re, "Service", service)
                || (*service == "ec2.amazonaws.com" && !re.instance_profile)
            {
                continue;
            }
            let w = b
                .evaluate("iam:PassRole", Res::Arn(&re.arn), &passing)
                .word();
            if w != Word::Denied {
                word = word.max(w);
                targets.push(Target {
                    name: format!("role {r}"),
                    admin: false,
                    who: Some(Who::Role(r.clone())),
                });
            }
        }
        needs.push(("iam:PassRole".into(), word));
        push(&mut paths, method, needs, targets);
    }
    // Code already running as a role.
    let instance_roles: Vec<Target> = authz
        .roles
        .iter()
        .filter(|(_, e)| e.instance_profile)
        .map(|(r, _)| Target {
            name: format!("role {r}"),
            admin: false,
            who: Some(Who::Role(r.clone())),
        })
        .collect();
    push(
        &mut paths,
        "SendCommand to the account's instances: their roles' credentials",
        vec![("ssm:SendCommand".into(), any("ssm:SendCommand"))],
        instance_roles,
    );
    push(
        &mut paths,
        "UpdateFunctionCode on an existing function: runs as its role",
        vec![(
            "lambda:UpdateFunctionCode".into(),
            any("lambda:UpdateFunctionCode"),
        )],
        vec![Target {
            name: "the roles of existing functions".into(),
            admin: false,
            who: None,
        }],
    );

    // Roles it can assume, and the roles those can.
    let mut assumable: Vec<Hop> = Vec::new();
    for (r, re) in &authz.roles {
        if matches!(&subject.who, Who::Role(n) if n == r) {
            continue;
        }
        let w = can_assume(&b, ctx, re);
        if w != Word::Denied {
            assumable.push(Hop {
                role: r.clone(),
                via: None,
                word: w,
                admin: admin_role(r),
            });
        }
    }
    let first: Vec<(String, Word)> = assumable
        .iter()
        .take(SECOND_HOPS_FROM)
        .map(|h| (h.role.clone(), h.word))
        .collect();
    let mut reached: std::collections::HashSet<String> =
        assumable.iter().map(|h| h.role.clone()).collect();
    for (r1, w1) in first {
        let Some(b1) = authz.bind(&Who::Role(r1.clone())) else {
            continue;
        };
        for (r, re) in &authz.roles {
            if r == &r1 || *r == self_name || reached.contains(r) {
                continue;
            }
            let w = can_assume(&b1, &fresh, re).min(w1);
            if w != Word::Denied {
                reached.insert(r.clone());
                assumable.push(Hop {
                    role: r.clone(),
                    via: Some(r1.clone()),
                    word: w,
                    admin: admin_role(r),
                });
            }
        }
    }
    assumable.sort_by(|a, b| {
        b.admin
            .cmp(&a.admin)
            .then(b.word.cmp(&a.word))
            .then(a.via.is_some().cmp(&b.via.is_some()))
            .then_with(|| a.role.cmp(&b.role))
    });
    // Administrators first among each path's targets: asked one by one only until enough are
    // found to fill what is shown (a path may reach thousands of users or roles).
    for p in &mut paths {
        let mut found = 0usize;
        for t in &mut p.targets {
            if found >= TARGETS_SHOWN {
                break;
            }
            if let Some(who) = t.who.take() {
                t.admin = match &who {
                    Who::User(n) => admin_user(n),
                    Who::Role(n) => admin_role(n),
                };
            }
            found += usize::from(t.admin);
        }
        p.targets.sort_by_key(|t| !t.admin);
        p.more = p.targets.len().saturating_sub(TARGETS_SHOWN);
        p.targets.truncate(TARGETS_SHOWN);
        for t in &mut p.targets {
            t.who = None;
        }
    }
    paths.sort_by(|a, b| {
        let admin = |p: &Path| p.targets.iter().any(|t| t.admin);
        admin(b).cmp(&admin(a)).then(b.word.cmp(&a.word))
    });
    Reach { paths, assumable }
}

/// The managed policies a principal holds: its own and its groups'.
fn held_policies<'a>(authz: &'a Authz, me: &'a Entity) -> Vec<&'a String> {
    let mut out: Vec<&String> = me.attached.iter().collect();
    for g in &me.groups {
        if let Some(ge) = authz.groups.get(g) {
            out.extend(ge.attached.iter());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A group's own policies make an administrator (a member gets at least those).
fn group_is_admin(authz: &Authz, group: &str, ctx: &Context) -> bool {
    let Some(ge) = authz.groups.get(group) else {
        return false;
    };
    // Evaluate the group's policies as a user holding only them.
    let probe = Authz {
        users: [(
            String::new(),
            Entity {
                arn: String::new(),
                groups: vec![group.to_string()],
                ..Default::default()
            },
        )]
        .into(),
        groups: [(group.to_string(), ge.clone())].into(),
        roles: Default::default(),
        policies: ge
            .attached
            .iter()
            .filter_map(|a| authz.policies.get(a).map(|m| (a.clone(), m.clone())))
            .collect(),
        unread: Default::default(),
    };
    is_admin(
        &probe,
        &Who::User(String::new()),
        &Context::long_term(ctx.now),
    )
}

/// Adds a path when every permission it needs is possible; its word is the weakest.
fn push(
    paths: &mut Vec<Path>,
    method: &'static str,
    needs: Vec<(String, Word)>,
    mut targets: Vec<Target>,
) {
    let word = needs.iter().map(|(_, w)| *w).min().unwrap_or(Word::Denied);
    if word == Word::Denied || targets.is_empty() {
        return;
    }
    targets.sort_by(|a, b| a.name.cmp(&b.name));
    paths.push(Path {
        method,
        needs,
        targets,
        more: 0,
        word,
    });
}
