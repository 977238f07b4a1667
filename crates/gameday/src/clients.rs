//! Reaching the game's moto server: SDK clients for any identity (moto's root, the attacker's
//! keys, a role session), and moto's own `/moto-api/` endpoints.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use keyspill_aws::{Aws, ConnectOptions};

pub(crate) use keyspill_aws::error::Sent;
pub(crate) use keyspill_core::domain::Failure;

/// moto's root identity: a key moto does not know maps to the default account's root.
pub(crate) const ROOT_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub(crate) const ROOT_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// The region global services (IAM, STS's global endpoint) and S3 buckets are reached through.
pub(crate) const GLOBAL_REGION: &str = "us-east-1";

/// One identity's clients, pointed at moto, built by the adapter like the console's own.
#[derive(Clone, Debug)]
pub(crate) struct As {
    aws: Aws,
}

impl As {
    pub(crate) async fn new(endpoint: &str, key: &str, secret: &str, token: Option<&str>) -> As {
        let aws = Aws::connect(&ConnectOptions {
            region: Some(GLOBAL_REGION.into()),
            endpoint_url: Some(endpoint.into()),
            static_credentials: Some((key.into(), secret.into())),
            session_token: token.map(str::to_string),
            // One attempt: moto answers what it lacks with HTTP 500, and a retried write could
            // be applied twice.
            max_attempts: 1,
            ..ConnectOptions::default()
        })
        .await;
        As { aws }
    }

    pub(crate) async fn root(endpoint: &str) -> As {
        As::new(endpoint, ROOT_KEY, ROOT_SECRET, None).await
    }

    pub(crate) fn iam(&self) -> aws_sdk_iam::Client {
        self.aws.iam.clone()
    }

    pub(crate) fn sts(&self, region: &str) -> aws_sdk_sts::Client {
        self.aws.sts_in(region)
    }

    pub(crate) fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        self.aws.ec2_in(region)
    }

    pub(crate) fn autoscaling(&self, region: &str) -> aws_sdk_autoscaling::Client {
        self.aws.autoscaling_in(region)
    }

    pub(crate) fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        self.aws.lambda_in(region)
    }

    pub(crate) fn s3(&self) -> aws_sdk_s3::Client {
        self.aws.s3.clone()
    }

    pub(crate) fn s3_in(&self, region: &str) -> aws_sdk_s3::Client {
        self.aws.s3_in(region)
    }

    pub(crate) fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        self.aws.cloudtrail_in(region)
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
