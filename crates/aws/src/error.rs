//! AWS failures in words a room full of responders can act on.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub use keyspill_core::domain::{ErrorKind, Failure};

/// The adapter's name for a failed call: the core's typed [`Failure`], so the same value
/// travels from the SDK call to the screen.
pub type AwsError = Failure;

/// Translation of SDK errors into [`Failure`]s. A trait because the type lives in the core,
/// which knows nothing of the SDK.
pub trait FromSdk: Sized {
    /// Translates an SDK error. `call` names the operation as IAM policies do
    /// (`iam:ListUsers`), so AccessDenied can name the permission even when AWS does not.
    fn from_sdk<E>(call: &str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static;
}

/// `result.sent("iam:CreateUser")`: an SDK call's result with its error translated.
pub trait Sent<T> {
    fn sent(self, call: &str) -> Result<T, Failure>;
}

impl<T, E> Sent<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    fn sent(self, call: &str) -> Result<T, Failure> {
        self.map_err(|e| Failure::from_sdk(call, &e))
    }
}

/// An SDK error as a [`Failure`], naming the call (`iam:CreateUser`).
pub fn failure<E>(call: &str, err: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    Failure::from_sdk(call, err)
}

impl FromSdk for Failure {
    /// Translates an SDK error. `call` names the operation as IAM policies do
    /// (`iam:ListUsers`), so AccessDenied can name the permission even when AWS does not.
    fn from_sdk<E>(call: &str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let chain = DisplayErrorContext(err).to_string();
        match err {
            SdkError::ServiceError(se) => {
                let code = se.err().code().map(str::to_string);
                let message = se.err().message().unwrap_or("").to_string();
                let status = se.raw().status().as_u16();
                from_service(call, code, &message, status)
            }
            SdkError::TimeoutError(_) => Failure::new(
                ErrorKind::Timeout,
                format!("{call}: AWS did not answer in time"),
            ),
            SdkError::DispatchFailure(df) => {
                if is_missing_credentials(&chain) {
                    return no_credentials(call);
                }
                let (kind, why) = if df.is_timeout() {
                    (ErrorKind::Timeout, "timed out connecting")
                } else {
                    (ErrorKind::Unreachable, "cannot reach the AWS endpoint")
                };
                Failure::new(kind, format!("{call}: {why} ({})", last_cause(&chain)))
            }
            // An answer that is not AWS's format at all (an HTML error page): a 5xx or 404
            // there means the service is not offered at that endpoint.
            SdkError::ResponseError(re)
                if matches!(re.raw().status().as_u16(), 404 | 500 | 501) =>
            {
                from_service(call, None, "", re.raw().status().as_u16())
            }
            _ => {
                if is_missing_credentials(&chain) {
                    return no_credentials(call);
                }
                AwsError::other(format!("{call}: {}", last_cause(&chain)))
            }
        }
    }
}

/// A service's error answer (code, message, HTTP status) as a [`Failure`].
pub fn from_service(call: &str, code: Option<String>, message: &str, status: u16) -> Failure {
    let c = code.as_deref().unwrap_or("");
    let kind = match c {
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "Client.UnauthorizedOperation"
        | "UnauthorizedAccess" => ErrorKind::AccessDenied,
        "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "AuthFailure"
        | "InvalidAccessKeyId"
        | "ExpiredToken"
        | "ExpiredTokenException" => ErrorKind::InvalidCredentials,
        "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException" => ErrorKind::Throttled,
        "NoSuchEntity" | "NoSuchEntityException" | "ResourceNotFoundException" => {
            ErrorKind::NotFound
        }
        // EC2's `InvalidInstanceID.NotFound`, `InvalidGroup.NotFound`…
        c if c.ends_with(".NotFound") => ErrorKind::NotFound,
        "" if matches!(status, 404 | 500 | 501) => ErrorKind::NotImplemented,
        "" if status == 403 => ErrorKind::AccessDenied,
        _ => ErrorKind::Other,
    };
    let permission = (kind == ErrorKind::AccessDenied)
        .then(|| permission_in(message).unwrap_or(call).to_string());
    let text = match kind {
        ErrorKind::AccessDenied => {
            format!(
                "AccessDenied: missing permission {}",
                permission.as_deref().unwrap_or(call)
            )
        }
        ErrorKind::InvalidCredentials => format!(
            "{call}: the credentials were rejected ({c}{}{message})",
            if message.is_empty() { "" } else { ": " }
        ),
        ErrorKind::Throttled => format!("{call}: throttled by AWS; backing off"),
        ErrorKind::NotImplemented => format!(
            "{call}: the endpoint answered HTTP {status} without an AWS error \
                 (the operation is not available there)"
        ),
        _ if c.is_empty() => format!("{call}: HTTP {status} {message}"),
        _ => format!("{call}: {c}: {message}"),
    };
    Failure {
        kind,
        code,
        text: text.trim_end().to_string(),
        permission,
    }
}

