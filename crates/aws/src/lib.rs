//! The adapter between keyspill and AWS. Every SDK type stops here: functions take clients and
//! return the program's own domain types or an `AwsError` in words.

pub mod access;
pub mod accounts;
pub mod athena;
pub mod cloudtrail;
pub mod collect;
pub mod cost;
pub mod detect;
pub mod error;
pub mod evidence;
pub mod http;
pub mod iam;
pub mod poll;
pub mod regions;
pub mod resources;
pub mod simulate;
pub mod sts;
pub mod trails;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sts::config::{Credentials, ProvideCredentials, Region};

pub use error::{AwsError, ErrorKind, FromSdk, Sent};

/// How to reach AWS: the aws-config default chain, shaped by the AWS-CLI-style flags.
#[derive(Clone, Default)]
pub struct ConnectOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Fixed credentials instead of the default chain (tests and the game day).
    pub static_credentials: Option<(String, String)>,
    /// The session token that goes with `static_credentials` when they are temporary (`ASIA…`).
    pub session_token: Option<String>,
    /// Attempts per call, including the first (AWS's standard retry with back-off).
    pub max_attempts: u32,
    /// Endpoints of single services, over `endpoint_url` (as `AWS_ENDPOINT_URL_<SERVICE>`
    /// does for the AWS CLI): CloudTrail and Cost Explorer.
    pub service_endpoints: ServiceEndpoints,
}

/// Per-service endpoint overrides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceEndpoints {
    pub cloudtrail: Option<String>,
    pub cost_explorer: Option<String>,
    pub guardduty: Option<String>,
    pub health: Option<String>,
}

impl ServiceEndpoints {
    /// From the environment, as the AWS SDKs name them: `AWS_ENDPOINT_URL_CLOUDTRAIL`,
    /// `AWS_ENDPOINT_URL_COST_EXPLORER`, `AWS_ENDPOINT_URL_GUARDDUTY`, `AWS_ENDPOINT_URL_HEALTH`.
    pub fn from_env() -> ServiceEndpoints {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        ServiceEndpoints {
            cloudtrail: var("AWS_ENDPOINT_URL_CLOUDTRAIL"),
            cost_explorer: var("AWS_ENDPOINT_URL_COST_EXPLORER"),
            guardduty: var("AWS_ENDPOINT_URL_GUARDDUTY"),
            health: var("AWS_ENDPOINT_URL_HEALTH"),
        }
    }
}

/// Never prints the secret key or the session token, only whether they are set.
impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("profile", &self.profile)
            .field("region", &self.region)
            .field("endpoint_url", &self.endpoint_url)
            .field(
                "static_credentials",
                &self
                    .static_credentials
                    .as_ref()
                    .map(|(id, _)| (id, "<secret>")),
            )
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<token>"),
            )
            .field("max_attempts", &self.max_attempts)
            .field("service_endpoints", &self.service_endpoints)
            .finish()
    }
}

/// The service clients keyspill uses, sharing one configuration.
#[derive(Clone, Debug)]
pub struct Aws {
    pub iam: aws_sdk_iam::Client,
    pub sts: aws_sdk_sts::Client,
    pub ec2: aws_sdk_ec2::Client,
    pub cloudtrail: aws_sdk_cloudtrail::Client,
    pub s3: aws_sdk_s3::Client,
    config: aws_config::SdkConfig,
    services: ServiceEndpoints,
}

/// The region IAM, STS and other global calls are sent to when none is configured.
pub const FALLBACK_REGION: &str = "us-east-1";

