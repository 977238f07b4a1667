//! The tagging API (`GetResources`): what it finds, folded into the direct listings, and its
//! read-back for what only it found.

use std::collections::{HashMap, HashSet};

use crate::{Aws, AwsError};
use keyspill_core::resources::{GLOBAL, Kind, Resource};

/// An ARN's parts: (service, region, resource part).
pub(super) fn arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let mut it = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(service), Some(region), Some(_account), Some(res)) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return None;
    };
    Some((service, region, res))
}

/// The identifier at the end of an ARN's resource part: `instance/i-1` → `i-1`,
/// `function:name` → `name`, `bucket` → `bucket`.
fn resource_tail(resource: &str) -> &str {
    if let Some((_, tail)) = resource.rsplit_once('/') {
        tail
    } else if let Some((_, tail)) = resource.split_once(':') {
        tail
    } else {
        resource
    }
}

/// `service:resource-type`, as the tagging API's type filters name it.
fn resource_type(service: &str, resource: &str) -> String {
    let kind = resource.split(['/', ':']).next().filter(|k| *k != resource);
    match (service, kind) {
        (_, Some(k)) => format!("{service}:{k}"),
        ("s3", None) => "s3:bucket".to_string(),
        (_, None) => service.to_string(),
    }
}

pub(super) async fn tagged(aws: &Aws, region: &str) -> Result<Vec<Resource>, AwsError> {
    let mappings = every!(aws.tagging_in(region).get_resources(), "tag:GetResources")?;
    let mut out = Vec::new();
    for m in &mappings {
        let Some(arn) = m.resource_arn() else {
            continue;
        };
        let Some((service, arn_region, resource)) = arn_parts(arn) else {
            continue;
        };
        let home = if arn_region.is_empty() {
            GLOBAL
        } else {
            arn_region
        };
        let mut res = Resource::new(Kind::Tagged, home, resource);
        res.arn = Some(arn.to_string());
        res.tags = m
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        res.name = res.tag("Name").unwrap_or_default().to_string();
        res.details
            .push(("type".into(), resource_type(service, resource)));
        out.push(res);
    }
    Ok(out)
}

