//! Wires the pure core to the world: the terminal, the pollers, the executor and the journal.

pub mod clipboard;
mod cost;
pub mod evidence;
pub mod exec;
pub mod gameday;
mod resources;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::sync::{Notify, OnceCell, watch};

use crate::cli::{ConsoleArgs, Regions};
use exec::SharedJournal;
use keyspill_aws::collect::{self, Update};
use keyspill_aws::poll::{Outcome, Poller};
use keyspill_aws::{Aws, ConnectOptions, regions, sts};
use keyspill_core::app::msg::JournalOpened;
use keyspill_core::app::state::{Settings, Source, State};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::domain::{Identity, Timestamp};
use keyspill_core::journal::{self, Event, Journal};
use keyspill_core::ui::{self, Theme};

/// How often the Keys pane polls IAM.
pub const KEYS_INTERVAL: Duration = Duration::from_secs(15);
/// How often the foothold model's users, roles and providers are read. Slower than the keys:
/// a poll costs a `GetLoginProfile` per user.
pub const ACCESS_INTERVAL: Duration = Duration::from_secs(30);
/// How often the other accounts' models run (`--accounts`): each pass enters every account
/// and reads its IAM and trail.
pub const MEMBERS_INTERVAL: Duration = Duration::from_secs(180);
/// How far back the other accounts' trails are read without `--since`.
const MEMBERS_LOOKBACK_DAYS: i64 = 7;
/// How often GuardDuty, Security Hub and Health are read (findings change in minutes).
pub const DETECT_INTERVAL: Duration = Duration::from_secs(120);
/// The longest a poller backs off after repeated throttling.
const MAX_BACKOFF: Duration = Duration::from_secs(120);
const TICK: Duration = Duration::from_millis(250);
/// How long quitting waits for journal writes and running actions.
const EXIT_GRACE: Duration = Duration::from_secs(10);

fn now() -> Timestamp {
    time::OffsetDateTime::now_utc()
}

/// `name@host`, for the journal and the action log: `--operator`, else `$USER`, else
/// `$LOGNAME`, else the name of the process's user in /etc/passwd; `@host` is added unless
/// the name has an `@` already.
pub fn operator(flag: Option<&str>) -> String {
    let env = |k: &str| std::env::var(k).ok();
    let passwd = || {
        let uid = own_uid()?;
        let text = std::fs::read_to_string("/etc/passwd").ok()?;
        Some(passwd_name(&text, uid).unwrap_or_else(|| format!("uid-{uid}")))
    };
    let host = env("HOSTNAME")
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .unwrap_or_default();
    operator_from(flag, env("USER"), env("LOGNAME"), passwd, &host)
}

/// [`operator`] from what it reads, so that the order can be tested.
pub fn operator_from(
    flag: Option<&str>,
    user: Option<String>,
    logname: Option<String>,
    passwd: impl FnOnce() -> Option<String>,
    host: &str,
) -> String {
    let named = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_string())
    };
    let name = flag
        .and_then(named)
        .or_else(|| user.as_deref().and_then(named))
        .or_else(|| logname.as_deref().and_then(named))
        .or_else(|| passwd().as_deref().and_then(named))
        // No name to be had: the room still sees this is not a person's name.
        .unwrap_or_else(|| "no-login-name".into());
    if name.contains('@') {
        return name;
    }
    let host = host.trim();
    let host = if host.is_empty() { "localhost" } else { host };
    format!("{name}@{host}")
}

/// The login name of `uid` in the text of /etc/passwd (`name:x:uid:gid:…`).
pub fn passwd_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?;
        (!line.starts_with('#') && !name.is_empty() && id.trim().parse() == Ok(uid))
            .then(|| name.to_string())
    })
}

/// The process's user id: the owner of `/proc/self` (Linux), without a C call.
fn own_uid() -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").ok().map(|m| m.uid())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

pub fn initial_state(
    args: &ConsoleArgs,
    local_offset: time::UtcOffset,
    rules: keyspill_core::timeline::risk::RiskRules,
) -> State {
    let settings = Settings {
        read_only: args.read_only,
        profile: args.aws.profile.clone(),
        endpoint: args.aws.endpoint_url.clone(),
        regions: match &args.aws.regions {
            Regions::All => None,
            Regions::List(l) => Some(l.clone()),
        },
        operator: operator(args.operator.as_deref()),
        local_offset,
    };
    let mut state = State::new(settings, now());
    state.leaked.extend(args.keys.iter().cloned());
    state.timeline.rules = Arc::new(rules);
    state.since_flag = args.since;
    state.cost.days = args.cost_days;
    state.access.trusted_accounts = args.trust_accounts.clone();
    state.access.members_expected = args.org.accounts.is_some();
    state.access.source_ip = args.source_ip;
    state
}

