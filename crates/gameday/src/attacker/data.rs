//! The data-theft calls: the company's bucket listed and read object by object (S3 data
//! events, in the trail's logs only), and its secrets read (Secrets Manager is not emulated:
//! the reads are gated by the attacker's policies and recorded, nothing is asked of moto).

use super::*;

impl Engine<'_> {
    /// `ListObjects` or `GetObject` (every object) on the scenario's data bucket.
    pub(super) async fn read_data(
        &mut self,
        who: Who,
        call: Call,
        t: OffsetDateTime,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        let Some(data) = self.scenario.data.clone() else {
            return Outcome::Refused;
        };
        let region = self
            .scenario
            .home_regions
            .first()
            .cloned()
            .unwrap_or_else(|| GLOBAL_REGION.into());
        let account = self.account.clone();
        let bucket = data.bucket.clone();
        if call == Call::ListObjects {
            let base = events::list_objects(t, &region, &account, &bucket).from(ip, agent);
            return self
                .sub(
                    who,
                    "s3:ListBucket",
                    &["s3:ListBucket"],
                    base.clone(),
                    |c| async move {
                        let out = c
                            .s3()
                            .list_objects_v2()
                            .bucket(&bucket)
                            .send()
                            .await
                            .sent("s3:ListObjectsV2")?;
                        let n = out.contents().len();
                        Ok((base, format!("{n} objects in {bucket}"), ()))
                    },
                )
                .await;
        }
        let mut last = Outcome::Refused;
        for (n, key) in data.objects.iter().enumerate() {
            let at = t + Duration::milliseconds(250 * i64::try_from(n).unwrap_or(0));
            let base = events::get_object(at, &region, &account, &bucket, key, 0).from(ip, agent);
            let (r, a, b, k) = (region.clone(), account.clone(), bucket.clone(), key.clone());
            let (ip, agent) = (ip.to_string(), agent.to_string());
            last = self
                .sub(
                    who,
                    "s3:GetObject",
                    &["s3:GetObject"],
                    base.clone(),
                    |c| async move {
                        let out = c
                            .s3()
                            .get_object()
                            .bucket(&b)
                            .key(&k)
                            .send()
                            .await
                            .sent("s3:GetObject")?;
                        let bytes = out
                            .body
                            .collect()
                            .await
                            .map(|body| body.into_bytes().len())
                            .unwrap_or(0);
                        let call = events::get_object(at, &r, &a, &b, &k, bytes).from(&ip, &agent);
                        Ok((call, format!("{b}/{k} ({bytes} bytes)"), ()))
                    },
                )
                .await;
            if !matches!(last, Outcome::Done(())) {
                break;
            }
        }
        last
    }

    /// `GetSecretValue` on every secret of the scenario.
    pub(super) async fn read_secrets(
        &mut self,
        who: Who,
        t: OffsetDateTime,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        let Some(data) = self.scenario.data.clone() else {
            return Outcome::Refused;
        };
        let region = self
            .scenario
            .home_regions
            .first()
            .cloned()
            .unwrap_or_else(|| GLOBAL_REGION.into());
        let account = self.account.clone();
        let mut last = Outcome::Refused;
        for (n, name) in data.secrets.iter().enumerate() {
            let at = t + Duration::milliseconds(300 * i64::try_from(n).unwrap_or(0));
            let base = events::get_secret_value(at, &region, &account, name).from(ip, agent);
            let name = name.clone();
            last = self
                .sub(
                    who,
                    "secretsmanager:GetSecretValue",
                    &["secretsmanager:GetSecretValue"],
                    base.clone(),
                    |_| async move { Ok((base, format!("secret {name}"), ())) },
                )
                .await;
            if !matches!(last, Outcome::Done(())) {
                break;
            }
        }
        last
    }
}
