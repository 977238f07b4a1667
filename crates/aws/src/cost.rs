//! Cost Explorer: daily spend (in total, by service, by region) and AWS's own anomalies.
//!
//! Cost Explorer is unlike the other services keyspill reads:
//! - **Every request is billed**, USD 0.01 each, every page of a paginated answer included.
//!   [`Meter`] counts them for the session so the Cost tab can say what looking has cost.
//! - **One request at a time.** The design rule is never more than one Cost Explorer request
//!   in flight: [`daily`] runs its three queries one after another, each to its last page,
//!   in a fixed order (total, by service, by region; see [`QUERY_ORDER`]), and [`anomalies`]
//!   asks for the monitors before it asks for anomalies.
//! - **No SDK retries.** The client used here has the SDK's retries switched off, whatever
//!   `--max-attempts` says for the other services: a retry is another billed request that
//!   the meter would never see, and an endpoint that answers HTTP 500 (moto has no
//!   `GetAnomalies`) would otherwise be asked three times, slowly. One logical request is one
//!   HTTP request; a failure is reported, and the next refresh (hourly, or by hand) tries again.
//! - It is served from us-east-1 only ([`Aws::ce`] pins that region).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_costexplorer::config::retry::RetryConfig;
use aws_sdk_costexplorer::types::{
    AnomalyDateInterval, DateInterval, Granularity, GroupDefinition, GroupDefinitionType,
    MetricValue, ResultByTime,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, Duration};

use crate::{Aws, AwsError, Sent};
pub use keyspill_core::cost::model::{ANOMALY_WINDOW_DAYS, USD_PER_REQUEST};
use keyspill_core::cost::model::{Anomalies, Anomaly, CostData, Day, RootCause, Series};

/// The metric every figure is read from.
pub const METRIC: &str = "UnblendedCost";

/// The order in which [`daily`] sends its three queries: the total, then grouped by the
/// `SERVICE` dimension, then grouped by the `REGION` dimension (`None` = no grouping). Tests
/// against moto seed its answer queue in this order.
pub const QUERY_ORDER: [Option<&str>; 3] = [None, Some("SERVICE"), Some("REGION")];

/// The currency assumed when no figure carries a unit (an empty window, say).
const DEFAULT_UNIT: &str = "USD";

const GET_COST_AND_USAGE: &str = "ce:GetCostAndUsage";
const GET_ANOMALY_MONITORS: &str = "ce:GetAnomalyMonitors";
const GET_ANOMALIES: &str = "ce:GetAnomalies";

/// Cost Explorer's date format: `2025-03-01`.
const YMD: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// The Cost Explorer requests made this session, and what they cost. Clones share one
/// counter, so every poller and the header read the same figure.
///
/// What counts: every HTTP request that reached, or may have reached, Cost Explorer — each
/// page of a paginated answer, and failed requests too (an AccessDenied, a throttle, an HTTP
/// 500, a request that timed out waiting for its answer), since AWS bills the requests it
/// receives and a request that got no answer may still have been received. What does not
/// count: a request that provably never left this machine (it could not be built, or the
/// connection could not be made: refused, no route, DNS, connect timeout). The meter is thus
/// an upper bound on the bill, never an under-estimate.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    requests: Arc<AtomicU64>,
}

impl Meter {
    pub fn new() -> Meter {
        Meter::default()
    }

    /// Requests counted so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// What those requests cost, in US dollars.
    pub fn cost_usd(&self) -> f64 {
        self.requests() as f64 * USD_PER_REQUEST
    }

