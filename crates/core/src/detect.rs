//! Detection intake: the alerts that start these incidents — GuardDuty findings and Security
//! Hub findings naming an access key, and AWS Health's `AWS_RISK_CREDENTIALS_EXPOSED` events
//! with the keys they affect. Read for the tracked keys (and, with none given, for any key, so
//! the console can propose the exposed ones). A source that is off, or not subscribed, says so.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where an alert came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    GuardDuty,
    SecurityHub,
    Health,
}

impl Source {
    pub const ALL: [Source; 3] = [Source::GuardDuty, Source::SecurityHub, Source::Health];

    pub fn name(self) -> &'static str {
        match self {
            Source::GuardDuty => "GuardDuty",
            Source::SecurityHub => "Security Hub",
            Source::Health => "Health",
        }
    }
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub source: Source,
    /// The finding's id or the Health event's ARN.
    pub id: String,
    /// `UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS`,
    /// `AWS_RISK_CREDENTIALS_EXPOSED`.
    pub kind: String,
    pub title: String,
    /// The source's severity in its own words (`HIGH`, `8.0`).
    pub severity: String,
    /// 0 (informational) to 3 (high or critical), for sorting and colour.
    pub rank: u8,
    /// The access keys it names.
    pub keys: Vec<String>,
    pub region: String,
    pub account: String,
    /// RFC 3339, as the journal writes times (see [`crate::journal::format_ts`]).
    #[serde(default)]
    pub first_seen: Option<String>,
    #[serde(default)]
    pub last_seen: Option<String>,
}

/// What one source answered in one region (`global` for Health).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    /// Read: this many alerts.
    Read(usize),
    /// The service is not turned on there (no detector; Security Hub not enabled).
    Off(String),
    /// Reading it needs a subscription the account does not have (Health without Business
    /// support).
    NotSubscribed(String),
    /// Anything else, in words (AccessDenied names the missing permission).
    Failed(String),
}

/// Every source read, and the alerts they gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detections {
    pub alerts: Vec<Alert>,
    /// (source, region) → what it answered.
    pub sources: BTreeMap<(Source, String), SourceState>,
}

impl Detections {
    /// Alerts sorted for the room: highest rank first, then newest.
    pub fn sorted(&self) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = self.alerts.iter().collect();
        v.sort_by(|a, b| {
            b.rank
                .cmp(&a.rank)
                .then(b.last_seen.cmp(&a.last_seen))
                .then(a.id.cmp(&b.id))
        });
        v
    }

    /// The keys the alerts name that are not tracked yet, each with the sources naming it:
    /// what the console proposes when it was started without `--key`.
    pub fn proposed(&self, tracked: &dyn Fn(&str) -> bool) -> Vec<(String, Vec<Source>)> {
        let mut by_key: BTreeMap<&str, Vec<Source>> = BTreeMap::new();
        for a in &self.alerts {
            for k in &a.keys {
                if !tracked(k) && crate::domain::validate_key_id(k).is_ok() {
                    let s = by_key.entry(k.as_str()).or_default();
                    if !s.contains(&a.source) {
                        s.push(a.source);
                    }
                }
            }
        }
        by_key
            .into_iter()
            .map(|(k, mut s)| {
                s.sort();
                (k.to_string(), s)
            })
            .collect()
    }

    /// One line per source: `GuardDuty 2 findings (3 regions) · Security Hub off in
    /// us-east-1 · Health needs a Business support plan`.
    pub fn summary(&self) -> Vec<(Source, String)> {
        let mut out = Vec::new();
        for source in Source::ALL {
            let states: Vec<(&String, &SourceState)> = self
                .sources
                .iter()
                .filter(|((s, _), _)| *s == source)
                .map(|((_, r), st)| (r, st))
                .collect();
            if states.is_empty() {
                continue;
            }
            let read: Vec<usize> = states
                .iter()
                .filter_map(|(_, s)| match s {
                    SourceState::Read(n) => Some(*n),
                    _ => None,
                })
                .collect();
            let mut parts = Vec::new();
            if !read.is_empty() {
                let n: usize = read.iter().sum();
                parts.push(format!(
                    "{n} {} ({} region{})",
                    if source == Source::Health {
                        if n == 1 { "event" } else { "events" }
                    } else if n == 1 {
                        "finding"
                    } else {
                        "findings"
                    },
                    read.len(),
                    if read.len() == 1 { "" } else { "s" }
                ));
            }
            let mut other: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for (region, s) in &states {
                let why = match s {
                    SourceState::Read(_) => continue,
                    SourceState::Off(w)
                    | SourceState::NotSubscribed(w)
                    | SourceState::Failed(w) => w.clone(),
                };
                other.entry(why).or_default().push(region.as_str());
            }
            for (why, regions) in other {
                parts.push(if regions.len() > 3 {
                    format!("{why} in {} regions", regions.len())
                } else {
                    format!("{why} in {}", regions.join(", "))
                });
            }
            out.push((source, parts.join("; ")));
        }
        out
    }
}