/// What the console needs to know about a game-day exercise it runs in.
pub struct GameInfo {
    pub scenario: String,
    pub seed: u64,
    /// What the simulated attacker still holds, asked at each `:export` for the score.
    pub holdings:
        Arc<dyn Fn() -> futures_util::future::BoxFuture<'static, Vec<String>> + Send + Sync>,
}

/// How a caller other than the command line shapes the console (the game day).
#[derive(Default)]
pub struct Extra {
    /// Sign with these instead of the default credential chain.
    pub static_credentials: Option<(String, String)>,
    pub game: Option<GameInfo>,
    /// Per-service endpoints (the game's stand-ins for what the emulator lacks); `None`: from
    /// the environment (`AWS_ENDPOINT_URL_CLOUDTRAIL`, `AWS_ENDPOINT_URL_COST_EXPLORER`).
    pub service_endpoints: Option<keyspill_aws::ServiceEndpoints>,
}

/// Shared by the runtime's tasks.
struct Ctx {
    tx: UnboundedSender<Msg>,
    opts: ConnectOptions,
    aws: OnceCell<Aws>,
    /// The first identity answer (or failure), which names the default journal directory.
    first_identity: OnceCell<Option<Identity>>,
    journal: OnceCell<SharedJournal>,
    journal_dir: Option<PathBuf>,
    leaked_at_start: Vec<String>,
    since_flag: Option<Timestamp>,
    logs: Vec<PathBuf>,
    /// The regions swept, once known.
    regions: OnceCell<Vec<String>>,
    operator: String,
    keys_refresh: Arc<Notify>,
    access_refresh: Arc<Notify>,
    detect_refresh: Arc<Notify>,
    timeline_refresh: Arc<Notify>,
    resources_refresh: Arc<Notify>,
    cost_refresh: Arc<Notify>,
    /// Days of cost history to ask for.
    cost_days: u32,
    /// Set when the console runs a game-day exercise.
    game: Option<GameInfo>,
    /// `--accounts`: which other accounts, the role entered in each, and what to read there.
    org: Option<(crate::cli::Accounts, String, crate::footholds_cmd::Reach)>,
    /// The other accounts' sessions, by account id, as the last poll of them (or an action
    /// there) entered them, and when.
    members: std::sync::RwLock<HashMap<String, (Aws, Instant)>>,
    members_refresh: Arc<Notify>,
    /// Journal writes, in the order the console asked for them.
    journal_turns: Turns,
    paused: watch::Sender<bool>,
    seq: AtomicU64,
}

impl Ctx {
    async fn aws(&self) -> &Aws {
        self.aws.get_or_init(|| Aws::connect(&self.opts)).await
    }

    /// Another account's session, as the last poll of the other accounts (or an action there)
    /// entered it, with its age.
    fn member_entered(&self, account: &str) -> Option<(Aws, Duration)> {
        self.members
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(account)
            .map(|(aws, at)| (aws.clone(), at.elapsed()))
    }

