//! Trails and the log objects they deliver to S3.
//!
//! A trail writes gzip'd `{"Records":[…]}` objects under
//! `[prefix/]AWSLogs/[o-id/]<account>/CloudTrail/<region>/YYYY/MM/DD/`. Those objects hold what
//! LookupEvents cannot give: data events and history older than 90 days. This module finds the
//! trails, works out which day folders an incident window touches, lists the objects there and
//! downloads them. The bytes are handed back still compressed; reading them is the timeline's
//! business.
//!
//! Organization id: neither a trail nor its ARN carries the organization id that an
//! organization trail puts after `AWSLogs/`. [`organization_ids`] reads it from the bucket
//! itself, listing the `AWSLogs/` level with delimiter `/` and keeping the `o-…` folders. The
//! trail ARN's account ([`Trail::owner_account`]) is still worth comparing with the caller's
//! account: a different one means the trail (and usually its bucket) belongs to the
//! organization's management account.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream;
use time::Date;

use crate::{Aws, AwsError, FromSdk};

/// How many ListObjectsV2 walks run at once.
pub const LIST_CONCURRENCY: usize = 16;

/// A trail as the Timeline tab needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    /// The bucket it delivers to (absent when the caller may not see it).
    pub bucket: Option<String>,
    /// The key prefix inside the bucket, without leading or trailing `/`.
    pub prefix: Option<String>,
    pub multi_region: bool,
    pub organization: bool,
    /// `GetTrailStatus` → `IsLogging`; `None` when the status could not be read.
    pub logging: Option<bool>,
}

impl Trail {
    /// The account that owns the trail, from its ARN (`arn:aws:cloudtrail:<region>:<account>:trail/<name>`).
    pub fn owner_account(&self) -> Option<&str> {
        arn_account(&self.arn)
    }

    /// The regions whose events this trail delivers, out of the account's enabled `regions`.
    pub fn log_regions(&self, regions: &[String]) -> Vec<String> {
        if self.multi_region {
            regions.to_vec()
        } else {
            vec![self.home_region.clone()]
        }
    }
}

/// The account field of an ARN, when it has one.
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Every trail visible from `regions`: `DescribeTrails` (shadow trails included, so a
/// multi-region or organization trail is found from any region) in all regions at once,
/// de-duplicated by ARN, then `GetTrailStatus` for each in its home region. A region or trail
/// that fails adds a sentence to the second list and does not hide the others.
pub async fn discover(aws: &Aws, regions: &[String]) -> (Vec<Trail>, Vec<String>) {
    let described = join_all(regions.iter().map(|region| async move {
        let out = aws
            .cloudtrail_in(region)
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await;
        (region, out)
    }))
    .await;

    let mut errors = Vec::new();
    let mut by_arn: BTreeMap<String, Trail> = BTreeMap::new();
    for (region, out) in described {
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                let e = AwsError::from_sdk("cloudtrail:DescribeTrails", &e);
                errors.push(format!("{region}: {e}"));
                continue;
            }
        };
        for t in out.trail_list() {
            let name = t.name().unwrap_or_default().to_string();
            let home_region = t.home_region().unwrap_or(region).to_string();
            let arn = t
                .trail_arn()
                .map_or_else(|| format!("{home_region}/{name}"), str::to_string);
            by_arn.entry(arn.clone()).or_insert_with(|| Trail {
                name,
                arn,
                home_region,
                bucket: t
                    .s3_bucket_name()
                    .filter(|b| !b.is_empty())
                    .map(str::to_string),
                prefix: normalize_prefix(t.s3_key_prefix()).map(str::to_string),
                multi_region: t.is_multi_region_trail().unwrap_or(false),
                organization: t.is_organization_trail().unwrap_or(false),
                logging: None,
            });
        }
    }

    let mut trails: Vec<Trail> = by_arn.into_values().collect();
    let statuses = join_all(trails.iter().map(|t| async move {
        aws.cloudtrail_in(&t.home_region)
            .get_trail_status()
            .name(if t.arn.starts_with("arn:") {
                &t.arn
            } else {
                &t.name
            })
            .send()
            .await
    }))
    .await;
    for (trail, status) in trails.iter_mut().zip(statuses) {
        match status {
            Ok(s) => trail.logging = s.is_logging(),
            Err(e) => {
                let e = AwsError::from_sdk("cloudtrail:GetTrailStatus", &e);
                errors.push(format!("trail {}: {e}", trail.name));
            }
        }
    }
    trails.sort_by(|a, b| (&a.home_region, &a.name).cmp(&(&b.home_region, &b.name)));
    (trails, errors)
}

