//! Reading the two kinds of policy document the foothold model depends on: an inline policy
//! that denies sessions issued before a time (`aws:TokenIssueTime`), and a role's trust policy
//! (who may assume it). Documents arrive decoded (the adapter undoes IAM's URL encoding).

use serde_json::Value;

use crate::domain::Timestamp;

/// A statement's `Principal`, flattened: one entry per principal it names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Trusted {
    /// `AWS`, `Service`, `Federated`, `CanonicalUser`, or `*` for `"Principal": "*"`.
    pub kind: String,
    pub value: String,
}

impl Trusted {
    /// The AWS account a principal belongs to: the fifth field of an ARN, or a bare id.
    /// `None` for services, federated providers and `*`.
    pub fn account(&self) -> Option<&str> {
        if self.kind != "AWS" {
            return None;
        }
        if self.value.len() == 12 && self.value.bytes().all(|b| b.is_ascii_digit()) {
            return Some(&self.value);
        }
        let account = self.value.split(':').nth(4)?;
        (!account.is_empty()).then_some(account)
    }

    /// Anyone at all: `"Principal": "*"` or `{"AWS": "*"}`.
    pub fn is_anyone(&self) -> bool {
        self.value == "*" && (self.kind == "*" || self.kind == "AWS")
    }

    /// Whether this principal lets someone outside `trusted_accounts` assume the role.
    pub fn is_outside(&self, trusted_accounts: &[&str]) -> bool {
        if self.is_anyone() {
            return true;
        }
        match self.account() {
            Some(a) => !trusted_accounts.contains(&a),
            None => false,
        }
    }
}

impl std::fmt::Display for Trusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_anyone() {
            f.write_str("anyone (*)")
        } else {
            f.write_str(&self.value)
        }
    }
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_allow(s: &Value) -> bool {
    s.get("Effect")
        .and_then(Value::as_str)
        .is_some_and(|e| e.eq_ignore_ascii_case("allow"))
}

