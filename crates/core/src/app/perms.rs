//! "What can it still do?": the permissions view over the Access tab. For the foothold under
//! the cursor (`w`) or any user or role (`:can user NAME`), the grid of high-impact actions,
//! the escalation paths and the roles it can assume, recomputed after every model refresh so
//! the room watches cells turn to denied as footholds close; and IAM's own simulator's
//! answer for the same principal, where the account allows the call.

use crate::access::authz::escalate::{self, Reach};
use crate::access::authz::{
    self, Cell, Context, SessionKind, Simulated, Subject, Verdict, Who, Word,
};
use crate::access::{FootState, Foothold, Kind};
use crate::app::cursor;
use crate::app::keymap::Command;
use crate::app::msg::Effect;
use crate::app::state::{Level, State, Tab};
use crate::domain::{Failure, Timestamp};

/// What an escalation walk depends on: the policies read (held, so that their address is not
/// reused), the principal, its kind of credential, which side of each revocation cut-off its
/// session falls, the caller's address, and whether the foothold is closed. A session's issue
/// time moves with the clock; only its side of a cut-off changes an answer.
#[derive(Debug, Clone)]
struct ReachKey {
    policies: std::sync::Arc<authz::Authz>,
    who: Who,
    kind: SessionKind,
    sides: Option<Vec<std::cmp::Ordering>>,
    source_ip: Option<std::net::IpAddr>,
    closed: bool,
}

impl PartialEq for ReachKey {
    fn eq(&self, o: &ReachKey) -> bool {
        std::sync::Arc::ptr_eq(&self.policies, &o.policies)
            && self.who == o.who
            && self.kind == o.kind
            && self.sides == o.sides
            && self.source_ip == o.source_ip
            && self.closed == o.closed
    }
}

impl Eq for ReachKey {}

/// What IAM's simulator said, for the principal behind the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sim {
    NotAsked,
    Asking,
    Got {
        at: Timestamp,
        results: Vec<(String, Simulated)>,
    },
    Failed(Failure),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermsView {
    pub subject: Subject,
    /// The foothold it was opened on (its handle), when it was.
    pub from: Option<String>,
    /// `session ASIA… as role deploy-role, issued 10:42`.
    pub title: String,
    pub grid: Vec<Cell>,
    /// The same actions for the principal itself, fresh (what the simulator is compared to).
    pub principal_grid: Vec<Cell>,
    pub reach: Reach,
    /// What `reach` was computed from (the policies read, the subject, whether the foothold
    /// was closed): escalation walks every user and role, so it runs again only when one of
    /// these changed, not after every message.
    reach_from: Option<ReachKey>,
    /// Why nothing is computed (the principal is gone, IAM not read yet).
    pub missing: Option<String>,
    /// The cell under the cursor.
    pub cell: usize,
    /// Lines scrolled below the grid.
    pub scroll: u16,
    pub sim: Sim,
}

/// The principal's ARN, for the simulator: from the account's policies as last read.
fn arn_of(state: &State, who: &Who) -> Option<String> {
    let authz = &state.access.data.data.as_ref()?.authz;
    let e = match who {
        Who::User(n) => authz.users.get(n)?,
        Who::Role(n) => authz.roles.get(n)?,
    };
    Some(e.arn.clone())
}

fn describe(f: Option<&Foothold>, subject: &Subject) -> String {
    let issued = match (subject.ctx.kind, subject.ctx.issued) {
        (SessionKind::LongTerm, _) | (_, None) => String::new(),
        (_, Some(t)) => format!(", session issued {}", crate::fmt::minute(t)),
    };
    match f {
        Some(f) => {
            let id = match f.kind {
                Kind::LeakedKey | Kind::AccessKey | Kind::Session => {
                    crate::domain::key_short(&f.id)
                }
                _ => f.id.clone(),
            };
            format!("{} {id} as {}{issued}", f.kind.label(), subject.who)
        }
        None => format!("{}{issued}", subject.who),
    }
}

/// Recomputes the view from the last access poll and the model's footholds.
pub fn recompute(state: &mut State) {
    let Some(view) = state.access.perms.as_ref() else {
        return;
    };
    let mut subject = view.subject.clone();
    subject.ctx.now = state.now;
    let from = view.from.clone();
    let view_reach = view.reach_from.clone().map(|f| (f, view.reach.clone()));
    let mut reach_from = None;
    let foothold = from.as_ref().and_then(|h| {
        state
            .access
            .assessment
            .footholds
            .iter()
            .find(|f| &f.handle() == h)
    });
    if let Some(f) = foothold
        && let Some(s) = &f.subject
    {
        subject = (**s).clone();
    }
    let actions = authz::catalogue::actions();
    let (grid, principal_grid, reach, missing) = match state.access.data.data.as_ref() {
        None => (
            Vec::new(),
            Vec::new(),
            Reach::default(),
            Some("IAM's policies are not read yet".to_string()),
        ),
        Some(a) => match a.authz.bind(&subject.who) {
            None => (
                Vec::new(),
                Vec::new(),
                Reach::default(),
                Some(format!("{} is not in the last IAM poll", subject.who)),
            ),
            Some(b) => {
                let mut grid = b.grid(&actions, &subject.ctx);
                // A closed foothold can do nothing, whatever its principal's policies say.
                if let Some(f) = foothold
                    && f.state == FootState::Closed
                {
                    for c in &mut grid {
                        if c.verdict.word() != Word::Denied {
                            c.verdict = Verdict::Denied {
                                by: None,
                                why: format!("the foothold is closed: {}", f.why).into(),
                            };
                        }
                    }
                }
                let fresh = match subject.who {
                    Who::User(_) => Context::long_term(state.now),
                    Who::Role(_) => {
                        Context::session(state.now, SessionKind::AssumedRole, state.now)
                    }
                };
                let principal_grid = b.grid(&actions, &fresh);
                let closed = foothold.is_some_and(|f| f.state == FootState::Closed);
                let cuts = b.token_cuts();
                let from = ReachKey {
                    policies: a.authz.clone(),
                    who: subject.who.clone(),
                    kind: subject.ctx.kind,
                    sides: subject
                        .ctx
                        .issued
                        .map(|t| cuts.iter().map(|c| t.unix_timestamp().cmp(c)).collect()),
                    source_ip: subject.ctx.source_ip,
                    closed,
                };
                let reach = match &view_reach {
                    Some((key, r)) if *key == from => r.clone(),
                    _ if closed => Reach::default(),
                    _ => escalate::reach(&a.authz, &subject),
                };
                reach_from = Some(from);
                (grid, principal_grid, reach, None)
            }
        },
    };
    let title = describe(foothold, &subject);
    if let Some(v) = state.access.perms.as_mut() {
        v.cell = v.cell.min(grid.len().saturating_sub(1));
        v.subject = subject;
        v.title = title;
        v.grid = grid;
        v.principal_grid = principal_grid;
        v.reach = reach;
        v.reach_from = reach_from;
        v.missing = missing;
    }
}

