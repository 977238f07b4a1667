//! Policy documents, parsed once: statements with their effect, actions, resources, principals
//! (trust policies) and conditions, in the forms the evaluation matches against.

use serde_json::Value;

use super::cond::Cond;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` or `NotAction` (lower-cased: action names match without regard to case);
/// `Resource` or `NotResource` (as written: ARNs match with case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    Is(Vec<String>),
    Not(Vec<String>),
}

/// A trust policy's `Principal` or `NotPrincipal`: `(kind, value)` pairs, `("*", "*")` for
/// `"Principal": "*"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    Is(Vec<(String, String)>),
    Not(Vec<(String, String)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The `Sid`, or `#n` (1-based position) when it has none.
    pub label: String,
    pub effect: Effect,
    pub actions: Matcher,
    /// The services its `Action` names (`iam`, `s3`), when none is a wildcard: a statement
    /// for other services is skipped without matching a pattern.
    pub services: Option<Vec<String>>,
    /// The first action of the grid its `Action` element names, found once when the document
    /// is parsed (off the console's thread): the model asks "can it do anything of the grid?"
    /// of thousands of principals after every message.
    pub grid_hint: Option<usize>,
    /// `None` in a trust policy (no resource element).
    pub resources: Option<Matcher>,
    pub principals: Option<Principals>,
    pub conditions: Vec<Cond>,
}

/// A parsed policy document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub statements: Vec<Statement>,
    /// Why the document could not be read, when it could not: such a policy may say
    /// anything, and nothing it could touch is decided.
    pub error: Option<String>,
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

/// A condition value as text (`true`, `5`, `"x"`).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn principals(v: &Value) -> Vec<(String, String)> {
    match v {
        Value::String(s) => vec![("*".to_string(), s.clone())],
        Value::Object(m) => m
            .iter()
            .flat_map(|(kind, v)| strings(v).into_iter().map(|s| (kind.clone(), s)))
            .collect(),
        _ => Vec::new(),
    }
}

impl Policy {
    /// Parses a decoded document. A document that is not a policy gives a `Policy` with its
    /// `error` set, never a panic.
    pub fn parse(document: &str) -> Policy {
        let doc: Value = match serde_json::from_str(document) {
            Ok(d) => d,
            Err(e) => return Policy::broken(format!("not JSON: {e}")),
        };
        let list: Vec<&Value> = match doc.get("Statement") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(s @ Value::Object(_)) => vec![s],
            _ => return Policy::broken("no Statement".into()),
        };
        let mut statements = Vec::with_capacity(list.len());
        for (n, s) in list.into_iter().enumerate() {
            match Statement::parse(s, n + 1) {
                Ok(st) => statements.push(st),
                Err(e) => return Policy::broken(format!("statement {}: {e}", n + 1)),
            }
        }
        Policy {
            statements,
            error: None,
        }
    }

    pub fn broken(why: String) -> Policy {
        Policy {
            statements: Vec::new(),
            error: Some(why),
        }
    }
}

