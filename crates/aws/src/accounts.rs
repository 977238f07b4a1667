//! Every account of an organisation: listed from Organizations, entered through a role in
//! each (`OrganizationAccountAccessRole` unless told otherwise), and swept all at once. An
//! account that cannot be entered says why, in words; the others go on.

use std::collections::HashSet;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use keyspill_core::resources::RegionSweep;

use crate::{Aws, AwsError, Sent};

/// The role an organisation's management account can assume in every member it created.
pub const DEFAULT_ROLE: &str = "OrganizationAccountAccessRole";

/// One member account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
}

/// Every account of the caller's organisation (the management account or a delegated
/// administrator can list them), in the order Organizations gives.
pub async fn list(aws: &Aws) -> Result<Vec<Member>, AwsError> {
    let org = aws.organizations();
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = org
            .list_accounts()
            .set_next_token(token.clone())
            .send()
            .await
            .sent("organizations:ListAccounts")?;
        for a in page.accounts() {
            out.push(Member {
                id: a.id().unwrap_or_default().to_string(),
                name: a.name().unwrap_or_default().to_string(),
                status: a
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    // An organisation always lists its management account: nothing means no organisation
    // (AWS answers AWSOrganizationsNotInUseException; an emulator may answer an empty list).
    if out.is_empty() {
        return Err(AwsError::other(
            "organizations:ListAccounts: no account listed: the caller's account is not in an \
             organisation it can list: name the accounts to enter instead",
        ));
    }
    Ok(out)
}

/// The account `account` as `role_name` there: a one-hour role session, signed the same way
/// as `aws` otherwise. `own` is the caller's own account, used as is.
pub async fn enter(
    aws: &Aws,
    own: Option<&str>,
    account: &str,
    role_name: &str,
    partition: &str,
) -> Result<Aws, AwsError> {
    if own == Some(account) {
        return Ok(aws.clone());
    }
    let arn = format!("arn:{partition}:iam::{account}:role/{role_name}");
    let out = aws
        .sts
        .assume_role()
        .role_arn(&arn)
        .role_session_name("keyspill-incident")
        .duration_seconds(3600)
        .send()
        .await
        .sent(&format!("sts:AssumeRole {arn}"))?;
    let Some(c) = out.credentials() else {
        return Err(AwsError::other(format!(
            "sts:AssumeRole {arn}: no credentials in the answer"
        )));
    };
    Ok(aws.with_session(c.access_key_id(), c.secret_access_key(), c.session_token()))
}

/// The inventory sweep of every entered account, all accounts and all their regions at once;
/// each region (and each account's IAM) handed to `on_done` with its account as it completes.
pub async fn sweep_all(
    accounts: &[(String, Aws)],
    regions: &[String],
    mut on_done: impl FnMut(&str, RegionSweep),
) {
    let mut tasks = FuturesUnordered::new();
    for (id, aws) in accounts {
        let (id, aws, regions) = (id.clone(), aws.clone(), regions.to_vec());
        tasks.push(tokio::spawn(async move {
            let sweeps = crate::resources::sweep(&aws, &regions).await;
            (id, sweeps)
        }));
    }
    let mut seen: HashSet<String> = HashSet::new();
    while let Some(done) = tasks.next().await {
        match done {
            Ok((id, sweeps)) => {
                seen.insert(id.clone());
                for s in sweeps {
                    on_done(&id, s);
                }
            }
            Err(e) => tracing::warn!("an account's sweep stopped: {e}"),
        }
    }
    // An account whose task died is named, with nothing found, so the screen says so.
    for (id, _) in accounts.iter().filter(|(id, _)| !seen.contains(id)) {
        on_done(
            id,
            RegionSweep {
                region: keyspill_core::resources::GLOBAL.to_string(),
                ..RegionSweep::default()
            },
        );
    }
}
