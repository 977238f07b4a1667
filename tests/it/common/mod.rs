//! Test rig: a private moto server per test, started from the project's own virtualenv, and
//! helpers to seed it through the real SDK. When moto is missing the tests fail with a clear
//! message; they never skip.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use keyspill_aws::{Aws, ConnectOptions};

pub mod tmux;

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn moto_binary() -> PathBuf {
    let bin = project_root().join(".venv/bin/moto_server");
    assert!(
        bin.exists(),
        "moto is not installed at {}: run scripts/setup-moto (scripts/test runs it for you)",
        bin.display()
    );
    bin
}

#[derive(Default, Clone)]
pub struct MotoOptions {
    /// Load AWS managed policies (needed to attach the quarantine policy). Costs ~1 s.
    pub managed_policies: bool,
    /// Record every request (moto's recorder), to prove what was or was not sent.
    pub record: bool,
}

/// A moto server on a free loopback port, killed on drop.
pub struct Moto {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Moto {
    pub fn start() -> Moto {
        Moto::start_with(MotoOptions::default())
    }

    pub fn start_with(opts: MotoOptions) -> Moto {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(moto_binary());
        cmd.args(["-H", "127.0.0.1", "-p", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if opts.managed_policies {
            cmd.env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true");
        }
        if opts.record {
            cmd.env("MOTO_ENABLE_RECORDING", "True")
                .env("MOTO_RECORDER_FILEPATH", dir.path().join("rec.jsonl"));
        }
        let mut child = cmd.spawn().expect("moto_server starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut line = String::new();
            let mut sent = false;
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if !sent && let Some(rest) = line.split("Running on http://127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = tx.send(port.parse::<u16>().ok());
                    sent = true;
                }
                line.clear();
            }
        });
        let port = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(p)) => p,
            other => {
                let _ = child.kill();
                panic!("moto_server did not report its port: {other:?}");
            }
        };
        Moto {
            child,
            port,
            _dir: dir,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A raw HTTP/1.1 request to moto's own API (`/moto-api/...`), returning the body.
    pub fn http(&self, method: &str, path: &str, content_type: &str, body: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        s.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.port,
            body.len()
        );
        s.write_all(req.as_bytes()).expect("write request");
        let mut out = Vec::new();
        s.read_to_end(&mut out).expect("read response");
        let text = String::from_utf8_lossy(&out).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        assert!(
            head.starts_with("HTTP/1.1 2") || head.starts_with("HTTP/1.0 2"),
            "moto answered {head}"
        );
        body.to_string()
    }

    /// From the next request on, moto authenticates and authorises every call.
    pub fn enforce_auth(&self) {
        self.http("POST", "/moto-api/reset-auth", "text/plain", "0");
    }

    /// From the next request on, moto checks no credentials again (each key still reaches its
    /// own account). moto 5.2.5 rejects a form-encoded request whose parameters hold a space
    /// when the Rust SDK signs it (`AuthFailure`; it re-encodes the body before checking the
    /// signature), which AWS accepts: an EBS snapshot's description, for one.
    pub fn relax_auth(&self) {
        self.http("POST", "/moto-api/reset-auth", "text/plain", "inf");
    }

    /// Every request moto has recorded, as the decoded `Action=` names of form bodies plus
    /// raw bodies (JSON protocols).
    pub fn recorded_requests(&self) -> Vec<String> {
        let raw = self.http(
            "GET",
            "/moto-api/recorder/download-recording",
            "text/plain",
            "",
        );
        raw.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap_or_default();
                let body = v["body"].as_str().unwrap_or("");
                let decoded = if v["body_encoded"].as_bool().unwrap_or(false) {
                    base64_decode(body)
                } else {
                    body.to_string()
                };
                format!(
                    "{} {} {}",
                    v["method"].as_str().unwrap_or(""),
                    v["url"].as_str().unwrap_or(""),
                    decoded
                )
            })
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64_decode(s: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A loopback address where nothing listens: a port the OS just handed out and took back.
pub fn dead_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// The SDK as keyspill builds it, pointed at moto, with fixed credentials and no retries
/// (moto answers unimplemented calls with HTTP 500, which the SDK would retry).
pub async fn aws_as(moto: &Moto, key: &str, secret: &str) -> Aws {
    Aws::connect(&ConnectOptions {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint()),
        static_credentials: Some((key.into(), secret.into())),
        max_attempts: 1,
        session_token: None,
        service_endpoints: Default::default(),
    })
    .await
}