/// The folders holding one region's log objects for each day from `from` to `to` (both
/// included): `[prefix/]AWSLogs/[o-id/]<account>/CloudTrail/<region>/YYYY/MM/DD/`. Empty when
/// `to` is before `from`. Days are UTC, as in the object keys.
pub fn day_prefixes(
    trail_prefix: Option<&str>,
    account: &str,
    org_id: Option<&str>,
    region: &str,
    from: Date,
    to: Date,
) -> Vec<String> {
    let mut root = String::new();
    if let Some(p) = normalize_prefix(trail_prefix) {
        root.push_str(p);
        root.push('/');
    }
    root.push_str("AWSLogs/");
    if let Some(o) = org_id
        .map(|o| o.trim_matches('/'))
        .filter(|o| !o.is_empty())
    {
        root.push_str(o);
        root.push('/');
    }
    root.push_str(account);
    root.push_str("/CloudTrail/");
    root.push_str(region);
    root.push('/');

    let mut out = Vec::new();
    let mut day = from;
    while day <= to {
        out.push(format!(
            "{root}{:04}/{:02}/{:02}/",
            day.year(),
            u8::from(day.month()),
            day.day()
        ));
        match day.next_day() {
            Some(next) => day = next,
            None => break,
        }
    }
    out
}

/// A trail's key prefix without surrounding slashes; `None` when there is none.
fn normalize_prefix(prefix: Option<&str>) -> Option<&str> {
    prefix
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
}

/// The region a bucket lives in (`s3:GetBucketLocation`; an empty answer means us-east-1
/// and the legacy `EU` means eu-west-1).
pub async fn bucket_region(aws: &Aws, bucket: &str) -> Result<String, AwsError> {
    let out = aws
        .s3
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| in_bucket(AwsError::from_sdk("s3:GetBucketLocation", &e), bucket, ""))?;
    Ok(match out.location_constraint().map(|c| c.as_str()) {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(r) => r.to_string(),
    })
}

/// A client for the bucket's own region, or the default one when the region cannot be read
/// (the call that follows then reports the real problem).
async fn bucket_client(aws: &Aws, bucket: &str) -> aws_sdk_s3::Client {
    match bucket_region(aws, bucket).await {
        Ok(region) => aws.s3_in(&region),
        Err(_) => aws.s3.clone(),
    }
}

/// The organization ids with logs in a bucket: the `o-…` folders right under
/// `[trail_prefix/]AWSLogs/`, sorted. Empty for a trail that is not an organization trail.
pub async fn organization_ids(
    aws: &Aws,
    bucket: &str,
    trail_prefix: Option<&str>,
) -> Result<Vec<String>, AwsError> {
    let root = match normalize_prefix(trail_prefix) {
        Some(p) => format!("{p}/AWSLogs/"),
        None => "AWSLogs/".to_string(),
    };
    folders(aws, bucket, &root, is_org_id).await
}

/// The accounts with logs under an organization's folder: the 12-digit folders right under
/// `[trail_prefix/]AWSLogs/o-…/`, sorted.
pub async fn account_ids(
    aws: &Aws,
    bucket: &str,
    trail_prefix: Option<&str>,
    org: &str,
) -> Result<Vec<String>, AwsError> {
    let root = match normalize_prefix(trail_prefix) {
        Some(p) => format!("{p}/AWSLogs/{org}/"),
        None => format!("AWSLogs/{org}/"),
    };
    folders(aws, bucket, &root, |f| {
        f.len() == 12 && f.bytes().all(|b| b.is_ascii_digit())
    })
    .await
}