    /// Counts one request by its outcome (see the type's documentation).
    fn count<T, E>(&self, result: &Result<T, SdkError<E, HttpResponse>>) {
        let reached = match result {
            Ok(_) => true,
            Err(SdkError::ConstructionFailure(_) | SdkError::DispatchFailure(_)) => false,
            Err(_) => true,
        };
        if reached {
            self.requests.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Daily unblended cost for the days `from` up to but not including `to_exclusive`: the
/// total, and the same grouped by service and by region.
///
/// Three `GetCostAndUsage` queries (DAILY, `UnblendedCost`), sent one after another in the
/// order of [`QUERY_ORDER`], each followed to its last page; every page is counted on `meter`.
/// `total` has every day of the window, oldest first, zero for a day Cost Explorer did not
/// return. A series holds only the days its group appeared on, oldest first; series are
/// ordered by their spend over the window, largest first. Days Cost Explorer returns outside
/// the window are left out. An amount that is not a number fails the whole refresh with an
/// error in words (nothing is guessed). An empty window is refused without a request.
pub async fn daily(
    aws: &Aws,
    meter: &Meter,
    from: Date,
    to_exclusive: Date,
) -> Result<CostData, AwsError> {
    if to_exclusive <= from {
        return Err(AwsError::other(format!(
            "{GET_COST_AND_USAGE}: the window {} to {} holds no day; nothing was asked",
            ymd(from),
            ymd(to_exclusive)
        )));
    }
    let client = unretried_client(aws);
    // Strictly sequential: each query (and each of its pages) is awaited before the next
    // request is sent, and the first failure ends the refresh before anything more is asked.
    let [total_q, service_q, region_q] = QUERY_ORDER;
    let total = cost_and_usage(&client, meter, from, to_exclusive, total_q).await?;
    let by_service = cost_and_usage(&client, meter, from, to_exclusive, service_q).await?;
    let by_region = cost_and_usage(&client, meter, from, to_exclusive, region_q).await?;

    let mut unit: Option<String> = None;
    let total = total_days(&total, from, to_exclusive, &mut unit)?;
    let by_service = series(&by_service, "SERVICE", from, to_exclusive, &mut unit)?;
    let by_region = series(&by_region, "REGION", from, to_exclusive, &mut unit)?;
    Ok(CostData {
        total,
        by_service,
        by_region,
        unit: unit.unwrap_or_else(|| DEFAULT_UNIT.to_string()),
    })
}

/// AWS's own anomaly detection: `GetAnomalyMonitors` (every page), then, if the account has
/// a monitor, `GetAnomalies` for every monitor since `today` − [`ANOMALY_WINDOW_DAYS`] (every
/// page). Without a monitor the answer is [`Anomalies::NoMonitor`] and `GetAnomalies` is not
/// asked (it would cost a request and say nothing). Every page is counted on `meter`.
///
/// `monitors` are the monitors' names. An anomaly's `monitor` is the name of the monitor
/// that found it when that monitor was listed, its ARN otherwise. `impact` is AWS's
/// `TotalImpact`, `max_impact` its `MaxImpact` (zero when AWS gives no impact), `score` the
/// `MaxScore`. Dates are read leniently (`2025-03-02`, or with a time after it); one that
/// cannot be read is `None`. Anomalies keep the order AWS gave them.
pub async fn anomalies(aws: &Aws, meter: &Meter, today: Date) -> Result<Anomalies, AwsError> {
    let client = unretried_client(aws);

    let mut monitors: Vec<(Option<String>, String)> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let result = client
            .get_anomaly_monitors()
            .set_next_page_token(token.take())
            .send()
            .await;
        meter.count(&result);
        let page = result.sent(GET_ANOMALY_MONITORS)?;
        for m in page.anomaly_monitors() {
            let arn = m.monitor_arn().map(str::to_string);
            let name = match m.monitor_name() {
                "" => arn.clone().unwrap_or_default(),
                n => n.to_string(),
            };
            monitors.push((arn, name));
        }
        token = next_token(page.next_page_token());
        if token.is_none() {
            break;
        }
    }
    if monitors.is_empty() {
        return Ok(Anomalies::NoMonitor);
    }
    let names: HashMap<&str, &str> = monitors
        .iter()
        .filter_map(|(arn, name)| Some((arn.as_deref()?, name.as_str())))
        .collect();

    let start = today
        .checked_sub(Duration::days(ANOMALY_WINDOW_DAYS))
        .ok_or_else(|| AwsError::other(format!("{GET_ANOMALIES}: {today} is out of range")))?;
    let interval = AnomalyDateInterval::builder()
        .start_date(ymd(start))
        .build()
        .map_err(|e| AwsError::other(format!("{GET_ANOMALIES}: {e}")))?;

    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let result = client
            .get_anomalies()
            .date_interval(interval.clone())
            .set_next_page_token(token.take())
            .send()
            .await;
        meter.count(&result);
        let page = result.sent(GET_ANOMALIES)?;
        for a in page.anomalies() {
            let arn = a.monitor_arn();
            let impact = a.impact();
            found.push(Anomaly {
                id: a.anomaly_id().to_string(),
                start: a.anomaly_start_date().and_then(lenient_date),
                end: a.anomaly_end_date().and_then(lenient_date),
                impact: impact.map_or(0.0, |i| i.total_impact()),
                max_impact: impact.map_or(0.0, |i| i.max_impact()),
                score: a.anomaly_score().map(|s| s.max_score()),
                monitor: names
                    .get(arn)
                    .map_or_else(|| arn.to_string(), |n| n.to_string()),
                causes: a
                    .root_causes()
                    .iter()
                    .map(|c| RootCause {
                        service: non_empty(c.service()),
                        region: non_empty(c.region()),
                        usage_type: non_empty(c.usage_type()),
                        account: non_empty(c.linked_account()),
                    })
                    .collect(),
            });
        }
        token = next_token(page.next_page_token());
        if token.is_none() {
            break;
        }
    }
    Ok(Anomalies::Found {
        monitors: monitors.into_iter().map(|(_, name)| name).collect(),
        anomalies: found,
    })
}

/// The session's Cost Explorer client (us-east-1) with the SDK's retries off: one logical
/// request is one billed request, so the meter is honest and a failing endpoint is asked
/// once, not three times.
fn unretried_client(aws: &Aws) -> aws_sdk_costexplorer::Client {
    let conf = aws
        .ce()
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_costexplorer::Client::from_conf(conf)
}

/// Every `ResultsByTime` entry of one query, all pages, in the order received.
async fn cost_and_usage(
    client: &aws_sdk_costexplorer::Client,
    meter: &Meter,
    from: Date,
    to_exclusive: Date,
    group: Option<&str>,
) -> Result<Vec<ResultByTime>, AwsError> {
    let period = DateInterval::builder()
        .start(ymd(from))
        .end(ymd(to_exclusive))
        .build()
        .map_err(|e| AwsError::other(format!("{GET_COST_AND_USAGE}: {e}")))?;
    let group_by = group.map(|key| {
        GroupDefinition::builder()
            .r#type(GroupDefinitionType::Dimension)
            .key(key)
            .build()
    });
    let mut results = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let result = client
            .get_cost_and_usage()
            .time_period(period.clone())
            .granularity(Granularity::Daily)
            .metrics(METRIC)
            .set_group_by(group_by.clone().map(|g| vec![g]))
            .set_next_page_token(token.take())
            .send()
            .await;
        meter.count(&result);
        let page = result.sent(GET_COST_AND_USAGE)?;
        results.extend(page.results_by_time().iter().cloned());
        token = next_token(page.next_page_token());
        if token.is_none() {
            return Ok(results);
        }
    }
}

