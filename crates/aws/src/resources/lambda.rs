//! Lambda functions: listed with their role, deleted, read back.

use super::remove::present;
use super::{detail, parse_time, reference, relate};
use crate::{Aws, AwsError, Sent};
use keyspill_core::resources::{GLOBAL, Kind, Resource};

pub(super) async fn functions(aws: &Aws, region: &str) -> Result<Vec<Resource>, AwsError> {
    let functions = every!(
        aws.lambda_in(region).list_functions(),
        "lambda:ListFunctions"
    )?;
    let mut out = Vec::new();
    for f in &functions {
        let Some(name) = f.function_name() else {
            continue;
        };
        let mut res = Resource::new(Kind::Function, region, name);
        res.arn = f.function_arn().map(str::to_string);
        res.created = f.last_modified().and_then(parse_time);
        res.state = f
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        detail(&mut res, "runtime", f.runtime().map(|r| r.as_str()));
        detail(&mut res, "role", f.role());
        detail(&mut res, "handler", f.handler());
        detail(&mut res, "last modified", f.last_modified());
        if let Some(role) = f.role().and_then(|r| r.rsplit('/').next()) {
            relate(&mut res, reference(Kind::Role, GLOBAL, role));
        }
        out.push(res);
    }
    Ok(out)
}

pub(super) async fn delete_function(aws: &Aws, region: &str, id: &str) -> Result<String, AwsError> {
    aws.lambda_in(region)
        .delete_function()
        .function_name(id)
        .send()
        .await
        .sent("lambda:DeleteFunction")?;
    Ok(format!("deleted function {id}"))
}

pub(super) async fn function_exists(aws: &Aws, region: &str, id: &str) -> Result<bool, AwsError> {
    present(
        aws.lambda_in(region)
            .get_function()
            .function_name(id)
            .send()
            .await
            .sent("lambda:GetFunction"),
        |_| true,
    )
}
