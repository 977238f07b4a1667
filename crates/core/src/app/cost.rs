//! The Cost tab's state and its part of `update`: Cost Explorer's figures as they arrive, the
//! spike analysis against the leak start, and AWS's anomalies.

use time::Date;

use crate::app::cursor;
use crate::app::keymap::Command;
use crate::app::msg::Effect;
use crate::app::state::{Level, Loaded, Source, State};
use crate::cost::detect::{self, Row, Rule};
use crate::cost::model::{Anomalies, CostData};
use crate::domain::{Failure, Timestamp};

/// The tables the cursor can move through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    #[default]
    Services,
    Regions,
    Anomalies,
}

impl Focus {
    pub fn next(self) -> Focus {
        match self {
            Focus::Services => Focus::Regions,
            Focus::Regions => Focus::Anomalies,
            Focus::Anomalies => Focus::Services,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CostTab {
    /// Days of history asked for (`--cost-days`).
    pub days: u32,
    pub data: Loaded<CostData>,
    pub anomalies: Loaded<Anomalies>,
    /// The window of the data on screen: first day, and the day after the last.
    pub window: Option<(Date, Date)>,
    /// Cost Explorer requests made this session (each costs USD 0.01).
    pub requests: u64,
    pub rule: Rule,
    /// Derived from `data` and the leak start: the total, and per service and per region.
    pub total: Option<Row>,
    pub services: Vec<Row>,
    pub regions: Vec<Row>,
    /// The leak day the analysis used.
    pub analysed_leak: Option<Date>,
    pub focus: Focus,
    /// Scroll offset of the focused table.
    pub scroll: usize,
}

impl Default for CostTab {
    fn default() -> Self {
        CostTab {
            days: 30,
            data: Loaded::default(),
            anomalies: Loaded::default(),
            window: None,
            requests: 0,
            rule: Rule::default(),
            total: None,
            services: Vec::new(),
            regions: Vec::new(),
            analysed_leak: None,
            focus: Focus::default(),
            scroll: 0,
        }
    }
}

impl CostTab {
    /// USD spent on Cost Explorer requests this session.
    pub fn lookup_cost(&self) -> f64 {
        self.requests as f64 * 0.01
    }

    pub fn focused_len(&self) -> usize {
        match self.focus {
            Focus::Services => self.services.len(),
            Focus::Regions => self.regions.len(),
            Focus::Anomalies => match &self.anomalies.data {
                Some(Anomalies::Found { anomalies, .. }) => anomalies.len(),
                _ => 0,
            },
        }
    }
}

/// The leak start as a day.
fn leak_day(state: &State) -> Option<Date> {
    state.since().map(|(t, _)| t.date())
}

/// The window the next refresh asks for: the last `days` days up to and including today.
pub fn window(state: &State) -> (Date, Date) {
    let today = state.now.date();
    let to = today.next_day().unwrap_or(today);
    let from = to
        .checked_sub(time::Duration::days(i64::from(state.cost.days)))
        .unwrap_or(today);
    (from, to)
}

/// Recomputes the spike analysis from the data and the leak start.
pub fn analyse(state: &mut State) {
    let leak = leak_day(state);
    let c = &mut state.cost;
    c.analysed_leak = leak;
    let (Some(data), Some((from, to))) = (c.data.data.as_ref(), c.window) else {
        return;
    };
    c.total = Some(detect::analyse_total(&data.total, from, to, leak, &c.rule));
    c.services = detect::analyse(&data.by_service, from, to, leak, &c.rule);
    c.regions = detect::analyse(&data.by_region, from, to, leak, &c.rule);
}

/// A refresh finished: the daily figures and the anomalies (either may have failed).
pub fn on_fetched(
    state: &mut State,
    seq: u64,
    at: Timestamp,
    window: (Date, Date),
    data: Result<CostData, Failure>,
    anomalies: Result<Anomalies, Failure>,
    requests: u64,
) {
    let c = &mut state.cost;
    c.requests = c.requests.max(requests);
    let applied = c.data.apply(seq, at, data);
    c.anomalies.apply(seq, at, anomalies);
    if applied && c.data.error.is_none() {
        c.window = Some(window);
    }
    analyse(state);
}

/// The leak start may be learned after the figures arrived.
pub fn on_tick(state: &mut State) {
    if state.cost.data.data.is_some() && state.cost.analysed_leak != leak_day(state) {
        analyse(state);
    }
}

pub fn move_cursor(state: &mut State, delta: isize) {
    let c = &mut state.cost;
    c.scroll = cursor::step(c.scroll, c.focused_len(), delta).unwrap_or(0);
}

pub fn cycle_focus(state: &mut State) {
    state.cost.focus = state.cost.focus.next();
    state.cost.scroll = 0;
}

/// The Cost tab's commands; `None` for a command that means nothing here.
pub fn on_command(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    let effects = match cmd {
        Command::Down
        | Command::Up
        | Command::PageDown
        | Command::PageUp
        | Command::Top
        | Command::Bottom => {
            move_cursor(state, cursor::delta(cmd, state.page_rows)?);
            vec![]
        }
        Command::CycleFocus => {
            cycle_focus(state);
            vec![]
        }
        Command::Refresh => {
            if state.cost.data.in_flight {
                state.flash(
                    Level::Info,
                    "a Cost Explorer refresh is already running (one at a time: each request costs USD 0.01)",
                );
                return Some(vec![]);
            }
            vec![Effect::Refresh(Source::Cost)]
        }
        // The tables are short and fixed: nothing to filter or open, nothing to close.
        Command::Filter | Command::Open | Command::Back => vec![],
        // Handled before the tab (everywhere), or another tab's.
        Command::Help
        | Command::Quit
        | Command::CopyId
        | Command::CopyJson
        | Command::GoTab(_)
        | Command::NextTab
        | Command::PrevTab
        | Command::TogglePause
        | Command::CommandLine
        | Command::Select
        | Command::SelectPreLeak
        | Command::Disable
        | Command::Enable
        | Command::Delete
        | Command::Rotate
        | Command::Revoke
        | Command::MarkEvidence
        | Command::QuickFilter
        | Command::Follow
        | Command::Branch
        | Command::LocalTime
        | Command::ToggleView
        | Command::SelectAttacker
        | Command::Remove
        | Command::Isolate
        | Command::KeepEvidence
        | Command::Note
        | Command::Clear
        | Command::Permissions
        | Command::Simulate => return None,
    };
    Some(effects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::Settings;
    use crate::cost::model::{Day, Series};
    use time::macros::{date, datetime};

    fn state() -> State {
        let settings = Settings {
            read_only: false,
            profile: None,
            endpoint: None,
            regions: None,
            operator: "ic".into(),
            local_offset: time::UtcOffset::UTC,
        };
        State::new(settings, datetime!(2026-11-22 12:00 UTC))
    }

    fn days(from: Date, amounts: &[f64]) -> Vec<Day> {
        amounts
            .iter()
            .enumerate()
            .map(|(i, a)| Day {
                date: from + time::Duration::days(i as i64),
                amount: *a,
                estimated: false,
            })
            .collect()
    }

    #[test]
    fn the_analysis_follows_the_leak_start() {
        let mut s = state();
        s.cost.days = 10;
        let (from, to) = window(&s);
        assert_eq!((from, to), (date!(2026 - 11 - 13), date!(2026 - 11 - 23)));
        let amounts = [4.0, 5.0, 4.0, 5.0, 4.0, 5.0, 4.0, 5.0, 900.0, 1200.0];
        let data = CostData {
            total: days(from, &amounts),
            by_service: vec![Series {
                key: "Amazon Elastic Compute Cloud - Compute".into(),
                days: days(from, &amounts),
            }],
            by_region: vec![],
            unit: "USD".into(),
        };
        let now = s.now;
        on_fetched(
            &mut s,
            1,
            now,
            (from, to),
            Ok(data),
            Ok(Anomalies::NoMonitor),
            3,
        );
        assert_eq!(s.cost.requests, 3);
        assert!((s.cost.lookup_cost() - 0.03).abs() < 1e-9);
        // Without a leak start the last days are checked against the rest.
        assert!(s.cost.total.as_ref().is_some_and(|t| t.spike));
        s.since_flag = Some(datetime!(2026-11-21 03:00 UTC));
        on_tick(&mut s);
        assert_eq!(s.cost.analysed_leak, Some(date!(2026 - 11 - 21)));
        let ec2 = &s.cost.services[0];
        assert_eq!(
            ec2.spike_days,
            [date!(2026 - 11 - 21), date!(2026 - 11 - 22)]
        );

        // A failed refresh keeps the figures and says why.
        on_fetched(
            &mut s,
            2,
            now,
            (from, to),
            Err(Failure::access_denied("ce:GetCostAndUsage")),
            Err(Failure::access_denied("ce:GetAnomalyMonitors")),
            4,
        );
        assert!(s.cost.data.data.is_some());
        assert!(
            s.cost
                .data
                .error
                .as_ref()
                .is_some_and(|e| e.text.contains("ce:"))
        );
        assert_eq!(s.cost.requests, 4);
    }

    #[test]
    fn focus_and_cursor_stay_in_range() {
        let mut s = state();
        move_cursor(&mut s, 3);
        assert_eq!(s.cost.scroll, 0);
        cycle_focus(&mut s);
        assert_eq!(s.cost.focus, Focus::Regions);
        cycle_focus(&mut s);
        cycle_focus(&mut s);
        assert_eq!(s.cost.focus, Focus::Services);
    }
}
