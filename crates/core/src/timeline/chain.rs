//! Following derived credentials. A leaked key can mint temporary keys (AssumeRole,
//! GetSessionToken, GetFederationToken), and those can mint more: the blast radius is the whole
//! tree. `Tracker` holds that tree: the leaked (root) keys and every key minted from a tracked
//! key, each with its parent and how it was minted.

use std::collections::{HashMap, HashSet, VecDeque};

use super::model::Event;
use crate::domain::key_short;

/// How many hops from a root a key may be. Real role chains are a handful deep; the limit only
/// stops a corrupted or hostile input from growing the tree without end.
pub const MAX_DEPTH: usize = 64;

/// One step of a chain: the key, and how it was minted from the previous one (`None` for the
/// root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub key_id: String,
    pub via: Option<String>,
}

#[derive(Debug, Clone)]
struct Node {
    parent: Option<String>,
    via: Option<String>,
    depth: usize,
    children: Vec<String>,
}

/// The leaked keys and everything minted from them.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    nodes: HashMap<String, Node>,
    /// Keys in the order they became tracked (roots first).
    order: Vec<String>,
}

impl Tracker {
    /// Tracks the given root keys (empty strings and repeats are ignored).
    pub fn new(roots: impl IntoIterator<Item = String>) -> Tracker {
        let mut tracker = Tracker::default();
        for root in roots {
            if root.is_empty() || tracker.nodes.contains_key(&root) {
                continue;
            }
            tracker.nodes.insert(
                root.clone(),
                Node {
                    parent: None,
                    via: None,
                    depth: 0,
                    children: Vec::new(),
                },
            );
            tracker.order.push(root);
        }
        tracker
    }

    pub fn is_tracked(&self, key: &str) -> bool {
        self.nodes.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Every tracked key, roots first, then in the order they were found.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(String::as_str)
    }

    /// Whether the key is one of the leaked keys the tracker started from.
    pub fn is_root(&self, key: &str) -> bool {
        self.nodes.get(key).is_some_and(|n| n.parent.is_none())
    }

    /// The key a tracked key was minted from.
    pub fn parent(&self, key: &str) -> Option<&str> {
        self.nodes.get(key)?.parent.as_deref()
    }

    /// How a tracked key was minted (`AssumeRole deploy-role`); `None` for roots.
    pub fn via(&self, key: &str) -> Option<&str> {
        self.nodes.get(key)?.via.as_deref()
    }

    /// Hops from the root (0 for a root).
    pub fn depth(&self, key: &str) -> Option<usize> {
        self.nodes.get(key).map(|n| n.depth)
    }

    /// Looks at one event: when it was made with a tracked key and minted a new one, the new key
    /// is tracked (remembering its parent and how) and returned. Failed calls mint nothing.
    /// Events are not always seen parent-first; `observe_all` settles that.
    pub fn observe(&mut self, e: &Event) -> Option<String> {
        if e.failed() {
            return None;
        }
        let minted = e.minted.as_ref()?;
        self.adopt(&e.access_key_id, &minted.key_id, &minted.via)
    }

    /// Tracks `child` under `parent` when the parent is tracked, the child is new and the depth
    /// limit allows it. Since a key only ever joins once, under a key that was already tracked,
    /// the parent links form a tree: no cycle can arise.
    fn adopt(&mut self, parent: &str, child: &str, via: &str) -> Option<String> {
        if child.is_empty() || self.nodes.contains_key(child) {
            return None;
        }
        let parent_node = self.nodes.get_mut(parent)?;
        let depth = parent_node.depth + 1;
        if depth > MAX_DEPTH {
            return None;
        }
        parent_node.children.push(child.to_string());
        let via = via.trim();
        self.nodes.insert(
            child.to_string(),
            Node {
                parent: Some(parent.to_string()),
                via: (!via.is_empty()).then(|| via.to_string()),
                depth,
                children: Vec::new(),
            },
        );
        self.order.push(child.to_string());
        Some(child.to_string())
    }

    /// Observes `events` until no new key turns up, whatever their order, and returns how many
    /// keys were added. Works breadth-first from the keys already tracked, so every key joins at
    /// its shortest distance from a root and the resulting set does not depend on event order
    /// (not even where `MAX_DEPTH` cuts a chain).
    pub fn observe_all(&mut self, events: &[Event]) -> usize {
        // Token calls grouped by the key that made them.
        let mut minted_by: HashMap<&str, Vec<&Event>> = HashMap::new();
        for e in events {
            if e.minted.is_some() && !e.failed() && !e.access_key_id.is_empty() {
                minted_by.entry(&*e.access_key_id).or_default().push(e);
            }
        }
        if minted_by.is_empty() {
            return 0;
        }
        let before = self.order.len();
        let mut queue: VecDeque<String> = self.order.iter().cloned().collect();
        let mut visited: HashSet<String> = HashSet::new();
        while let Some(key) = queue.pop_front() {
            if !visited.insert(key.clone()) {
                continue;
            }
            let Some(made) = minted_by.get(key.as_str()) else {
                continue;
            };
            for e in made {
                if let Some(new_key) = self.observe(e) {
                    queue.push_back(new_key);
                }
            }
        }
        self.order.len() - before
    }

