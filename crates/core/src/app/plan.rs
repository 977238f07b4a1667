//! Destructive work as typed plans. A plan becomes an `Effect::Execute` only after every
//! confirmation stage it requires has been typed, and only through the read-only gate in
//! `update`.

use crate::access::{Principal, Trusted};
use crate::domain::{KeyStatus, key_short, key_tail};
use crate::resources::plan::{Purpose, RemovalPlan};

/// A key an action targets, with what was known about it when the dialog opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    pub user: String,
    pub key_id: String,
    pub status: KeyStatus,
    /// The key keyspill itself signs with.
    pub self_key: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    DisableKeys(Vec<KeyRef>),
    EnableKeys(Vec<KeyRef>),
    DeleteKeys(Vec<KeyRef>),
    /// Create a new key for the user, show its secret once, then disable the old key.
    RotateKey(KeyRef),
    /// Deny every request made with temporary credentials issued before `cutoff`, on every
    /// user and role listed (a session chain's principals, revoked in one go). The cut-off is
    /// stamped when the operator confirms.
    RevokeSessions {
        principals: Vec<Principal>,
        cutoff: String,
    },
    /// Delete a user's console password (its login profile).
    DeletePassword {
        user: String,
    },
    /// Replace a role's trust policy with `after`: `before` less the outside principals.
    /// Refused at run time when the policy is no longer `before`.
    Untrust {
        role: String,
        principals: Vec<Trusted>,
        before: String,
        after: String,
    },
    /// Remove resources, step by step in dependency order.
    RemoveResources(crate::resources::plan::RemovalPlan),
    /// `plan`, run in another account of the organisation through the session keyspill
    /// entered it with (`--accounts`). Never nested.
    InAccount {
        /// The account id.
        account: String,
        /// How the room knows it: `444455556666 (workloads)`.
        named: String,
        plan: Box<Plan>,
    },
}

/// One typed confirmation. The operator must type `expected` exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub title: String,
    pub lines: Vec<String>,
    pub expected: String,
    /// A warning stage is drawn in the danger style.
    pub warning: bool,
}

/// The word that confirms acting on the key keyspill runs on.
pub const LOCKOUT_WORD: &str = "LOCKOUT";
/// The word that confirms deleting a key that is still Active.
pub const DELETE_ACTIVE_WORD: &str = "DELETE";
/// The words that confirm a plan that keeps no evidence.
pub const SKIP_EVIDENCE_WORD: &str = "NO EVIDENCE";
/// The inline policy that revokes older sessions (the name the IAM console uses).
pub const REVOKE_POLICY_NAME: &str = "AWSRevokeOlderSessions";

/// How an untrust plan's label names its role (`remove … from the trust of role ops`).
const UNTRUST_LABEL: &str = "from the trust of role ";

/// The role an untrust plan's label names: the journal keeps labels, and a restarted console
/// learns from them when its own change closed a trust.
pub fn untrusted_role(label: &str) -> Option<&str> {
    if !label.starts_with("remove ") {
        return None;
    }
    let (_, role) = label.rsplit_once(UNTRUST_LABEL)?;
    (!role.is_empty() && !role.contains(' ')).then_some(role)
}

impl Plan {
    /// `plan` to run in another account. A plan already bound to an account stays as it is.
    pub fn in_account(account: &str, named: &str, plan: Plan) -> Plan {
        match plan {
            Plan::InAccount { .. } => plan,
            plan => Plan::InAccount {
                account: account.to_string(),
                named: named.to_string(),
                plan: Box::new(plan),
            },
        }
    }

    /// The account it runs in, when not this one, and the plan itself.
    pub fn account(&self) -> (Option<&str>, &Plan) {
        match self {
            Plan::InAccount { account, plan, .. } => (Some(account.as_str()), plan),
            plan => (None, plan),
        }
    }