    /// Another account's session to act or read there: the one its last poll entered while it
    /// has time left, else the account entered again now (a console paused past the hour a
    /// session lasts would otherwise act with expired credentials). Why not, in words.
    async fn member(&self, account: &str) -> Result<Aws, String> {
        let Some((aws, age)) = self.member_entered(account) else {
            return Err(format!(
                "account {account} is not entered now (the Other accounts pane says why)"
            ));
        };
        if session_reusable(age) {
            return Ok(aws);
        }
        let (Some((_, role, _)), Some(identity)) = (&self.org, self.identity().await) else {
            return Err(format!("account {account}: its session has expired"));
        };
        let entered = keyspill_aws::accounts::enter(
            self.aws().await,
            Some(&identity.account),
            account,
            role,
            identity.partition(),
        )
        .await
        .map_err(|e| format!("account {account} could not be entered again: {e}"))?;
        self.members
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account.to_string(), (entered.clone(), Instant::now()));
        Ok(entered)
    }

    /// Another account's session, waiting for the polls of the other accounts to enter it
    /// (the first poll, when the console has just started): `None` without `--accounts`, or
    /// when it was not entered within [`MEMBERS_ENTER_WAIT`].
    async fn member_when_entered(&self, account: &str) -> Option<Aws> {
        self.org.as_ref()?;
        let began = Instant::now();
        loop {
            if self.member_entered(account).is_some() {
                return self.member(account).await.ok();
            }
            if began.elapsed() > MEMBERS_ENTER_WAIT {
                return None;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn send(&self, msg: Msg) {
        // The receiver only goes away when the console is closing.
        let _ = self.tx.send(msg);
    }

    async fn fetch_identity(&self) -> Option<Identity> {
        self.send(Msg::FetchStarted(Source::Identity));
        let seq = self.next_seq();
        let result = sts::identity(self.aws().await).await;
        let id = result.as_ref().ok().cloned();
        self.send(Msg::Identity {
            seq,
            at: now(),
            result,
        });
        id
    }

    async fn identity(&self) -> Option<&Identity> {
        self.first_identity
            .get_or_init(|| self.fetch_identity())
            .await
            .as_ref()
    }

    /// Opens the journal once: in `--journal DIR`, or the account's directory for today.
    async fn journal(&self) -> &SharedJournal {
        self.journal
            .get_or_init(|| async {
                let id = self.identity().await.cloned();
                let dir = self.journal_dir.clone().unwrap_or_else(|| {
                    journal::default_dir(id.as_ref().map(|i| i.account.as_str()), now())
                });
                match Journal::open(&dir, &self.operator) {
                    Ok((mut j, resumed)) => {
                        let event = if resumed.entries == 0 {
                            Event::Opened {
                                account: id.as_ref().map(|i| i.account.clone()),
                                caller: id.as_ref().map(|i| i.arn.clone()),
                                since: self.since_flag.map(journal::format_ts),
                                leaked_keys: self.leaked_at_start.clone(),
                            }
                        } else {
                            Event::Resumed {
                                leaked_keys: self.leaked_at_start.clone(),
                            }
                        };
                        if let Err(e) = j.append(now(), event) {
                            tracing::error!("journal write failed: {e}");
                        }
                        if let Some(g) = &self.game
                            && let Err(e) = j.append(
                                now(),
                                Event::Game {
                                    scenario: g.scenario.clone(),
                                    seed: g.seed,
                                    attacker_holds: Vec::new(),
                                },
                            )
                        {
                            tracing::error!("journal write failed: {e}");
                        }
                        self.send(Msg::JournalOpened(Ok(JournalOpened {
                            dir: dir.display().to_string(),
                            resumed,
                        })));
                        Some(Arc::new(Mutex::new(j)))
                    }
                    Err(e) => {
                        self.send(Msg::JournalOpened(Err(format!("{}: {e}", dir.display()))));
                        None
                    }
                }
            })
            .await
    }

    async fn fetch_regions(&self, partition: &str) {
        let seq = self.next_seq();
        let result = regions::enabled(self.aws().await, partition).await;
        if let Ok(r) = &result {
            let _ = self.regions.set(r.clone());
        }
        self.send(Msg::Regions {
            seq,
            at: now(),
            result,
        });
    }
}

/// Polls IAM for keys every `KEYS_INTERVAL`, at once on `r`, not at all while paused; backs
/// off after throttling or failure.
async fn keys_poller(ctx: Arc<Ctx>) {
    let poller = Poller::new(KEYS_INTERVAL, MAX_BACKOFF, ctx.keys_refresh.clone())
        .pausable(Some(ctx.paused.subscribe()));
    poller
        .run(|| async {
            ctx.send(Msg::FetchStarted(Source::Keys));
            let seq = ctx.next_seq();
            let result = keyspill_aws::iam::fetch_keys(ctx.aws().await).await;
            let outcome = Outcome::of(&result);
            ctx.send(Msg::Keys {
                seq,
                at: now(),
                result,
            });
            outcome
        })
        .await;
}

/// Reads IAM's users, passwords, roles and providers for the foothold model every
/// `ACCESS_INTERVAL`, as `keys_poller` does the keys.
async fn access_poller(ctx: Arc<Ctx>) {
    let poller = Poller::new(ACCESS_INTERVAL, MAX_BACKOFF, ctx.access_refresh.clone())
        .pausable(Some(ctx.paused.subscribe()));
    poller
        .run(|| async {
            ctx.send(Msg::FetchStarted(Source::Access));
            let seq = ctx.next_seq();
            let result = keyspill_aws::access::inventory(ctx.aws().await).await;
            let outcome = Outcome::of(&result);
            ctx.send(Msg::Access {
                seq,
                at: now(),
                result,
            });
            outcome
        })
        .await;
}

/// Carries out one effect. Returns the task when it writes to the journal, so that quitting
/// can wait for it: nothing the operator did may be lost by pressing `q` right after.
fn handle(ctx: &Arc<Ctx>, effect: Effect) -> Option<tokio::task::JoinHandle<()>> {
    match effect {
        Effect::Refresh(Source::Keys) => ctx.keys_refresh.notify_one(),
        Effect::Refresh(Source::Access) => ctx.access_refresh.notify_one(),
        Effect::Refresh(Source::Detections) => ctx.detect_refresh.notify_one(),
        Effect::Refresh(Source::Members) => ctx.members_refresh.notify_one(),
        Effect::Refresh(Source::Timeline) => {
            // Every running collector keeps one waiter on it at all times and passes the wake
            // on to each of its sources (`collect::Request::poke`): wake them all, once.
            ctx.timeline_refresh.notify_waiters();
        }
        Effect::Refresh(Source::Resources) => ctx.resources_refresh.notify_one(),
        Effect::Refresh(Source::Cost) => ctx.cost_refresh.notify_one(),
        Effect::FetchParts(targets) => {
            tokio::spawn(resources::fetch_parts(ctx.clone(), targets));
        }
        Effect::Refresh(Source::Identity) => {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                if let Some(id) = ctx.fetch_identity().await {
                    ctx.fetch_regions(id.partition()).await;
                }
            });
        }
        Effect::SetPaused(p) => {
            let _ = ctx.paused.send(p);
        }
        Effect::FetchUserDetail(user) => {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let result = keyspill_aws::iam::user_detail(ctx.aws().await, &user).await;
                ctx.send(Msg::UserDetail {
                    user,
                    at: now(),
                    result,
                });
            });
        }
        Effect::LookupKeyInfo(key_id) => {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let result = sts::key_account(ctx.aws().await, &key_id).await;
                ctx.send(Msg::KeyInfo { key_id, result });
            });
        }
        Effect::Simulate { arn, actions } => {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let result =
                    keyspill_aws::simulate::simulate(ctx.aws().await, &arn, &actions).await;
                ctx.send(Msg::Simulated {
                    arn,
                    at: now(),
                    result,
                });
            });
        }
        Effect::Execute(plan) => {
            let ctx = ctx.clone();
            return Some(tokio::spawn(async move {
                let journal = ctx.journal().await.clone();
                let aws = match plan.account() {
                    (None, _) => ctx.aws().await.clone(),
                    (Some(account), _) => match ctx.member(account).await {
                        Ok(aws) => aws,
                        Err(why) => {
                            exec::refuse(&ctx.tx, &plan, format!("{why}: nothing was run"));
                            return;
                        }
                    },
                };
                exec::run_plan(&aws, &journal, &ctx.tx, plan).await;
            }));
        }
        Effect::Reverify(pending) => {
            let ctx = ctx.clone();
            return Some(tokio::spawn(async move {
                let journal = ctx.journal().await.clone();
                let (theirs, ours): (Vec<_>, Vec<_>) = pending
                    .into_iter()
                    .partition(|p| p.target.account.is_some());
                exec::reverify(ctx.aws().await, &journal, &ctx.tx, ours).await;
                // Another account's steps are checked there, once the first poll of the other
                // accounts has entered it.
                let mut by_account: HashMap<String, Vec<_>> = HashMap::new();
                for p in theirs {
                    let account = p.target.account.clone().unwrap_or_default();
                    by_account.entry(account).or_default().push(p);
                }
                for (account, pending) in by_account {
                    match ctx.member_when_entered(&account).await {
                        Some(aws) => exec::reverify(&aws, &journal, &ctx.tx, pending).await,
                        None => exec::not_reverified(
                            &journal,
                            &ctx.tx,
                            pending,
                            &format!("account {account} was not entered, so not re-checked"),
                        ),
                    }
                }
            }));
        }
        Effect::WriteSecret { path, base, key } => {
            let result = exec::write_secret(&path, base.as_deref(), &key);
            ctx.send(Msg::SecretWritten(result));
        }
        Effect::Copy { what, text } => {
            // Between two frames, on the terminal the console draws on.
            if let Err(e) = clipboard::copy(text.expose()) {
                tracing::error!("clipboard ({what}): writing OSC 52 failed: {e}");
            }
        }
        Effect::Track(key) => {
            let ctx2 = ctx.clone();
            tokio::spawn(async move {
                let account = ctx2.identity().await.map(|i| i.account.clone());
                start_timeline(&ctx2, vec![key.clone()], ctx2.logs.clone(), None, false);
                start_timeline(&ctx2, vec![key], Vec::new(), account, true);
            });
        }
        Effect::Export(snapshot) => {
            let ctx = ctx.clone();
            let ticket = ctx.journal_turns.ticket();
            return Some(tokio::spawn(async move {
                let _turn = ctx.journal_turns.wait(ticket).await;
                let Some(j) = ctx.journal().await else {
                    ctx.send(Msg::Exported(Err(
                        "no journal is open, so there is nothing to write a report from".into(),
                    )));
                    return;
                };
                // In a game, what the attacker still holds goes in with the score.
                let game = match &ctx.game {
                    Some(g) => Some(Event::Game {
                        scenario: g.scenario.clone(),
                        seed: g.seed,
                        attacker_holds: (g.holdings)().await,
                    }),
                    None => None,
                };
                let dir = {
                    let mut guard = j.lock().unwrap_or_else(|p| p.into_inner());
                    for event in std::iter::once(Event::Snapshot(snapshot)).chain(game) {
                        if let Err(e) = guard.append(now(), event) {
                            ctx.send(Msg::Exported(Err(format!("journal write failed: {e}"))));
                            return;
                        }
                    }
                    guard.dir().to_path_buf()
                };
                ctx.send(Msg::Exported(export_report(&dir)));
            }));
        }
        Effect::Journal(event) => {
            let ctx = ctx.clone();
            let ticket = ctx.journal_turns.ticket();
            return Some(tokio::spawn(async move {
                let _turn = ctx.journal_turns.wait(ticket).await;
                if let Some(j) = ctx.journal().await {
                    let mut guard = j.lock().unwrap_or_else(|p| p.into_inner());
                    if let Err(e) = guard.append(now(), event) {
                        tracing::error!("journal write failed: {e}");
                    }
                }
            }));
        }
    }
    None
}

