//! `iam:SimulatePrincipalPolicy` through the adapter, against the in-test IAM query-protocol
//! server (moto does not implement the simulator): the principal and every action asked,
//! every page followed, decisions mapped, and a refusal as a typed AccessDenied.

use crate::iam_server::IamServer;
use keyspill_aws::{Aws, ConnectOptions, ErrorKind, simulate};
use keyspill_core::access::authz::Simulated;

const PRINCIPAL: &str = "arn:aws:iam::123456789012:user/dev";

/// The SDK as keyspill builds it, pointed at the server, without retries.
async fn aws_at(server: &IamServer) -> Aws {
    Aws::connect(&ConnectOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(server.endpoint()),
        static_credentials: Some((
            "AKIA2RESPONDERSELF5X".into(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        )),
        max_attempts: 1,
        ..ConnectOptions::default()
    })
    .await
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_simulator_is_asked_for_every_action_and_every_page_is_followed() {
    let server = IamServer::start();
    server.set_page_size(2);
    server.decide("iam:CreateUser", "allowed");
    server.decide("iam:CreateAccessKey", "explicitDeny");
    server.decide("s3:GetObject", "allowed");
    // iam:AttachUserPolicy and ec2:RunInstances: nothing allows them.
    let actions = strings(&[
        "iam:CreateUser",
        "iam:CreateAccessKey",
        "iam:AttachUserPolicy",
        "s3:GetObject",
        "ec2:RunInstances",
    ]);
    let aws = aws_at(&server).await;
    let got = simulate::simulate(&aws, PRINCIPAL, &actions)
        .await
        .expect("simulated");
    assert_eq!(
        got,
        [
            ("iam:CreateUser".to_string(), Simulated::Allowed),
            ("iam:CreateAccessKey".to_string(), Simulated::ExplicitDeny),
            ("iam:AttachUserPolicy".to_string(), Simulated::ImplicitDeny),
            ("s3:GetObject".to_string(), Simulated::Allowed),
            ("ec2:RunInstances".to_string(), Simulated::ImplicitDeny),
        ]
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    for r in &requests {
        assert_eq!(r.param("Action"), Some("SimulatePrincipalPolicy"));
        assert_eq!(r.param("Version"), Some("2010-05-08"));
        assert_eq!(r.param("PolicySourceArn"), Some(PRINCIPAL));
        assert_eq!(r.list("ActionNames"), actions);
    }
    let markers: Vec<Option<&str>> = requests.iter().map(|r| r.param("Marker")).collect();
    assert_eq!(markers, [None, Some("m2"), Some("m4")]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_decision_this_version_does_not_know_is_left_out() {
    let server = IamServer::start();
    server.decide("iam:PassRole", "allowed");
    server.decide("iam:CreateRole", "conditionallyAllowed");
    let aws = aws_at(&server).await;
    let got = simulate::simulate(
        &aws,
        PRINCIPAL,
        &strings(&["iam:CreateRole", "iam:PassRole"]),
    )
    .await
    .expect("simulated");
    assert_eq!(got, [("iam:PassRole".to_string(), Simulated::Allowed)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_simulation_is_an_access_denied_naming_the_permission() {
    let server = IamServer::start();
    server.deny();
    let aws = aws_at(&server).await;
    let err = simulate::simulate(&aws, PRINCIPAL, &strings(&["iam:CreateUser"]))
        .await
        .expect_err("refused");
    assert_eq!(err.kind, ErrorKind::AccessDenied, "{}", err.text);
    assert_eq!(err.code.as_deref(), Some("AccessDenied"));
    assert_eq!(
        err.permission.as_deref(),
        Some("iam:SimulatePrincipalPolicy")
    );
    assert!(
        err.text.contains("iam:SimulatePrincipalPolicy"),
        "{}",
        err.text
    );
    // Refusals are not retried.
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_to_simulate_sends_nothing() {
    let server = IamServer::start();
    let aws = aws_at(&server).await;
    let got = simulate::simulate(&aws, PRINCIPAL, &[])
        .await
        .expect("nothing asked");
    assert!(got.is_empty());
    assert!(server.requests().is_empty());
}