    /// The plan itself, wherever it runs.
    pub fn inner(&self) -> &Plan {
        self.account().1
    }

    /// `f` applied to the plan itself; a plan bound to another account stays bound to it.
    pub fn map_inner(self, f: impl FnOnce(Plan) -> Plan) -> Plan {
        match self {
            Plan::InAccount {
                account,
                named,
                plan,
            } => Plan::InAccount {
                account,
                named,
                plan: Box::new(f(*plan)),
            },
            plan => f(plan),
        }
    }

    pub fn verb(&self) -> &'static str {
        match self {
            Plan::InAccount { plan, .. } => plan.verb(),
            Plan::DisableKeys(_) => "disable",
            Plan::EnableKeys(_) => "re-enable",
            Plan::DeleteKeys(_) => "delete",
            Plan::RotateKey(_) => "rotate",
            Plan::RevokeSessions { .. } => "revoke sessions",
            Plan::DeletePassword { .. } => "delete the console password",
            Plan::Untrust { .. } => "remove outside principals",
            Plan::RemoveResources(p) => match p.purpose {
                Purpose::Remove => "remove",
                Purpose::Isolate => "isolate",
                Purpose::KeepOnly => "keep evidence",
            },
        }
    }

    pub fn keys(&self) -> &[KeyRef] {
        match self {
            Plan::DisableKeys(k) | Plan::EnableKeys(k) | Plan::DeleteKeys(k) => k,
            Plan::RotateKey(k) => std::slice::from_ref(k),
            Plan::InAccount { plan, .. } => plan.keys(),
            Plan::RevokeSessions { .. }
            | Plan::DeletePassword { .. }
            | Plan::Untrust { .. }
            | Plan::RemoveResources(_) => &[],
        }
    }

    /// A one-line description for the action log and the journal.
    pub fn label(&self) -> String {
        match self {
            Plan::InAccount { named, plan, .. } => format!("in account {named}: {}", plan.label()),
            Plan::RevokeSessions { principals, .. } => format!(
                "revoke sessions of {}",
                principals
                    .iter()
                    .map(Principal::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Plan::DeletePassword { user } => format!("delete the console password of user {user}"),
            Plan::Untrust {
                role, principals, ..
            } => format!(
                "remove {} {UNTRUST_LABEL}{role}",
                principals
                    .iter()
                    .map(Trusted::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Plan::RemoveResources(p) => p.label(),
            Plan::RotateKey(k) => format!("rotate {} ({})", key_short(&k.key_id), k.user),
            _ => {
                let keys = self.keys();
                if let [k] = keys {
                    format!("{} {} ({})", self.verb(), key_short(&k.key_id), k.user)
                } else {
                    format!("{} {} keys", self.verb(), keys.len())
                }
            }
        }
    }

    /// What the operator types to confirm: a key's last four characters, the number of keys
    /// for a multi-key action, or the user name for a user-wide action.
    pub fn confirmation_text(&self) -> String {
        match self {
            Plan::InAccount { plan, .. } => plan.confirmation_text(),
            Plan::RevokeSessions { principals, .. } => match principals.as_slice() {
                [one] => one.name().to_string(),
                many => many.len().to_string(),
            },
            Plan::DeletePassword { user } => user.clone(),
            Plan::Untrust { role, .. } => role.clone(),
            Plan::RemoveResources(p) => p.confirmation_text(),
            _ => match self.keys() {
                [k] => key_tail(&k.key_id).to_string(),
                keys => keys.len().to_string(),
            },
        }
    }

    fn consequence(&self) -> Vec<String> {
        match self {
            Plan::InAccount { plan, .. } => plan.consequence(),
            Plan::DisableKeys(_) => vec![
                "The key stops working for every caller at once; it can be re-enabled.".into(),
                "Sessions it already minted keep working: revoke them with x.".into(),
            ],
            Plan::EnableKeys(_) => {
                vec!["The key works again for anyone who holds its secret.".into()]
            }
            Plan::DeleteKeys(_) => vec![
                "Deletion cannot be undone. The key id stays searchable in CloudTrail and in \
                 this incident's journal."
                    .into(),
            ],
            Plan::RotateKey(k) => vec![
                format!("Creates a new key for {}, shows its secret once,", k.user),
                format!("then disables {}.", key_short(&k.key_id)),
                "Whatever uses the old key must be given the new one.".into(),
            ],
            Plan::RevokeSessions { principals, .. } => vec![
                format!(
                    "Attaches the inline policy {REVOKE_POLICY_NAME} to {}:",
                    if principals.len() == 1 {
                        "it"
                    } else {
                        "each of them"
                    }
                ),
                "deny everything to temporary credentials issued before the moment you confirm."
                    .into(),
                "Long-term keys are not affected: disable them too.".into(),
                "Legitimate sessions of these principals must sign in again.".into(),
            ],
            Plan::DeletePassword { user } => vec![
                format!("User {user} can no longer sign in to the AWS console."),
                "Console sessions already open are not ended: revoke sessions too.".into(),
            ],
            Plan::Untrust { before, after, .. } => {
                let mut lines = vec!["Trust policy now:".to_string()];
                lines.extend(before.lines().map(|l| format!("    {l}")));
                lines.push("Trust policy after:".into());
                lines.extend(after.lines().map(|l| format!("    {l}")));
                lines.push(String::new());
                lines.push(
                    "Sessions already assumed through them keep working until revoked.".into(),
                );
                lines.push(
                    "If the policy changed since this dialog opened, nothing is written.".into(),
                );
                lines
            }
            Plan::RemoveResources(p) => removal_consequence(p),
        }
    }

    /// The confirmation stages this plan needs, in order.
    pub fn stages(&self) -> Vec<Stage> {
        if let Plan::InAccount { named, plan, .. } = self {
            let mut stages = plan.stages();
            for (n, stage) in stages.iter_mut().enumerate() {
                if n == 0 {
                    stage.title = format!("{} — confirm", capitalise(&self.label()));
                    stage.lines.insert(0, String::new());
                    // `x` revokes this account's sessions: there, each session's own `d`.
                    for line in stage.lines.iter_mut() {
                        if line.ends_with("revoke them with x.") {
                            *line = line.replace(
                                "revoke them with x.",
                                "revoke each there (d on its row).",
                            );
                        }
                    }
                    stage.lines.insert(
                        0,
                        format!("Runs in account {named}, as the role keyspill entered it with."),
                    );
                } else {
                    stage.title = format!("{} (account {named})", stage.title);
                }
            }
            return stages;
        }
        let mut lines = Vec::new();
        for k in self.keys() {
            lines.push(format!(
                "  {}  {}  user {}{}",
                k.key_id,
                k.status,
                k.user,
                if k.self_key {
                    "  (keyspill's own key)"
                } else {
                    ""
                }
            ));
        }
        match self {
            Plan::RevokeSessions { principals, .. } => {
                lines.extend(principals.iter().map(|p| format!("  {p}")));
            }
            Plan::DeletePassword { user } => lines.push(format!("  user {user}")),
            Plan::Untrust {
                role, principals, ..
            } => {
                lines.push(format!("  role {role}"));
                lines.extend(principals.iter().map(|p| format!("  remove {p}")));
            }
            _ => {}
        }
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend(self.consequence());
        let mut stages = vec![Stage {
            title: format!("{} — confirm", capitalise(&self.label())),
            lines,
            expected: self.confirmation_text(),
            warning: false,
        }];

        if let Plan::DeleteKeys(keys) = self {
            let active: Vec<&KeyRef> = keys
                .iter()
                .filter(|k| k.status == KeyStatus::Active)
                .collect();
            if !active.is_empty() {
                let mut lines = vec![format!(
                    "{} of these keys {} still ACTIVE:",
                    active.len(),
                    if active.len() == 1 { "is" } else { "are" }
                )];
                lines.extend(
                    active
                        .iter()
                        .map(|k| format!("  {}  user {}", k.key_id, k.user)),
                );
                lines.push(String::new());
                lines.push(
                    "Deleting an active key breaks whatever uses it, with no way back.".into(),
                );
                lines.push("The usual order is: disable, watch for breakage, then delete.".into());
                stages.push(Stage {
                    title: "Warning: deleting ACTIVE keys".into(),
                    lines,
                    expected: DELETE_ACTIVE_WORD.into(),
                    warning: true,
                });
            }
        }

        if let Plan::RemoveResources(p) = self
            && p.skipped_evidence
        {
            stages.push(Stage {
                title: "Warning: no evidence is kept".into(),
                lines: vec![
                    "You chose to keep no evidence for this plan (Tab brings it back).".into(),
                    "Nothing is snapshotted or saved first: the volumes, the code packages, the \
                     policy documents and the definitions of what is removed are lost for good."
                        .into(),
                    "The choice is written to the journal and the report.".into(),
                ],
                expected: SKIP_EVIDENCE_WORD.into(),
                warning: true,
            });
        }

        let locks_out = matches!(
            self,
            Plan::DisableKeys(_) | Plan::DeleteKeys(_) | Plan::RotateKey(_)
        ) && self.keys().iter().any(|k| k.self_key);
        if locks_out {
            stages.push(Stage {
                title: "Warning: this is keyspill's own key".into(),
                lines: vec![
                    "keyspill signs every request with this key.".into(),
                    "After this step keyspill loses access to the account and cannot".into(),
                    "verify, undo or continue anything from this session.".into(),
                ],
                expected: LOCKOUT_WORD.into(),
                warning: true,
            });
        }
        stages
    }

    /// The IAM policy document for `RevokeSessions`.
    pub fn revoke_policy_document(cutoff: &str) -> String {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Deny",
                "Action": ["*"],
                "Resource": ["*"],
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": cutoff}}
            }]
        })
        .to_string()
    }
}