/// Turns for the tasks that write the journal: each takes a ticket when its effect is handled
/// and writes when its turn comes, so entries land in the order the console asked for them
/// (`:detected -40m` then `:export` typed at once must put the milestone in the report).
#[derive(Default)]
struct Turns {
    next: AtomicU64,
    served: watch::Sender<u64>,
}

impl Turns {
    fn ticket(&self) -> u64 {
        self.next.fetch_add(1, Ordering::SeqCst)
    }

    /// Waits for `ticket`'s turn; the turn passes on when the guard is dropped (a task that
    /// returns early or panics passes it on too).
    async fn wait(&self, ticket: u64) -> Turn<'_> {
        let mut served = self.served.subscribe();
        // The sender lives in `self`, so the wait ends only when the turn comes.
        let _ = served.wait_for(|s| *s >= ticket).await;
        Turn(self)
    }
}

struct Turn<'a>(&'a Turns);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.0.served.send_modify(|s| *s += 1);
    }
}

/// Writes the incident report into the incident directory, from the journal there.
fn export_report(dir: &std::path::Path) -> Result<String, String> {
    keyspill_core::report::write(dir, keyspill_core::report::Format::Md)
        .map(|p| p.display().to_string())
}

/// Connects, identifies the caller, opens the journal, then starts the pollers and the
/// timeline.
async fn bootstrap(ctx: Arc<Ctx>, fixed_regions: Option<Vec<String>>) {
    tokio::spawn(keys_poller(ctx.clone()));
    tokio::spawn(access_poller(ctx.clone()));
    // Local files need no AWS: read them at once.
    start_timeline(
        &ctx,
        ctx.leaked_at_start.clone(),
        ctx.logs.clone(),
        None,
        false,
    );
    let identity = ctx.identity().await.cloned();
    let partition = identity
        .as_ref()
        .map(|i| i.partition().to_string())
        .unwrap_or_else(|| "aws".into());
    let _ = ctx.journal().await;
    match fixed_regions {
        Some(r) => {
            let _ = ctx.regions.set(r);
        }
        None => ctx.fetch_regions(&partition).await,
    }
    let keys = ctx.leaked_at_start.clone();
    start_timeline(&ctx, keys, Vec::new(), identity.map(|i| i.account), true);
    tokio::spawn(resources::poller(ctx.clone()));
    tokio::spawn(cost::poller(ctx.clone(), ctx.cost_days));
    tokio::spawn(detect_poller(ctx.clone()));
    if ctx.org.is_some() {
        tokio::spawn(members_poller(ctx.clone()));
    }
}

