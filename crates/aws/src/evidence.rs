//! Evidence before eradication: reads what a preservation step keeps of a resource (a
//! [`Keep`]) into core types. Writing it to disk is the runtime's.
//!
//! Descriptions are kept as the API returned them: the response body is captured before the
//! SDK parses it ([`Raw`]), so what is saved is what AWS said, not keyspill's reading of it
//! (EC2 and IAM answer in XML, Lambda in JSON). A user's or role's policies are gathered into one
//! JSON file with their documents decoded, since those are spread over many calls. Lambda's
//! configuration is parsed only to mask environment values and to drop the package URL's
//! signature.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;
use sha2::{Digest, Sha256};

use keyspill_core::resources::evidence::{
    INCIDENT_TAG, INSTANCE_TAG, Keep, Kept, KeptFile, KeptSnapshot,
};
use keyspill_core::resources::{Kind, ResourceRef};

use crate::{Aws, AwsError, Sent};

/// The largest code package keyspill downloads (Lambda allows 250 MB unzipped).
pub const MAX_PACKAGE: u64 = 300 * 1024 * 1024;
/// The tag naming the device a snapshot's volume was attached as.
pub const DEVICE_TAG: &str = "keyspill:device";
/// What a masked environment value is replaced with.
pub const MASKED: &str = "<masked>";

/// Captures a response body as the service sent it, before the SDK parses it.
#[derive(Debug, Clone, Default)]
struct Raw(Arc<Mutex<Option<Vec<u8>>>>);

impl Intercept for Raw {
    fn name(&self) -> &'static str {
        "keyspill-evidence-raw"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(bytes) = context.response().body().bytes()
            && let Ok(mut slot) = self.0.lock()
        {
            *slot = Some(bytes.to_vec());
        }
        Ok(())
    }
}

impl Raw {
    /// The body captured, or an error naming the call whose body could not be kept.
    fn take(&self, call: &str) -> Result<Vec<u8>, AwsError> {
        self.0
            .lock()
            .ok()
            .and_then(|mut s| s.take())
            .ok_or_else(|| AwsError::other(format!("{call}: the response could not be kept")))
    }
}

fn file(name: &str, what: &str, bytes: Vec<u8>) -> KeptFile {
    KeptFile {
        name: name.to_string(),
        what: what.to_string(),
        bytes,
    }
}