/// The total per day: every day of the window, zero where Cost Explorer said nothing.
fn total_days(
    results: &[ResultByTime],
    from: Date,
    to_exclusive: Date,
    unit: &mut Option<String>,
) -> Result<Vec<Day>, AwsError> {
    let mut known: BTreeMap<Date, Day> = BTreeMap::new();
    for r in results {
        let date = period_start(r)?;
        if date < from || date >= to_exclusive {
            continue;
        }
        let amount = match r.total().and_then(|m| m.get(METRIC)) {
            Some(v) => amount(v, unit, || format!("the total of {}", ymd(date)))?,
            None => 0.0,
        };
        known.insert(
            date,
            Day {
                date,
                amount,
                estimated: r.estimated(),
            },
        );
    }
    let mut days = Vec::new();
    let mut date = from;
    while date < to_exclusive {
        days.push(known.remove(&date).unwrap_or(Day {
            date,
            amount: 0.0,
            estimated: false,
        }));
        match date.next_day() {
            Some(next) => date = next,
            None => break,
        }
    }
    Ok(days)
}

/// One series per group key, each day oldest first; series by spend, largest first.
fn series(
    results: &[ResultByTime],
    dimension: &str,
    from: Date,
    to_exclusive: Date,
    unit: &mut Option<String>,
) -> Result<Vec<Series>, AwsError> {
    let mut by_key: BTreeMap<String, BTreeMap<Date, Day>> = BTreeMap::new();
    for r in results {
        let date = period_start(r)?;
        if date < from || date >= to_exclusive {
            continue;
        }
        for g in r.groups() {
            let key = g.keys().join(", ");
            let Some(value) = g.metrics().and_then(|m| m.get(METRIC)) else {
                continue;
            };
            let amount = amount(value, unit, || {
                format!("{dimension} {key:?} on {}", ymd(date))
            })?;
            by_key.entry(key).or_default().insert(
                date,
                Day {
                    date,
                    amount,
                    estimated: r.estimated(),
                },
            );
        }
    }
    let mut out: Vec<(f64, Series)> = by_key
        .into_iter()
        .map(|(key, days)| {
            let days: Vec<Day> = days.into_values().collect();
            let sum = days.iter().map(|d| d.amount).sum::<f64>();
            (sum, Series { key, days })
        })
        .collect();
    out.sort_by(|(a, x), (b, y)| b.total_cmp(a).then_with(|| x.key.cmp(&y.key)));
    Ok(out.into_iter().map(|(_, s)| s).collect())
}

