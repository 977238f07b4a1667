//! Reaching the game's moto server: SDK clients for any identity (moto's root, the attacker's
//! keys, a role session), and moto's own `/moto-api/` endpoints.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{Credentials, Region};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use keyspill_aws::AwsError;

/// moto's root identity: a key moto does not know maps to the default account's root.
pub(crate) const ROOT_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub(crate) const ROOT_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// The region global services (IAM, STS's global endpoint) and S3 buckets are reached through.
pub(crate) const GLOBAL_REGION: &str = "us-east-1";

/// One identity's SDK configuration, pointed at moto; clients per service and region.
#[derive(Clone, Debug)]
pub(crate) struct As {
    config: aws_config::SdkConfig,
}

impl As {
    pub(crate) async fn new(endpoint: &str, key: &str, secret: &str, token: Option<&str>) -> As {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new(GLOBAL_REGION))
            .credentials_provider(Credentials::new(
                key,
                secret,
                token.map(str::to_string),
                None,
                "keyspill-gameday",
            ))
            // One attempt: moto answers what it lacks with HTTP 500, and a retried write could
            // be applied twice.
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(30))
                    .build(),
            )
            .load()
            .await;
        As { config }
    }

    pub(crate) async fn root(endpoint: &str) -> As {
        As::new(endpoint, ROOT_KEY, ROOT_SECRET, None).await
    }

    pub(crate) fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }

    pub(crate) fn sts(&self, region: &str) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    pub(crate) fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    pub(crate) fn autoscaling(&self, region: &str) -> aws_sdk_autoscaling::Client {
        let conf = aws_sdk_autoscaling::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_autoscaling::Client::from_conf(conf)
    }

    pub(crate) fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        let conf = aws_sdk_lambda::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_lambda::Client::from_conf(conf)
    }

    pub(crate) fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::new(&self.config)
    }

    pub(crate) fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        let conf = aws_sdk_cloudtrail::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_cloudtrail::Client::from_conf(conf)
    }
}

/// An SDK failure in words, with the call it came from, and AWS's error code when there is one.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub code: Option<String>,
    pub text: String,
}

impl Failure {
    pub(crate) fn is_not_found(&self) -> bool {
        self.code.as_deref().is_some_and(|c| {
            c == "NoSuchEntity" || c.ends_with("NotFound") || c == "ResourceNotFoundException"
        })
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<Failure> for String {
    fn from(f: Failure) -> String {
        f.text
    }
}

/// Converts an SDK error, naming the call (`iam:CreateUser`).
pub(crate) fn failure<E>(call: &str, e: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = match e {
        SdkError::ServiceError(se) => se.err().code().map(str::to_string),
        _ => None,
    };
    Failure {
        code,
        text: AwsError::from_sdk(call, e).to_string(),
    }
}

/// Shorthand for `map_err(|e| failure(call, &e))`.
pub(crate) trait Sent<T> {
    fn sent(self, call: &str) -> Result<T, Failure>;
}

impl<T, E> Sent<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    fn sent(self, call: &str) -> Result<T, Failure> {
        self.map_err(|e| failure(call, &e))
    }
}

/// POSTs `body` (JSON, or empty) to one of moto's own endpoints (`/moto-api/...`) and returns
/// the response body; any status other than 2xx is an error in words.
pub(crate) async fn moto_api(endpoint: &str, path: &str, body: String) -> Result<String, String> {
    let endpoint = endpoint.to_string();
    let path = path.to_string();
    tokio::task::spawn_blocking(move || post(&endpoint, &path, &body))
        .await
        .map_err(|e| format!("moto API call did not finish: {e}"))?
}

fn post(endpoint: &str, path: &str, body: &str) -> Result<String, String> {
    let authority = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| {
            format!("the game's moto endpoint must be http://host:port, not {endpoint}")
        })?
        .trim_end_matches('/');
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("{authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("cannot reach moto at {endpoint}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes())
        .map_err(|e| format!("moto {path}: {e}"))?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)
        .map_err(|e| format!("moto {path}: {e}"))?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status.starts_with('2') {
        Ok(rest.to_string())
    } else {
        let first = head.lines().next().unwrap_or("no answer");
        Err(format!("moto {path} answered {first}"))
    }
}
