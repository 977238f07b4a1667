//! Compute the attacker leaves running: Auto Scaling groups and their launches, and Lambda
//! functions.

use super::*;

impl Engine<'_> {
    pub(super) async fn auto_scaling_group(
        &mut self,
        who: Who,
        step: &Step,
        t: OffsetDateTime,
        region: &str,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        let name = Self::pooled(&self.scenario.attacker.group_names, self.made.groups);
        let size = self.count(step);
        let kind = self.instance_type();
        let image = self.scenario.image.clone();
        // A template made by an identity earlier this turn is used again.
        let template = match self.template.clone() {
            Some((r, n, id)) if r == region && n == format!("{name}-lt") => id,
            _ => {
                let lt_name = format!("{name}-lt");
                let base = events::create_launch_template(t, region, &lt_name, "", &image, &kind)
                    .from(ip, agent);
                let (r, image, kind) = (region.to_string(), image.clone(), kind.clone());
                let made = self
                    .sub(
                        who,
                        "ec2:CreateLaunchTemplate",
                        &["ec2:CreateLaunchTemplate"],
                        base.clone(),
                        |c| async move {
                            let out = c
                                .ec2(&r)
                                .create_launch_template()
                                .launch_template_name(&lt_name)
                                .launch_template_data(
                                    RequestLaunchTemplateData::builder()
                                        .image_id(&image)
                                        .instance_type(InstanceType::from(kind.as_str()))
                                        .build(),
                                )
                                .send()
                                .await
                                .sent("ec2:CreateLaunchTemplate")?;
                            let id = out
                                .launch_template()
                                .and_then(|l| l.launch_template_id())
                                .unwrap_or_default()
                                .to_string();
                            let call =
                                events::create_launch_template(t, &r, &lt_name, &id, &image, &kind)
                                    .from(&base.ip, &base.agent);
                            Ok((
                                call,
                                format!("launch template {lt_name} ({id})"),
                                (lt_name, id),
                            ))
                        },
                    )
                    .await;
                match made {
                    Outcome::Done((lt_name, id)) => {
                        self.template = Some((region.to_string(), lt_name, id.clone()));
                        id
                    }
                    Outcome::Refused => return Outcome::Refused,
                    Outcome::Failed => return Outcome::Failed,
                }
            }
        };
        let zone = format!("{region}a");
        // The group comes after its template: a second later in the script, at the real time
        // of the call during the game.
        let t = self.later(t, 1);
        let base = events::create_auto_scaling_group(
            t,
            region,
            &Group {
                name: &name,
                template_id: &template,
                size,
                zone: &zone,
            },
        )
        .from(ip, agent);
        let r = region.to_string();
        let group_name = name.clone();
        let made = self
            .sub(
                who,
                "autoscaling:CreateAutoScalingGroup",
                &["autoscaling:CreateAutoScalingGroup"],
                base.clone(),
                |c| async move {
                    c.autoscaling(&r)
                        .create_auto_scaling_group()
                        .auto_scaling_group_name(&group_name)
                        .launch_template(
                            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                                .launch_template_id(&template)
                                .version("$Latest")
                                .build(),
                        )
                        .min_size(i32::try_from(size).unwrap_or(1))
                        .max_size(i32::try_from(size).unwrap_or(1))
                        .desired_capacity(i32::try_from(size).unwrap_or(1))
                        .availability_zones(&zone)
                        .send()
                        .await
                        .sent("autoscaling:CreateAutoScalingGroup")?;
                    let detail = format!("group {group_name} of {size} × {kind}");
                    Ok((base, detail, kind))
                },
            )
            .await;
        match made {
            Outcome::Done(kind) => {
                self.template = None;
                self.made.groups += 1;
                let n = usize::try_from(size).unwrap_or(0);
                self.made.instances += n;
                self.fleet.push((region.to_string(), kind, n));
                self.used(region);
                let launched_at = self.later(t, 1);
                self.group_launches(&name, region, launched_at).await;
                Outcome::Done(())
            }
            Outcome::Refused => Outcome::Refused,
            Outcome::Failed => Outcome::Failed,
        }
    }

    /// The instances a new group launched, recorded as Auto Scaling's own `RunInstances`.
    pub(super) async fn group_launches(&mut self, group: &str, region: &str, t: OffsetDateTime) {
        let Ok(groups) = self
            .root
            .autoscaling(region)
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(group)
            .send()
            .await
        else {
            return;
        };
        let ids: Vec<String> = groups
            .auto_scaling_groups()
            .iter()
            .flat_map(|g| g.instances())
            .filter_map(|i| i.instance_id().map(str::to_string))
            .collect();
        if ids.is_empty() {
            return;
        }
        let Ok(found) = self
            .root
            .ec2(region)
            .describe_instances()
            .set_instance_ids(Some(ids))
            .send()
            .await
        else {
            return;
        };
        let instances: Vec<aws_sdk_ec2::types::Instance> = found
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .cloned()
            .collect();
        let list = launched(&instances);
        let kind = instances
            .first()
            .and_then(|i| i.instance_type())
            .map(|k| k.as_str().to_string())
            .unwrap_or_default();
        let call = events::run_instances(
            t,
            region,
            &Launch {
                image: &self.scenario.image,
                instance_type: &kind,
                count: u32::try_from(list.len()).unwrap_or(0),
                key_name: None,
                reservation: found
                    .reservations()
                    .first()
                    .and_then(|r| r.reservation_id())
                    .unwrap_or_default(),
                owner: &self.account,
                launched: &list,
            },
        )
        .from("autoscaling.amazonaws.com", "autoscaling.amazonaws.com");
        let mut actor = record::assumed_role(
            &self.account,
            "AWSServiceRoleForAutoScaling",
            "AROAAUTOSCALINGSERVICE",
            "AutoScaling",
            "",
            t,
        );
        if let Some(map) = actor.identity.as_object_mut() {
            map.remove("accessKeyId");
            map.insert("invokedBy".into(), json!("autoscaling.amazonaws.com"));
        }
        self.record_as(&actor, &call);
    }

    pub(super) async fn create_function(
        &mut self,
        who: Who,
        t: OffsetDateTime,
        region: &str,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        let name = Self::pooled(&self.scenario.attacker.function_names, self.made.functions);
        let role_arn = self.lambda_role_arn.clone();
        let base = events::create_function(
            t,
            region,
            &NewFunction {
                name: &name,
                arn: "",
                role_arn: &role_arn,
                code_size: 0,
                sha: "",
            },
        )
        .from(ip, agent);
        let r = region.to_string();
        let made_name = name.clone();
        let made = self
            .sub(
                who,
                "lambda:CreateFunction",
                &["lambda:CreateFunction", "iam:PassRole"],
                base.clone(),
                |c| async move {
                    let out = c
                        .lambda(&r)
                        .create_function()
                        .function_name(&name)
                        .runtime(Runtime::Python312)
                        .role(&role_arn)
                        .handler("main.handler")
                        .timeout(900)
                        .memory_size(3008)
                        .code(
                            FunctionCode::builder()
                                .zip_file(Blob::new(zip_one("main.py", RELAY_CODE)))
                                .build(),
                        )
                        .send()
                        .await
                        .sent("lambda:CreateFunction")?;
                    let arn = out.function_arn().unwrap_or_default().to_string();
                    let call = events::create_function(
                        t,
                        &r,
                        &NewFunction {
                            name: &name,
                            arn: &arn,
                            role_arn: &role_arn,
                            code_size: out.code_size(),
                            sha: out.code_sha256().unwrap_or_default(),
                        },
                    )
                    .from(&base.ip, &base.agent);
                    Ok((call, format!("function {name}"), arn))
                },
            )
            .await;
        let made = match made {
            Outcome::Done(arn) => {
                self.last_function = Some((region.to_string(), made_name.clone(), arn));
                Outcome::Done(())
            }
            Outcome::Refused => Outcome::Refused,
            Outcome::Failed => Outcome::Failed,
        };
        if let Outcome::Done(()) = made {
            self.made.functions += 1;
            self.used(region);
            store_package(
                &self.root,
                region,
                &made_name,
                &zip_one("main.py", RELAY_CODE),
            )
            .await;
        }
        made
    }
}