fn no_credentials(call: &str) -> AwsError {
    Failure::new(
        ErrorKind::NoCredentials,
        format!(
            "{call}: no AWS credentials found — set AWS_PROFILE (or --profile), run \
             `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ),
    )
}

fn is_missing_credentials(chain: &str) -> bool {
    let c = chain.to_ascii_lowercase();
    c.contains("no credentials")
        || c.contains("credentials provider was not enabled")
        || c.contains("no providers in chain provided credentials")
        || c.contains("failed to load credentials")
        || c.contains("an error occurred while loading credentials")
}

/// The innermost cause in an error chain printed as `a: b: c (DebugDump(…))`: the Debug dump
/// that `DisplayErrorContext` appends is cut off first.
fn last_cause(chain: &str) -> String {
    let display = debug_dump_start(chain).map_or(chain, |i| &chain[..i]);
    let cause = display
        .rsplit(": ")
        .find(|s| s.trim().len() > 3)
        .unwrap_or(display);
    cause.trim().to_string()
}

/// Where ` (SomeType(` begins, if anywhere.
fn debug_dump_start(chain: &str) -> Option<usize> {
    chain.match_indices(" (").map(|(i, _)| i).find(|&i| {
        let rest = &chain[i + 2..];
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        ident.starts_with(|c: char| c.is_ascii_uppercase()) && rest[ident.len()..].starts_with('(')
    })
}

/// `…is not authorized to perform: iam:ListUsers on resource…` → `iam:ListUsers`.
pub fn permission_in(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("not authorized to perform: ")?;
    let perm = rest.split([' ', ',', ';']).next()?;
    (perm.contains(':') && perm.len() > 3).then_some(perm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_the_permission_from_the_message() {
        let e = from_service(
            "iam:ListUsers",
            Some("AccessDenied".into()),
            "User: arn:aws:iam::123456789012:user/nopol is not authorized to perform: \
             iam:ListUsers on resource: arn:aws:iam::123456789012:user/",
            403,
        );
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        assert_eq!(e.text, "AccessDenied: missing permission iam:ListUsers");
        assert_eq!(e.permission.as_deref(), Some("iam:ListUsers"));
    }

    #[test]
    fn access_denied_falls_back_to_the_call() {
        let e = from_service(
            "iam:GetAccountSummary",
            Some("AccessDenied".into()),
            "denied",
            403,
        );
        assert_eq!(
            e.text,
            "AccessDenied: missing permission iam:GetAccountSummary"
        );
    }

    #[test]
    fn html_500_is_not_implemented() {
        let e = from_service("cloudtrail:LookupEvents", None, "", 500);
        assert_eq!(e.kind, ErrorKind::NotImplemented);
        assert!(e.text.contains("HTTP 500"));
    }

    #[test]
    fn an_html_page_that_cannot_be_parsed_is_not_implemented_either() {
        use aws_smithy_runtime_api::http::StatusCode;
        use aws_smithy_types::body::SdkBody;
        let raw = HttpResponse::new(
            StatusCode::try_from(500).expect("status"),
            SdkBody::from("<!doctype html><title>500</title>"),
        );
        let err: SdkError<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError, _> =
            SdkError::response_error("unexpected token '<'", raw);
        let e = AwsError::from_sdk("lightsail:GetInstances", &err);
        assert_eq!(e.kind, ErrorKind::NotImplemented);
        assert!(e.text.contains("lightsail:GetInstances"), "{}", e.text);

        let raw = HttpResponse::new(
            StatusCode::try_from(502).expect("status"),
            SdkBody::from("<html>bad gateway</html>"),
        );
        let err: SdkError<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError, _> =
            SdkError::response_error("unexpected token '<'", raw);
        assert_eq!(
            AwsError::from_sdk("sts:GetCallerIdentity", &err).kind,
            ErrorKind::Other
        );
    }

    #[test]
    fn other_kinds() {
        let t = from_service(
            "iam:ListUsers",
            Some("Throttling".into()),
            "Rate exceeded",
            400,
        );
        assert_eq!(t.kind, ErrorKind::Throttled);
        let n = from_service("iam:GetUser", Some("NoSuchEntity".into()), "no user", 404);
        assert!(n.is_not_found());
        let c = from_service(
            "sts:GetCallerIdentity",
            Some("InvalidClientTokenId".into()),
            "The security token included in the request is invalid.",
            403,
        );
        assert_eq!(c.kind, ErrorKind::InvalidCredentials);
        assert!(c.text.contains("rejected"));
    }

    #[test]
    fn the_cause_of_a_dispatch_failure_reads_plainly() {
        let chain = "dispatch failure: io error: client error (Connect): tcp connect error: \
                     Connection refused (os error 111) (DispatchFailure(DispatchFailure { source: \
                     ConnectorError { kind: Io, connection: Unknown } }))";
        assert_eq!(last_cause(chain), "Connection refused (os error 111)");
        assert_eq!(last_cause("timed out"), "timed out");
    }

    #[test]
    fn permission_parsing() {
        assert_eq!(
            permission_in("is not authorized to perform: ec2:DescribeInstances"),
            Some("ec2:DescribeInstances")
        );
        assert_eq!(permission_in("nothing here"), None);
    }
}
