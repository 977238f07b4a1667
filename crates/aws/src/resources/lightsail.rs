//! Lightsail instances, where Lightsail answers at all: listed, deleted, read back.

use aws_config::retry::RetryConfig;

use super::detail;
use super::remove::present;
use crate::{Aws, AwsError, ErrorKind, FromSdk, Sent, to_ts};
use keyspill_core::resources::{CellState, Kind, Resource};

/// Lightsail, with retries off: where it is not offered (most regions, and emulators) the
/// call fails, and one attempt is enough to know that.
pub(super) async fn instances(aws: &Aws, region: &str) -> Result<Vec<Resource>, CellState> {
    let client = aws.lightsail_in(region);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_instances()
            .set_page_token(token.take())
            .customize()
            .config_override(
                aws_sdk_lightsail::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(|e| {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let err = AwsError::from_sdk("lightsail:GetInstances", &e);
                // An endpoint that does not exist (no such host), or one that answers
                // without an AWS error at all (an emulator's HTML 500, which the JSON
                // protocol cannot even parse), means the service is not offered there.
                let not_offered =
                    matches!(err.kind, ErrorKind::NotImplemented | ErrorKind::Unreachable)
                        || (err.code.is_none() && matches!(status, Some(404 | 500 | 501)));
                if not_offered {
                    CellState::Unavailable(format!("Lightsail does not answer here: {}", err.text))
                } else {
                    CellState::Failed(err)
                }
            })?;
        for i in page.instances() {
            let Some(name) = i.name() else { continue };
            let mut res = Resource::new(Kind::Lightsail, region, name);
            res.arn = i.arn().map(str::to_string);
            res.created = i.created_at().map(to_ts);
            res.state = i
                .state()
                .and_then(|s| s.name())
                .unwrap_or_default()
                .to_string();
            res.tags = i
                .tags()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_string(),
                        t.value().unwrap_or_default().to_string(),
                    ))
                })
                .collect();
            detail(&mut res, "blueprint", i.blueprint_id());
            detail(&mut res, "bundle", i.bundle_id());
            detail(&mut res, "public IP", i.public_ip_address());
            out.push(res);
        }
        match page.next_page_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

pub(super) async fn delete_instance(aws: &Aws, region: &str, id: &str) -> Result<String, AwsError> {
    aws.lightsail_in(region)
        .delete_instance()
        .instance_name(id)
        .send()
        .await
        .sent("lightsail:DeleteInstance")?;
    Ok(format!("deleted Lightsail instance {id}"))
}

pub(super) async fn instance_exists(aws: &Aws, region: &str, id: &str) -> Result<bool, AwsError> {
    present(
        aws.lightsail_in(region)
            .get_instance()
            .instance_name(id)
            .send()
            .await
            .sent("lightsail:GetInstance"),
        |_| true,
    )
}
