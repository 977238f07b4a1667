//! Which regions to sweep: the account's enabled regions in its own partition.

use aws_sdk_ec2::types::Filter;

use crate::{Aws, AwsError, Sent};

/// Regions enabled for the account (`ec2:DescribeRegions`, opt-in regions only when opted
/// in), limited to `partition` (`aws`, `aws-cn`, `aws-us-gov`), sorted.
pub async fn enabled(aws: &Aws, partition: &str) -> Result<Vec<String>, AwsError> {
    let out = aws
        .ec2
        .describe_regions()
        .filters(
            Filter::builder()
                .name("opt-in-status")
                .values("opt-in-not-required")
                .values("opted-in")
                .build(),
        )
        .send()
        .await
        .sent("ec2:DescribeRegions")?;
    let mut names: Vec<String> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name())
        .filter(|n| in_partition(n, partition))
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Region names carry their partition: `cn-*` is aws-cn, `us-gov-*` is aws-us-gov.
pub fn in_partition(region: &str, partition: &str) -> bool {
    let p = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso") {
        "aws-iso"
    } else {
        "aws"
    };
    p == partition
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions() {
        assert!(in_partition("eu-west-1", "aws"));
        assert!(!in_partition("cn-north-1", "aws"));
        assert!(in_partition("cn-north-1", "aws-cn"));
        assert!(in_partition("us-gov-west-1", "aws-us-gov"));
        assert!(!in_partition("us-gov-west-1", "aws"));
    }
}
