//! Detection intake: GuardDuty and Security Hub findings about access keys, in every region
//! swept, and AWS Health's `AWS_RISK_CREDENTIALS_EXPOSED` events with the keys they name.
//! Every finding about an access key is read (newest first, capped per region), not only the
//! tracked keys': another exposed key is exactly what the room must hear about. A source that
//! is off, or that needs a subscription, says so in its cell; nothing here fails the whole.

use aws_sdk_guardduty::types::{Condition, FindingCriteria, OrderBy, SortCriteria};
use aws_sdk_securityhub::types::{AwsSecurityFindingFilters, StringFilter, StringFilterComparison};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures_util::future::join_all;
use keyspill_core::detect::{
    Alert, Detections, EXPOSED, Source, SourceState, guardduty_label, guardduty_rank, label_rank,
};
use keyspill_core::journal::format_ts;

use crate::{Aws, FromSdk};
use keyspill_core::domain::Failure;

/// The most findings read per source and region (the newest).
pub const MAX_PER_REGION: i32 = 50;

/// The region name the Health source is filed under.
pub const GLOBAL: &str = "global";

/// Reads every source: GuardDuty and Security Hub in each of `regions` at once, Health once.
pub async fn fetch(aws: &Aws, regions: &[String]) -> Detections {
    let gd = join_all(regions.iter().map(|r| guardduty(aws, r)));
    let sh = join_all(regions.iter().map(|r| securityhub(aws, r)));
    let (gd, sh, health) = tokio::join!(gd, sh, health(aws));
    let mut out = Detections::default();
    let mut add = |source: Source, region: &str, result: Result<Vec<Alert>, SourceState>| {
        let state = match result {
            Ok(alerts) => {
                let n = alerts.len();
                out.alerts.extend(alerts);
                SourceState::Read(n)
            }
            Err(state) => state,
        };
        out.sources.insert((source, region.to_string()), state);
    };
    for (region, r) in regions.iter().zip(gd) {
        add(Source::GuardDuty, region, r);
    }
    for (region, r) in regions.iter().zip(sh) {
        add(Source::SecurityHub, region, r);
    }
    add(Source::Health, GLOBAL, health);
    out
}

/// An SDK error as a source's state: off, not subscribed, or failed (in words).
fn state_of<E>(
    call: &str,
    err: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> SourceState
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = err.code().unwrap_or_default();
    match code {
        "SubscriptionRequiredException" => SourceState::NotSubscribed(
            "needs a Business, Enterprise On-Ramp or Enterprise support plan".into(),
        ),
        "InvalidAccessException" => SourceState::Off("not enabled".into()),
        _ => SourceState::Failed(Failure::from_sdk(call, err).text),
    }
}

async fn guardduty(aws: &Aws, region: &str) -> Result<Vec<Alert>, SourceState> {
    let gd = aws.guardduty_in(region);
    let detectors = gd
        .list_detectors()
        .send()
        .await
        .map_err(|e| state_of("guardduty:ListDetectors", &e))?;
    if detectors.detector_ids().is_empty() {
        return Err(SourceState::Off("off (no detector)".into()));
    }
    let mut out = Vec::new();
    for detector in detectors.detector_ids() {
        let criteria = FindingCriteria::builder()
            .criterion(
                "resource.resourceType",
                Condition::builder().equals("AccessKey").build(),
            )
            .build();
        let ids = gd
            .list_findings()
            .detector_id(detector)
            .finding_criteria(criteria)
            .sort_criteria(
                SortCriteria::builder()
                    .attribute_name("updatedAt")
                    .order_by(OrderBy::Desc)
                    .build(),
            )
            .max_results(MAX_PER_REGION)
            .send()
            .await
            .map_err(|e| state_of("guardduty:ListFindings", &e))?;
        if ids.finding_ids().is_empty() {
            continue;
        }
        let found = gd
            .get_findings()
            .detector_id(detector)
            .set_finding_ids(Some(ids.finding_ids().to_vec()))
            .send()
            .await
            .map_err(|e| state_of("guardduty:GetFindings", &e))?;
        for f in found.findings() {
            let severity = f.severity().unwrap_or(0.0);
            let key = f
                .resource()
                .and_then(|r| r.access_key_details())
                .and_then(|k| k.access_key_id())
                .map(str::to_string);
            let service = f.service();
            out.push(Alert {
                source: Source::GuardDuty,
                id: f.id().unwrap_or_default().to_string(),
                kind: f.r#type().unwrap_or_default().to_string(),
                title: f.title().unwrap_or_default().to_string(),
                severity: guardduty_label(severity).to_string(),
                rank: guardduty_rank(severity),
                keys: key.into_iter().collect(),
                region: f.region().unwrap_or(region).to_string(),
                account: f.account_id().unwrap_or_default().to_string(),
                first_seen: service
                    .and_then(|s| s.event_first_seen())
                    .or(f.created_at())
                    .map(str::to_string),
                last_seen: service
                    .and_then(|s| s.event_last_seen())
                    .or(f.updated_at())
                    .map(str::to_string),
            });
        }
    }
    Ok(out)
}

