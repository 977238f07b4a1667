//! Cost Explorer history for the game: weeks of a quiet account, then the attacker's fleet.
//!
//! moto answers `GetCostAndUsage` from a queue seeded through
//! `POST /moto-api/static/ce/cost-and-usage-results`: the first request with a parameter set it
//! has not seen takes the next queued answer, and the same parameters later get the same
//! answer again. `keyspill_aws::cost::daily` asks three queries per refresh, in the order of
//! `keyspill_aws::cost::QUERY_ORDER` (total, by SERVICE, by REGION), each for the same window.
//! So the queue holds that triple, `repeats` times over: a refresh with an unchanged window is
//! answered from what moto kept, and each new window (the date changed, or another `--days`)
//! takes the next triple. Every triple covers `days` days up to tomorrow, so any window the
//! console asks for within that span finds its days. Anything else that asks moto for costs
//! in between takes answers from the same queue.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime};

use super::clients::moto_api;
use super::rng::Rng;
use super::scenario::Scenario;

/// The key Cost Explorer uses for spend that belongs to no region.
const GLOBAL: &str = "global";
const COMPUTE: &str = "Amazon Elastic Compute Cloud - Compute";
const EC2_OTHER: &str = "EC2 - Other";
const LAMBDA: &str = "AWS Lambda";

/// One day's spend, by service and by region.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DaySpend {
    pub date: Date,
    pub by_service: BTreeMap<String, f64>,
    pub by_region: BTreeMap<String, f64>,
    pub estimated: bool,
}

impl DaySpend {
    pub(crate) fn total(&self) -> f64 {
        self.by_service.values().sum()
    }
}

/// The daily spend from `days` days before `now` to the day after it. `fleet` is what the
/// attacker launched, `(region, instance type, count)`; it runs from the leak's day on.
pub(crate) fn history(
    scenario: &Scenario,
    seed: u64,
    now: OffsetDateTime,
    leak: OffsetDateTime,
    fleet: &[(String, String, usize)],
) -> Vec<DaySpend> {
    let mut rng = Rng::new(seed, "cost");
    let c = &scenario.cost;
    let today = now.date();
    let first = today - Duration::days(i64::from(c.days) - 1);
    let mut out = Vec::new();
    let mut date = first;
    while date <= today + Duration::days(1) {
        let mut day = DaySpend {
            date,
            by_service: BTreeMap::new(),
            by_region: BTreeMap::new(),
            estimated: date >= today,
        };
        let mut ordinary = 0.0;
        for (service, base) in &c.baseline {
            let amount = base * (0.8 + 0.4 * rng.unit());
            ordinary += amount;
            *day.by_service.entry(service.clone()).or_default() += amount;
        }
        let mut left = ordinary;
        for (region, share) in scenario.home_regions.iter().zip(&c.home_shares) {
            let amount = ordinary * share;
            left -= amount;
            *day.by_region.entry(region.clone()).or_default() += amount;
        }
        if left > 0.0 {
            *day.by_region.entry(GLOBAL.to_string()).or_default() += left;
        }
        if date >= leak.date() {
            for (region, kind, count) in fleet {
                let price = c.instance_day.get(kind).copied().unwrap_or(0.0);
                let amount = price * *count as f64 * (0.97 + 0.06 * rng.unit());
                // Instances bill as compute; their volumes and traffic as "EC2 - Other".
                *day.by_service.entry(COMPUTE.to_string()).or_default() += amount * 0.93;
                *day.by_service.entry(EC2_OTHER.to_string()).or_default() += amount * 0.07;
                *day.by_region.entry(region.clone()).or_default() += amount;
            }
            if !fleet.is_empty() {
                let relay = 2.0 + 3.0 * rng.unit();
                *day.by_service.entry(LAMBDA.to_string()).or_default() += relay;
                if let Some(r) = fleet.first() {
                    *day.by_region.entry(r.0.clone()).or_default() += relay;
                }
            }
        }
        out.push(day);
        match date.next_day() {
            Some(next) => date = next,
            None => break,
        }
    }
    out
}

