//! Condition blocks, decided in three values: true, false, or unknown (a key the console
//! cannot know, an operator it does not read). Follows the documented rules: several values
//! of one key are OR-ed, several keys and operators AND-ed; a key absent from the request
//! makes a condition false, except the negated operators (`StringNotEquals`, `ArnNotLike`…),
//! `…IfExists`, `ForAllValues:` and `Null`.

use std::net::IpAddr;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::parse::glob;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    IpAddress,
    ArnLike,
    Null,
    /// An operator this version does not read (`BinaryEquals`, a misspelling).
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    AnyValue,
    AllValues,
}

/// One condition key under one operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    /// The operator as written (`StringNotEqualsIfExists`).
    pub op: String,
    /// The key, lower-cased (`aws:tokenissuetime`).
    pub key: String,
    pub values: Vec<String>,
    base: Base,
    negated: bool,
    if_exists: bool,
    set: Option<SetOp>,
}

/// What the request context holds for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Values(Vec<String>),
    /// The key is not in the request (a long-term key has no `aws:TokenIssueTime`).
    Absent,
    /// The console cannot know (a request parameter, the caller's network).
    Unknown,
}

/// A condition's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tri {
    True,
    False,
    /// Undecided, and the keys it depends on.
    Unknown(Vec<String>),
}

impl Cond {
    pub fn new(op: &str, key: &str, values: Vec<String>) -> Cond {
        let (set, rest) = if let Some(r) = op.strip_prefix("ForAnyValue:") {
            (Some(SetOp::AnyValue), r)
        } else if let Some(r) = op.strip_prefix("ForAllValues:") {
            (Some(SetOp::AllValues), r)
        } else {
            (None, op)
        };
        let (if_exists, rest) = match rest.strip_suffix("IfExists") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        use Cmp::*;
        let (base, negated) = match rest {
            "StringEquals" => (Base::StringEquals, false),
            "StringNotEquals" => (Base::StringEquals, true),
            "StringEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, false),
            "StringNotEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, true),
            "StringLike" => (Base::StringLike, false),
            "StringNotLike" => (Base::StringLike, true),
            "NumericEquals" => (Base::Numeric(Eq), false),
            "NumericNotEquals" => (Base::Numeric(Eq), true),
            "NumericLessThan" => (Base::Numeric(Lt), false),
            "NumericLessThanEquals" => (Base::Numeric(Le), false),
            "NumericGreaterThan" => (Base::Numeric(Gt), false),
            "NumericGreaterThanEquals" => (Base::Numeric(Ge), false),
            "DateEquals" => (Base::Date(Eq), false),
            "DateNotEquals" => (Base::Date(Eq), true),
            "DateLessThan" => (Base::Date(Lt), false),
            "DateLessThanEquals" => (Base::Date(Le), false),
            "DateGreaterThan" => (Base::Date(Gt), false),
            "DateGreaterThanEquals" => (Base::Date(Ge), false),
            "Bool" => (Base::Bool, false),
            "IpAddress" => (Base::IpAddress, false),
            "NotIpAddress" => (Base::IpAddress, true),
            // ARN operators compare with wildcards, both ways round.
            "ArnEquals" | "ArnLike" => (Base::ArnLike, false),
            "ArnNotEquals" | "ArnNotLike" => (Base::ArnLike, true),
            "Null" => (Base::Null, false),
            _ => (Base::Other, false),
        };
        Cond {
            op: op.to_string(),
            key: key.to_ascii_lowercase(),
            values,
            base,
            negated,
            if_exists,
            set,
        }
    }

    /// Decides the condition against what `look` knows of the request.
    pub fn eval(&self, look: &dyn Fn(&str) -> Lookup) -> Tri {
        if self.base == Base::Other {
            return Tri::Unknown(vec![format!("{} (operator not read)", self.op)]);
        }
        let got = look(&self.key);
        if self.base == Base::Null {
            let want_absent = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
            return match got {
                Lookup::Unknown => self.unknown(),
                Lookup::Absent => tri(want_absent),
                Lookup::Values(_) => tri(!want_absent),
            };
        }
        let values = match got {
            Lookup::Unknown => return self.unknown(),
            // ForAnyValue asks for some value, negated or not: none is there.
            Lookup::Absent => {
                return tri(match self.set {
                    Some(SetOp::AllValues) => true,
                    Some(SetOp::AnyValue) => self.if_exists,
                    None => self.if_exists || self.negated,
                });
            }
            Lookup::Values(v) => v,
        };
        let matches = |request: &str| -> Option<bool> {
            let mut any = false;
            for p in &self.values {
                if self.one(p, request)? {
                    any = true;
                    break;
                }
            }
            Some(any)
        };
        let answer = match self.set {
            Some(SetOp::AllValues) => {
                let mut all = true;
                for v in &values {
                    match matches(v) {
                        Some(m) => all &= m != self.negated,
                        None => return self.unknown(),
                    }
                }
                all
            }
            // A single-valued key and `ForAnyValue:` both ask whether some request value
            // matches (for a negated operator: whether some value matches none).
            _ => {
                let mut any = false;
                for v in &values {
                    match matches(v) {
                        Some(m) => any |= m != self.negated,
                        None => return self.unknown(),
                    }
                }
                any
            }
        };
        tri(answer)
    }