async fn securityhub(aws: &Aws, region: &str) -> Result<Vec<Alert>, SourceState> {
    let filters = AwsSecurityFindingFilters::builder()
        .resource_type(
            StringFilter::builder()
                .value("AwsIamAccessKey")
                .comparison(StringFilterComparison::Equals)
                .build(),
        )
        .build();
    let out = aws
        .securityhub_in(region)
        .get_findings()
        .filters(filters)
        .max_results(MAX_PER_REGION)
        .send()
        .await
        .map_err(|e| state_of("securityhub:GetFindings", &e))?;
    Ok(out
        .findings()
        .iter()
        .map(|f| {
            let label = f
                .severity()
                .and_then(|s| s.label())
                .map(|l| l.as_str().to_string())
                .unwrap_or_default();
            let keys = f
                .resources()
                .iter()
                .filter(|r| r.r#type() == Some("AwsIamAccessKey"))
                .filter_map(|r| {
                    r.details()
                        .and_then(|d| d.aws_iam_access_key())
                        .and_then(|k| k.access_key_id())
                        .map(str::to_string)
                        .or_else(|| r.id().and_then(key_in).map(str::to_string))
                })
                .collect();
            Alert {
                source: Source::SecurityHub,
                id: f.id().unwrap_or_default().to_string(),
                kind: f.types().first().cloned().unwrap_or_default(),
                title: f.title().unwrap_or_default().to_string(),
                rank: label_rank(&label),
                severity: label,
                keys,
                region: f.region().unwrap_or(region).to_string(),
                account: f.aws_account_id().unwrap_or_default().to_string(),
                first_seen: f.first_observed_at().or(f.created_at()).map(str::to_string),
                last_seen: f.last_observed_at().or(f.updated_at()).map(str::to_string),
            }
        })
        .collect())
}

/// The access key id inside a resource id (`AWS::IAM::AccessKey:AKIA…`, an ARN…).
fn key_in(id: &str) -> Option<&str> {
    id.split([':', '/'])
        .find(|part| keyspill_core::domain::validate_key_id(part).is_ok())
}

async fn health(aws: &Aws) -> Result<Vec<Alert>, SourceState> {
    let health = aws.health();
    let events = health
        .describe_events()
        .filter(
            aws_sdk_health::types::EventFilter::builder()
                .event_type_codes(EXPOSED)
                .build(),
        )
        .send()
        .await
        .map_err(|e| state_of("health:DescribeEvents", &e))?;
    let mut out = Vec::new();
    for e in events.events() {
        let Some(arn) = e.arn() else { continue };
        let entities = health
            .describe_affected_entities()
            .filter(
                aws_sdk_health::types::EntityFilter::builder()
                    .event_arns(arn)
                    .build()
                    .map_err(|e| {
                        SourceState::Failed(format!("health:DescribeAffectedEntities: {e}"))
                    })?,
            )
            .send()
            .await
            .map_err(|e| state_of("health:DescribeAffectedEntities", &e))?;
        let keys = entities
            .entities()
            .iter()
            .filter_map(|x| x.entity_value())
            .filter(|v| keyspill_core::domain::validate_key_id(v).is_ok())
            .map(str::to_string)
            .collect();
        let time = |t: Option<&aws_smithy_types::DateTime>| t.map(|t| format_ts(crate::to_ts(t)));
        out.push(Alert {
            source: Source::Health,
            id: arn.to_string(),
            kind: e.event_type_code().unwrap_or(EXPOSED).to_string(),
            title: "AWS found the access key in public (AWS Health)".into(),
            severity: "HIGH".into(),
            rank: 3,
            keys,
            region: e.region().unwrap_or("global").to_string(),
            account: String::new(),
            first_seen: time(e.start_time()),
            last_seen: time(e.last_updated_time()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_found_inside_a_resource_id() {
        assert_eq!(
            key_in("AWS::IAM::AccessKey:AKIAIOSFODNN7EXAMPLE"),
            Some("AKIAIOSFODNN7EXAMPLE")
        );
        assert_eq!(key_in("arn:aws:iam::123456789012:user/dev"), None);
    }
}