/// How long a step left unfinished in another account waits for the console to enter it.
const MEMBERS_ENTER_WAIT: Duration = Duration::from_secs(300);

/// How long a session the poll of the other accounts entered is used to act there. Sessions
/// last an hour (`accounts::enter`); the margin covers the longest action.
const MEMBER_SESSION_REUSE: Duration = Duration::from_secs(45 * 60);

/// Whether a session entered `age` ago is still used, rather than entering the account again.
fn session_reusable(age: Duration) -> bool {
    age < MEMBER_SESSION_REUSE
}

/// `--accounts`: every other account entered and its foothold model run, all at once, every
/// `MEMBERS_INTERVAL`. What is followed there: the
/// leaked keys named at start (their AssumeRole into a member is in that member's trail too,
/// and so what the sessions did), from `--since`, else the last seven days.
async fn members_poller(ctx: Arc<Ctx>) {
    let Some((which, role, reach)) = ctx.org.clone() else {
        return;
    };
    // Its own wake-up: sharing the access poll's would let this poll take a refresh meant for
    // IAM after an action.
    let poller = Poller::new(
        MEMBERS_INTERVAL,
        MAX_BACKOFF * 2,
        ctx.members_refresh.clone(),
    )
    .pausable(Some(ctx.paused.subscribe()));
    poller
        .run(|| async {
            let aws = ctx.aws().await;
            let Some(identity) = ctx.identity().await.cloned() else {
                return Outcome::Failed;
            };
            let side = crate::footholds_cmd::OwnSide {
                id: Some(identity.account.clone()),
                partition: identity.partition().to_string(),
                since: Some(
                    ctx.since_flag
                        .unwrap_or_else(|| now() - time::Duration::days(MEMBERS_LOOKBACK_DAYS)),
                ),
                followed: ctx.leaked_at_start.iter().cloned().collect(),
            };
            let (_, listing, results) = Box::pin(crate::footholds_cmd::assess_members(
                aws,
                &side,
                &which,
                &role,
                &reach,
                now(),
            ))
            .await;
            let entered = Instant::now();
            let sessions: HashMap<String, (Aws, Instant)> = results
                .iter()
                .filter_map(|(m, r)| {
                    let session = r.as_ref().ok()?.session.clone()?;
                    Some((m.id.clone(), (session, entered)))
                })
                .collect();
            *ctx.members.write().unwrap_or_else(|p| p.into_inner()) = sessions;
            ctx.send(Msg::Members(keyspill_core::app::access::Members {
                at: now(),
                role: role.clone(),
                listing,
                accounts: results
                    .into_iter()
                    .map(|(m, r)| {
                        let (outcome, keys, resources) = match r {
                            Ok(a) => (Ok(a.assessment), a.keys, a.resources),
                            Err(why) => (Err(why), None, Vec::new()),
                        };
                        keyspill_core::app::access::MemberModel {
                            id: m.id,
                            name: m.name,
                            status: m.status,
                            outcome,
                            keys,
                            resources,
                        }
                    })
                    .collect(),
            }));
            Outcome::Ok
        })
        .await;
}

