//! Who made each resource: linked to the timeline's CloudTrail events by id, ARN or name, and
//! sorted into made by the leaked key, created after the leak, touched by it, or there before.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::domain::Timestamp;
use crate::resources::model::{Kind, Resource, ResourceRef};
use crate::timeline::Event;

/// The verdict shown in the tab's first column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Created by a tracked key or credentials it minted (a CloudTrail event says so).
    LeakedKey,
    /// Created after the leak started; who made it is not known.
    AfterLeak,
    /// There before the leak (or of unknown age), but changed by a tracked key.
    Touched,
    Before,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::LeakedKey => "LEAKED KEY",
            Verdict::AfterLeak => "AFTER LEAK",
            Verdict::Touched => "TOUCHED",
            Verdict::Before => "BEFORE",
        }
    }

    /// Shown by default (`v` shows everything).
    pub fn suspicious(self) -> bool {
        self != Verdict::Before
    }
}

/// One event that names a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLink {
    pub event_id: String,
    pub time: Timestamp,
    pub name: String,
    pub key: String,
    /// The event created the resource.
    pub creates: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    pub verdict: Verdict,
    /// Newest first.
    pub events: Vec<EventLink>,
    /// Made by something the leaked key made: an instance of the attacker's Auto Scaling
    /// group, spot request or fleet.
    pub launched_by: Option<ResourceRef>,
}

/// Calls whose success brings a resource into being. Calls that add something to an existing
/// resource (tags, a password, a key, a policy version) name it without making it.
fn is_creation(name: &str) -> bool {
    const PREFIXES: [&str; 8] = [
        "Create", "Run", "Request", "Import", "Register", "Copy", "Allocate", "Upload",
    ];
    const ADDS_TO: [&str; 4] = [
        "CreateTags",
        "CreateLoginProfile",
        "CreateAccessKey",
        "CreatePolicyVersion",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) && !ADDS_TO.iter().any(|a| name.starts_with(a))
}

/// Every string value under `v`: a creation call names the new resource in its request or
/// response, a later call in its request.
fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Names too generic to link by: they would tie unrelated events to a resource.
fn linkable(kind: Kind, ident: &str) -> bool {
    ident.len() >= 3 && !(kind == Kind::SecurityGroup && ident == "default")
}

/// Links resources to `events` and gives each a verdict. `since` is the leak start when known;
/// `tracked` the keys whose events count as the attacker's. Only calls that change something
/// are read (read-only calls neither make nor change a resource), which keeps this quick on a
/// large timeline.
pub fn attribute<'e>(
    resources: &[Resource],
    events: impl IntoIterator<Item = &'e Event>,
    since: Option<Timestamp>,
    tracked: &BTreeSet<String>,
) -> Vec<Attribution> {
    let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in resources.iter().enumerate() {
        for ident in r.identifiers() {
            if linkable(r.kind, ident) {
                index.entry(ident).or_default().push(i);
            }
        }
    }
    let mut links: Vec<Vec<EventLink>> = vec![Vec::new(); resources.len()];
    for e in events {
        if e.read_only == Some(true) || e.failed() {
            continue;
        }
        if !tracked.is_empty() && !tracked.contains(&*e.access_key_id) {
            continue;
        }
        let Ok(record) = serde_json::from_str::<Value>(&e.raw) else {
            continue;
        };
        let mut found = Vec::new();
        for part in ["requestParameters", "responseElements"] {
            if let Some(v) = record.get(part) {
                strings(v, &mut found);
            }
        }
        let mut hit: BTreeSet<usize> = BTreeSet::new();
        for s in found {
            if let Some(rs) = index.get(s) {
                hit.extend(rs.iter().copied());
            }
        }
        for i in hit {
            let creates =
                is_creation(&e.name) && resources.get(i).is_none_or(|r| r.kind.created_by(&e.name));
            links[i].push(EventLink {
                event_id: e.id.to_string(),
                time: e.time,
                name: e.name.to_string(),
                key: e.access_key_id.to_string(),
                creates,
            });
        }
    }
    let mut out: Vec<Attribution> = resources
        .iter()
        .zip(links)
        .map(|(r, mut events)| {
            events.sort_by(|a, b| {
                b.time
                    .cmp(&a.time)
                    .then_with(|| a.event_id.cmp(&b.event_id))
            });
            events.dedup_by(|a, b| a.event_id == b.event_id);
            let verdict = if events.iter().any(|l| l.creates) {
                Verdict::LeakedKey
            } else if let (Some(c), Some(s)) = (r.created, since)
                && c >= s
            {
                Verdict::AfterLeak
            } else if !events.is_empty() {
                Verdict::Touched
            } else {
                Verdict::Before
            };
            Attribution {
                verdict,
                events,
                launched_by: None,
            }
        })
        .collect();
    inherit_from_launchers(resources, &mut out);
    out
}

