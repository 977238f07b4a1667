//! Athena for the trail logs: keyspill's workgroup (with its bytes-scanned cutoff), database
//! and one table per trail, created only when the operator typed the workgroup's name; then
//! the key queries, their rows streamed back page by page.

use std::time::Duration;

use aws_sdk_athena::types::{
    QueryExecutionContext, QueryExecutionState, ResultConfiguration, WorkGroupConfiguration,
};
use keyspill_core::timeline::athena::{self, COLUMNS, Table};

use crate::{Aws, AwsError, Sent};

/// keyspill's Athena objects and what the operator agreed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    pub workgroup: String,
    pub database: String,
    /// Where query results go (`s3://…/`): needed to create the workgroup.
    pub output: Option<String>,
    /// The operator typed the workgroup's name: the workgroup, database and table may be
    /// created.
    pub create: bool,
    /// No query of the workgroup scans more.
    pub cutoff_bytes: u64,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            workgroup: "keyspill".into(),
            database: "keyspill".into(),
            output: None,
            create: false,
            cutoff_bytes: athena::DEFAULT_CUTOFF_BYTES,
        }
    }
}

/// What one query did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Done {
    pub id: String,
    pub rows: usize,
    /// As Athena reports it (what it billed before the 10 MB floor).
    pub scanned_bytes: u64,
}

/// Rows read per page (the most GetQueryResults gives).
const PAGE: i32 = 1000;
/// No query is read past this many rows: the tracked keys' events, not an export.
pub const MOST_ROWS: usize = 500_000;

/// The workgroup exists, or is created now (with the database and `table`) when the
/// operator agreed. Returns what was created, in words.
pub async fn ensure(
    aws: &Aws,
    region: &str,
    setup: &Setup,
    table: &Table,
) -> Result<Vec<String>, AwsError> {
    let client = aws.athena_in(region);
    let found = client
        .get_work_group()
        .work_group(&setup.workgroup)
        .send()
        .await;
    let exists = match found {
        Ok(out) => out.work_group().is_some(),
        Err(e) => {
            let f = crate::error::failure("athena:GetWorkGroup", &e);
            if f.text.contains("not found") || f.text.contains("InvalidRequest") {
                false
            } else {
                return Err(f);
            }
        }
    };
    let mut made = Vec::new();
    if !setup.create {
        if exists {
            return Ok(made);
        }
        return Err(AwsError::other(format!(
            "Athena workgroup {wg} does not exist: --athena-create {wg} creates it, its \
             database {db} and a table over this trail (type the workgroup's name to agree)",
            wg = setup.workgroup,
            db = setup.database
        )));
    }
    if !exists {
        let Some(output) = setup.output.as_deref() else {
            return Err(AwsError::other(
                "creating the Athena workgroup needs --athena-output s3://BUCKET/PREFIX/ for \
                 its query results (not the trail's own bucket)",
            ));
        };
        let cutoff = i64::try_from(setup.cutoff_bytes).unwrap_or(i64::MAX);
        client
            .create_work_group()
            .name(&setup.workgroup)
            .description("keyspill: incident searches of the trail logs")
            .configuration(
                WorkGroupConfiguration::builder()
                    .result_configuration(
                        ResultConfiguration::builder()
                            .output_location(output)
                            .build(),
                    )
                    .bytes_scanned_cutoff_per_query(cutoff)
                    .enforce_work_group_configuration(true)
                    .publish_cloud_watch_metrics_enabled(false)
                    .build(),
            )
            .send()
            .await
            .sent("athena:CreateWorkGroup")?;
        made.push(format!(
            "workgroup {} (no query scans more than {})",
            setup.workgroup,
            athena::size_text(setup.cutoff_bytes)
        ));
    }
    run(
        aws,
        region,
        setup,
        &athena::create_database_sql(&setup.database),
        |_, _| {},
    )
    .await?;
    let ddl = athena::create_table_sql(table).map_err(AwsError::other)?;
    run(aws, region, setup, &ddl, |_, _| {}).await?;
    made.push(format!(
        "table {}.{} (if it was missing)",
        table.database, table.name
    ));
    Ok(made)
}

/// Runs `sql` in the workgroup and hands each result row (its query's id, and the values in
/// column order, `None` for NULL; the header row left out) to `on_row` as its page arrives.
pub async fn run(
    aws: &Aws,
    region: &str,
    setup: &Setup,
    sql: &str,
    mut on_row: impl FnMut(&str, Vec<Option<String>>),
) -> Result<Done, AwsError> {
    let client = aws.athena_in(region);
    let started = client
        .start_query_execution()
        .query_string(sql)
        .work_group(&setup.workgroup)
        .query_execution_context(
            QueryExecutionContext::builder()
                .database(&setup.database)
                .build(),
        )
        .send()
        .await
        .sent("athena:StartQueryExecution")?;
    let id = started.query_execution_id().unwrap_or_default().to_string();
    let mut wait = Duration::from_millis(100);
    let scanned = loop {
        let state = client
            .get_query_execution()
            .query_execution_id(&id)
            .send()
            .await
            .sent("athena:GetQueryExecution")?;
        let q = state.query_execution();
        let status = q.and_then(|q| q.status());
        match status.and_then(|s| s.state()) {
            Some(QueryExecutionState::Succeeded) => {
                break q
                    .and_then(|q| q.statistics())
                    .and_then(|s| s.data_scanned_in_bytes())
                    .and_then(|b| u64::try_from(b).ok())
                    .unwrap_or(0);
            }
            Some(QueryExecutionState::Failed) | Some(QueryExecutionState::Cancelled) => {
                let why = status
                    .and_then(|s| s.state_change_reason())
                    .unwrap_or("no reason given");
                return Err(AwsError::other(format!("Athena query {id} failed: {why}")));
            }
            _ => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
            }
        }
    };
    let mut done = Done {
        id: id.clone(),
        rows: 0,
        scanned_bytes: scanned,
    };
    let mut token: Option<String> = None;
    let mut first = true;
    loop {
        let page = client
            .get_query_results()
            .query_execution_id(&id)
            .max_results(PAGE)
            .set_next_token(token.clone())
            .send()
            .await
            .sent("athena:GetQueryResults")?;
        if let Some(set) = page.result_set() {
            for row in set.rows() {
                let values: Vec<Option<String>> = row
                    .data()
                    .iter()
                    .map(|d| d.var_char_value().map(str::to_string))
                    .collect();
                // A SELECT's first row names the columns.
                let header = first && values.first().and_then(|v| v.as_deref()) == Some(COLUMNS[0]);
                first = false;
                if header {
                    continue;
                }
                if done.rows >= MOST_ROWS {
                    return Ok(done);
                }
                done.rows += 1;
                on_row(&id, values);
            }
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(done);
        }
    }
}