    /// The path from the root to `key`: the root first (with `via` None), `key` last. Empty when
    /// `key` is not tracked.
    pub fn chain(&self, key: &str) -> Vec<Link> {
        let mut links = Vec::new();
        let mut at = key;
        // The tree has no cycles, but the walk is bounded anyway.
        for _ in 0..=MAX_DEPTH + 1 {
            let Some(node) = self.nodes.get(at) else {
                break;
            };
            links.push(Link {
                key_id: at.to_string(),
                via: node.via.clone(),
            });
            match node.parent.as_deref() {
                Some(parent) => at = parent,
                None => break,
            }
        }
        links.reverse();
        links
    }

    /// `AKIA…WXYZ → AssumeRole deploy-role → ASIA…1234`. An untracked key is shown alone.
    pub fn chain_text(&self, key: &str) -> String {
        let links = self.chain(key);
        if links.is_empty() {
            return key_short(key);
        }
        let mut text = String::new();
        for link in &links {
            if !text.is_empty() {
                text.push_str(" → ");
                if let Some(via) = &link.via {
                    text.push_str(via);
                    text.push_str(" → ");
                }
            }
            text.push_str(&key_short(&link.key_id));
        }
        text
    }

    /// The leaked key a tracked key descends from (itself for a root).
    pub fn root_of(&self, key: &str) -> Option<&str> {
        let mut at = self.nodes.get_key_value(key)?.0.as_str();
        for _ in 0..=MAX_DEPTH + 1 {
            let node = self.nodes.get(at)?;
            match node.parent.as_deref() {
                Some(parent) => at = self.nodes.get_key_value(parent)?.0.as_str(),
                None => return Some(at),
            }
        }
        None
    }