/// Reads the detection sources in the swept regions every `DETECT_INTERVAL`.
async fn detect_poller(ctx: Arc<Ctx>) {
    let poller = Poller::new(DETECT_INTERVAL, MAX_BACKOFF, ctx.detect_refresh.clone())
        .pausable(Some(ctx.paused.subscribe()));
    poller
        .run(|| async {
            ctx.send(Msg::FetchStarted(Source::Detections));
            let seq = ctx.next_seq();
            let regions = ctx.regions.get().cloned().unwrap_or_default();
            let found = keyspill_aws::detect::fetch(ctx.aws().await, &regions).await;
            ctx.send(Msg::Detections {
                seq,
                at: now(),
                result: Ok(found),
            });
            Outcome::Ok
        })
        .await;
}

/// Runs the timeline collector for `keys`, feeding its findings to the console.
/// `api` chooses the AWS sources (LookupEvents, trail logs) over the local files.
fn start_timeline(
    ctx: &Arc<Ctx>,
    keys: Vec<String>,
    logs: Vec<PathBuf>,
    account: Option<String>,
    api: bool,
) {
    if (api && keys.is_empty()) || (!api && logs.is_empty()) {
        return;
    }
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let aws = if api {
            Some(ctx.aws().await.clone())
        } else {
            None
        };
        let request = collect::Request {
            keys,
            from: ctx.since_flag.map(|s| s - time::Duration::days(7)),
            until: None,
            logs,
            regions: ctx.regions.get().cloned().unwrap_or_default(),
            account,
            live: true,
            poke: ctx.timeline_refresh.clone(),
            paused: Some(ctx.paused.subscribe()),
            intervals: collect::Intervals::default(),
            trails_via: None,
            athena: None,
        };
        let tx = ctx.tx.clone();
        let emit = Arc::new(move |u: Update| {
            let msg = match u {
                Update::Events(events) if events.is_empty() => return,
                Update::Events(events) => Msg::TimelineEvents { at: now(), events },
                Update::Chains(c) => Msg::TimelineChains(c),
                Update::Progress(p) => Msg::TimelineProgress(p),
            };
            let _ = tx.send(msg);
        });
        collect::run(aws, request, emit).await;
    });
}

