//! A function on a schedule: the attacker's persistence that needs no key. While the function
//! exists it runs every turn as its role, with a session Lambda mints for the run, and remakes
//! the backdoor user (user, admin policy, key) whenever the responder removed it.

use super::*;

/// How often the attacker's rule fires (what the record says; the game runs it every turn).
const SCHEDULE: &str = "rate(5 minutes)";

/// How long Lambda's credentials for one run last.
const RUN_CREDENTIALS: Duration = Duration::minutes(15);

impl Engine<'_> {
    /// Puts the function it made last on a schedule (an EventBridge rule and its target).
    pub(super) async fn schedule_function(
        &mut self,
        who: Who,
        t: OffsetDateTime,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        let Some((region, name, arn)) = self.last_function.clone() else {
            return Outcome::Failed;
        };
        let rule = format!("{name}-schedule");
        let base = events::put_rule(t, &region, &rule, SCHEDULE).from(ip, agent);
        let ruled = self
            .sub(
                who,
                "events:PutRule",
                &["events:PutRule"],
                base.clone(),
                |_| async move { Ok((base, format!("rule {rule}: {SCHEDULE}"), ())) },
            )
            .await;
        if !matches!(ruled, Outcome::Done(())) {
            return ruled;
        }
        let rule = format!("{name}-schedule");
        let base = events::put_targets(t, &region, &rule, &arn).from(ip, agent);
        let targeted = self
            .sub(
                who,
                "events:PutTargets",
                &["events:PutTargets"],
                base.clone(),
                |_| async move { Ok((base, format!("{rule} runs {name}"), ())) },
            )
            .await;
        if matches!(targeted, Outcome::Done(())) {
            let entry = (
                region,
                self.last_function.clone().map(|f| f.1).unwrap_or_default(),
            );
            if !self.scheduled.contains(&entry) {
                self.scheduled.push(entry);
            }
        }
        targeted
    }

    /// Each scheduled function that still exists runs: when the backdoor user is gone, it
    /// makes a new one. Returns whether one was remade.
    pub(super) async fn run_schedules(&mut self, t: OffsetDateTime) -> bool {
        for (region, name) in self.scheduled.clone() {
            let config = self
                .root
                .lambda(&region)
                .get_function()
                .function_name(&name)
                .send()
                .await;
            let Ok(config) = config else { continue };
            let Some(role_arn) = config
                .configuration()
                .and_then(|c| c.role())
                .map(str::to_string)
            else {
                continue;
            };
            if self.backdoor_exists().await {
                continue;
            }
            if !self.start_run(&region, &name, &role_arn, t).await {
                continue;
            }
            let remade = matches!(
                self.persist(Who::Function, t, LAMBDA_ADDRESS, LAMBDA_AGENT)
                    .await,
                Outcome::Done(())
            );
            self.runner = None;
            if remade {
                return true;
            }
        }
        false
    }

    /// Lambda assumes the function's role for one run (recorded as the service's call).
    async fn start_run(
        &mut self,
        region: &str,
        name: &str,
        role_arn: &str,
        t: OffsetDateTime,
    ) -> bool {
        let minted = self
            .root
            .sts(region)
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(name)
            .duration_seconds(900)
            .send()
            .await;
        let Some(k) = minted.ok().and_then(|o| o.credentials().cloned()) else {
            tracing::warn!("game day: {name} could not assume {role_arn}");
            return false;
        };
        let role = role_arn.rsplit('/').next().unwrap_or_default().to_string();
        let role_id = self
            .root
            .iam()
            .get_role()
            .role_name(&role)
            .send()
            .await
            .ok()
            .and_then(|r| r.role().map(|r| r.role_id().to_string()))
            .unwrap_or_default();
        let s = SessionCreds {
            role: role.clone(),
            session_name: name.to_string(),
            key_id: k.access_key_id().to_string(),
            secret: k.secret_access_key().to_string(),
            token: k.session_token().to_string(),
            issued: t,
            expires: t + RUN_CREDENTIALS,
        };
        let call = events::assume_role(
            t,
            region,
            &Minted {
                role_arn,
                role_id: &role_id,
                session: name,
                key: &s.key_id,
                token: &s.token,
                duration: 900,
            },
        )
        .from("lambda.amazonaws.com", "lambda.amazonaws.com");
        self.record_as(&record::aws_service("lambda.amazonaws.com"), &call);
        self.runner = Some(Ident::session(&s, &role_id));
        true
    }
}
