//! IAM's own answer to "may this principal do that": `iam:SimulatePrincipalPolicy`, which the
//! console sets beside its own evaluation ([`keyspill_core::access::authz::disagreements`]).
//!
//! The simulator evaluates the principal's identity policies (with its groups' and its
//! boundary) for every resource (`*`), without request context. The API documents no limit on
//! how many `ActionNames` one call may carry (each name is 3 to 128 characters; the service
//! model's list has no size bound), only paging of the answer (`IsTruncated`/`Marker`, at most
//! 1,000 results a page), so the actions go in one request and every page is followed.

use crate::{Aws, AwsError, Sent};
use keyspill_core::access::authz::Simulated;

/// The simulator's decision for each action, in the order IAM answers. A decision this
/// version does not know is left out (the caller then has no simulated answer for that
/// action, as if it had not been asked).
pub async fn simulate(
    aws: &Aws,
    principal_arn: &str,
    actions: &[String],
) -> Result<Vec<(String, Simulated)>, AwsError> {
    // The API refuses an empty ActionNames; nothing asked, nothing answered.
    if actions.is_empty() {
        return Ok(Vec::new());
    }
    let mut pages = aws
        .iam
        .simulate_principal_policy()
        .policy_source_arn(principal_arn)
        .set_action_names(Some(actions.to_vec()))
        .into_paginator()
        .send();
    let mut out = Vec::with_capacity(actions.len());
    while let Some(page) = pages.next().await {
        let page = page.sent("iam:SimulatePrincipalPolicy")?;
        out.extend(page.evaluation_results().iter().filter_map(|r| {
            Simulated::from_api(r.eval_decision().as_str())
                .map(|d| (r.eval_action_name().to_string(), d))
        }));
    }
    Ok(out)
}