/// Runs the console until the operator quits. The first frame is drawn before anything waits
/// on the network.
pub async fn run_console(
    args: ConsoleArgs,
    started: Instant,
    local_offset: time::UtcOffset,
) -> color_eyre::Result<()> {
    run_console_with(args, started, local_offset, Extra::default()).await
}

/// [`run_console`], shaped by `extra`.
pub async fn run_console_with(
    args: ConsoleArgs,
    started: Instant,
    local_offset: time::UtcOffset,
    extra: Extra,
) -> color_eyre::Result<()> {
    // A broken rules file is a usage error: say so before the terminal is taken over.
    let user_rules = args
        .rules
        .clone()
        .or_else(keyspill_core::timeline::risk::default_user_file);
    let rules = keyspill_core::timeline::risk::RiskRules::load(user_rules.as_deref())
        .map_err(|e| color_eyre::eyre::eyre!("{e}"))?;
    let mut state = initial_state(&args, local_offset, rules);
    let theme = Theme::new(args.theme, Theme::no_color_from_env());
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let (paused, _) = watch::channel(false);
    let ctx = Arc::new(Ctx {
        tx: tx.clone(),
        opts: ConnectOptions {
            profile: args.aws.profile.clone(),
            region: args.aws.region.clone(),
            endpoint_url: args.aws.endpoint_url.clone(),
            static_credentials: extra.static_credentials,
            max_attempts: 3,
            session_token: None,
            service_endpoints: extra
                .service_endpoints
                .clone()
                .unwrap_or_else(keyspill_aws::ServiceEndpoints::from_env),
        },
        aws: OnceCell::new(),
        first_identity: OnceCell::new(),
        journal: OnceCell::new(),
        journal_dir: args.journal.clone(),
        leaked_at_start: args.keys.clone(),
        since_flag: args.since,
        logs: args.logs.clone(),
        regions: OnceCell::new(),
        operator: state.settings.operator.clone(),
        keys_refresh: Arc::new(Notify::new()),
        access_refresh: Arc::new(Notify::new()),
        detect_refresh: Arc::new(Notify::new()),
        timeline_refresh: Arc::new(Notify::new()),
        resources_refresh: Arc::new(Notify::new()),
        cost_refresh: Arc::new(Notify::new()),
        members: std::sync::RwLock::new(HashMap::new()),
        members_refresh: Arc::new(Notify::new()),
        journal_turns: Turns::default(),
        cost_days: args.cost_days,
        game: extra.game,
        org: args.org.accounts.clone().map(|which| {
            let reach = crate::footholds_cmd::Reach {
                regions: args.aws.regions.clone(),
                logs: args.logs.clone(),
                trust_accounts: args.trust_accounts.clone(),
                source_ip: args.source_ip,
            };
            (which, args.org.role_name.clone(), reach)
        }),
        paused,
        seq: AtomicU64::new(0),
    });
    let fixed_regions = state.settings.regions.clone();
    tokio::spawn(bootstrap(ctx.clone(), fixed_regions));

    let mut terminal = ratatui::init();
    let size = terminal.size()?;
    update(
        &mut state,
        Msg::Resize {
            height: size.height,
        },
    );
    terminal.draw(|f| ui::render(f, &state, &theme))?;
    if args.bench_first_frame {
        let elapsed = started.elapsed();
        ratatui::restore();
        eprintln!("first frame after {} µs", elapsed.as_micros());
        return Ok(());
    }

    let input_tx = tx.clone();
    tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(ev) = events.next().await {
            let msg = match ev {
                Ok(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => Msg::Key(k),
                Ok(TermEvent::Resize(_, h)) => Msg::Resize { height: h },
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!("terminal input failed: {e}");
                    break;
                }
            };
            if input_tx.send(msg).is_err() {
                break;
            }
        }
    });
    let tick_tx = tx.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(TICK);
        loop {
            every.tick().await;
            if tick_tx.send(Msg::Tick(now())).is_err() {
                break;
            }
        }
    });
    drop(tx);

    let mut journal_tasks: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    let result = async {
        while let Some(msg) = rx.recv().await {
            // Coalesce: apply everything pending, then draw once.
            let mut effects = update(&mut state, msg);
            while let Ok(more) = rx.try_recv() {
                effects.extend(update(&mut state, more));
            }
            for e in effects {
                if let Some(task) = handle(&ctx, e) {
                    journal_tasks.push(task);
                }
            }
            journal_tasks.retain(|t| !t.is_finished());
            if state.quit {
                break;
            }
            terminal.draw(|f| ui::render(f, &state, &theme))?;
        }
        Ok::<(), color_eyre::Report>(())
    }
    .await;
    // Let what the operator did reach the journal before leaving (bounded: a dead endpoint
    // can hold an action, not the exit).
    let pending = futures_util::future::join_all(journal_tasks);
    let _ = tokio::time::timeout(EXIT_GRACE, pending).await;
    ratatui::restore();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn journal_writes_land_in_the_order_they_were_asked_for() {
        let turns = Arc::new(Turns::default());
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        // Tickets taken in order, tasks spawned in reverse and the first made slow: the
        // writes still come in ticket order.
        let tickets: Vec<u64> = (0..8).map(|_| turns.ticket()).collect();
        let mut tasks = Vec::new();
        for &ticket in tickets.iter().rev() {
            let (turns, order) = (turns.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = turns.wait(ticket).await;
                if ticket == 0 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                order.lock().unwrap_or_else(|p| p.into_inner()).push(ticket);
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let written = order.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(written, tickets);
    }

    #[test]
    fn another_account_s_session_is_entered_again_well_before_its_hour_is_up() {
        assert!(session_reusable(Duration::from_secs(3 * 60)));
        assert!(session_reusable(
            MEMBER_SESSION_REUSE - Duration::from_secs(1)
        ));
        assert!(!session_reusable(MEMBER_SESSION_REUSE));
        // A console paused over lunch: the poll's session has expired.
        assert!(!session_reusable(Duration::from_secs(61 * 60)));
        // The margin leaves a long action its time before the hour sessions last.
        assert!(MEMBER_SESSION_REUSE + Duration::from_secs(10 * 60) <= Duration::from_secs(3600));
    }

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
                          # a comment:x:1000:\n\
                          daemon:x:1:1::/:/usr/sbin/nologin\n\
                          dana:x:1000:1000:Dana:/home/dana:/bin/zsh\n";

    #[test]
    fn the_operator_is_the_flag_then_user_then_logname_then_passwd_at_host() {
        let none = || None;
        let from_passwd = || Some("dana".to_string());
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            operator_from(Some("ic"), some("u"), some("l"), from_passwd, "h"),
            "ic@h"
        );
        assert_eq!(
            operator_from(Some("ic@laptop"), some("u"), None, none, "h"),
            "ic@laptop",
            "a name with a host keeps it"
        );
        assert_eq!(operator_from(None, some("u"), some("l"), none, "h"), "u@h");
        assert_eq!(operator_from(None, some(" "), some("l"), none, "h"), "l@h");
        assert_eq!(
            operator_from(None, None, None, from_passwd, "h\n"),
            "dana@h"
        );
        assert_eq!(
            operator_from(None, None, None, none, ""),
            "no-login-name@localhost"
        );
    }

    #[test]
    fn the_login_name_comes_from_passwd_by_uid() {
        assert_eq!(passwd_name(PASSWD, 1000).as_deref(), Some("dana"));
        assert_eq!(passwd_name(PASSWD, 0).as_deref(), Some("root"));
        assert_eq!(passwd_name(PASSWD, 4242), None);
        assert_eq!(passwd_name("garbage\n::\n", 0), None);
    }

    #[test]
    fn this_process_has_a_named_operator() {
        let op = operator(None);
        assert!(op.contains('@') && !op.starts_with('@'), "{op}");
        assert!(!op.starts_with("unknown"), "{op}");
    }
}