fn money(amount: f64) -> Value {
    json!({"Amount": format!("{amount:.10}"), "Unit": "USD"})
}

fn period(date: Date) -> Value {
    let end = date.next_day().unwrap_or(date);
    json!({"Start": date.to_string(), "End": end.to_string()})
}

/// The three `GetCostAndUsage` answers keyspill asks for, in its order.
pub(crate) fn answers(days: &[DaySpend]) -> [Value; 3] {
    let mut total = Vec::new();
    let mut service = Vec::new();
    let mut region = Vec::new();
    for d in days {
        let date = d.date;
        total.push(json!({
            "TimePeriod": period(date),
            "Total": {"UnblendedCost": money(d.total())},
            "Groups": [],
            "Estimated": d.estimated,
        }));
        let groups = |m: &BTreeMap<String, f64>| -> Vec<Value> {
            m.iter()
                .map(|(k, v)| json!({"Keys": [k], "Metrics": {"UnblendedCost": money(*v)}}))
                .collect()
        };
        service.push(json!({
            "TimePeriod": period(date),
            "Total": {},
            "Groups": groups(&d.by_service),
            "Estimated": d.estimated,
        }));
        region.push(json!({
            "TimePeriod": period(date),
            "Total": {},
            "Groups": groups(&d.by_region),
            "Estimated": d.estimated,
        }));
    }
    let grouped = |key: &str, results: Vec<Value>| {
        json!({
            "ResultsByTime": results,
            "GroupDefinitions": [{"Type": "DIMENSION", "Key": key}],
            "DimensionValueAttributes": [],
        })
    };
    [
        json!({"ResultsByTime": total, "DimensionValueAttributes": []}),
        grouped("SERVICE", service),
        grouped("REGION", region),
    ]
}

/// Queues the cost history in moto, `repeats` triples deep.
pub(crate) async fn seed_costs(
    endpoint: &str,
    scenario: &Scenario,
    seed: u64,
    now: OffsetDateTime,
    leak: OffsetDateTime,
    fleet: &[(String, String, usize)],
) -> Result<Vec<Value>, String> {
    let days = history(scenario, seed, now, leak, fleet);
    let [total, service, region] = answers(&days);
    let mut results = Vec::new();
    for _ in 0..scenario.cost.repeats {
        results.push(total.clone());
        results.push(service.clone());
        results.push(region.clone());
    }
    let body = json!({ "results": results }).to_string();
    moto_api(endpoint, "/moto-api/static/ce/cost-and-usage-results", body).await?;
    Ok(anomalies(&days, now, leak, fleet))
}

/// The monitor Cost Anomaly Detection creates by default, as `GetAnomalyMonitors` lists it.
pub(crate) const MONITOR_ARN: &str =
    "arn:aws:ce::123456789012:anomalymonitor/6b2f3c1e-0d4a-4b7e-9c1f-2a3b4c5d6e7f";

