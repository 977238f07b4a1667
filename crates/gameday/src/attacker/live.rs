//! The attacker during the game: the engine rebuilt from the seeded game, then a step a turn.

use super::*;

/// Builds the live attacker's state from the seeded game, reading what it needs from moto.
pub(super) async fn engine_for<'s>(
    endpoint: &str,
    seeded: &Seeded,
    scenario: &'s Scenario,
    seed: u64,
) -> Engine<'s> {
    let root = As::root(endpoint).await;
    let user_id = |name: String| {
        let root = root.clone();
        async move {
            root.iam()
                .get_user()
                .user_name(&name)
                .send()
                .await
                .ok()
                .and_then(|u| u.user().map(|u| u.user_id().to_string()))
                .unwrap_or_default()
        }
    };
    let role = |name: String| {
        let root = root.clone();
        async move {
            let out = root.iam().get_role().role_name(&name).send().await.ok();
            let r = out.as_ref().and_then(|o| o.role());
            RoleRef {
                id: r.map(|r| r.role_id().to_string()).unwrap_or_default(),
                arn: r.map(|r| r.arn().to_string()).unwrap_or_default(),
                name,
            }
        }
    };
    let developer_id = user_id(seeded.leaked.user.clone()).await;
    let backdoor_id = user_id(seeded.backdoor_user.clone()).await;
    let deploy = role(seeded.deploy_role.clone()).await;
    let lambda = role(seeded.lambda_role.clone()).await;
    let trust_role = match &seeded.outside {
        Some(o) => Some(role(o.role.clone()).await),
        None => None,
    };
    let leaked = Ident::user(With::Leaked, &seeded.leaked, &developer_id);
    let mut e = Engine::new(
        scenario,
        endpoint,
        root,
        &seeded.account,
        leaked,
        Rng::new(seed, "attacker-live"),
        Rng::new(seed, "attacker-live-ids"),
    );
    e.trail_name = seeded.trail_name.clone();
    e.trail_arn = seeded.trail_arn.clone();
    e.trail_region = seeded
        .home_regions
        .first()
        .cloned()
        .unwrap_or_else(|| GLOBAL_REGION.into());
    e.bucket = seeded.trail_bucket.clone();
    e.deploy_role = deploy;
    e.lambda_role_arn = lambda.arn;
    e.backdoor_user = seeded.backdoor_user.clone();
    e.backdoor_user_id = backdoor_id.clone();
    e.backdoors = seeded
        .backdoor_keys
        .iter()
        .map(|c| Ident::user(With::Backdoor, c, &backdoor_id))
        .collect();
    if let Some(o) = &seeded.outside {
        e.trust_role = Some(trust_role.clone().unwrap_or_else(|| e.deploy_role.clone()));
        e.outside = Some(Ident {
            kind: With::Outside,
            user: o.user.clone(),
            principal_id: o.principal_id.clone(),
            key: o.key_id.clone(),
            secret: o.secret.clone(),
            token: None,
            session_name: String::new(),
            issued: OffsetDateTime::UNIX_EPOCH,
            expires: OffsetDateTime::UNIX_EPOCH,
            home: Some(o.account.clone()),
            client: None,
        });
    }
    if let Some(s) = &seeded.session {
        let role_id = match &e.trust_role {
            Some(r) if r.name == s.role => r.id.clone(),
            _ => e.deploy_role.id.clone(),
        };
        e.session = Some(Ident::session(s, &role_id));
    }
    let pool = &scenario.attacker.backdoor_names;
    e.next_backdoor = pool
        .iter()
        .position(|n| *n == seeded.backdoor_user)
        .map_or(0, |i| i + 1);
    e.regions = seeded.attacker_regions.clone();
    e.fresh = seeded.live_regions.iter().cloned().collect();
    e.made = seeded.made;
    e.scheduled = seeded.scheduled.clone();
    e
}

/// The attacker during the game: one scripted step every few seconds (the scenario's pace
/// divided by `speed`, varied by up to a quarter either way) until `stop` turns true (or its
/// sender is dropped). Each call is passed to `log` as it happens; all of them are returned.
///
/// Its choices (step order, regions, names, counts, the pauses) are the same for a seed; what
/// succeeds depends on what the responder has done by then.
pub async fn attacker(
    endpoint: &str,
    seeded: &Seeded,
    scenario: &Scenario,
    seed: u64,
    speed: f64,
    mut stop: watch::Receiver<bool>,
    log: Arc<dyn Fn(AttackerEvent) + Send + Sync>,
) -> Vec<AttackerEvent> {
    let mut engine = engine_for(endpoint, seeded, scenario, seed).await;
    engine.log = Some(log);
    engine.live = true;
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    let base = scenario.pace.attacker_seconds / speed;
    let mut pause_rng = Rng::new(seed, "attacker-pace");
    let mut turn = 0usize;
    loop {
        if *stop.borrow() {
            break;
        }
        let pause = base * (0.75 + 0.5 * pause_rng.unit());
        let pause = std::time::Duration::from_secs_f64(pause.clamp(0.01, 3600.0));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
                continue;
            }
        }
        if *stop.borrow() {
            break;
        }
        let Some(step) = scenario
            .attacker
            .live
            .get(turn % scenario.attacker.live.len().max(1))
        else {
            break;
        };
        turn += 1;
        Box::pin(engine.turn(step)).await;
    }
    engine.events
}