    /// The key and every key minted from it, directly or not (parents before children), for
    /// narrowing the timeline to one branch. Empty when `key` is not tracked.
    pub fn branch(&self, key: &str) -> Vec<String> {
        if !self.nodes.contains_key(key) {
            return Vec::new();
        }
        let mut out = vec![key.to_string()];
        let mut seen: HashSet<&str> = HashSet::from([key]);
        let mut next = 0;
        while let Some(at) = out.get(next).cloned() {
            next += 1;
            if let Some(node) = self.nodes.get(&at) {
                for child in &node.children {
                    if seen.insert(child.as_str()) {
                        out.push(child.clone());
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::model::Minted;
    use crate::timeline::risk::fixtures::{event, stratus};

    /// A token call made with `by` that minted `key`.
    fn mint(by: &str, key: &str, via: &str) -> Event {
        let mut e = event("AssumeRole", "sts.amazonaws.com");
        e.access_key_id = by.into();
        e.minted = Some(Box::new(Minted {
            key_id: key.to_string(),
            via: via.to_string(),
        }));
        e
    }

    const ROOT: &str = "AKIAAAAAAAAAAAAAWXYZ";
    const A: &str = "ASIAAAAAAAAAAAAA1234";
    const B: &str = "ASIABBBBBBBBBBBB5678";
    const C: &str = "ASIACCCCCCCCCCCC9012";

    #[test]
    fn follows_minted_keys_recursively() {
        let mut t = Tracker::new([ROOT.to_string()]);
        assert!(t.is_tracked(ROOT) && t.is_root(ROOT));
        assert_eq!(
            t.observe(&mint(ROOT, A, "AssumeRole deploy-role"))
                .as_deref(),
            Some(A)
        );
        assert_eq!(
            t.observe(&mint(A, B, "AssumeRole admin")).as_deref(),
            Some(B)
        );
        // Seen again: nothing new.
        assert_eq!(t.observe(&mint(A, B, "AssumeRole admin")), None);
        // Minted by a key nobody tracks.
        assert_eq!(
            t.observe(&mint("AKIAOTHEROTHEROTHERX", C, "GetSessionToken")),
            None
        );
        assert!(!t.is_tracked(C));

        assert_eq!(t.keys().collect::<Vec<_>>(), vec![ROOT, A, B]);
        assert_eq!(
            t.chain(B),
            vec![
                Link {
                    key_id: ROOT.into(),
                    via: None
                },
                Link {
                    key_id: A.into(),
                    via: Some("AssumeRole deploy-role".into())
                },
                Link {
                    key_id: B.into(),
                    via: Some("AssumeRole admin".into())
                },
            ]
        );
        assert_eq!(
            t.chain_text(A),
            "AKIA…WXYZ → AssumeRole deploy-role → ASIA…1234"
        );
        assert_eq!(
            t.chain_text(B),
            "AKIA…WXYZ → AssumeRole deploy-role → ASIA…1234 → AssumeRole admin → ASIA…5678"
        );
        assert_eq!(t.chain_text(ROOT), "AKIA…WXYZ");
        assert_eq!(t.root_of(B), Some(ROOT));
        assert_eq!(t.root_of(ROOT), Some(ROOT));
        assert_eq!(t.root_of(C), None);
        assert_eq!(t.parent(B), Some(A));
        assert_eq!(t.depth(B), Some(2));
        assert!(t.chain(C).is_empty());
    }

    #[test]
    fn failed_or_empty_mints_are_ignored() {
        let mut t = Tracker::new([ROOT.to_string(), String::new(), ROOT.to_string()]);
        assert_eq!(t.len(), 1);
        let mut failed = mint(ROOT, A, "AssumeRole x");
        failed.error_code = Some("AccessDenied".into());
        assert_eq!(t.observe(&failed), None);
        assert_eq!(t.observe(&mint(ROOT, "", "AssumeRole x")), None);
        let mut plain = event("GetCallerIdentity", "sts.amazonaws.com");
        plain.access_key_id = ROOT.into();
        assert_eq!(t.observe(&plain), None);
        assert_eq!(t.len(), 1);
        // A via without words still makes a link, shown without a label.
        assert_eq!(t.observe(&mint(ROOT, A, "  ")).as_deref(), Some(A));
        assert_eq!(t.chain_text(A), "AKIA…WXYZ → ASIA…1234");
    }

    #[test]
    fn branches() {
        let mut t = Tracker::new([ROOT.to_string(), "AKIAOTHERROOTKEY0000".to_string()]);
        t.observe(&mint(ROOT, A, "AssumeRole a"));
        t.observe(&mint(A, B, "AssumeRole b"));
        t.observe(&mint(ROOT, C, "GetSessionToken"));
        t.observe(&mint(
            "AKIAOTHERROOTKEY0000",
            "ASIAOTHERCHILD000000",
            "GetSessionToken",
        ));
        assert_eq!(t.branch(ROOT), vec![ROOT, A, C, B]);
        assert_eq!(t.branch(A), vec![A, B]);
        assert_eq!(t.branch(B), vec![B]);
        assert!(t.branch("ASIAUNKNOWN").is_empty());
        assert_eq!(
            t.root_of("ASIAOTHERCHILD000000"),
            Some("AKIAOTHERROOTKEY0000")
        );
    }

    #[test]
    fn cycles_cannot_form() {
        let mut t = Tracker::new([ROOT.to_string()]);
        t.observe(&mint(ROOT, A, "x"));
        t.observe(&mint(A, B, "x"));
        // Claims that B minted A, or the root: both already tracked, so nothing changes.
        assert_eq!(t.observe(&mint(B, A, "x")), None);
        assert_eq!(t.observe(&mint(B, ROOT, "x")), None);
        assert_eq!(t.parent(A), Some(ROOT));
        assert!(t.is_root(ROOT));
        assert_eq!(t.chain(B).len(), 3);
        assert_eq!(t.branch(ROOT).len(), 3);
    }

    #[test]
    fn depth_is_bounded() {
        let mut t = Tracker::new([ROOT.to_string()]);
        let keys: Vec<String> = (0..MAX_DEPTH + 10)
            .map(|i| format!("ASIA{i:016}"))
            .collect();
        let mut events = Vec::new();
        let mut parent = ROOT.to_string();
        for key in &keys {
            events.push(mint(&parent, key, "AssumeRole r"));
            parent = key.clone();
        }
        assert_eq!(t.observe_all(&events), MAX_DEPTH);
        assert_eq!(t.len(), MAX_DEPTH + 1);
        let deepest = &keys[MAX_DEPTH - 1];
        assert_eq!(t.chain(deepest).len(), MAX_DEPTH + 1);
        assert_eq!(t.root_of(deepest), Some(ROOT));
        assert!(!t.is_tracked(&keys[MAX_DEPTH]));
    }

    #[test]
    fn order_does_not_matter() {
        // root → A → B → C, plus a sibling D of A, delivered newest first.
        const D: &str = "ASIADDDDDDDDDDDD3456";
        let ordered = vec![
            mint(ROOT, A, "AssumeRole a"),
            mint(A, B, "AssumeRole b"),
            mint(B, C, "AssumeRole c"),
            mint(ROOT, D, "GetSessionToken"),
            mint(
                "AKIAUNRELATEDKEY0000",
                "ASIAUNRELATED0000000",
                "GetSessionToken",
            ),
        ];
        let mut reversed = ordered.clone();
        reversed.reverse();

        // One pass over the reversed list finds only what it can; observe_all finds it all.
        let mut once = Tracker::new([ROOT.to_string()]);
        let found_once = reversed
            .iter()
            .filter(|e| once.observe(e).is_some())
            .count();
        assert!(found_once < 4);

        let mut forward = Tracker::new([ROOT.to_string()]);
        let mut backward = Tracker::new([ROOT.to_string()]);
        assert_eq!(forward.observe_all(&ordered), 4);
        assert_eq!(backward.observe_all(&reversed), 4);
        let set = |t: &Tracker| t.keys().map(str::to_string).collect::<HashSet<_>>();
        assert_eq!(set(&forward), set(&backward));
        assert_eq!(forward.chain_text(C), backward.chain_text(C));
        // Nothing left to find.
        assert_eq!(backward.observe_all(&reversed), 0);
        assert!(!backward.is_tracked("ASIAUNRELATED0000000"));
    }

    /// Real AssumeRole / GetFederationToken detonations: the IAM user's key mints ASIA keys,
    /// and the calls made afterwards as the role (or federated user) use exactly those keys.
    #[test]
    fn stratus_red_team_chains() {
        let files = [
            ("aws.credential-access.ec2-get-password-data.json", 2, 2),
            ("aws.execution.ec2-launch-unusual-instances.json", 2, 0),
            ("aws.defense-evasion.organizations-leave.json", 2, 0),
            ("aws.discovery.ec2-download-user-data.json", 2, 2),
            ("aws.persistence.sts-federation-token.json", 1, 0),
        ];
        for (file, minted, denied) in files {
            let events = stratus(file);
            let root = events
                .iter()
                .find(|e| &*e.identity_type == "IAMUser")
                .map(|e| e.access_key_id.to_string())
                .expect("an IAM user call");
            assert!(root.starts_with("AKIA"), "{file}: {root}");

            // Failed token calls (AccessDenied, responseElements null) carry no credentials.
            let failed: Vec<&Event> = events
                .iter()
                .filter(|e| matches!(&*e.name, "AssumeRole" | "GetFederationToken") && e.failed())
                .collect();
            assert_eq!(failed.len(), denied, "{file}");
            assert!(failed.iter().all(|e| e.minted.is_none()), "{file}");

            // Feed the events newest first, to show order does not matter.
            let mut newest_first = events.clone();
            newest_first.reverse();
            let mut t = Tracker::new([root.clone()]);
            assert_eq!(t.observe_all(&newest_first), minted, "{file}");
            for key in t.keys().filter(|k| *k != root) {
                assert!(key.starts_with("ASIA"), "{file}: {key}");
                assert_eq!(t.root_of(key), Some(root.as_str()));
            }

            // Every call made as the role / federated user uses a tracked key.
            let derived: Vec<&Event> = events
                .iter()
                .filter(|e| matches!(&*e.identity_type, "AssumedRole" | "FederatedUser"))
                .collect();
            assert!(!derived.is_empty(), "{file}");
            for e in &derived {
                assert!(
                    t.is_tracked(&e.access_key_id),
                    "{file}: {}",
                    e.access_key_id
                );
                assert_eq!(t.chain(&e.access_key_id).len(), 2);
            }
            // And narrowing to the root's branch keeps every one of them.
            let branch: HashSet<String> = t.branch(&root).into_iter().collect();
            assert!(derived.iter().all(|e| branch.contains(&*e.access_key_id)));
        }

        // The via names the role or the federated user.
        let events = stratus("aws.execution.ec2-launch-unusual-instances.json");
        let mut t = Tracker::new(["AKIAR7ISFR69YWROPYAN".to_string()]);
        t.observe_all(&events);
        assert_eq!(
            t.chain_text("ASIA9F6MXE9HSYOXYQOS"),
            "AKIA…PYAN → AssumeRole stratus-red-team-ec2lui-role-idtzskbvtd → ASIA…YQOS"
        );
        let run = events
            .iter()
            .find(|e| &*e.name == "RunInstances")
            .expect("RunInstances");
        assert_eq!(&*run.access_key_id, "ASIA9F6MXE9HSYOXYQOS");
        assert_eq!(t.root_of(&run.access_key_id), Some("AKIAR7ISFR69YWROPYAN"));

        let events = stratus("aws.persistence.sts-federation-token.json");
        let mut t = Tracker::new(["AKIA6V1GNZTT65XQH36M".to_string()]);
        assert_eq!(t.observe_all(&events), 1);
        assert_eq!(
            t.chain_text("ASIASTJKC5GCM7ZE6LUP"),
            "AKIA…H36M → GetFederationToken stratus_red_team → ASIA…6LUP"
        );
    }
}
