//! STS: who keyspill runs as, and which account owns a key.

use crate::{Aws, AwsError, Sent};
use keyspill_core::domain::Identity;

pub async fn identity(aws: &Aws) -> Result<Identity, AwsError> {
    // Resolve credentials first so "no credentials" reads as such, not as a transport error.
    let key = aws.own_access_key_id().await?;
    let out = aws
        .sts
        .get_caller_identity()
        .send()
        .await
        .sent("sts:GetCallerIdentity")?;
    Ok(Identity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
        user_id: out.user_id().unwrap_or_default().to_string(),
        access_key_id: Some(key),
    })
}

/// The account that owns an access key, by `sts:GetAccessKeyInfo` (works for any key id).
pub async fn key_account(aws: &Aws, key_id: &str) -> Result<String, AwsError> {
    let out = aws
        .sts
        .get_access_key_info()
        .access_key_id(key_id)
        .send()
        .await
        .sent("sts:GetAccessKeyInfo")?;
    Ok(out.account().unwrap_or("unknown").to_string())
}