/// The folders right under `root` that `keep` accepts, sorted.
async fn folders(
    aws: &Aws,
    bucket: &str,
    root: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<String>, AwsError> {
    let client = bucket_client(aws, bucket).await;
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(root)
            .delimiter("/")
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| in_bucket(AwsError::from_sdk("s3:ListBucket", &e), bucket, root))?;
        for cp in out.common_prefixes() {
            let Some(folder) = cp
                .prefix()
                .and_then(|p| p.strip_prefix(root))
                .map(|p| p.trim_end_matches('/'))
            else {
                continue;
            };
            if keep(folder) {
                ids.push(folder.to_string());
            }
        }
        match next_token(out.is_truncated(), out.next_continuation_token()) {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// `o-` followed by 10 to 32 lowercase letters or digits.
fn is_org_id(s: &str) -> bool {
    s.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// Every object under each prefix, as (key, size in bytes), sorted by key. The prefixes are
/// walked at once, at most [`LIST_CONCURRENCY`] at a time; the first failure is returned.
pub async fn list_objects(
    aws: &Aws,
    bucket: &str,
    prefixes: &[String],
) -> Result<Vec<(String, i64)>, AwsError> {
    list_objects_paged(aws, bucket, prefixes, None).await
}

/// [`list_objects`] asking for at most `page_size` keys per ListObjectsV2 page (S3's default,
/// 1000, when `None`).
pub async fn list_objects_paged(
    aws: &Aws,
    bucket: &str,
    prefixes: &[String],
    page_size: Option<i32>,
) -> Result<Vec<(String, i64)>, AwsError> {
    let client = bucket_client(aws, bucket).await;
    let client = &client;
    // Each walk owns its prefix: a walk borrowing from the caller's slice makes the compiler
    // fail to prove the whole collector task Send when it is spawned.
    let walks = stream::iter(prefixes.iter().cloned().map(|prefix| async move {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(&prefix)
                .set_max_keys(page_size)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| in_bucket(AwsError::from_sdk("s3:ListBucket", &e), bucket, &prefix))?;
            for o in out.contents() {
                if let Some(key) = o.key() {
                    found.push((key.to_string(), o.size().unwrap_or(0)));
                }
            }
            match next_token(out.is_truncated(), out.next_continuation_token()) {
                Some(t) => token = Some(t),
                None => return Ok::<_, AwsError>(found),
            }
        }
    }))
    .buffer_unordered(LIST_CONCURRENCY);
    let mut walks = std::pin::pin!(walks);
    let mut all = Vec::new();
    while let Some(found) = walks.next().await {
        all.extend(found?);
    }
    all.sort();
    all.dedup_by(|a, b| a.0 == b.0);
    Ok(all)
}

/// Largest log object downloaded (as stored, compressed): far above any real trail object
/// (a few MiB), and what a planted giant costs at most. A larger one is named and counted,
/// not downloaded.
pub const MAX_OBJECT: u64 = 32 << 20;

/// Downloaded bytes waiting to be parsed, at most (in all; a download waits for room).
pub const DOWNLOAD_ROOM: u64 = 64 << 20;

/// Room for downloads, in KiB: give it to [`fetch_listed`], which holds part of it for each
/// object until the object's [`Fetched`] is dropped.
pub fn download_room() -> std::sync::Arc<tokio::sync::Semaphore> {
    std::sync::Arc::new(tokio::sync::Semaphore::new(kib(DOWNLOAD_ROOM) as usize))
}

fn kib(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

/// One object from [`fetch_listed`]: its bytes (as stored) or why there are none. The room
/// its bytes take is given back when this is dropped, so keep it until they are parsed.
#[derive(Debug)]
pub struct Fetched {
    pub key: String,
    pub body: Result<Vec<u8>, AwsError>,
    /// Not downloaded: larger than [`MAX_OBJECT`] (its listed size).
    pub too_large: Option<u64>,
    _room: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// Downloads the listed `objects` (key, size) from `bucket`, at most `concurrency` at a time,
/// each once there is `room` for its size, and sends each to `tx` in the order they finish.
/// `tx` should be bounded: when the parser falls behind, sending waits, and so do the
/// downloads. An object larger than [`MAX_OBJECT`] is sent without its bytes
/// ([`Fetched::too_large`]); one that fails is sent with its failure.
pub async fn fetch_listed(
    aws: &Aws,
    bucket: &str,
    objects: Vec<(String, i64)>,
    concurrency: usize,
    room: std::sync::Arc<tokio::sync::Semaphore>,
    tx: tokio::sync::mpsc::Sender<Fetched>,
) {
    if objects.is_empty() {
        return;
    }
    let client = bucket_client(aws, bucket).await;
    let client = &client;
    let room = &room;
    let downloads = stream::iter(objects.into_iter().map(|(key, size)| async move {
        let size = u64::try_from(size).unwrap_or(0);
        if size > MAX_OBJECT {
            return Fetched {
                key,
                body: Err(AwsError::other(format!(
                    "larger than {} MiB ({} MiB), not downloaded",
                    MAX_OBJECT >> 20,
                    size >> 20
                ))),
                too_large: Some(size),
                _room: None,
            };
        }
        // An object that grew since the listing is cut off at the cap by fetch_one.
        let permit = room
            .clone()
            .acquire_many_owned(kib(size.max(1)).min(kib(DOWNLOAD_ROOM)))
            .await
            .ok();
        let body = fetch_one(client, bucket, &key).await;
        Fetched {
            key,
            body,
            too_large: None,
            _room: permit,
        }
    }))
    .buffer_unordered(concurrency.max(1));
    let mut downloads = std::pin::pin!(downloads);
    while let Some(fetched) = downloads.next().await {
        if tx.send(fetched).await.is_err() {
            // Nobody reads any more.
            return;
        }
    }
}

/// Downloads `keys` from `bucket`, at most `concurrency` at a time (at least one), calling
/// `on_object` with each key and its bytes (as stored: still gzip'd) or the failure, in the
/// order the downloads finish. One object failing does not stop the others; one larger than
/// [`MAX_OBJECT`] fails.
pub async fn fetch_objects(
    aws: &Aws,
    bucket: &str,
    keys: Vec<String>,
    concurrency: usize,
    mut on_object: impl FnMut(String, Result<Vec<u8>, AwsError>),
) {
    if keys.is_empty() {
        return;
    }
    let client = bucket_client(aws, bucket).await;
    let client = &client;
    let downloads = stream::iter(keys.into_iter().map(|key| async move {
        let got = fetch_one(client, bucket, &key).await;
        (key, got)
    }))
    .buffer_unordered(concurrency.max(1));
    let mut downloads = std::pin::pin!(downloads);
    while let Some((key, got)) = downloads.next().await {
        on_object(key, got);
    }
}

/// One object's bytes, refused once they pass [`MAX_OBJECT`] (whatever the listing said).
async fn fetch_one(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Vec<u8>, AwsError> {
    let mut out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| in_bucket(AwsError::from_sdk("s3:GetObject", &e), bucket, key))?;
    let too_large = || {
        AwsError::other(format!(
            "s3://{bucket}/{key}: larger than {} MiB, not downloaded",
            MAX_OBJECT >> 20
        ))
    };
    let announced = out
        .content_length()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(0);
    if announced > MAX_OBJECT {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
    loop {
        match out.body.try_next().await {
            Ok(Some(chunk)) => {
                if (bytes.len() + chunk.len()) as u64 > MAX_OBJECT {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(bytes),
            Err(e) => {
                return Err(AwsError::other(format!(
                    "s3:GetObject: the download of s3://{bucket}/{key} broke off ({e})"
                )));
            }
        }
    }
}

/// The continuation token when S3 says there is more.
fn next_token(truncated: Option<bool>, token: Option<&str>) -> Option<String> {
    match token {
        Some(t) if truncated != Some(false) && !t.is_empty() => Some(t.to_string()),
        _ => None,
    }
}

/// Adds where the failure happened to an error's sentence.
fn in_bucket(mut e: AwsError, bucket: &str, key: &str) -> AwsError {
    e.text = format!("{} (s3://{bucket}/{key})", e.text);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_accounts() {
        assert_eq!(
            arn_account("arn:aws:cloudtrail:us-east-1:123456789012:trail/main"),
            Some("123456789012")
        );
        assert_eq!(arn_account("us-east-1/main"), None);
    }

    #[test]
    fn org_id_shape() {
        assert!(is_org_id("o-a1b2c3d4e5"));
        assert!(!is_org_id("o-short"));
        assert!(!is_org_id("123456789012"));
        assert!(!is_org_id("o-UPPERCASE12"));
    }

    #[test]
    fn continuation() {
        assert_eq!(next_token(Some(true), Some("t")), Some("t".into()));
        assert_eq!(next_token(Some(false), Some("t")), None);
        assert_eq!(next_token(None, Some("")), None);
        assert_eq!(next_token(Some(true), None), None);
    }

    #[test]
    fn log_regions_follow_multi_region() {
        let mut t = Trail {
            name: "main".into(),
            arn: "arn:aws:cloudtrail:eu-west-1:123456789012:trail/main".into(),
            home_region: "eu-west-1".into(),
            bucket: None,
            prefix: None,
            multi_region: false,
            organization: false,
            logging: None,
        };
        let all = vec!["eu-west-1".to_string(), "us-east-1".to_string()];
        assert_eq!(t.log_regions(&all), ["eu-west-1"]);
        t.multi_region = true;
        assert_eq!(t.log_regions(&all), all);
        assert_eq!(t.owner_account(), Some("123456789012"));
    }
}