fn pretty(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Keeps `what` of `target`: snapshots started in AWS, files read into memory. `incident` is
/// the incident's id, the value of the snapshots' incident tag.
pub async fn keep(
    aws: &Aws,
    target: &ResourceRef,
    what: &Keep,
    incident: &str,
) -> Result<Kept, AwsError> {
    let region = target.region.as_str();
    let id = target.id.as_str();
    match (what, target.kind) {
        (Keep::Volumes, Kind::Instance) => volumes(aws, region, id, incident).await,
        (Keep::Instance, Kind::Instance) => instance(aws, region, id).await,
        (Keep::Function { environment_values }, Kind::Function) => {
            function(aws, region, id, *environment_values).await
        }
        (Keep::Principal, Kind::User) => principal::user(aws, id).await,
        (Keep::Principal, Kind::Role) => principal::role(aws, id).await,
        (Keep::Definition, kind) => definition(aws, kind, region, id).await,
        (what, kind) => Err(AwsError::other(format!(
            "refused: \"{what}\" does not apply to a {kind}"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Instances
// ---------------------------------------------------------------------------------------------

/// One snapshot per EBS volume attached to the instance, tagged with the incident and the
/// instance. The snapshot is point-in-time from this call on: the instance may go while it is
/// pending.
async fn volumes(aws: &Aws, region: &str, id: &str, incident: &str) -> Result<Kept, AwsError> {
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
    let ec2 = aws.ec2_in(region);
    let inst = crate::resources::ec2::describe_one(aws, region, id).await?;
    let mut kept = Kept::default();
    for m in inst.block_device_mappings() {
        let device = m.device_name().unwrap_or("?").to_string();
        let Some(volume) = m.ebs().and_then(|e| e.volume_id()) else {
            kept.notes.push(format!(
                "{device}: not an EBS volume, cannot be snapshotted"
            ));
            continue;
        };
        let tags = [
            (INCIDENT_TAG, incident),
            (INSTANCE_TAG, id),
            (DEVICE_TAG, device.as_str()),
        ]
        .map(|(k, v)| Tag::builder().key(k).value(v).build());
        let snap = ec2
            .create_snapshot()
            .volume_id(volume)
            .description(format!("keyspill evidence {incident} {id} {device}"))
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Snapshot)
                    .set_tags(Some(tags.to_vec()))
                    .build(),
            )
            .send()
            .await
            .sent("ec2:CreateSnapshot")?;
        let Some(snapshot_id) = snap.snapshot_id() else {
            return Err(AwsError::other(format!(
                "ec2:CreateSnapshot of {volume} answered without a snapshot id"
            )));
        };
        kept.snapshots.push(KeptSnapshot {
            snapshot_id: snapshot_id.to_string(),
            volume_id: volume.to_string(),
            device,
            state: snap
                .state()
                .map_or_else(|| "pending".into(), |s| s.as_str().to_string()),
        });
    }
    if kept.snapshots.is_empty() && kept.notes.is_empty() {
        kept.notes
            .push("no EBS volume attached: nothing to snapshot".into());
    }
    kept.notes
        .push("memory and instance-store volumes are not captured".into());
    Ok(kept)
}

/// The description as EC2 returned it, the user data decoded, the console output decoded.
async fn instance(aws: &Aws, region: &str, id: &str) -> Result<Kept, AwsError> {
    use aws_sdk_ec2::types::InstanceAttributeName;
    let ec2 = aws.ec2_in(region);
    let raw = Raw::default();
    ec2.describe_instances()
        .instance_ids(id)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await
        .sent("ec2:DescribeInstances")?;
    let mut kept = Kept::default();
    kept.files.push(file(
        "description.xml",
        "instance description (ec2:DescribeInstances)",
        raw.take("ec2:DescribeInstances")?,
    ));
    // What follows is kept when it can be: the description is the step's core.
    match ec2
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::UserData)
        .send()
        .await
        .sent("ec2:DescribeInstanceAttribute")
    {
        Ok(a) => match a.user_data().and_then(|u| u.value()) {
            Some(b64) if !b64.is_empty() => match B64.decode(b64) {
                Ok(bytes) => kept.files.push(file(
                    "user-data",
                    "user data, decoded (ec2:DescribeInstanceAttribute)",
                    bytes,
                )),
                Err(_) => kept.files.push(file(
                    "user-data.base64",
                    "user data, as returned (ec2:DescribeInstanceAttribute)",
                    b64.as_bytes().to_vec(),
                )),
            },
            _ => kept.notes.push("no user data".into()),
        },
        Err(e) => kept.notes.push(format!("user data not kept: {e}")),
    }
    match ec2
        .get_console_output()
        .instance_id(id)
        .send()
        .await
        .sent("ec2:GetConsoleOutput")
    {
        Ok(o) => match o.output().filter(|s| !s.is_empty()) {
            Some(b64) => kept.files.push(file(
                "console-output.txt",
                "console output, decoded (ec2:GetConsoleOutput)",
                B64.decode(b64).unwrap_or_else(|_| b64.as_bytes().to_vec()),
            )),
            None => kept.notes.push("no console output yet".into()),
        },
        Err(e) => kept.notes.push(format!("console output not kept: {e}")),
    }
    Ok(kept)
}

// ---------------------------------------------------------------------------------------------
// Lambda
// ---------------------------------------------------------------------------------------------

async fn function(aws: &Aws, region: &str, name: &str, env: bool) -> Result<Kept, AwsError> {
    let raw = Raw::default();
    let out = aws
        .lambda_in(region)
        .get_function()
        .function_name(name)
        .customize()
        .interceptor(raw.clone())
        .send()
        .await
        .sent("lambda:GetFunction")?;
    let body = raw.take("lambda:GetFunction")?;
    let mut doc: Value = serde_json::from_slice(&body)
        .map_err(|e| AwsError::other(format!("lambda:GetFunction: the answer is not JSON: {e}")))?;
    if !env {
        mask_environment(&mut doc);
    }
    let location = out.code().and_then(|c| c.location()).map(str::to_string);
    strip_signature(&mut doc);
    let mut kept = Kept::default();
    kept.files.push(file(
        "configuration.json",
        if env {
            "configuration, environment values IN CLEAR (lambda:GetFunction)"
        } else {
            "configuration, environment values masked (lambda:GetFunction)"
        },
        pretty(&doc),
    ));
    let expected = out
        .configuration()
        .and_then(|c| c.code_sha256())
        .map(str::to_string);
    match location {
        None => kept.notes.push(format!(
            "no code package to download (image {})",
            out.code()
                .and_then(|c| c.resolved_image_uri().or(c.image_uri()))
                .unwrap_or("unknown")
        )),
        Some(url) => {
            let url = emulated(&url, aws.endpoint_url().as_deref());
            let bytes = download(&url, MAX_PACKAGE).await?;
            let got = B64.encode(Sha256::digest(&bytes));
            match expected {
                Some(want) if want != got => {
                    return Err(AwsError::other(format!(
                        "the package downloaded does not match the function: SHA-256 {got}, \
                         Lambda says {want}"
                    )));
                }
                None => kept
                    .notes
                    .push("Lambda gave no CodeSha256 to check the package against".into()),
                Some(_) => {}
            }
            kept.files.push(file(
                "package.zip",
                "code package, checked against CodeSha256 (lambda:GetFunction)",
                bytes,
            ));
        }
    }
    Ok(kept)
}

/// Every environment variable's value replaced by [`MASKED`], names kept.
pub fn mask_environment(doc: &mut Value) {
    if let Some(vars) = doc
        .pointer_mut("/Configuration/Environment/Variables")
        .and_then(Value::as_object_mut)
    {
        for v in vars.values_mut() {
            *v = Value::String(MASKED.into());
        }
    }
}

/// The package URL without its query: a presigned signature is a credential, for minutes.
fn strip_signature(doc: &mut Value) {
    if let Some(loc) = doc.pointer_mut("/Code/Location")
        && let Some(s) = loc.as_str()
        && let Some((base, _)) = s.split_once('?')
    {
        *loc = Value::String(format!("{base}?<signature removed>"));
    }
}

/// The package URL to fetch: as Lambda gave it, or, against an emulator (an endpoint override),
/// the same bucket and key on the emulator's S3, path style. moto names a host that does not
/// resolve, `https://<bucket>.s3.<region>.amazonaws.com/<key>`.
pub fn emulated(location: &str, endpoint: Option<&str>) -> String {
    let Some(endpoint) = endpoint else {
        return location.to_string();
    };
    let Some(rest) = location
        .strip_prefix("https://")
        .or_else(|| location.strip_prefix("http://"))
    else {
        return location.to_string();
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Some((bucket, _)) = host.split_once(".s3.") else {
        return location.to_string();
    };
    format!("{}/{bucket}/{path}", endpoint.trim_end_matches('/'))
}

/// A plain GET of a presigned URL, at most `cap` bytes, with timeouts.
async fn download(url: &str, cap: u64) -> Result<Vec<u8>, AwsError> {
    use aws_smithy_http_client::Connector;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorSettings};
    use aws_smithy_runtime_api::http::Request;
    use aws_smithy_types::body::SdkBody;

    let shown = url.split('?').next().unwrap_or(url).to_string();
    let connector = Connector::builder()
        .connector_settings(
            HttpConnectorSettings::builder()
                .connect_timeout(Duration::from_secs(5))
                .read_timeout(Duration::from_secs(30))
                .build(),
        )
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build();
    let mut request = Request::new(SdkBody::empty());
    *request.uri_mut() = url
        .try_into()
        .map_err(|e| AwsError::other(format!("package URL {shown}: {e}")))?;
    let response = connector
        .call(request)
        .await
        .map_err(|e| AwsError::other(format!("downloading the package from {shown}: {e}")))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(AwsError::other(format!(
            "downloading the package from {shown}: HTTP {status}"
        )));
    }
    let mut stream = aws_smithy_types::byte_stream::ByteStream::new(response.into_body());
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| AwsError::other(format!("downloading the package from {shown}: {e}")))?;
        if (out.len() + chunk.len()) as u64 > cap {
            return Err(AwsError::other(format!(
                "the package at {shown} is over {} MiB: not downloaded",
                cap / (1024 * 1024)
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Definitions
// ---------------------------------------------------------------------------------------------

/// The definition of anything else a plan changes, as the service describes it.
async fn definition(aws: &Aws, kind: Kind, region: &str, id: &str) -> Result<Kept, AwsError> {
    let raw = Raw::default();
    let r = || raw.clone();
    let (call, what): (&str, &str) = match kind {
        Kind::LaunchTemplate => {
            let ec2 = aws.ec2_in(region);
            let req = ec2.describe_launch_template_versions();
            let req = if id.starts_with("lt-") {
                req.launch_template_id(id)
            } else {
                req.launch_template_name(id)
            };
            req.customize()
                .interceptor(r())
                .send()
                .await
                .sent("ec2:DescribeLaunchTemplateVersions")?;
            ("ec2:DescribeLaunchTemplateVersions", "every version")
        }
        Kind::AutoScalingGroup => {
            aws.autoscaling_in(region)
                .describe_auto_scaling_groups()
                .auto_scaling_group_names(id)
                .customize()
                .interceptor(r())
                .send()
                .await
                .sent("autoscaling:DescribeAutoScalingGroups")?;
            ("autoscaling:DescribeAutoScalingGroups", "group")
        }
        Kind::SecurityGroup => {
            aws.ec2_in(region)
                .describe_security_groups()
                .group_ids(id)
                .customize()
                .interceptor(r())
                .send()
                .await
                .sent("ec2:DescribeSecurityGroups")?;
            ("ec2:DescribeSecurityGroups", "rules")
        }
        Kind::KeyPair => {
            aws.ec2_in(region)
                .describe_key_pairs()
                .key_names(id)
                .include_public_key(true)
                .customize()
                .interceptor(r())
                .send()
                .await
                .sent("ec2:DescribeKeyPairs")?;
            ("ec2:DescribeKeyPairs", "public key")
        }
        Kind::SpotRequest => {
            aws.ec2_in(region)
                .describe_spot_instance_requests()
                .spot_instance_request_ids(id)
                .customize()
                .interceptor(r())
                .send()
                .await
                .sent("ec2:DescribeSpotInstanceRequests")?;
            ("ec2:DescribeSpotInstanceRequests", "request")
        }
        Kind::SpotFleet => {
            aws.ec2_in(region)
                .describe_spot_fleet_requests()
                .spot_fleet_request_ids(id)
                .customize()
                .interceptor(r())
                .send()
                .await
                .sent("ec2:DescribeSpotFleetRequests")?;
            ("ec2:DescribeSpotFleetRequests", "fleet request")
        }
        Kind::Ec2Fleet => {
            aws.ec2_in(region)
                .describe_fleets()
                .fleet_ids(id)
                .customize()
                .interceptor(r())
                .send()
                .await
                .sent("ec2:DescribeFleets")?;
            ("ec2:DescribeFleets", "fleet")
        }
        Kind::Snapshot => {
            aws.ec2_in(region)
                .describe_snapshot_attribute()
                .snapshot_id(id)
                .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
                .customize()
                .interceptor(r())
                .send()
                .await
                .sent("ec2:DescribeSnapshotAttribute")?;
            ("ec2:DescribeSnapshotAttribute", "who it is shared with")
        }
        Kind::Image => {
            aws.ec2_in(region)
                .describe_image_attribute()
                .image_id(id)
                .attribute(aws_sdk_ec2::types::ImageAttributeName::LaunchPermission)
                .customize()
                .interceptor(r())
                .send()
                .await
                .sent("ec2:DescribeImageAttribute")?;
            ("ec2:DescribeImageAttribute", "who it is shared with")
        }
        Kind::Policy => return principal::policy(aws, id).await,
        Kind::OidcProvider => {
            aws.iam
                .get_open_id_connect_provider()
                .open_id_connect_provider_arn(id)
                .customize()
                .interceptor(r())
                .send()
                .await
                .sent("iam:GetOpenIDConnectProvider")?;
            ("iam:GetOpenIDConnectProvider", "provider")
        }
        Kind::SamlProvider => {
            aws.iam
                .get_saml_provider()
                .saml_provider_arn(id)
                .customize()
                .interceptor(r())
                .send()
                .await
                .sent("iam:GetSAMLProvider")?;
            ("iam:GetSAMLProvider", "provider and its metadata")
        }
        Kind::Instance | Kind::Function | Kind::User | Kind::Role => {
            return Err(AwsError::other(format!(
                "a {kind}'s evidence is kept by its own steps"
            )));
        }
        Kind::Lightsail | Kind::Tagged => {
            return Ok(Kept {
                notes: vec![format!("keyspill keeps nothing of a {kind}")],
                ..Kept::default()
            });
        }
    };
    let bytes = raw.take(call)?;
    let ext = if bytes.first() == Some(&b'{') {
        "json"
    } else {
        "xml"
    };
    Ok(Kept {
        files: vec![file(
            &format!("definition.{ext}"),
            &format!("{what} ({call})"),
            bytes,
        )],
        ..Kept::default()
    })
}

mod principal;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_emulator_s_package_url_is_its_own_s3() {
        let moto = "https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/f-123";
        assert_eq!(
            emulated(moto, Some("http://127.0.0.1:5000/")),
            "http://127.0.0.1:5000/awslambda-us-east-1-tasks/f-123"
        );
        // Real AWS: the presigned URL as given.
        let real =
            "https://prod-04-2014-tasks.s3.us-east-1.amazonaws.com/snapshots/1/f?X-Amz-Signature=x";
        assert_eq!(emulated(real, None), real);
        assert_eq!(emulated("not a url", Some("http://e")), "not a url");
    }

    #[test]
    fn environment_values_are_masked_and_the_signature_dropped() {
        let mut doc = json!({
            "Configuration": {"Environment": {"Variables": {"WALLET": "44AFF", "POOL": "x"}}},
            "Code": {"Location": "https://b.s3.r.amazonaws.com/k?X-Amz-Signature=abc&X-Amz-Security-Token=t"}
        });
        mask_environment(&mut doc);
        strip_signature(&mut doc);
        assert_eq!(
            doc["Configuration"]["Environment"]["Variables"]["WALLET"],
            MASKED
        );
        assert_eq!(
            doc["Configuration"]["Environment"]["Variables"]["POOL"],
            MASKED
        );
        let text = doc.to_string();
        assert!(!text.contains("44AFF") && !text.contains("abc"), "{text}");
        assert!(text.contains("https://b.s3.r.amazonaws.com/k?<signature removed>"));
    }
}
