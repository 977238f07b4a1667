//! The `data-theft` game-day scenario against moto: the attacker's reads of the company's
//! bucket are data events that only the trail's log objects hold (LookupEvents never returns
//! them), its secret reads are management events, and the answer key — the leaked key and the
//! backdoor user's key, nothing running — is what the console's model finds.

use crate::common::aws_root;
use crate::gameday::{console_model, open_credentials, trail_records};
use keyspill_gameday as gameday;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn data_theft_reads_are_in_the_trail_only_and_the_answer_key_holds() {
    let (m, scenario, seeded) = crate::gameday::seeded_now("data-theft", 7).await;
    let data = scenario.data.clone().expect("the scenario's data");
    let root = aws_root(&m).await;
    let records: Vec<Value> = trail_records(&root, &seeded.trail_bucket).await;
    let named = |name: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["eventName"] == name && r["errorCode"].is_null())
            .collect()
    };
    // Every object read, with the leaked key and again with the backdoor's: data events
    // naming the object.
    let gets = named("GetObject");
    assert_eq!(gets.len(), data.objects.len() * 2, "{gets:?}");
    for g in &gets {
        assert_eq!(g["eventCategory"], "Data", "{g}");
        assert_eq!(g["managementEvent"], false, "{g}");
        let object = g["resources"][0]["ARN"].as_str().unwrap_or_default();
        assert!(
            data.objects
                .iter()
                .any(|k| object == format!("arn:aws:s3:::{}/{k}", data.bucket)),
            "{object}"
        );
        assert!(
            g["additionalEventData"]["bytesTransferredOut"].as_u64() > Some(0),
            "{g}"
        );
    }
    assert_eq!(named("ListObjects").len(), 1);
    // Secrets: management read events, one per secret.
    let secrets = named("GetSecretValue");
    assert_eq!(secrets.len(), data.secrets.len());
    assert!(secrets.iter().all(|s| s["eventCategory"] == "Management"));

    // The answer key: the leaked key and the backdoor user's key are open; nothing was
    // launched, so the attacker holds no compute.
    let truth = gameday::attacker_credentials(&m.endpoint(), &seeded)
        .await
        .expect("the game's truth");
    let kinds: Vec<&str> = truth.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["access-key", "leaked-key"], "{truth:?}");
    let a = console_model(&m, &seeded).await;
    let seen: Vec<(String, String)> = open_credentials(&a)
        .into_iter()
        .filter(|(_, id)| !id.starts_with("unseen:"))
        .collect();
    assert_eq!(seen, truth);
    let holdings = gameday::attacker_holdings(&m.endpoint(), &seeded, &[]).await;
    assert!(
        holdings.iter().all(|h| !h.contains("instances in")),
        "{holdings:?}"
    );
    assert!(
        holdings.iter().any(|h| h.contains(&seeded.backdoor_user)),
        "{holdings:?}"
    );

    // The company's own function can be kept as evidence too: the game stores every package
    // where Lambda says it is (moto keeps none), and the step checks it against CodeSha256.
    let f = &scenario.functions[0];
    let region = scenario
        .home_regions
        .first()
        .cloned()
        .expect("a home region");
    assert_eq!(f.region, "home:0");
    let kept = keyspill_aws::evidence::keep(
        &root,
        &keyspill_core::resources::ResourceRef {
            kind: keyspill_core::resources::Kind::Function,
            region,
            id: f.name.clone(),
            account: None,
        },
        &keyspill_core::resources::evidence::Keep::Function {
            environment_values: false,
        },
        "incident",
    )
    .await
    .expect("the company's function is kept");
    assert!(
        kept.files.iter().any(|x| x.name == "package.zip"),
        "{kept:?}"
    );
}