/// What a removal, isolation or keep-only plan does, its choices and how to confirm it.
fn removal_consequence(p: &RemovalPlan) -> Vec<String> {
    let mut lines = vec!["Steps, in the order they run:".to_string()];
    lines.extend(p.lines());
    lines.push(String::new());
    match p.purpose {
        Purpose::Remove => lines.push(
            "Evidence is kept first; a step whose prerequisite fails is not attempted. \
             Terminated and deleted resources cannot be brought back."
                .into(),
        ),
        Purpose::Isolate => {
            lines.push(
                "The instances keep running, off the network: the isolation group allows \
                 nothing in or out."
                    .into(),
            );
            lines.push(
                "Memory is not captured. Connections already open may survive (security \
                 groups track them): a network ACL cuts them."
                    .into(),
            );
        }
        Purpose::KeepOnly => {
            lines.push("Nothing is changed: snapshots are taken and files saved.".into())
        }
    }
    if p.purpose != Purpose::KeepOnly {
        lines.push(if p.skipped_evidence {
            "Tab: keep evidence again (it is OFF for this plan).".into()
        } else {
            "Tab: keep no evidence (asks again).".into()
        });
    }
    if p.has_function_keep() {
        lines.push(if p.environment_values() {
            "Ctrl-E: mask Lambda environment values (now saved IN CLEAR).".into()
        } else {
            "Ctrl-E: save Lambda environment values in clear (now masked).".into()
        });
    }
    let what = if p.purpose == Purpose::Isolate {
        "instances"
    } else {
        "resources"
    };
    lines.push(format!(
        "Type the number of {what} ({}) to go ahead.",
        p.targets
    ));
    lines
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, status: KeyStatus, self_key: bool) -> KeyRef {
        KeyRef {
            user: "alice".into(),
            key_id: id.into(),
            status,
            self_key,
        }
    }

    #[test]
    fn single_key_confirms_with_its_last_four() {
        let p = Plan::DisableKeys(vec![key("AKIAAAAAAAAAAAAA1234", KeyStatus::Active, false)]);
        let stages = p.stages();
        assert_eq!(stages.len(), 1);
        assert_eq!(stages[0].expected, "1234");
    }

    #[test]
    fn several_keys_confirm_with_their_count() {
        let p = Plan::EnableKeys(vec![
            key("AKIAAAAAAAAAAAAA1234", KeyStatus::Inactive, false),
            key("AKIAAAAAAAAAAAAA5678", KeyStatus::Inactive, false),
            key("AKIAAAAAAAAAAAAA9999", KeyStatus::Inactive, false),
        ]);
        assert_eq!(p.stages()[0].expected, "3");
    }

    #[test]
    fn deleting_an_active_key_needs_a_second_warning() {
        let p = Plan::DeleteKeys(vec![key("AKIAAAAAAAAAAAAA1234", KeyStatus::Active, false)]);
        let stages = p.stages();
        assert_eq!(stages.len(), 2);
        assert_eq!(stages[1].expected, DELETE_ACTIVE_WORD);
        assert!(stages[1].warning);
        let inactive = Plan::DeleteKeys(vec![key(
            "AKIAAAAAAAAAAAAA1234",
            KeyStatus::Inactive,
            false,
        )]);
        assert_eq!(inactive.stages().len(), 1);
    }

    #[test]
    fn acting_on_the_own_key_needs_the_lockout_word() {
        let p = Plan::DisableKeys(vec![key("AKIAAAAAAAAAAAAA1234", KeyStatus::Active, true)]);
        let stages = p.stages();
        assert_eq!(
            stages.last().map(|s| s.expected.as_str()),
            Some(LOCKOUT_WORD)
        );
        let enable = Plan::EnableKeys(vec![key("AKIAAAAAAAAAAAAA1234", KeyStatus::Inactive, true)]);
        assert_eq!(enable.stages().len(), 1);
    }

    #[test]
    fn a_plan_for_another_account_names_it_confirms_as_its_own_and_never_nests() {
        let inner = Plan::DisableKeys(vec![key("AKIA2WORKLOADSNEW002", KeyStatus::Active, false)]);
        let there = Plan::in_account("444455556666", "444455556666 (workloads)", inner.clone());
        assert_eq!(
            there.label(),
            format!("in account 444455556666 (workloads): {}", inner.label())
        );
        assert_eq!(there.confirmation_text(), "W002");
        assert_eq!(there.account(), (Some("444455556666"), &inner));
        assert_eq!(inner.account(), (None, &inner));
        // Bound once: binding again keeps the first account.
        let again = Plan::in_account("777788889999", "777788889999", there.clone());
        assert_eq!(again, there);
        // Its warnings are the plan's own, named with the account.
        let delete = Plan::in_account(
            "444455556666",
            "444455556666 (workloads)",
            Plan::DeleteKeys(vec![key("AKIA2WORKLOADSNEW002", KeyStatus::Active, false)]),
        );
        let stages = delete.stages();
        assert_eq!(stages.len(), 2);
        assert_eq!(stages[1].expected, DELETE_ACTIVE_WORD);
        assert!(
            stages[1]
                .title
                .ends_with("(account 444455556666 (workloads))"),
            "{}",
            stages[1].title
        );
    }

    #[test]
    fn revoke_policy_denies_older_tokens() {
        let doc = Plan::revoke_policy_document("2026-11-22T10:00:00Z");
        let v: serde_json::Value = serde_json::from_str(&doc).expect("valid json");
        assert_eq!(v["Statement"][0]["Effect"], "Deny");
        assert_eq!(
            v["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"],
            "2026-11-22T10:00:00Z"
        );
    }
}