/// An admin-free bootstrap identity: moto accepts any key in its default mode.
pub async fn aws_root(moto: &Moto) -> Aws {
    aws_as(
        moto,
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    .await
}

/// Everything, on every resource: an administrator's policy.
pub const ADMIN_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// Puts `doc` on the user as its inline policy `rights` (a principal with no policy can do
/// nothing, and the foothold model counts it closed).
/// An organisation with `aws`'s account as its management account and a member account per
/// name; the members' ids in order.
pub async fn organisation(aws: &Aws, names: &[&str]) -> Vec<String> {
    let org = aws.organizations();
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("organisation");
    let mut members = Vec::new();
    for name in names {
        let made = org
            .create_account()
            .account_name(*name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .expect("account");
        members.push(
            made.create_account_status()
                .and_then(|s| s.account_id())
                .expect("an account id")
                .to_string(),
        );
    }
    members
}

pub async fn user_policy(aws: &Aws, user: &str, doc: &str) {
    aws.iam
        .put_user_policy()
        .user_name(user)
        .policy_name("rights")
        .policy_document(doc)
        .send()
        .await
        .expect("user policy");
}

/// Puts `doc` on the role as its inline policy `rights`.
pub async fn role_policy(aws: &Aws, role: &str, doc: &str) {
    aws.iam
        .put_role_policy()
        .role_name(role)
        .policy_name("rights")
        .policy_document(doc)
        .send()
        .await
        .expect("role policy");
}

/// Creates a user with `keys` access keys; returns (key id, secret) pairs.
pub async fn user_with_keys(aws: &Aws, name: &str, keys: usize) -> Vec<(String, String)> {
    aws.iam
        .create_user()
        .user_name(name)
        .send()
        .await
        .expect("create user");
    let mut out = Vec::new();
    for _ in 0..keys {
        let k = aws
            .iam
            .create_access_key()
            .user_name(name)
            .send()
            .await
            .expect("create key");
        let k = k.access_key().expect("key");
        out.push((
            k.access_key_id().to_string(),
            k.secret_access_key().to_string(),
        ));
    }
    out
}

pub async fn key_status(aws: &Aws, user: &str) -> Vec<(String, String)> {
    let out = aws
        .iam
        .list_access_keys()
        .user_name(user)
        .send()
        .await
        .expect("list keys");
    out.access_key_metadata()
        .iter()
        .map(|m| {
            (
                m.access_key_id().unwrap_or_default().to_string(),
                m.status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// Deploys a Lambda function in `region` with `env` as its environment, then stores `stored`
/// where `GetFunction`'s `Code.Location` points (moto keeps no package there: the game day does
/// the same, and the adapter reads it from the emulator's S3). `stored` differs from
/// `deployed` only to test a package that does not match the function.
pub async fn deploy_function(
    aws: &Aws,
    region: &str,
    name: &str,
    deployed: &[u8],
    stored: &[u8],
    env: &[(&str, &str)],
) {
    use aws_sdk_lambda::primitives::Blob;
    use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = aws
        .iam
        .create_role()
        .role_name(format!("{name}-role"))
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("role");
    let mut vars = Environment::builder();
    for (k, v) in env {
        vars = vars.variables(*k, *v);
    }
    let lambda = aws.lambda_in(region);
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .role(role.role().map(|r| r.arn()).expect("arn"))
        .handler("main.handler")
        .environment(vars.build())
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(deployed))
                .build(),
        )
        .send()
        .await
        .expect("create function");
    let got = lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .expect("get function");
    let location = got.code().and_then(|c| c.location()).expect("location");
    let rest = location.strip_prefix("https://").expect("https");
    let (host, key) = rest.split_once('/').expect("path");
    let bucket = host.split_once(".s3.").expect("bucket").0;
    assert_eq!(bucket, format!("awslambda-{region}-tasks"));
    let s3 = aws.s3_in(region);
    let mut make = s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        make = make.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
                .build(),
        );
    }
    // Already there after the region's first function.
    let _ = make.send().await;
    s3.put_object()
        .bucket(bucket)
        .key(key)
        // Readable unsigned, as a presigned URL is.
        .acl(aws_sdk_s3::types::ObjectCannedAcl::PublicRead)
        .body(aws_sdk_s3::primitives::ByteStream::from(stored.to_vec()))
        .send()
        .await
        .expect("store package");
}