/// What the attacker's functions pretend to run.
pub(super) const RELAY_CODE: &str = "import os, urllib.request\n\
def handler(event, context):\n    \
return urllib.request.urlopen(os.environ.get('POOL', 'http://203.0.113.45:3333')).status\n";

/// Puts a function's package where `GetFunction`'s `Code.Location` points, in moto's S3.
///
/// This fills an emulator gap: Lambda serves every function's package from that (presigned)
/// location, moto names one and keeps nothing there. The console downloads the package as
/// evidence before it removes the function. Done as moto's root, so no CloudTrail record.
pub(crate) async fn store_package(root: &As, region: &str, function: &str, package: &[u8]) {
    let Ok(got) = root
        .lambda(region)
        .get_function()
        .function_name(function)
        .send()
        .await
    else {
        tracing::warn!("game day: cannot read function {function} to store its package");
        return;
    };
    let Some(location) = got.code().and_then(|c| c.location()) else {
        return;
    };
    let Some(rest) = location.strip_prefix("https://") else {
        return;
    };
    let (host, key) = rest.split_once('/').unwrap_or((rest, ""));
    let Some((bucket, _)) = host.split_once(".s3.") else {
        return;
    };
    let key = key.split('?').next().unwrap_or(key);
    let s3 = root.s3_in(region);
    let mut make = s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        make = make.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(region))
                .build(),
        );
    }
    // Already there after the first function of the region: fine.
    let _ = make.send().await;
    if let Err(e) = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        // Readable unsigned, as a presigned URL is.
        .acl(aws_sdk_s3::types::ObjectCannedAcl::PublicRead)
        .body(aws_sdk_s3::primitives::ByteStream::from(package.to_vec()))
        .send()
        .await
    {
        tracing::warn!("game day: cannot store the package of {function}: {e}");
    }
}

/// A zip archive holding one stored (uncompressed) file: enough for Lambda's `ZipFile`.
pub(crate) fn zip_one(name: &str, content: &str) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(content.as_bytes());
    let crc = crc.sum();
    let size = u32::try_from(content.len()).unwrap_or(u32::MAX);
    let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
    let mut out = Vec::new();
    // Local file header.
    out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    out.extend_from_slice(&20u16.to_le_bytes()); // version needed
    out.extend_from_slice(&0u16.to_le_bytes()); // flags
    out.extend_from_slice(&0u16.to_le_bytes()); // method: stored
    out.extend_from_slice(&0u16.to_le_bytes()); // time
    out.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // extra length
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(content.as_bytes());
    let central = u32::try_from(out.len()).unwrap_or(u32::MAX);
    // Central directory entry.
    out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    out.extend_from_slice(&20u16.to_le_bytes()); // made by
    out.extend_from_slice(&20u16.to_le_bytes()); // version needed
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0x21u16.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // extra
    out.extend_from_slice(&0u16.to_le_bytes()); // comment
    out.extend_from_slice(&0u16.to_le_bytes()); // disk
    out.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    out.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    out.extend_from_slice(&0u32.to_le_bytes()); // offset of the local header
    out.extend_from_slice(name.as_bytes());
    let central_size = u32::try_from(out.len()).unwrap_or(u32::MAX) - central;
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}