/// Every principal an `Allow` statement of a trust policy names, sorted, without repeats.
/// A document that is not JSON names nobody.
pub fn trusted(document: &str) -> Vec<Trusted> {
    let Ok(doc) = serde_json::from_str::<Value>(document) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in statements(&doc).into_iter().filter(|s| is_allow(s)) {
        match s.get("Principal") {
            Some(Value::String(v)) => out.push(Trusted {
                kind: "*".into(),
                value: v.clone(),
            }),
            Some(Value::Object(m)) => {
                for (kind, v) in m {
                    out.extend(strings(v).into_iter().map(|value| Trusted {
                        kind: kind.clone(),
                        value: value.to_string(),
                    }));
                }
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The trust policy with `principals` taken out of every `Allow` statement. A statement left
/// naming nobody is dropped. The result is pretty-printed, for the before/after in the
/// confirmation dialog. Fails when the document is not JSON or names none of them.
pub fn without(document: &str, principals: &[Trusted]) -> Result<String, String> {
    let mut doc: Value =
        serde_json::from_str(document).map_err(|e| format!("the trust policy is not JSON: {e}"))?;
    let mut removed = 0usize;
    let keep_statement = |s: &mut Value, removed: &mut usize| -> bool {
        if !is_allow(s) {
            return true;
        }
        match s.get_mut("Principal") {
            Some(Value::String(v)) => {
                let hit = principals.iter().any(|p| p.kind == "*" && &p.value == v);
                if hit {
                    *removed += 1;
                }
                !hit
            }
            Some(Value::Object(m)) => {
                let kinds: Vec<String> = m.keys().cloned().collect();
                for kind in kinds {
                    let out = |value: &str| {
                        principals
                            .iter()
                            .any(|p| p.kind == kind && p.value == value)
                    };
                    let Some(v) = m.get_mut(&kind) else { continue };
                    match v {
                        Value::String(s) if out(s) => {
                            *removed += 1;
                            m.remove(&kind);
                        }
                        Value::Array(a) => {
                            let before = a.len();
                            a.retain(|x| !x.as_str().is_some_and(out));
                            *removed += before - a.len();
                            match a.len() {
                                0 => {
                                    m.remove(&kind);
                                }
                                1 => {
                                    let only = a.remove(0);
                                    *v = only;
                                }
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                }
                !m.is_empty()
            }
            _ => true,
        }
    };
    let emptied = match doc.get_mut("Statement") {
        Some(Value::Array(a)) => {
            a.retain_mut(|s| keep_statement(s, &mut removed));
            false
        }
        Some(s @ Value::Object(_)) => !keep_statement(s, &mut removed),
        _ => false,
    };
    if emptied && let Some(obj) = doc.as_object_mut() {
        obj.insert("Statement".into(), Value::Array(Vec::new()));
    }
    if removed == 0 {
        return Err("the trust policy does not name that principal any more".into());
    }
    serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())
}

/// A document as the dialog shows it: pretty-printed when it is JSON, as it is otherwise.
pub fn pretty(document: &str) -> String {
    serde_json::from_str::<Value>(document)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| document.to_string())
}

/// The latest `aws:TokenIssueTime` cut-off a policy denies everything before: a `Deny` of
/// every action (`*`) under `DateLessThan` (or `DateLessThanEquals`) on the token's issue
/// time. Sessions issued before it can do nothing. `None` when the document has no such
/// statement.
pub fn revocation_cutoff(document: &str) -> Option<Timestamp> {
    let doc = serde_json::from_str::<Value>(document).ok()?;
    let mut best: Option<Timestamp> = None;
    for s in statements(&doc) {
        let deny = s
            .get("Effect")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case("deny"));
        let all = s
            .get("Action")
            .map(strings)
            .is_some_and(|a| a.contains(&"*"));
        if !deny || !all {
            continue;
        }
        let Some(Value::Object(cond)) = s.get("Condition") else {
            continue;
        };
        for (op, m) in cond {
            if !op.starts_with("DateLessThan") {
                continue;
            }
            let Value::Object(m) = m else { continue };
            for (k, v) in m {
                if !k.eq_ignore_ascii_case("aws:TokenIssueTime") {
                    continue;
                }
                for t in strings(v) {
                    if let Some(t) = crate::journal::parse_ts(t) {
                        best = Some(best.map_or(t, |b| b.max(t)));
                    }
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_cut_off_is_read_from_the_console_s_own_policy_and_others() {
        let ours = crate::app::plan::Plan::revoke_policy_document("2026-12-04T10:00:00Z");
        assert_eq!(
            revocation_cutoff(&ours).map(crate::journal::format_ts),
            Some("2026-12-04T10:00:00Z".into())
        );
        // A hand-written one: a single statement object, a string action.
        let theirs = r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*",
            "Condition":{"DateLessThan":{"aws:tokenissuetime":["2026-12-04T09:00:00Z","2026-12-04T11:00:00Z"]}}}}"#;
        assert_eq!(
            revocation_cutoff(theirs).map(crate::journal::format_ts),
            Some("2026-12-04T11:00:00Z".into())
        );
        // Denying one service only does not revoke a session.
        let partial = r#"{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*",
            "Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-12-04T09:00:00Z"}}}]}"#;
        assert_eq!(revocation_cutoff(partial), None);
        let allow = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
            "Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-12-04T09:00:00Z"}}}]}"#;
        assert_eq!(revocation_cutoff(allow), None);
        assert_eq!(revocation_cutoff("not json"), None);
    }

    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:root","arn:aws:iam::999999999999:root"],
          "Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},
        {"Effect":"Allow","Principal":{"AWS":"888888888888"},"Action":"sts:AssumeRole"}]}"#;

    #[test]
    fn principals_outside_the_trusted_accounts_are_found() {
        let t = trusted(TRUST);
        let outside: Vec<String> = t
            .iter()
            .filter(|p| p.is_outside(&["111111111111"]))
            .map(|p| p.value.clone())
            .collect();
        assert_eq!(outside, ["888888888888", "arn:aws:iam::999999999999:root"]);
        assert!(trusted(r#"{"Statement":[{"Effect":"Allow","Principal":"*"}]}"#)[0].is_anyone());
        assert!(
            trusted(r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"}}]}"#)[0]
                .is_outside(&["111111111111"])
        );
        // Deny statements name nobody who may assume the role.
        assert!(trusted(r#"{"Statement":[{"Effect":"Deny","Principal":"*"}]}"#).is_empty());
    }

    #[test]
    fn removing_a_principal_keeps_the_rest_and_drops_emptied_statements() {
        let out = trusted(TRUST)
            .into_iter()
            .filter(|p| p.is_outside(&["111111111111"]))
            .collect::<Vec<_>>();
        let after = without(TRUST, &out).expect("removed");
        let left = trusted(&after);
        let values: Vec<&str> = left.iter().map(|p| p.value.as_str()).collect();
        assert_eq!(
            values,
            ["arn:aws:iam::111111111111:root", "ec2.amazonaws.com"]
        );
        let doc: Value = serde_json::from_str(&after).expect("json");
        assert_eq!(doc["Statement"].as_array().map(Vec::len), Some(1));
        // A one-element list becomes a plain string, as IAM writes it.
        assert_eq!(
            doc["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::111111111111:root"
        );
        assert!(without(&after, &out).is_err(), "nothing left to remove");
        assert!(without("{", &out).is_err());
    }
}
