//! One scripted step: choosing the credential that still works, the turn, and delivering the
//! turn's records to the trail bucket.

use super::*;

impl Engine<'_> {
    /// Takes one step as `who` at `t`, in `region`.
    pub(crate) async fn step(
        &mut self,
        who: Who,
        step: &Step,
        region: &str,
        t: OffsetDateTime,
    ) -> Tried {
        let (ip, agent) = self.voice(who, step.agent.as_deref());
        let with = |c: Rec| c.from(&ip, &agent);
        let outcome = match step.call {
            Call::GetCallerIdentity => {
                let base = with(events::get_caller_identity(t, region));
                let r = region.to_string();
                self.sub(
                    who,
                    "sts:GetCallerIdentity",
                    &[],
                    base.clone(),
                    |c| async move {
                        let out = c
                            .sts(&r)
                            .get_caller_identity()
                            .send()
                            .await
                            .sent("sts:GetCallerIdentity")?;
                        Ok((base, out.arn().unwrap_or_default().to_string(), ()))
                    },
                )
                .await
            }
            Call::ListBuckets => {
                let base = with(events::list_buckets(t));
                self.sub(
                    who,
                    "s3:ListAllMyBuckets",
                    &["s3:ListAllMyBuckets"],
                    base.clone(),
                    |c| async move {
                        let out = c.s3().list_buckets().send().await.sent("s3:ListBuckets")?;
                        Ok((base, format!("{} buckets", out.buckets().len()), ()))
                    },
                )
                .await
            }
            Call::DescribeRegions => {
                let base = with(events::describe_regions(t, region));
                let r = region.to_string();
                self.sub(
                    who,
                    "ec2:DescribeRegions",
                    &["ec2:DescribeRegions"],
                    base.clone(),
                    |c| async move {
                        let out = c
                            .ec2(&r)
                            .describe_regions()
                            .all_regions(true)
                            .send()
                            .await
                            .sent("ec2:DescribeRegions")?;
                        Ok((base, format!("{} regions", out.regions().len()), ()))
                    },
                )
                .await
            }
            Call::DescribeInstances => {
                let base = with(events::describe_instances(t, region));
                let r = region.to_string();
                self.sub(
                    who,
                    "ec2:DescribeInstances",
                    &["ec2:DescribeInstances"],
                    base.clone(),
                    |c| async move {
                        let out = c
                            .ec2(&r)
                            .describe_instances()
                            .send()
                            .await
                            .sent("ec2:DescribeInstances")?;
                        let n: usize = out.reservations().iter().map(|r| r.instances().len()).sum();
                        Ok((base, format!("{n} instances in {r}"), ()))
                    },
                )
                .await
            }
            Call::CreateUser => self.create_user(who, t, &ip, &agent).await,
            Call::CreateAccessKey => self.persist(who, t, &ip, &agent).await,
            Call::AttachUserPolicy => {
                let user = self.backdoor_user.clone();
                let base = with(events::attach_user_policy(t, &user, ADMIN_POLICY));
                self.sub(
                    who,
                    "iam:AttachUserPolicy",
                    &["iam:AttachUserPolicy"],
                    base.clone(),
                    |c| async move {
                        c.iam()
                            .attach_user_policy()
                            .user_name(&user)
                            .policy_arn(ADMIN_POLICY)
                            .send()
                            .await
                            .sent("iam:AttachUserPolicy")?;
                        Ok((base, format!("AdministratorAccess on {user}"), ()))
                    },
                )
                .await
            }
            Call::AssumeRole => self.assume_role(who, t, region, &ip, &agent).await,
            Call::RunInstances => {
                let count = self.count(step);
                let kind = self.instance_type();
                let base = with(events::run_instances_refused(
                    t,
                    region,
                    &self.scenario.image,
                    &kind,
                    count,
                ));
                let (r, image, owner) = (
                    region.to_string(),
                    self.scenario.image.clone(),
                    self.account.clone(),
                );
                let out = self
                    .sub(
                        who,
                        "ec2:RunInstances",
                        &["ec2:RunInstances"],
                        base.clone(),
                        |c| async move {
                            let out = c
                                .ec2(&r)
                                .run_instances()
                                .image_id(&image)
                                .instance_type(InstanceType::from(kind.as_str()))
                                .min_count(i32::try_from(count).unwrap_or(1))
                                .max_count(i32::try_from(count).unwrap_or(1))
                                .send()
                                .await
                                .sent("ec2:RunInstances")?;
                            let launched = launched(out.instances());
                            let ids: Vec<&str> = launched.iter().map(|l| l.id.as_str()).collect();
                            let detail = format!("{} × {kind}: {}", launched.len(), ids.join(", "));
                            let call = events::run_instances(
                                t,
                                &r,
                                &Launch {
                                    image: &image,
                                    instance_type: &kind,
                                    count,
                                    key_name: None,
                                    reservation: out.reservation_id().unwrap_or_default(),
                                    owner: out.owner_id().unwrap_or(&owner),
                                    launched: &launched,
                                },
                            );
                            Ok((
                                call.from(&base.ip, &base.agent),
                                detail,
                                (launched.len(), kind),
                            ))
                        },
                    )
                    .await;
                match out {
                    Outcome::Done((n, kind)) => {
                        self.made.instances += n;
                        self.fleet.push((region.to_string(), kind, n));
                        self.used(region);
                        Outcome::Done(())
                    }
                    Outcome::Refused => Outcome::Refused,
                    Outcome::Failed => Outcome::Failed,
                }
            }
            Call::CreateAutoScalingGroup => {
                self.auto_scaling_group(who, step, t, region, &ip, &agent)
                    .await
            }
            Call::CreateFunction => self.create_function(who, t, region, &ip, &agent).await,
            Call::ListObjects | Call::GetObject => {
                self.read_data(who, step.call, t, &ip, &agent).await
            }
            Call::GetSecretValue => self.read_secrets(who, t, &ip, &agent).await,
            Call::UpdateAssumeRolePolicy => self.open_trust(who, t, &ip, &agent).await,
            Call::ScheduleFunction => self.schedule_function(who, t, &ip, &agent).await,
            Call::StopLogging => {
                let trail_region = self.trail_region.clone();
                let base = with(events::stop_logging(t, &trail_region, &self.trail_arn));
                let arn = self.trail_arn.clone();
                self.sub(
                    who,
                    "cloudtrail:StopLogging",
                    &["cloudtrail:StopLogging"],
                    base.clone(),
                    |c| async move {
                        c.cloudtrail(&trail_region)
                            .stop_logging()
                            .name(&arn)
                            .send()
                            .await
                            .sent("cloudtrail:StopLogging")?;
                        Ok((base, format!("stopped {arn}"), ()))
                    },
                )
                .await
            }
        };
        tried(&outcome)
    }

    /// Delivers the records not yet delivered: one new log object per region, named for
    /// `now`, unless the trail has stopped logging (they are dropped, as AWS would not have
    /// recorded them). Returns the objects written.
    pub(crate) async fn deliver(&mut self, now: OffsetDateTime) -> Vec<PlantedLog> {
        let records = std::mem::take(&mut self.records);
        if records.is_empty() {
            return Vec::new();
        }
        let logging = self
            .root
            .cloudtrail(&self.trail_region)
            .get_trail_status()
            .name(&self.trail_arn)
            .send()
            .await
            .map(|s| s.is_logging().unwrap_or(false));
        match logging {
            Ok(true) => {}
            Ok(false) => return Vec::new(),
            Err(e) => {
                tracing::warn!(
                    "game day: trail status unknown, records dropped: {}",
                    keyspill_aws::error::failure("cloudtrail:GetTrailStatus", &e)
                );
                return Vec::new();
            }
        }
        let objects = match record::pack(
            &self.account,
            records,
            Duration::minutes(5),
            now,
            &mut self.ids,
        ) {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!("game day: log objects not made: {e}");
                return Vec::new();
            }
        };
        let mut written = Vec::new();
        for o in objects {
            let put = self
                .root
                .s3()
                .put_object()
                .bucket(&self.bucket)
                .key(&o.key)
                .content_type("application/x-gzip")
                .body(ByteStream::from(o.body))
                .send()
                .await;
            match put {
                Ok(_) => written.push(PlantedLog {
                    key: o.key,
                    event_ids: o.event_ids,
                }),
                Err(e) => tracing::warn!(
                    "game day: log object {} not written: {}",
                    o.key,
                    keyspill_aws::error::failure("s3:PutObject", &e)
                ),
            }
        }
        written
    }

    /// The identities to try during the game, in order: the leaked key, then each backdoor
    /// key, then (when it opened a trust) the session it minted through it.
    pub(super) fn candidates(&self) -> Vec<Who> {
        std::iter::once(Who::Leaked)
            .chain((0..self.backdoors.len()).map(Who::Backdoor))
            .chain((self.outside.is_some() && self.session.is_some()).then_some(Who::Session))
            .collect()
    }

    /// When every credential was refused and the attacker holds a trust into the account:
    /// a dead session (expired or revoked) is replaced by a new one minted from its own
    /// account, if the role's trust still lets it in. Returns whether there is a fresh one.
    async fn come_back(&mut self, t: OffsetDateTime) -> bool {
        if self.outside.is_none() || self.trust_role.is_none() {
            return false;
        }
        let alive = self.session.is_some()
            && matches!(
                self.refusal(Who::Session, &["ec2:DescribeRegions"], t, GLOBAL_REGION)
                    .await,
                Ok(None)
            );
        if alive {
            return false;
        }
        let (ip, agent) = self.voice(Who::Outside, None);
        matches!(
            self.assume_role(Who::Outside, t, GLOBAL_REGION, &ip, &agent)
                .await,
            Outcome::Done(())
        )
    }

    /// What a live step becomes once the attacker's limits are reached.
    pub(super) async fn within_limits(&mut self, step: &Step) -> Step {
        let limits = &self.scenario.attacker.limits;
        let recon = Step {
            at: 0,
            call: Call::DescribeInstances,
            with: None,
            region: Some("any".into()),
            agent: None,
            count: None,
        };
        let full = match step.call {
            Call::RunInstances => self.made.instances >= limits.instances,
            Call::CreateAutoScalingGroup => {
                self.made.groups >= limits.groups || self.made.instances >= limits.instances
            }
            Call::CreateFunction => self.made.functions >= limits.functions,
            Call::CreateAccessKey => {
                let keys = self
                    .root
                    .iam()
                    .list_access_keys()
                    .user_name(&self.backdoor_user)
                    .send()
                    .await
                    .map(|o| o.access_key_metadata().len())
                    .unwrap_or(0);
                keys >= limits.backdoor_keys
            }
            _ => false,
        };
        if full { recon } else { step.clone() }
    }

    /// One live turn: the step, tried with each identity until one is accepted, then the
    /// records delivered.
    pub(super) async fn turn(&mut self, step: &Step) {
        Box::pin(self.run_schedules(OffsetDateTime::now_utc())).await;
        let step = self.within_limits(step).await;
        let region = self.region_for(step.region.as_deref());
        self.template = None;
        let now = OffsetDateTime::now_utc();
        let mut sent = false;
        for who in self.candidates() {
            if let Tried::Sent { .. } = Box::pin(self.step(who, &step, &region, now)).await {
                sent = true;
                break;
            }
        }
        if !sent && self.come_back(now).await {
            Box::pin(self.step(Who::Session, &step, &region, OffsetDateTime::now_utc())).await;
        }
        self.deliver(OffsetDateTime::now_utc()).await;
    }
}