    fn unknown(&self) -> Tri {
        Tri::Unknown(vec![self.key.clone()])
    }

    /// One policy value against one request value; `None` when either cannot be read as the
    /// operator's type.
    fn one(&self, policy: &str, request: &str) -> Option<bool> {
        Some(match self.base {
            Base::StringEquals => policy == request,
            Base::StringEqualsIgnoreCase => policy.eq_ignore_ascii_case(request),
            Base::StringLike => glob(policy, request),
            Base::ArnLike => arn_like(policy, request),
            Base::Bool => policy.eq_ignore_ascii_case(request),
            Base::Numeric(c) => {
                let p: f64 = policy.parse().ok()?;
                let r: f64 = request.parse().ok()?;
                compare(r.partial_cmp(&p)?, c)
            }
            Base::Date(c) => compare(epoch(request)?.cmp(&epoch(policy)?), c),
            Base::IpAddress => in_cidr(policy, request.parse().ok()?)?,
            Base::Null | Base::Other => return None,
        })
    }
}

fn tri(b: bool) -> Tri {
    if b { Tri::True } else { Tri::False }
}

fn compare(o: std::cmp::Ordering, c: Cmp) -> bool {
    use std::cmp::Ordering::*;
    match c {
        Cmp::Eq => o == Equal,
        Cmp::Lt => o == Less,
        Cmp::Le => o != Greater,
        Cmp::Gt => o == Greater,
        Cmp::Ge => o != Less,
    }
}

/// ARN matching: field by field, each with wildcards.
fn arn_like(policy: &str, request: &str) -> bool {
    let p: Vec<&str> = policy.splitn(6, ':').collect();
    let r: Vec<&str> = request.splitn(6, ':').collect();
    if p.len() == 6 && r.len() == 6 {
        p.iter().zip(&r).all(|(p, r)| glob(p, r))
    } else {
        glob(policy, request)
    }
}

/// A date as seconds since the epoch: ISO 8601 (`2024-01-01T00:00:00Z`, or a bare date) or
/// a number of seconds.
pub fn epoch(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    if s.len() == 10 {
        return OffsetDateTime::parse(&format!("{s}T00:00:00Z"), &Rfc3339)
            .ok()
            .map(|t| t.unix_timestamp());
    }
    None
}

/// Whether `ip` is in `cidr` (`203.0.113.0/24`, `2001:db8::/32`, or one address).
fn in_cidr(cidr: &str, ip: IpAddr) -> Option<bool> {
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n.parse::<IpAddr>().ok()?, Some(b.parse::<u32>().ok()?)),
        None => (cidr.parse::<IpAddr>().ok()?, None),
    };
    Some(match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(key: &'static str, v: Option<&'static str>) -> impl Fn(&str) -> Lookup {
        move |k: &str| {
            if k == key {
                match v {
                    Some(v) => Lookup::Values(vec![v.to_string()]),
                    None => Lookup::Absent,
                }
            } else {
                Lookup::Unknown
            }
        }
    }

    #[test]
    fn absent_keys_follow_the_documented_rules() {
        let absent = with("aws:tokenissuetime", None);
        let c = |op: &str| {
            Cond::new(
                op,
                "aws:TokenIssueTime",
                vec!["2024-01-01T00:00:00Z".into()],
            )
        };
        assert_eq!(c("DateLessThan").eval(&absent), Tri::False);
        assert_eq!(c("DateLessThanIfExists").eval(&absent), Tri::True);
        assert_eq!(c("DateNotEquals").eval(&absent), Tri::True);
        let null = Cond::new("Null", "aws:TokenIssueTime", vec!["true".into()]);
        assert_eq!(null.eval(&absent), Tri::True);
        let all = Cond::new(
            "ForAllValues:StringEquals",
            "aws:TokenIssueTime",
            vec!["x".into()],
        );
        assert_eq!(all.eval(&absent), Tri::True);
        let any = Cond::new(
            "ForAnyValue:StringNotEquals",
            "aws:TokenIssueTime",
            vec!["x".into()],
        );
        assert_eq!(any.eval(&absent), Tri::False);
    }

    #[test]
    fn dates_ips_and_unknowns() {
        let early = with("aws:tokenissuetime", Some("2023-06-01T10:00:00Z"));
        let c = Cond::new(
            "DateLessThan",
            "aws:TokenIssueTime",
            vec!["2024-01-01T00:00:00Z".into()],
        );
        assert_eq!(c.eval(&early), Tri::True);
        let ip = with("aws:sourceip", Some("203.0.113.9"));
        let inside = Cond::new("IpAddress", "aws:SourceIp", vec!["203.0.113.0/24".into()]);
        let outside = Cond::new(
            "NotIpAddress",
            "aws:SourceIp",
            vec!["198.51.100.0/24".into()],
        );
        assert_eq!(inside.eval(&ip), Tri::True);
        assert_eq!(outside.eval(&ip), Tri::True);
        let ext = Cond::new("StringEquals", "sts:ExternalId", vec!["x".into()]);
        assert_eq!(ext.eval(&ip), Tri::Unknown(vec!["sts:externalid".into()]));
        let odd = Cond::new("BinaryEquals", "aws:SourceIp", vec!["x".into()]);
        assert!(matches!(odd.eval(&ip), Tri::Unknown(_)));
    }
}