impl Aws {
    /// Resolves configuration through the default chain. This may wait on the network (SSO,
    /// instance metadata), so it never runs before the first frame.
    pub async fn connect(opts: &ConnectOptions) -> Aws {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(20))
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(opts.max_attempts.max(1)));
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &opts.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(e) = &opts.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        if let Some((id, secret)) = &opts.static_credentials {
            loader = loader.credentials_provider(Credentials::new(
                id,
                secret,
                opts.session_token.clone(),
                None,
                "keyspill",
            ));
        }
        // Every client made from this connection (other accounts' sessions too) shares one
        // HTTPS client and its bound on requests in flight, sized from the open-file limit
        // raised to its ceiling.
        let loader =
            loader.http_client(http::client(http::in_flight_for(http::raise_open_files())));
        let mut config = loader.load().await;
        if config.region().is_none() {
            config = config
                .into_builder()
                .region(Region::from_static(FALLBACK_REGION))
                .build();
        }
        Aws::from_config(config, opts.service_endpoints.clone())
    }

    /// The clients every part uses, made once from a resolved configuration.
    fn from_config(config: aws_config::SdkConfig, services: ServiceEndpoints) -> Aws {
        let mut cloudtrail = aws_sdk_cloudtrail::config::Builder::from(&config);
        if let Some(e) = &services.cloudtrail {
            cloudtrail = cloudtrail.endpoint_url(e);
        }
        Aws {
            iam: aws_sdk_iam::Client::new(&config),
            sts: aws_sdk_sts::Client::new(&config),
            ec2: aws_sdk_ec2::Client::new(&config),
            cloudtrail: aws_sdk_cloudtrail::Client::from_conf(cloudtrail.build()),
            s3: aws_sdk_s3::Client::new(&config),
            config,
            services,
        }
    }

    /// The same connection (region, endpoints, timeouts, retries) signing as other
    /// credentials: a role session in another account.
    pub fn with_session(&self, key_id: &str, secret: &str, token: &str) -> Aws {
        let config = self
            .config
            .to_builder()
            .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
                Credentials::new(
                    key_id,
                    secret,
                    Some(token.to_string()),
                    None,
                    "keyspill-role",
                ),
            ))
            .build();
        Aws::from_config(config, self.services.clone())
    }

    /// An Organizations client (its one endpoint serves every region); made when asked, since
    /// only the access poll needs it.
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.config)
    }

    /// The endpoint every client was pointed at (an emulator), when one was.
    pub fn endpoint_url(&self) -> Option<String> {
        self.config.endpoint_url().map(str::to_string)
    }

    /// The region calls go to unless a call names its own.
    pub fn region(&self) -> String {
        self.config
            .region()
            .map_or_else(|| FALLBACK_REGION.to_string(), |r| r.to_string())
    }

    /// An STS client for one region (a regional endpoint, as sessions minted there use).
    pub fn sts_in(&self, region: &str) -> aws_sdk_sts::Client {
        let conf = aws_sdk_sts::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_sts::Client::from_conf(conf)
    }

    /// An EC2 client for one region (for per-region fan-out).
    pub fn ec2_in(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    /// A CloudTrail client for one region (LookupEvents and trail status are regional).
    pub fn cloudtrail_in(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        let mut conf = aws_sdk_cloudtrail::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()));
        if let Some(e) = &self.services.cloudtrail {
            conf = conf.endpoint_url(e);
        }
        aws_sdk_cloudtrail::Client::from_conf(conf.build())
    }

    /// A GuardDuty client for `region`.
    pub fn guardduty_in(&self, region: &str) -> aws_sdk_guardduty::Client {
        let mut conf = aws_sdk_guardduty::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()));
        if let Some(e) = &self.services.guardduty {
            conf = conf.endpoint_url(e);
        }
        aws_sdk_guardduty::Client::from_conf(conf.build())
    }

    /// A Security Hub client for `region`.
    pub fn securityhub_in(&self, region: &str) -> aws_sdk_securityhub::Client {
        let conf = aws_sdk_securityhub::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()));
        aws_sdk_securityhub::Client::from_conf(conf.build())
    }

    /// An AWS Health client. The Health API of the commercial partition is served from
    /// us-east-1 only (and only to accounts with a Business, Enterprise On-Ramp or Enterprise
    /// support plan).
    pub fn health(&self) -> aws_sdk_health::Client {
        let mut conf = aws_sdk_health::config::Builder::from(&self.config)
            .region(Region::from_static("us-east-1"));
        if let Some(e) = &self.services.health {
            conf = conf.endpoint_url(e);
        }
        aws_sdk_health::Client::from_conf(conf.build())
    }

    /// A Cost Explorer client. Cost Explorer is served from us-east-1 only, so this client
    /// targets us-east-1 whatever region the session uses.
    pub fn ce(&self) -> aws_sdk_costexplorer::Client {
        let mut conf = aws_sdk_costexplorer::config::Builder::from(&self.config)
            .region(Region::from_static("us-east-1"));
        if let Some(e) = &self.services.cost_explorer {
            conf = conf.endpoint_url(e);
        }
        aws_sdk_costexplorer::Client::from_conf(conf.build())
    }

    /// An Athena client for one region (the trail bucket's).
    pub fn athena_in(&self, region: &str) -> aws_sdk_athena::Client {
        let conf = aws_sdk_athena::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_athena::Client::from_conf(conf)
    }

    /// An S3 client for one region (a bucket is read through its own region's endpoint).
    pub fn s3_in(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// An Auto Scaling client for one region.
    pub fn autoscaling_in(&self, region: &str) -> aws_sdk_autoscaling::Client {
        let conf = aws_sdk_autoscaling::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_autoscaling::Client::from_conf(conf)
    }

    /// A Lambda client for one region.
    pub fn lambda_in(&self, region: &str) -> aws_sdk_lambda::Client {
        let conf = aws_sdk_lambda::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_lambda::Client::from_conf(conf)
    }

    /// A Lightsail client for one region (Lightsail is offered in only some regions).
    pub fn lightsail_in(&self, region: &str) -> aws_sdk_lightsail::Client {
        let conf = aws_sdk_lightsail::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_lightsail::Client::from_conf(conf)
    }

    /// A Resource Groups Tagging API client for one region (`GetResources` is regional).
    pub fn tagging_in(&self, region: &str) -> aws_sdk_resourcegroupstagging::Client {
        let conf = aws_sdk_resourcegroupstagging::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_resourcegroupstagging::Client::from_conf(conf)
    }

    /// The access key id of the credentials keyspill signs with, when they resolve.
    pub async fn own_access_key_id(&self) -> Result<String, AwsError> {
        let provider = self.config.credentials_provider().ok_or_else(|| {
            AwsError::new(
                ErrorKind::NoCredentials,
                "no AWS credentials provider is configured",
            )
        })?;
        provider
            .provide_credentials()
            .await
            .map(|c| c.access_key_id().to_string())
            .map_err(|e| {
                AwsError::new(
                    ErrorKind::NoCredentials,
                    format!(
                        "no AWS credentials found ({}) — set AWS_PROFILE (or --profile), run \
                         `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                        aws_smithy_types::error::display::DisplayErrorContext(&e)
                    ),
                )
            })
    }
}

/// `aws_smithy_types::DateTime` to the domain's timestamp.
pub(crate) fn to_ts(dt: &aws_smithy_types::DateTime) -> keyspill_core::domain::Timestamp {
    time::OffsetDateTime::from_unix_timestamp(dt.secs()).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_options_never_debug_print_the_secret_or_the_token() {
        let opts = ConnectOptions {
            static_credentials: Some(("ASIAEXAMPLEKEYID0001".into(), "s3cr3t-value".into())),
            session_token: Some("t0ken-value".into()),
            ..ConnectOptions::default()
        };
        let printed = format!("{opts:?}");
        assert!(printed.contains("ASIAEXAMPLEKEYID0001"), "{printed}");
        assert!(!printed.contains("s3cr3t-value"), "{printed}");
        assert!(!printed.contains("t0ken-value"), "{printed}");
    }
}