/// The day a `ResultsByTime` entry is about (its period's start).
fn period_start(r: &ResultByTime) -> Result<Date, AwsError> {
    let start = r.time_period().map_or("", |p| p.start());
    lenient_date(start).ok_or_else(|| {
        AwsError::other(format!(
            "{GET_COST_AND_USAGE}: Cost Explorer sent a day that is not a date: {start:?}"
        ))
    })
}

/// An amount as a number; the first unit seen becomes the data's unit. `what` says which
/// figure was unreadable.
fn amount(
    v: &MetricValue,
    unit: &mut Option<String>,
    what: impl FnOnce() -> String,
) -> Result<f64, AwsError> {
    if unit.is_none() {
        *unit = non_empty(v.unit());
    }
    let raw = v.amount().unwrap_or("");
    match raw.trim().parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err(AwsError::other(format!(
            "{GET_COST_AND_USAGE}: Cost Explorer sent an amount that is not a number for {}: \
             {raw:?}",
            what()
        ))),
    }
}

/// `2025-03-02`, `2025-03-02T00:00:00Z` or `2025-03-02 00:00:00` → the date; else `None`.
fn lenient_date(s: &str) -> Option<Date> {
    let s = s.trim();
    Date::parse(s.get(..10)?, YMD).ok()
}

fn ymd(d: Date) -> String {
    d.format(YMD).unwrap_or_else(|_| d.to_string())
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn next_token(t: Option<&str>) -> Option<String> {
    t.filter(|t| !t.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_are_read_leniently() {
        assert_eq!(lenient_date("2025-03-02"), Some(date!(2025 - 03 - 02)));
        assert_eq!(
            lenient_date("2025-03-02T00:00:00Z"),
            Some(date!(2025 - 03 - 02))
        );
        assert_eq!(
            lenient_date(" 2025-03-02 13:00:00"),
            Some(date!(2025 - 03 - 02))
        );
        assert_eq!(lenient_date("2025-3-2"), None);
        assert_eq!(lenient_date("yesterday"), None);
        assert_eq!(lenient_date("2025-03-0é"), None);
        assert_eq!(ymd(date!(2025 - 03 - 02)), "2025-03-02");
    }

    #[test]
    fn an_amount_that_is_not_a_number_is_an_error_in_words() {
        let mut unit = None;
        let v = MetricValue::builder().amount("12.50").unit("USD").build();
        assert_eq!(amount(&v, &mut unit, String::new), Ok(12.5));
        assert_eq!(unit.as_deref(), Some("USD"));
        for bad in ["12,50", "", "NaN", "inf"] {
            let v = MetricValue::builder().amount(bad).build();
            let e = amount(&v, &mut unit, || "the total of 2025-03-02".into())
                .expect_err("not a number");
            assert!(e.text.contains("not a number"), "{}", e.text);
            assert!(e.text.contains("2025-03-02"), "{}", e.text);
        }
    }

    #[test]
    fn the_meter_is_shared_by_its_clones() {
        let m = Meter::new();
        let n = m.clone();
        let ok: Result<(), SdkError<std::io::Error, HttpResponse>> = Ok(());
        m.count(&ok);
        n.count(&ok);
        assert_eq!(m.requests(), 2);
        assert!((n.cost_usd() - 0.02).abs() < 1e-9);
    }
}