/// What Cost Anomaly Detection would say of the game's spend: one anomaly per region the
/// attacker's fleet runs in (that region cost nothing before the leak), as `GetAnomalies`
/// answers it.
pub(crate) fn anomalies(
    days: &[DaySpend],
    now: OffsetDateTime,
    leak: OffsetDateTime,
    fleet: &[(String, String, usize)],
) -> Vec<Value> {
    let today = now.date();
    let mut by_region: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (region, kind, _) in fleet {
        by_region.entry(region).or_default().push(kind);
    }
    by_region
        .into_iter()
        .map(|(region, kinds)| {
            // What was billed: the days from the leak's on, not the estimate for tomorrow.
            let spent: Vec<f64> = days
                .iter()
                .filter(|d| d.date >= leak.date() && d.date <= leak.date().max(today))
                .map(|d| d.by_region.get(region).copied().unwrap_or(0.0))
                .collect();
            let total: f64 = spent.iter().sum();
            let max = spent.iter().copied().fold(0.0, f64::max);
            json!({
                "AnomalyId": format!("anomaly-{region}-{}", leak.date()),
                "AnomalyStartDate": leak.date().to_string(),
                "DimensionValue": COMPUTE,
                "RootCauses": kinds.iter().map(|k| json!({
                    "Service": COMPUTE,
                    "Region": region,
                    "UsageType": format!("BoxUsage:{k}"),
                })).collect::<Vec<_>>(),
                "AnomalyScore": {"MaxScore": 0.98, "CurrentScore": 0.95},
                "Impact": {
                    "MaxImpact": max,
                    "TotalImpact": total,
                    "TotalActualSpend": total,
                    "TotalExpectedSpend": 0.0,
                },
                "MonitorArn": MONITOR_ARN,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn quiet_before_the_leak_thousands_after_and_the_parts_add_up() {
        let s = crate::scenario("github-leak").expect("scenario");
        let now = datetime!(2025-03-10 12:00 UTC);
        let fleet = vec![
            ("sa-east-1".to_string(), "p3.8xlarge".to_string(), 3usize),
            (
                "ap-south-1".to_string(),
                "g4dn.12xlarge".to_string(),
                2usize,
            ),
        ];
        let days = history(&s, 1, now, now, &fleet);
        assert_eq!(days.len(), s.cost.days as usize + 1);
        for d in &days {
            let regions: f64 = d.by_region.values().sum();
            assert!((regions - d.total()).abs() < 1e-6, "{d:?}");
            if d.date < now.date() {
                assert!(d.total() < 10.0, "{d:?}");
                assert!(!d.estimated);
            } else {
                assert!(d.total() > 1000.0, "{d:?}");
                assert!(d.by_region.contains_key("sa-east-1"));
                assert!(d.estimated);
            }
        }
        assert_eq!(history(&s, 1, now, now, &fleet), days);
        let [total, service, region] = answers(&days);
        assert_eq!(
            total["ResultsByTime"].as_array().map(Vec::len),
            Some(days.len())
        );
        assert_eq!(service["GroupDefinitions"][0]["Key"], "SERVICE");
        assert_eq!(region["GroupDefinitions"][0]["Key"], "REGION");
    }

    #[test]
    fn one_anomaly_per_attacker_region_with_what_was_billed_there() {
        let s = crate::scenario("github-leak").expect("scenario");
        let now = datetime!(2025-03-10 12:00 UTC);
        let fleet = vec![
            ("sa-east-1".to_string(), "p3.8xlarge".to_string(), 3usize),
            ("sa-east-1".to_string(), "c5.4xlarge".to_string(), 1usize),
            (
                "ap-south-1".to_string(),
                "g4dn.12xlarge".to_string(),
                2usize,
            ),
        ];
        let days = history(&s, 1, now, now, &fleet);
        let found = anomalies(&days, now, now, &fleet);
        let regions: Vec<&str> = found
            .iter()
            .filter_map(|a| a["RootCauses"][0]["Region"].as_str())
            .collect();
        assert_eq!(regions, ["ap-south-1", "sa-east-1"]);
        // Only the leak's day is billed (tomorrow's estimate is not an anomaly yet).
        let billed = days
            .iter()
            .find(|d| d.date == now.date())
            .and_then(|d| d.by_region.get("sa-east-1").copied())
            .expect("spend");
        let impact = found[1]["Impact"]["TotalImpact"].as_f64().expect("impact");
        assert!((impact - billed).abs() < 1e-9, "{impact} vs {billed}");
        assert_eq!(found[1]["RootCauses"].as_array().map(Vec::len), Some(2));
        assert!(anomalies(&days, now, now, &[]).is_empty());
    }
}