/// The rank of a GuardDuty severity (1–8.9: low below 4, medium below 7, high from 7).
pub fn guardduty_rank(severity: f64) -> u8 {
    if severity >= 7.0 {
        3
    } else if severity >= 4.0 {
        2
    } else if severity >= 1.0 {
        1
    } else {
        0
    }
}

/// The rank of a Security Hub label (`CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `INFORMATIONAL`).
pub fn label_rank(label: &str) -> u8 {
    match label.to_ascii_uppercase().as_str() {
        "CRITICAL" | "HIGH" => 3,
        "MEDIUM" => 2,
        "LOW" => 1,
        _ => 0,
    }
}

/// GuardDuty's words for its numeric severity.
pub fn guardduty_label(severity: f64) -> &'static str {
    if severity >= 9.0 {
        "CRITICAL"
    } else if severity >= 7.0 {
        "HIGH"
    } else if severity >= 4.0 {
        "MEDIUM"
    } else {
        "LOW"
    }
}

/// The Health event type AWS opens when it finds a key in public.
pub const EXPOSED: &str = "AWS_RISK_CREDENTIALS_EXPOSED";

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(source: Source, rank: u8, keys: &[&str]) -> Alert {
        Alert {
            source,
            id: format!("{source:?}-{rank}"),
            kind: "k".into(),
            title: "t".into(),
            severity: "HIGH".into(),
            rank,
            keys: keys.iter().map(|k| k.to_string()).collect(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            first_seen: None,
            last_seen: None,
        }
    }

    #[test]
    fn the_keys_alerts_name_are_proposed_once_with_every_source_naming_them() {
        let d = Detections {
            alerts: vec![
                alert(Source::Health, 3, &["AKIAIOSFODNN7EXAMPLE"]),
                alert(
                    Source::GuardDuty,
                    3,
                    &["AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE"],
                ),
                alert(Source::SecurityHub, 1, &["not-a-key"]),
            ],
            ..Detections::default()
        };
        let tracked = |k: &str| k == "AKIAI44QH8DHBEXAMPLE";
        assert_eq!(
            d.proposed(&tracked),
            vec![(
                "AKIAIOSFODNN7EXAMPLE".to_string(),
                vec![Source::GuardDuty, Source::Health]
            )]
        );
        assert_eq!(d.sorted()[2].source, Source::SecurityHub);
    }

    #[test]
    fn each_source_is_summed_and_its_failures_said_in_words_per_region() {
        let mut d = Detections::default();
        d.sources.insert(
            (Source::GuardDuty, "us-east-1".into()),
            SourceState::Read(2),
        );
        d.sources.insert(
            (Source::GuardDuty, "eu-west-1".into()),
            SourceState::Read(1),
        );
        d.sources.insert(
            (Source::GuardDuty, "sa-east-1".into()),
            SourceState::Off("no detector".into()),
        );
        d.sources.insert(
            (Source::Health, "global".into()),
            SourceState::NotSubscribed("needs a Business or Enterprise support plan".into()),
        );
        let s = d.summary();
        assert_eq!(
            s[0],
            (
                Source::GuardDuty,
                "3 findings (2 regions); no detector in sa-east-1".to_string()
            )
        );
        assert_eq!(s[1].0, Source::Health);
        assert!(s[1].1.starts_with("needs a Business"), "{}", s[1].1);
        assert_eq!(guardduty_rank(8.0), 3);
        assert_eq!(guardduty_label(5.0), "MEDIUM");
        assert_eq!(label_rank("critical"), 3);
    }
}