/// Folds tagged entries into the direct resources they name (by ARN, else by the id at the
/// end of the ARN within the same service and region) and adds the rest. Returns how many
/// tagged entries were added as [`Kind::Tagged`].
pub(super) fn merge_tagged(
    resources: &mut Vec<Resource>,
    tagged: Vec<Resource>,
    covered: &HashSet<&'static str>,
) -> usize {
    let mut by_arn: HashMap<String, usize> = HashMap::new();
    let mut by_id: HashMap<(&'static str, String, String), usize> = HashMap::new();
    for (n, r) in resources.iter().enumerate() {
        if let Some(a) = &r.arn {
            by_arn.insert(a.clone(), n);
        }
        let service = r.kind.arn_service();
        by_id.insert((service, r.region.clone(), r.id.clone()), n);
        if r.kind == Kind::KeyPair
            && let Some((_, kp)) = r.details.iter().find(|(k, _)| k == "key pair id")
        {
            by_id.insert((service, r.region.clone(), kp.clone()), n);
        }
    }
    let mut kept = 0;
    for t in tagged {
        let arn = t.arn.clone().unwrap_or_default();
        let found = by_arn.get(&arn).copied().or_else(|| {
            let (service, _, resource) = arn_parts(&arn)?;
            by_id
                .iter()
                .find(|((s, region, id), _)| {
                    *s == service && *region == t.region && id == resource_tail(resource)
                })
                .map(|(_, n)| *n)
        });
        match found {
            Some(n) => {
                let r = &mut resources[n];
                if r.arn.is_none() {
                    r.arn = Some(arn);
                }
                for (k, v) in t.tags {
                    if !r.tags.iter().any(|(rk, _)| *rk == k) {
                        r.tags.push((k, v));
                    }
                }
                if r.name.is_empty()
                    && let Some(name) = r.tag("Name").map(str::to_string)
                {
                    r.name = name;
                }
            }
            // Of a kind listed in full, yet not listed: gone since it was tagged.
            None if t
                .details
                .iter()
                .any(|(k, v)| k == "type" && covered.contains(v.as_str())) => {}
            None => {
                kept += 1;
                resources.push(t);
            }
        }
    }
    kept
}

/// Whether a resource found only through the tagging API is still there. Only the ARN's
/// resource part is known: look for it among the region's tagged resources.
pub(super) async fn tagged_exists(aws: &Aws, region: &str, id: &str) -> Result<bool, AwsError> {
    let home = if region == GLOBAL {
        aws.region()
    } else {
        region.to_string()
    };
    let all = every!(aws.tagging_in(&home).get_resources(), "tag:GetResources")?;
    Ok(all.iter().any(|m| {
        m.resource_arn()
            .and_then(arn_parts)
            .is_some_and(|(_, _, res)| res == id)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_split_into_service_region_and_resource() {
        assert_eq!(
            arn_parts("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"),
            Some(("ec2", "us-east-1", "instance/i-0abc"))
        );
        assert_eq!(arn_parts("arn:aws:s3:::loot"), Some(("s3", "", "loot")));
        assert_eq!(arn_parts("not-an-arn"), None);
        assert_eq!(resource_tail("instance/i-0abc"), "i-0abc");
        assert_eq!(resource_tail("function:steal"), "steal");
        assert_eq!(
            resource_tail("autoScalingGroup:uuid:autoScalingGroupName/miner"),
            "miner"
        );
        assert_eq!(resource_type("ec2", "instance/i-0abc"), "ec2:instance");
        assert_eq!(resource_type("lambda", "function:steal"), "lambda:function");
        assert_eq!(resource_type("s3", "loot"), "s3:bucket");
    }

    fn res(kind: Kind, id: &str) -> Resource {
        Resource::new(kind, "us-east-1", id)
    }

    #[test]
    fn tagged_entries_fold_into_direct_resources() {
        let mut direct = vec![res(Kind::Instance, "i-1"), {
            let mut f = res(Kind::Function, "steal");
            f.arn = Some("arn:aws:lambda:us-east-1:1:function:steal".into());
            f
        }];
        direct[0].tags.push(("Name".into(), "web".into()));
        let tagged = |arn: &str, region: &str| {
            let (service, _, r) = arn_parts(arn).unwrap_or(("", "", ""));
            let mut t = Resource::new(Kind::Tagged, region, r);
            t.arn = Some(arn.into());
            t.tags.push(("owner".into(), "mallory".into()));
            t.details.push(("type".into(), resource_type(service, r)));
            t
        };
        let covered: HashSet<&'static str> = [Kind::Instance, Kind::Function]
            .into_iter()
            .filter_map(Kind::tagging_type)
            .collect();
        let kept = merge_tagged(
            &mut direct,
            vec![
                tagged("arn:aws:ec2:us-east-1:1:instance/i-1", "us-east-1"),
                tagged("arn:aws:lambda:us-east-1:1:function:steal", "us-east-1"),
                tagged("arn:aws:s3:::loot", GLOBAL),
                // Same id, another service: not the instance.
                tagged("arn:aws:sqs:us-east-1:1:i-1", "us-east-1"),
                // An instance the direct listing no longer has (terminated): dropped.
                tagged("arn:aws:ec2:us-east-1:1:instance/i-gone", "us-east-1"),
            ],
            &covered,
        );
        assert_eq!(kept, 2);
        assert_eq!(direct.len(), 4);
        assert!(direct.iter().all(|r| !r.id.contains("i-gone")));
        // When instances could not be listed, the tagging API's word is all there is.
        let mut alone = Vec::new();
        let kept = merge_tagged(
            &mut alone,
            vec![tagged(
                "arn:aws:ec2:us-east-1:1:instance/i-gone",
                "us-east-1",
            )],
            &HashSet::new(),
        );
        assert_eq!(kept, 1);
        assert_eq!(direct[0].tag("owner"), Some("mallory"));
        assert_eq!(direct[0].tag("Name"), Some("web"));
        assert_eq!(
            direct[0].arn.as_deref(),
            Some("arn:aws:ec2:us-east-1:1:instance/i-1")
        );
        assert_eq!(direct[1].tag("owner"), Some("mallory"));
        assert!(direct[2..].iter().all(|r| r.kind == Kind::Tagged));
    }
}