/// Opens the view on `subject` and asks the simulator about its principal.
fn open(state: &mut State, subject: Subject, from: Option<String>) -> Vec<Effect> {
    state.access.perms = Some(PermsView {
        title: String::new(),
        subject,
        from,
        grid: Vec::new(),
        principal_grid: Vec::new(),
        reach: Reach::default(),
        reach_from: None,
        missing: None,
        cell: 0,
        scroll: 0,
        sim: Sim::NotAsked,
    });
    recompute(state);
    simulate(state)
}

/// `w` on the Access tab: the foothold under the cursor.
pub fn open_on_foothold(state: &mut State) -> Vec<Effect> {
    let Some(f) = state.access.current().cloned() else {
        return vec![];
    };
    match f.subject.clone() {
        Some(s) => open(state, (*s).clone(), Some(f.handle())),
        None => {
            state.flash(
                Level::Info,
                format!(
                    "{} {} acts through the roles that trust it: :can role NAME shows one",
                    f.kind.label(),
                    f.id
                ),
            );
            vec![]
        }
    }
}

/// `:can user NAME` or `:can role NAME`: any principal, as a fresh credential of its own.
pub fn open_on(state: &mut State, args: &str) -> Vec<Effect> {
    let mut words = args.split_whitespace();
    let who = match (words.next(), words.next()) {
        (Some("user"), Some(n)) => Who::User(n.to_string()),
        (Some("role"), Some(n)) => Who::Role(n.to_string()),
        _ => {
            state.flash(Level::Warn, "usage: :can user NAME, or :can role NAME");
            return vec![];
        }
    };
    let ctx = match who {
        Who::User(_) => Context::long_term(state.now),
        Who::Role(_) => Context::session(state.now, SessionKind::AssumedRole, state.now),
    };
    let mut ctx = ctx;
    ctx.source_ip = state.access.source_ip;
    state.tab = Tab::Access;
    open(state, Subject { who, ctx }, None)
}

/// Asks IAM's simulator about the view's principal, when IAM lists it.
fn simulate(state: &mut State) -> Vec<Effect> {
    let Some(view) = state.access.perms.as_ref() else {
        return vec![];
    };
    let Some(arn) = arn_of(state, &view.subject.who) else {
        return vec![];
    };
    let actions = authz::catalogue::actions()
        .into_iter()
        .map(str::to_string)
        .collect();
    if let Some(v) = state.access.perms.as_mut() {
        v.sim = Sim::Asking;
    }
    vec![Effect::Simulate { arn, actions }]
}

/// The simulator answered (or could not).
pub fn on_simulated(
    state: &mut State,
    arn: &str,
    at: Timestamp,
    result: Result<Vec<(String, Simulated)>, Failure>,
) {
    let Some(view) = state.access.perms.as_ref() else {
        return;
    };
    if arn_of(state, &view.subject.who).as_deref() != Some(arn) {
        return;
    }
    if let Some(v) = state.access.perms.as_mut() {
        v.sim = match result {
            Ok(results) => Sim::Got { at, results },
            Err(f) => Sim::Failed(f),
        };
    }
}

/// Keys while the view is open; `None` lets a key through to the tab (`d` closes the
/// foothold under the list's cursor, which is the one the view shows).
pub fn on_pane(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    let view = state.access.perms.as_mut()?;
    match cmd {
        Command::Back | Command::Permissions => state.access.perms = None,
        Command::Down | Command::Up => {
            let delta = if cmd == Command::Down { 1 } else { -1 };
            if let Some(j) = cursor::step(view.cell, view.grid.len(), delta) {
                view.cell = j;
            }
        }
        Command::Top => view.cell = 0,
        Command::Bottom => view.cell = view.grid.len().saturating_sub(1),
        Command::PageDown => view.scroll = view.scroll.saturating_add(5),
        Command::PageUp => view.scroll = view.scroll.saturating_sub(5),
        Command::Simulate => return Some(simulate(state)),
        _ => return None,
    }
    Some(vec![])
}
