//! What every removal and read-back shares: an object that is not there any more counts as
//! removed.

use super::ALREADY_GONE;
use crate::AwsError;

/// Whether an error says the thing is not there (any more).
pub(super) fn gone(e: &AwsError) -> bool {
    if e.is_not_found() {
        return true;
    }
    let code = e.code.as_deref().unwrap_or("");
    code.contains("NotFound")
        || (code == "ValidationError" && e.text.to_ascii_lowercase().contains("not found"))
}

/// A removal that found nothing to remove succeeded.
pub(super) fn settle(r: Result<String, AwsError>) -> Result<String, AwsError> {
    match r {
        Err(e) if gone(&e) => Ok(ALREADY_GONE.to_string()),
        other => other,
    }
}

/// A step whose object turned out to be gone already did its job.
pub(super) fn unless_gone(r: Result<(), AwsError>) -> Result<(), AwsError> {
    match r {
        Err(e) if gone(&e) => Ok(()),
        other => other,
    }
}

/// `Ok(answer)` for a read that worked, `Ok(false)` when the read says it is not there.
pub(super) fn present<T>(
    got: Result<T, AwsError>,
    still: impl FnOnce(T) -> bool,
) -> Result<bool, AwsError> {
    match got {
        Ok(v) => Ok(still(v)),
        Err(e) if gone(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// "2 access keys", "1 group membership".
pub(super) fn counted(n: usize, one: &str, many: &str) -> Option<String> {
    match n {
        0 => None,
        1 => Some(format!("1 {one}")),
        _ => Some(format!("{n} {many}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn not_found_codes_count_as_gone() {
        let e = |code: &str, text: &str| AwsError::other(text).with_code(code);
        assert!(gone(&e("InvalidInstanceID.NotFound", "x")));
        assert!(gone(&e("InvalidLaunchTemplateName.NotFoundException", "x")));
        assert!(gone(&e(
            "ValidationError",
            "autoscaling:DeleteAutoScalingGroup: ValidationError: AutoScalingGroup name not found"
        )));
        assert!(!gone(&e("ValidationError", "bad parameter")));
        assert!(!gone(&e("OperationNotPermitted", "protected")));
        assert!(gone(
            &AwsError::new(ErrorKind::NotFound, String::new()).with_code("NoSuchEntity")
        ));
    }
}