impl Statement {
    fn parse(s: &Value, position: usize) -> Result<Statement, String> {
        let effect = match s.get("Effect").and_then(Value::as_str) {
            Some(e) if e.eq_ignore_ascii_case("allow") => Effect::Allow,
            Some(e) if e.eq_ignore_ascii_case("deny") => Effect::Deny,
            _ => return Err("no Effect".into()),
        };
        let lower = |v: &Value| -> Vec<String> {
            strings(v)
                .into_iter()
                .map(|a| a.to_ascii_lowercase())
                .collect()
        };
        let actions = match (s.get("Action"), s.get("NotAction")) {
            (Some(a), None) => Matcher::Is(lower(a)),
            (None, Some(a)) => Matcher::Not(lower(a)),
            _ => return Err("needs exactly one of Action and NotAction".into()),
        };
        let services = match &actions {
            Matcher::Is(ps) => {
                let mut svcs: Vec<String> = Vec::with_capacity(ps.len());
                let mut exact = true;
                for p in ps {
                    match p.split_once(':') {
                        Some((svc, _)) if !svc.contains(['*', '?']) => {
                            if !svcs.iter().any(|s| s == svc) {
                                svcs.push(svc.to_string());
                            }
                        }
                        _ => exact = false,
                    }
                }
                exact.then_some(svcs)
            }
            Matcher::Not(_) => None,
        };
        let resources = match (s.get("Resource"), s.get("NotResource")) {
            (Some(r), None) => Some(Matcher::Is(strings(r))),
            (None, Some(r)) => Some(Matcher::Not(strings(r))),
            (None, None) => None,
            _ => return Err("has both Resource and NotResource".into()),
        };
        let principals = match (s.get("Principal"), s.get("NotPrincipal")) {
            (Some(p), None) => Some(Principals::Is(principals(p))),
            (None, Some(p)) => Some(Principals::Not(principals(p))),
            (None, None) => None,
            _ => return Err("has both Principal and NotPrincipal".into()),
        };
        let mut conditions = Vec::new();
        if let Some(c) = s.get("Condition") {
            let Value::Object(ops) = c else {
                return Err("Condition is not an object".into());
            };
            for (op, keys) in ops {
                let Value::Object(keys) = keys else {
                    return Err(format!("condition {op} is not an object"));
                };
                for (key, values) in keys {
                    conditions.push(Cond::new(op, key, strings(values)));
                }
            }
        }
        let label = s
            .get("Sid")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{position}"));
        let mut st = Statement {
            label,
            effect,
            actions,
            services,
            grid_hint: None,
            resources,
            principals,
            conditions,
        };
        st.grid_hint = super::catalogue::lower()
            .iter()
            .position(|a| super::eval::action_matches(&st, a));
        Ok(st)
    }
}

/// Whether `text` matches the IAM wildcard `pattern` (`*` any run, `?` one character).
pub fn glob(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    if !p.iter().any(|&b| b == b'*' || b == b'?') {
        return p == text.as_bytes();
    }
    wild(p, text.as_bytes(), |p, t| p == b'?' || p == t)
}

/// Whether every string `inner` matches is matched by `outer` too (both IAM wildcard
/// patterns). Sound, not complete: `outer`'s `*` may stand for any run of `inner` (wildcards
/// included), its `?` only for one literal character; when unsure, it says no.
pub fn covers(outer: &str, inner: &str) -> bool {
    wild(outer.as_bytes(), inner.as_bytes(), |p, t| {
        (p == b'?' && t != b'*') || p == t
    })
}

/// Wildcard matching of `t` against `p`, where `one(p, t)` says whether a pattern byte other
/// than `*` takes one text byte. Iterative, with one backtrack point: linear in practice,
/// never exponential.
fn wild(p: &[u8], t: &[u8], one: impl Fn(u8, u8) -> bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] != b'*' && one(p[pi], t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_iam_does() {
        assert!(glob("iam:*", "iam:createuser"));
        assert!(glob("*", ""));
        assert!(glob("s3:get*", "s3:getobject"));
        assert!(!glob("s3:get*", "s3:putobject"));
        assert!(glob("ec2:?un*", "ec2:runinstances"));
        assert!(glob("arn:aws:s3:::b/*/x", "arn:aws:s3:::b/a/b/x"));
        assert!(!glob("arn:aws:s3:::b/*/x", "arn:aws:s3:::b/a/b/y"));
        assert!(glob("a*b*c", "abbbc"));
    }

    #[test]
    fn coverage_is_sound() {
        assert!(covers("*", "arn:aws:s3:::b/*"));
        assert!(covers("arn:aws:s3:::b/*", "arn:aws:s3:::b/logs/*"));
        assert!(!covers("arn:aws:s3:::b/logs/*", "arn:aws:s3:::b/*"));
        // `?` cannot stand for a run.
        assert!(!covers("a?c", "a*c"));
        assert!(covers("a?c", "abc"));
    }

    #[test]
    fn a_policy_that_is_not_one_is_named_broken() {
        assert!(Policy::parse("{").error.is_some());
        assert!(
            Policy::parse(r#"{"Statement":[{"Action":"*"}]}"#)
                .error
                .is_some()
        );
        let p = Policy::parse(
            r#"{"Statement":{"Effect":"Allow","Action":"S3:Get*","Resource":"*",
               "Condition":{"Bool":{"aws:MultiFactorAuthPresent":true}}}}"#,
        );
        assert_eq!(p.error, None);
        assert_eq!(p.statements[0].actions, Matcher::Is(vec!["s3:get*".into()]));
        assert_eq!(p.statements[0].label, "#1");
        assert_eq!(p.statements[0].conditions.len(), 1);
    }
}
