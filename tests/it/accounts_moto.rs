//! Many accounts against moto: the organisation's accounts listed, each entered through the
//! role Organizations made there, and every account swept at once with what each holds found
//! in that account alone; an account that cannot be entered says why.

use crate::common::{Moto, aws_root};
use aws_sdk_ec2::types::InstanceType;
use keyspill_aws::accounts;
use keyspill_core::resources::Kind;

#[tokio::test(flavor = "multi_thread")]
async fn the_organisation_s_accounts_are_entered_and_swept_at_once() {
    let m = Moto::start();
    let root = aws_root(&m).await;
    let members = crate::common::organisation(&root, &["prod", "staging"]).await;
    let listed = accounts::list(&root).await.expect("accounts");
    for id in &members {
        assert!(listed.iter().any(|a| &a.id == id), "{listed:?}");
    }
    let own = root
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("identity")
        .account()
        .map(str::to_string);
    assert!(listed.iter().any(|a| Some(&a.id) == own.as_ref()));

    // Entered: each session acts in its own account.
    let mut entered = Vec::new();
    for id in &members {
        let aws = accounts::enter(&root, own.as_deref(), id, accounts::DEFAULT_ROLE, "aws")
            .await
            .expect("entered");
        let who = aws
            .sts
            .get_caller_identity()
            .send()
            .await
            .expect("identity")
            .account()
            .map(str::to_string);
        assert_eq!(who.as_deref(), Some(id.as_str()));
        entered.push((id.clone(), aws));
    }
    // The caller's own account is used as it is.
    let own_id = own.clone().expect("own account");
    let same = accounts::enter(
        &root,
        own.as_deref(),
        &own_id,
        accounts::DEFAULT_ROLE,
        "aws",
    )
    .await
    .expect("own");
    assert_eq!(same.endpoint_url(), root.endpoint_url());

    // An instance in prod only.
    entered[0]
        .1
        .ec2_in("eu-west-1")
        .run_instances()
        .image_id("ami-03cf127a")
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("an instance in prod");
    let regions = vec!["us-east-1".to_string(), "eu-west-1".to_string()];
    let mut found: Vec<(String, String, usize)> = Vec::new();
    accounts::sweep_all(&entered, &regions, |account, sweep| {
        let instances = sweep
            .resources
            .iter()
            .filter(|r| r.kind == Kind::Instance)
            .count();
        found.push((account.to_string(), sweep.region.clone(), instances));
    })
    .await;
    // Every account, every region and IAM, once each.
    assert_eq!(
        found.len(),
        entered.len() * (regions.len() + 1),
        "{found:?}"
    );
    let instances = |account: &str| -> usize {
        found
            .iter()
            .filter(|(a, _, _)| a == account)
            .map(|(_, _, n)| n)
            .sum()
    };
    assert_eq!(instances(&members[0]), 1, "{found:?}");
    assert_eq!(instances(&members[1]), 0, "{found:?}");

    // An account that is not in the organisation cannot be entered: in words, naming the call.
    let none = Moto::start();
    let plain = aws_root(&none).await;
    match accounts::list(&plain).await {
        Ok(v) => panic!("no organisation, yet {v:?}"),
        Err(e) => assert!(e.text.contains("organizations:ListAccounts"), "{}", e.text),
    }
}
