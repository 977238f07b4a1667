//! A failed call to AWS, typed: what kind of failure, AWS's error code, the sentence the pane
//! shows, and the missing permission when AWS refused. The adapter builds these from SDK errors;
//! screens and the checklist decide from `kind` and `permission`, never from the words.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// AWS refused: the caller lacks a permission (named in `Failure::permission`).
    AccessDenied,
    /// No credentials could be found at all.
    NoCredentials,
    /// Credentials were found but AWS rejected them (deleted, disabled, expired).
    InvalidCredentials,
    /// The endpoint could not be reached.
    Unreachable,
    Timeout,
    Throttled,
    NotFound,
    /// The endpoint does not offer the operation (an emulator, or a service absent there).
    NotImplemented,
    Other,
}

impl ErrorKind {
    /// Whether trying the same call again later can succeed without anyone changing anything.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Unreachable | ErrorKind::Timeout | ErrorKind::Throttled | ErrorKind::Other
        )
    }
}

/// A failed AWS call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: ErrorKind,
    /// AWS's error code (`AccessDenied`, `Throttling`…), when it sent one.
    pub code: Option<String>,
    /// One sentence for the pane.
    pub text: String,
    /// For `AccessDenied`: the permission the caller lacks, as IAM policies name it
    /// (`iam:ListUsers`), taken from AWS's message or else the call that was refused.
    pub permission: Option<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Failure {}

/// Where only words are wanted (the game day's step log, a CLI message).
impl From<Failure> for String {
    fn from(f: Failure) -> String {
        f.text
    }
}

impl Failure {
    pub fn new(kind: ErrorKind, text: impl Into<String>) -> Self {
        Failure {
            kind,
            code: None,
            text: text.into(),
            permission: None,
        }
    }

    /// A failure with no AWS classification (a local problem, an answer that made no sense).
    pub fn other(text: impl Into<String>) -> Self {
        Failure::new(ErrorKind::Other, text)
    }

    /// AWS refused `permission` (`ce:GetCostAndUsage`).
    pub fn access_denied(permission: impl Into<String>) -> Self {
        let permission = permission.into();
        Failure {
            kind: ErrorKind::AccessDenied,
            code: Some("AccessDenied".into()),
            text: format!("AccessDenied: missing permission {permission}"),
            permission: Some(permission),
        }
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    pub fn is_access_denied(&self) -> bool {
        self.kind == ErrorKind::AccessDenied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_the_permission_in_field_and_words() {
        let f = Failure::access_denied("ce:GetCostAndUsage");
        assert!(f.is_access_denied());
        assert_eq!(f.permission.as_deref(), Some("ce:GetCostAndUsage"));
        assert_eq!(
            f.to_string(),
            "AccessDenied: missing permission ce:GetCostAndUsage"
        );
    }

    #[test]
    fn only_refusals_and_missing_things_are_not_worth_retrying_as_is() {
        assert!(ErrorKind::Throttled.is_transient());
        assert!(ErrorKind::Unreachable.is_transient());
        assert!(!ErrorKind::AccessDenied.is_transient());
        assert!(!ErrorKind::NotFound.is_transient());
        assert!(!ErrorKind::InvalidCredentials.is_transient());
    }
}
