//! The Cost tab's AWS sources: daily `GetCostAndUsage` against moto (seeded through its
//! results queue), anomalies and the request discipline (order, one at a time, no retries,
//! us-east-1) against an in-test Cost Explorer server, since moto has no `GetAnomalies`.

use crate::ce_server;
use crate::common;
use std::time::{Duration, Instant};

use ce_server::CeServer;
use common::{Moto, MotoOptions, aws_root, dead_endpoint};
use keyspill_aws::cost::{self, Meter};
use keyspill_aws::{Aws, ConnectOptions, ErrorKind};
use keyspill_core::cost::model::{Anomalies, Day, RootCause};
use serde_json::{Value, json};
use time::Date;
use time::macros::date;

const FROM: Date = date!(2025 - 03 - 01);
const TO: Date = date!(2025 - 03 - 05);
const TODAY: Date = date!(2025 - 06 - 10);

/// The SDK as keyspill builds it, pointed at `endpoint`. `max_attempts` is the program-wide
/// retry setting, which Cost Explorer calls must not follow.
async fn aws_at(endpoint: &str, region: &str, max_attempts: u32) -> Aws {
    Aws::connect(&ConnectOptions {
        profile: None,
        region: Some(region.into()),
        endpoint_url: Some(endpoint.to_string()),
        static_credentials: Some((
            "AKIA2RESPONDERSELF5X".into(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        )),
        max_attempts,
        session_token: None,
        service_endpoints: Default::default(),
    })
    .await
}

fn day(date: Date, amount: f64, estimated: bool) -> Day {
    Day {
        date,
        amount,
        estimated,
    }
}

fn usd(amount: &str) -> Value {
    json!({"Amount": amount, "Unit": "USD"})
}

/// A `ResultsByTime` entry of an ungrouped query.
fn total_entry(start: &str, end: &str, amount: &str, estimated: bool) -> Value {
    json!({
        "TimePeriod": {"Start": start, "End": end},
        "Total": {"UnblendedCost": usd(amount)},
        "Groups": [],
        "Estimated": estimated
    })
}

/// A `ResultsByTime` entry of a grouped query: `Total` is empty, as Cost Explorer sends it.
fn grouped_entry(start: &str, end: &str, groups: &[(&str, &str)], estimated: bool) -> Value {
    let groups: Vec<Value> = groups
        .iter()
        .map(|(k, a)| json!({"Keys": [k], "Metrics": {"UnblendedCost": usd(a)}}))
        .collect();
    json!({
        "TimePeriod": {"Start": start, "End": end},
        "Total": {},
        "Groups": groups,
        "Estimated": estimated
    })
}

fn seed(moto: &Moto, results: &[Value]) {
    let body = json!({ "results": results }).to_string();
    moto.http(
        "POST",
        "/moto-api/static/ce/cost-and-usage-results",
        "application/json",
        &body,
    );
}

/// The three answers `daily` takes from moto's queue, in the order it asks: total, by
/// service, by region.
fn seeded_week() -> Vec<Value> {
    vec![
        json!({
            "ResultsByTime": [
                total_entry("2025-03-01", "2025-03-02", "12.50", false),
                total_entry("2025-03-02", "2025-03-03", "4375.20", true),
                // 2025-03-03 is missing: a gap day.
                total_entry("2025-03-04", "2025-03-05", "0.30", true),
                // The end of the window is exclusive: this day is not part of it.
                total_entry("2025-03-05", "2025-03-06", "99.00", true),
            ],
            "DimensionValueAttributes": []
        }),
        json!({
            "ResultsByTime": [
                grouped_entry("2025-03-01", "2025-03-02",
                    &[("Amazon Elastic Compute Cloud - Compute", "10.00"), ("AWS Lambda", "2.50")], false),
                grouped_entry("2025-03-02", "2025-03-03",
                    &[("Amazon Elastic Compute Cloud - Compute", "4300.00"), ("AWS Lambda", "75.20")], true),
            ],
            "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}],
            "DimensionValueAttributes": []
        }),
        json!({
            "ResultsByTime": [
                grouped_entry("2025-03-01", "2025-03-02", &[("us-east-1", "12.50")], false),
                grouped_entry("2025-03-02", "2025-03-03",
                    &[("us-east-1", "100.00"), ("ap-southeast-1", "4275.20")], true),
                grouped_entry("2025-03-04", "2025-03-05", &[("us-east-1", "0.30")], true),
            ],
            "GroupDefinitions": [{"Type": "DIMENSION", "Key": "REGION"}],
            "DimensionValueAttributes": []
        }),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn daily_reads_totals_services_and_regions_seeded_in_moto() {
    let moto = Moto::start();
    seed(&moto, &seeded_week());
    let aws = aws_root(&moto).await;
    let meter = Meter::new();

    let data = cost::daily(&aws, &meter, FROM, TO)
        .await
        .expect("daily cost");

    assert_eq!(
        data.total,
        vec![
            day(date!(2025 - 03 - 01), 12.50, false),
            day(date!(2025 - 03 - 02), 4375.20, true),
            day(date!(2025 - 03 - 03), 0.0, false),
            day(date!(2025 - 03 - 04), 0.30, true),
        ],
        "every day of the window, the gap filled with zero, nothing past the end"
    );
    assert_eq!(data.unit, "USD");

    let services: Vec<&str> = data.by_service.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        services,
        ["Amazon Elastic Compute Cloud - Compute", "AWS Lambda"],
        "largest spender first"
    );
    assert_eq!(
        data.by_service[0].days,
        vec![
            day(date!(2025 - 03 - 01), 10.00, false),
            day(date!(2025 - 03 - 02), 4300.00, true),
        ]
    );
    assert_eq!(
        data.by_service[1].days,
        vec![
            day(date!(2025 - 03 - 01), 2.50, false),
            day(date!(2025 - 03 - 02), 75.20, true),
        ]
    );

    let regions: Vec<&str> = data.by_region.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(regions, ["ap-southeast-1", "us-east-1"]);
    assert_eq!(
        data.by_region[0].days,
        vec![day(date!(2025 - 03 - 02), 4275.20, true)],
        "a group keeps only the days it appeared on"
    );
    assert_eq!(
        data.by_region[1].days,
        vec![
            day(date!(2025 - 03 - 01), 12.50, false),
            day(date!(2025 - 03 - 02), 100.00, true),
            day(date!(2025 - 03 - 04), 0.30, true),
        ]
    );

    assert_eq!(meter.requests(), 3, "three queries, one page each");
    assert!(
        (meter.cost_usd() - 0.03).abs() < 1e-9,
        "{}",
        meter.cost_usd()
    );

    // A second refresh with the same parameters gets the same answers and costs three more.
    let again = cost::daily(&aws, &meter, FROM, TO).await.expect("again");
    assert_eq!(again, data);
    assert_eq!(meter.requests(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn daily_follows_next_page_tokens_in_moto() {
    // moto hands each distinct request body the next queued answer, and a request carrying a
    // NextPageToken is a distinct body: so the queue is total page 1 (with a token), total
    // page 2, by service, by region.
    let moto = Moto::start();
    let mut week = seeded_week();
    let (service, region) = (week.remove(1), week.remove(1));
    seed(
        &moto,
        &[
            json!({
                "ResultsByTime": [
                    total_entry("2025-03-01", "2025-03-02", "12.50", false),
                    total_entry("2025-03-02", "2025-03-03", "4375.20", true),
                ],
                "NextPageToken": "AAMA-page-2",
                "DimensionValueAttributes": []
            }),
            json!({
                "ResultsByTime": [
                    total_entry("2025-03-03", "2025-03-04", "1.25", true),
                    total_entry("2025-03-04", "2025-03-05", "0.30", true),
                ],
                "DimensionValueAttributes": []
            }),
            service,
            region,
        ],
    );
    let aws = aws_root(&moto).await;
    let meter = Meter::new();

    let data = cost::daily(&aws, &meter, FROM, TO)
        .await
        .expect("daily cost");

    assert_eq!(
        data.total,
        vec![
            day(date!(2025 - 03 - 01), 12.50, false),
            day(date!(2025 - 03 - 02), 4375.20, true),
            day(date!(2025 - 03 - 03), 1.25, true),
            day(date!(2025 - 03 - 04), 0.30, true),
        ],
        "both pages of the total"
    );
    // The service and region answers were taken from the queue in their places.
    assert_eq!(
        data.by_service[0].key,
        "Amazon Elastic Compute Cloud - Compute"
    );
    assert_eq!(data.by_region[0].key, "ap-southeast-1");
    assert_eq!(meter.requests(), 4, "every page is a billed request");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_amount_that_is_not_a_number_is_an_error_in_words() {
    let moto = Moto::start();
    seed(
        &moto,
        &[json!({
            "ResultsByTime": [total_entry("2025-03-02", "2025-03-03", "4.375,20", true)],
            "DimensionValueAttributes": []
        })],
    );
    let aws = aws_root(&moto).await;
    let meter = Meter::new();

    let err = cost::daily(&aws, &meter, FROM, TO)
        .await
        .expect_err("the amount is not a number");

    assert!(err.text.contains("ce:GetCostAndUsage"), "{}", err.text);
    assert!(err.text.contains("not a number"), "{}", err.text);
    assert!(err.text.contains("\"4.375,20\""), "{}", err.text);
    assert!(err.text.contains("2025-03-02"), "{}", err.text);
    assert_eq!(
        meter.requests(),
        3,
        "the figures are read once all three are in"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn anomalies_against_moto_fail_once_in_words() {
    // moto has no GetAnomalyMonitors / GetAnomalies: HTTP 500 with an HTML body. The
    // session's retry setting is 3 attempts; Cost Explorer calls must still ask only once.
    let moto = Moto::start_with(MotoOptions {
        record: true,
        ..MotoOptions::default()
    });
    let aws = aws_at(&moto.endpoint(), "us-east-1", 3).await;
    let meter = Meter::new();

    let began = Instant::now();
    let err = cost::anomalies(&aws, &meter, TODAY)
        .await
        .expect_err("moto has no anomaly monitors");
    let took = began.elapsed();

    assert_eq!(err.kind, ErrorKind::NotImplemented, "{}", err.text);
    assert!(
        err.text.starts_with("ce:GetAnomalyMonitors:"),
        "{}",
        err.text
    );
    assert!(err.text.contains("HTTP 500"), "{}", err.text);
    assert!(err.text.contains("not available"), "{}", err.text);
    assert_eq!(
        meter.requests(),
        1,
        "the failed request reached Cost Explorer: counted"
    );
    let asked: Vec<String> = moto
        .recorded_requests()
        .into_iter()
        .filter(|r| !r.contains("/moto-api/"))
        .collect();
    assert_eq!(asked.len(), 1, "asked once, never retried: {asked:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_monitor_means_no_monitor_and_no_anomaly_request() {
    let server = CeServer::start();
    let aws = aws_at(&server.endpoint(), "us-east-1", 1).await;
    let meter = Meter::new();

    let got = cost::anomalies(&aws, &meter, TODAY)
        .await
        .expect("anomalies");

    assert_eq!(got, Anomalies::NoMonitor);
    assert_eq!(server.operations(), ["GetAnomalyMonitors"]);
    assert_eq!(meter.requests(), 1);
}

fn monitor(arn: &str, name: &str) -> Value {
    json!({
        "MonitorArn": arn,
        "MonitorName": name,
        "CreationDate": "2025-01-15",
        "MonitorType": "DIMENSIONAL",
        "MonitorDimension": "SERVICE"
    })
}

const SERVICES_MONITOR: &str =
    "arn:aws:ce::123456789012:anomalymonitor/0a1b2c3d-1111-4222-8333-444455556666";
const ACCOUNT_MONITOR: &str =
    "arn:aws:ce::123456789012:anomalymonitor/9f8e7d6c-aaaa-4bbb-8ccc-ddddeeeeffff";
const GONE_MONITOR: &str =
    "arn:aws:ce::123456789012:anomalymonitor/deleted0-0000-4000-8000-000000000000";

#[tokio::test(flavor = "multi_thread")]
async fn anomalies_over_two_pages_are_all_mapped_with_their_causes() {
    let server = CeServer::start();
    server.set_monitor_pages(vec![vec![
        monitor(SERVICES_MONITOR, "Default-Services-Monitor"),
        monitor(ACCOUNT_MONITOR, "Linked accounts"),
    ]]);
    server.set_anomaly_pages(vec![
        vec![json!({
            "AnomalyId": "anom-ec2-ap-southeast-1",
            "AnomalyStartDate": "2025-06-08",
            "AnomalyEndDate": "2025-06-09T00:00:00Z",
            "DimensionValue": "Amazon Elastic Compute Cloud - Compute",
            "RootCauses": [
                {"Service": "Amazon Elastic Compute Cloud - Compute", "Region": "ap-southeast-1",
                 "LinkedAccount": "123456789012", "LinkedAccountName": "prod",
                 "UsageType": "APS1-BoxUsage:p3.16xlarge"},
                {"Service": "Amazon Elastic Compute Cloud - Compute", "Region": "sa-east-1",
                 "UsageType": "SAE1-BoxUsage:g4dn.12xlarge"}
            ],
            "AnomalyScore": {"MaxScore": 0.97, "CurrentScore": 0.81},
            "Impact": {"MaxImpact": 4300.0, "TotalImpact": 8123.45,
                       "TotalActualSpend": 8200.0, "TotalExpectedSpend": 76.55,
                       "TotalImpactPercentage": 10611.9},
            "MonitorArn": SERVICES_MONITOR
        })],
        vec![
            json!({
                "AnomalyId": "anom-lambda",
                "AnomalyStartDate": "2025-06-09 00:00:00",
                "RootCauses": [{"Service": "AWS Lambda", "Region": "us-east-1"}],
                "AnomalyScore": {"MaxScore": 0.42, "CurrentScore": 0.42},
                "Impact": {"MaxImpact": 75.2, "TotalImpact": 75.2},
                "MonitorArn": ACCOUNT_MONITOR
            }),
            json!({
                "AnomalyId": "anom-old-monitor",
                "AnomalyStartDate": "sometime",
                "AnomalyScore": {"MaxScore": 0.2, "CurrentScore": 0.1},
                "Impact": {"MaxImpact": 1.0, "TotalImpact": 2.0},
                "MonitorArn": GONE_MONITOR
            }),
        ],
    ]);
    // The session is in another region: Cost Explorer must still be asked in us-east-1.
    let aws = aws_at(&server.endpoint(), "eu-west-1", 1).await;
    let meter = Meter::new();

    let got = cost::anomalies(&aws, &meter, TODAY)
        .await
        .expect("anomalies");

    let Anomalies::Found {
        monitors,
        anomalies,
    } = got
    else {
        panic!("monitors exist: {got:?}");
    };
    assert_eq!(monitors, ["Default-Services-Monitor", "Linked accounts"]);
    let ids: Vec<&str> = anomalies.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        ["anom-ec2-ap-southeast-1", "anom-lambda", "anom-old-monitor"],
        "both pages, in AWS's order"
    );

    let ec2 = &anomalies[0];
    assert_eq!(ec2.start, Some(date!(2025 - 06 - 08)));
    assert_eq!(
        ec2.end,
        Some(date!(2025 - 06 - 09)),
        "a time after the date"
    );
    assert_eq!(ec2.impact, 8123.45);
    assert_eq!(ec2.max_impact, 4300.0);
    assert_eq!(ec2.score, Some(0.97));
    assert_eq!(ec2.monitor, "Default-Services-Monitor");
    assert_eq!(
        ec2.causes,
        vec![
            RootCause {
                service: Some("Amazon Elastic Compute Cloud - Compute".into()),
                region: Some("ap-southeast-1".into()),
                usage_type: Some("APS1-BoxUsage:p3.16xlarge".into()),
                account: Some("123456789012".into()),
            },
            RootCause {
                service: Some("Amazon Elastic Compute Cloud - Compute".into()),
                region: Some("sa-east-1".into()),
                usage_type: Some("SAE1-BoxUsage:g4dn.12xlarge".into()),
                account: None,
            },
        ]
    );

    let lambda = &anomalies[1];
    assert_eq!(lambda.start, Some(date!(2025 - 06 - 09)));
    assert_eq!(lambda.end, None, "still open");
    assert_eq!(lambda.monitor, "Linked accounts");
    assert_eq!(lambda.causes.len(), 1);

    let old = &anomalies[2];
    assert_eq!(
        old.start, None,
        "an unreadable date is no date, not a failure"
    );
    assert_eq!(
        old.monitor, GONE_MONITOR,
        "an unlisted monitor keeps its ARN"
    );
    assert!(old.causes.is_empty());

    // What was asked: the monitors, then two pages of anomalies over the last 90 days.
    let reqs = server.requests();
    let ops: Vec<&str> = reqs.iter().map(|r| r.operation.as_str()).collect();
    assert_eq!(ops, ["GetAnomalyMonitors", "GetAnomalies", "GetAnomalies"]);
    for r in &reqs[1..] {
        assert_eq!(
            r.body["DateInterval"]["StartDate"], "2025-03-12",
            "{}",
            r.body
        );
        assert!(
            r.body.get("MonitorArn").is_none(),
            "every monitor: {}",
            r.body
        );
    }
    assert!(reqs[1].body.get("NextPageToken").is_none());
    assert_eq!(reqs[2].body["NextPageToken"], "anomalies#1");
    for r in &reqs {
        assert_eq!((r.region.as_str(), r.service.as_str()), ("us-east-1", "ce"));
    }
    assert_eq!(meter.requests(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn monitors_over_two_pages_are_all_listed() {
    let server = CeServer::start();
    server.set_monitor_pages(vec![
        vec![monitor(SERVICES_MONITOR, "Default-Services-Monitor")],
        vec![monitor(ACCOUNT_MONITOR, "Linked accounts")],
    ]);
    let aws = aws_at(&server.endpoint(), "us-east-1", 1).await;
    let meter = Meter::new();

    let got = cost::anomalies(&aws, &meter, TODAY)
        .await
        .expect("anomalies");

    assert_eq!(
        got,
        Anomalies::Found {
            monitors: vec!["Default-Services-Monitor".into(), "Linked accounts".into()],
            anomalies: vec![],
        }
    );
    assert_eq!(
        server.operations(),
        ["GetAnomalyMonitors", "GetAnomalyMonitors", "GetAnomalies"]
    );
    assert_eq!(meter.requests(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn access_denied_names_the_missing_permission() {
    let server = CeServer::start();
    server.set_monitor_pages(vec![vec![monitor(
        SERVICES_MONITOR,
        "Default-Services-Monitor",
    )]]);
    server.deny("GetAnomalies");
    server.deny("GetCostAndUsage");
    let aws = aws_at(&server.endpoint(), "us-east-1", 3).await;
    let meter = Meter::new();

    let err = cost::anomalies(&aws, &meter, TODAY)
        .await
        .expect_err("GetAnomalies is denied");
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert_eq!(err.text, "AccessDenied: missing permission ce:GetAnomalies");
    assert_eq!(meter.requests(), 2, "a denied request is counted too");

    let err = cost::daily(&aws, &meter, FROM, TO)
        .await
        .expect_err("GetCostAndUsage is denied");
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert_eq!(
        err.text,
        "AccessDenied: missing permission ce:GetCostAndUsage"
    );
    assert_eq!(
        server.operations(),
        ["GetAnomalyMonitors", "GetAnomalies", "GetCostAndUsage"],
        "the first denial ends the refresh: the grouped queries are not sent"
    );
    assert_eq!(meter.requests(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn daily_asks_one_request_at_a_time_in_a_fixed_order() {
    let server = CeServer::start();
    server.set_cost_pages(
        "",
        vec![
            vec![total_entry("2025-03-01", "2025-03-02", "1.00", false)],
            vec![
                total_entry("2025-03-02", "2025-03-03", "2.00", false),
                total_entry("2025-03-03", "2025-03-04", "3.00", true),
            ],
        ],
    );
    server.set_cost_pages(
        "SERVICE",
        vec![
            vec![grouped_entry(
                "2025-03-01",
                "2025-03-02",
                &[("AWS Lambda", "1.00")],
                false,
            )],
            vec![grouped_entry(
                "2025-03-02",
                "2025-03-03",
                &[("AWS Lambda", "2.00")],
                false,
            )],
        ],
    );
    server.set_cost_pages(
        "REGION",
        vec![vec![grouped_entry(
            "2025-03-01",
            "2025-03-02",
            &[("us-east-1", "1.00")],
            false,
        )]],
    );
    // Slow answers: a client that overlapped its requests would be caught in the act.
    server.set_delay(Duration::from_millis(80));
    let aws = aws_at(&server.endpoint(), "eu-central-1", 1).await;
    let meter = Meter::new();

    let data = cost::daily(&aws, &meter, FROM, TO)
        .await
        .expect("daily cost");

    assert_eq!(
        data.total,
        vec![
            day(date!(2025 - 03 - 01), 1.0, false),
            day(date!(2025 - 03 - 02), 2.0, false),
            day(date!(2025 - 03 - 03), 3.0, true),
            day(date!(2025 - 03 - 04), 0.0, false),
        ]
    );
    assert_eq!(
        data.by_service[0].days,
        vec![
            day(date!(2025 - 03 - 01), 1.0, false),
            day(date!(2025 - 03 - 02), 2.0, false),
        ],
        "a grouped query's pages are merged into one series"
    );

    let reqs = server.requests();
    let asked: Vec<(String, Option<String>)> = reqs
        .iter()
        .map(|r| {
            (
                r.body["GroupBy"][0]["Key"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                r.body["NextPageToken"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        asked,
        [
            ("".to_string(), None),
            ("".to_string(), Some("cost-#1".to_string())),
            ("SERVICE".to_string(), None),
            ("SERVICE".to_string(), Some("cost-SERVICE#1".to_string())),
            ("REGION".to_string(), None),
        ],
        "total, by service, by region; each to its last page"
    );
    for r in &reqs {
        assert_eq!(r.operation, "GetCostAndUsage");
        assert_eq!(r.body["Granularity"], "DAILY");
        assert_eq!(r.body["Metrics"], json!(["UnblendedCost"]));
        assert_eq!(
            r.body["TimePeriod"],
            json!({"Start": "2025-03-01", "End": "2025-03-05"})
        );
        assert_eq!((r.region.as_str(), r.service.as_str()), ("us-east-1", "ce"));
        if let Some(g) = r.body["GroupBy"].as_array() {
            assert_eq!(g.len(), 1);
            assert_eq!(g[0]["Type"], "DIMENSION");
        }
    }
    assert_eq!(server.max_in_flight(), 1, "never two requests at once");
    for pair in reqs.windows(2) {
        assert!(
            pair[1].arrived >= pair[0].answered,
            "each request waits for the previous answer"
        );
    }
    assert_eq!(meter.requests(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_error_is_asked_once_whatever_the_retry_setting() {
    // A 5xx with an error code is what the SDK would normally retry.
    let server = CeServer::start();
    server.fail("GetCostAndUsage", 503, "ServiceUnavailableException");
    let aws = aws_at(&server.endpoint(), "us-east-1", 3).await;
    let meter = Meter::new();

    let err = cost::daily(&aws, &meter, FROM, TO)
        .await
        .expect_err("the server fails");

    assert!(err.text.starts_with("ce:GetCostAndUsage:"), "{}", err.text);
    assert!(
        err.text.contains("ServiceUnavailableException"),
        "{}",
        err.text
    );
    assert_eq!(
        server.operations(),
        ["GetCostAndUsage"],
        "one request, no retry"
    );
    assert_eq!(meter.requests(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_window_is_refused_without_a_request() {
    let server = CeServer::start();
    let aws = aws_at(&server.endpoint(), "us-east-1", 1).await;
    let meter = Meter::new();

    let err = cost::daily(&aws, &meter, TO, TO)
        .await
        .expect_err("no day in the window");

    assert!(err.text.contains("holds no day"), "{}", err.text);
    assert!(server.requests().is_empty());
    assert_eq!(meter.requests(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_endpoint_is_unreachable_quickly_and_costs_nothing() {
    let aws = aws_at(&dead_endpoint(), "us-east-1", 3).await;
    let meter = Meter::new();

    let began = Instant::now();
    let err = cost::daily(&aws, &meter, FROM, TO)
        .await
        .expect_err("nothing listens");
    assert_eq!(err.kind, ErrorKind::Unreachable, "{}", err.text);
    assert!(err.text.starts_with("ce:GetCostAndUsage:"), "{}", err.text);
    assert!(
        err.text.contains("cannot reach the AWS endpoint"),
        "{}",
        err.text
    );

    let err = cost::anomalies(&aws, &meter, TODAY)
        .await
        .expect_err("nothing listens");
    assert_eq!(err.kind, ErrorKind::Unreachable, "{}", err.text);
    assert!(
        err.text.starts_with("ce:GetAnomalyMonitors:"),
        "{}",
        err.text
    );

    let took = began.elapsed();
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(
        meter.requests(),
        0,
        "a request that never left the machine is not billed"
    );
}
