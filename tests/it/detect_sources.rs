//! Detection intake against moto and the game's server for what moto lacks: GuardDuty's
//! findings about the leaked key and AWS Health's exposed-key event come back with the key they
//! name, Security Hub answers from moto, and a source that is off or missing says so in words.

use crate::common::aws_root;
use keyspill_aws::{Aws, ConnectOptions, ServiceEndpoints};
use keyspill_core::detect::{Source, SourceState};
use keyspill_gameday as gameday;

#[tokio::test(flavor = "multi_thread")]
async fn guardduty_and_health_name_the_leaked_key_and_a_missing_source_says_why() {
    let (m, _, seeded) = crate::gameday::seeded_now("github-leak", 5).await;
    let gaps = gameday::gaps::serve(&m.endpoint(), &seeded)
        .await
        .expect("gaps");
    let aws = Aws::connect(&ConnectOptions {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(m.endpoint()),
        static_credentials: Some((
            seeded.responder.key_id.clone(),
            seeded.responder.secret.clone(),
        )),
        max_attempts: 1,
        session_token: None,
        service_endpoints: ServiceEndpoints {
            guardduty: Some(gaps.endpoint.clone()),
            health: Some(gaps.endpoint.clone()),
            ..ServiceEndpoints::default()
        },
    })
    .await;
    let regions = seeded.regions.clone();
    let d = keyspill_aws::detect::fetch(&aws, &regions).await;
    eprintln!("{:#?}", d.sources);
    let leaked = &seeded.leaked.key_id;
    let by = |s: Source| d.alerts.iter().filter(move |a| a.source == s);
    // GuardDuty: two findings in the region of the attacker's first call, about the key.
    assert_eq!(by(Source::GuardDuty).count(), 2);
    assert!(by(Source::GuardDuty).all(|a| a.keys == std::slice::from_ref(leaked) && a.rank >= 2));
    assert!(by(Source::GuardDuty).any(|a| a.kind == "PenTest:IAMUser/KaliLinux"));
    assert_eq!(
        d.sources.get(&(Source::GuardDuty, "us-east-1".to_string())),
        Some(&SourceState::Read(2))
    );
    // Health: the exposed-key event, naming the key.
    let health: Vec<_> = by(Source::Health).collect();
    assert_eq!(health.len(), 1);
    assert_eq!(health[0].kind, "AWS_RISK_CREDENTIALS_EXPOSED");
    assert_eq!(health[0].keys, std::slice::from_ref(leaked));
    assert!(health[0].first_seen.is_some());
    // Security Hub is asked in every region (moto answers it).
    assert_eq!(
        d.sources
            .keys()
            .filter(|(s, _)| *s == Source::SecurityHub)
            .count(),
        regions.len()
    );
    // Nothing to propose: the key is the tracked one; untracked, it is proposed once.
    assert!(d.proposed(&|k| k == leaked).is_empty());
    assert_eq!(
        d.proposed(&|_| false),
        vec![(leaked.clone(), vec![Source::GuardDuty, Source::Health])]
    );

    // Against moto alone: no GuardDuty detector (off, in words) and no Health API (failed, in
    // words); neither stops the other sources.
    let plain = aws_root(&m).await;
    let d = keyspill_aws::detect::fetch(&plain, &["us-east-1".to_string()]).await;
    match d.sources.get(&(Source::GuardDuty, "us-east-1".to_string())) {
        Some(SourceState::Off(why)) => assert!(why.contains("no detector"), "{why}"),
        other => panic!("GuardDuty: {other:?}"),
    }
    match d.sources.get(&(Source::Health, "global".to_string())) {
        Some(SourceState::Failed(why) | SourceState::NotSubscribed(why)) => {
            assert!(
                why.contains("health:DescribeEvents") || why.contains("support"),
                "{why}"
            )
        }
        other => panic!("Health: {other:?}"),
    }
    assert!(
        d.summary()
            .iter()
            .any(|(s, words)| *s == Source::GuardDuty && words.contains("no detector"))
    );
}