fn inherit_from_launchers(resources: &[Resource], out: &mut [Attribution]) {
    let attacker: BTreeSet<ResourceRef> = resources
        .iter()
        .zip(out.iter())
        .filter(|(r, a)| r.kind.launches_instances() && a.verdict == Verdict::LeakedKey)
        .map(|(r, _)| r.reference())
        .collect();
    if attacker.is_empty() {
        return;
    }
    for (r, a) in resources.iter().zip(out.iter_mut()) {
        if r.kind != Kind::Instance || a.verdict == Verdict::LeakedKey {
            continue;
        }
        // The instance names its launcher, or the launcher names the instance.
        let launcher = r
            .related
            .iter()
            .find(|x| attacker.contains(x))
            .cloned()
            .or_else(|| {
                resources
                    .iter()
                    .filter(|l| attacker.contains(&l.reference()))
                    .find(|l| l.related.contains(&r.reference()))
                    .map(Resource::reference)
            });
        if let Some(l) = launcher {
            a.verdict = Verdict::LeakedKey;
            a.launched_by = Some(l);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::timeline::Origin;
    use crate::timeline::risk::fixtures::event;
    use time::macros::datetime;

    const KEY: &str = "AKIAAAAAAAAAAAAAAAAA";

    fn call(name: &str, at: Timestamp, raw: serde_json::Value) -> Event {
        let mut e = event(name, "ec2.amazonaws.com");
        e.id = format!("ev-{name}-{}", at.unix_timestamp()).into();
        e.time = at;
        e.read_only = Some(false);
        e.raw = Arc::from(raw.to_string());
        e.origin = Origin::File { path: "t".into() };
        e
    }

    fn tracked() -> BTreeSet<String> {
        [KEY.to_string()].into()
    }

    #[test]
    fn verdicts() {
        let since = datetime!(2026-11-20 00:00 UTC);
        let mut made = Resource::new(Kind::Instance, "eu-north-1", "i-0abc");
        made.created = Some(datetime!(2026-11-21 00:00 UTC));
        let mut later = Resource::new(Kind::Instance, "eu-north-1", "i-0def");
        later.created = Some(datetime!(2026-11-21 01:00 UTC));
        let mut old_sg = Resource::new(Kind::SecurityGroup, "eu-north-1", "sg-0123");
        old_sg.name = "web".into();
        let mut old = Resource::new(Kind::Instance, "eu-north-1", "i-0old");
        old.created = Some(datetime!(2025-01-01 00:00 UTC));
        let resources = vec![made, later, old_sg, old];
        let events = [
            call(
                "RunInstances",
                datetime!(2026-11-21 00:00 UTC),
                serde_json::json!({
                    "requestParameters": {"groupSet": {"items": [{"groupId": "sg-0123"}]}},
                    "responseElements": {"instancesSet": {"items": [{"instanceId": "i-0abc"}]}}
                }),
            ),
            call(
                "AuthorizeSecurityGroupIngress",
                datetime!(2026-11-21 00:01 UTC),
                serde_json::json!({"requestParameters": {"groupId": "sg-0123"}}),
            ),
        ];
        let a = attribute(&resources, &events, Some(since), &tracked());
        let verdicts: Vec<Verdict> = a.iter().map(|x| x.verdict).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::LeakedKey,
                Verdict::AfterLeak,
                Verdict::Touched,
                Verdict::Before
            ]
        );
        assert_eq!(a[0].events.len(), 1);
        assert!(a[0].events[0].creates);
        // Both events name the group; neither made it. Newest first.
        let names: Vec<&str> = a[2].events.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["AuthorizeSecurityGroupIngress", "RunInstances"]);
        assert!(a[2].events.iter().all(|l| !l.creates));
    }

    #[test]
    fn instances_of_the_attacker_s_group_are_the_attacker_s() {
        let group = Resource::new(Kind::AutoScalingGroup, "eu-north-1", "xmr");
        let mut member = Resource::new(Kind::Instance, "eu-north-1", "i-0m");
        member.related = vec![group.reference()];
        let mut listed = Resource::new(Kind::Instance, "eu-north-1", "i-0l");
        listed.created = Some(datetime!(2020-01-01 00:00 UTC));
        let mut group = group;
        group.related = vec![listed.reference()];
        let bystander = Resource::new(Kind::Instance, "eu-north-1", "i-0b");
        let made = call(
            "CreateAutoScalingGroup",
            datetime!(2026-11-21 00:00 UTC),
            serde_json::json!({"requestParameters": {"autoScalingGroupName": "xmr"}}),
        );
        let a = attribute(
            &[group.clone(), member, listed, bystander],
            &[made],
            None,
            &tracked(),
        );
        let v: Vec<Verdict> = a.iter().map(|x| x.verdict).collect();
        assert_eq!(
            v,
            [
                Verdict::LeakedKey,
                Verdict::LeakedKey,
                Verdict::LeakedKey,
                Verdict::Before
            ]
        );
        assert_eq!(a[1].launched_by, Some(group.reference()));
        assert_eq!(a[2].launched_by, Some(group.reference()));
        assert!(a[1].events.is_empty());
    }

    #[test]
    fn reads_failures_and_other_keys_do_not_count() {
        let mut user = Resource::new(Kind::User, "global", "backdoor");
        user.created = Some(datetime!(2026-11-21 00:00 UTC));
        let raw = serde_json::json!({"requestParameters": {"userName": "backdoor"}});
        let mut read = call("GetUser", datetime!(2026-11-21 00:00 UTC), raw.clone());
        read.read_only = Some(true);
        let mut failed = call("CreateUser", datetime!(2026-11-21 00:00 UTC), raw.clone());
        failed.error_code = Some("AccessDenied".into());
        let mut other = call("CreateUser", datetime!(2026-11-21 00:01 UTC), raw);
        other.access_key_id = "AKIASOMEONEELSE00000".into();
        let a = attribute(&[user], &[read, failed, other], None, &tracked());
        assert_eq!(a[0].verdict, Verdict::Before);
        assert!(a[0].events.is_empty());
    }

    #[test]
    fn a_user_made_by_the_key_and_a_policy_put_on_it() {
        let user = Resource::new(Kind::User, "global", "backdoor");
        let made = call(
            "CreateUser",
            datetime!(2026-11-21 00:00 UTC),
            serde_json::json!({"requestParameters": {"userName": "backdoor"}}),
        );
        let policy = call(
            "PutUserPolicy",
            datetime!(2026-11-21 00:02 UTC),
            serde_json::json!({"requestParameters": {"userName": "backdoor", "policyName": "p"}}),
        );
        let key = call(
            "CreateAccessKey",
            datetime!(2026-11-21 00:03 UTC),
            serde_json::json!({"requestParameters": {"userName": "backdoor"}}),
        );
        let a = attribute(&[user], &[policy, made, key], None, &tracked());
        assert_eq!(a[0].verdict, Verdict::LeakedKey);
        assert_eq!(a[0].events.len(), 3);
        assert_eq!(a[0].events.iter().filter(|l| l.creates).count(), 1);

        // The attacker's own managed policy is made by CreatePolicy; a new version of an
        // existing one is not a new policy.
        let arn = "arn:aws:iam::123456789012:policy/escalate";
        let mut policy = Resource::new(Kind::Policy, "global", arn);
        policy.name = "escalate".into();
        let created = call(
            "CreatePolicy",
            datetime!(2026-11-21 00:04 UTC),
            serde_json::json!({"requestParameters": {"policyName": "escalate"}}),
        );
        let mut old = Resource::new(
            Kind::Policy,
            "global",
            "arn:aws:iam::123456789012:policy/ops",
        );
        old.name = "ops".into();
        let version = call(
            "CreatePolicyVersion",
            datetime!(2026-11-21 00:05 UTC),
            serde_json::json!({"requestParameters": {"policyArn": "arn:aws:iam::123456789012:policy/ops"}}),
        );
        let a = attribute(&[policy, old], &[created, version], None, &tracked());
        assert_eq!(a[0].verdict, Verdict::LeakedKey);
        assert_eq!(a[1].verdict, Verdict::Touched);
    }
}
