//! The incident's times: when the leak started, when it was detected (and `:detected`), the
//! clock that counts since detection, and the time the Cost tab was reviewed.

use time::format_description::well_known::Rfc3339;
use time::{Duration, Time};

use crate::app::msg::Effect;
use crate::app::state::{Level, SinceSource, State, Tab};
use crate::domain::Timestamp;
use crate::fmt;
use crate::journal::{self, Event, Milestone, parse_ts};

/// Time on the Cost tab, with its figures loaded, that counts as a review.
pub const COST_REVIEW_SECONDS: i64 = 60;

/// At most this much of one clock tick counts towards the review (a suspended terminal does
/// not review anything).
const MAX_TICK_SECONDS: i64 = 5;

/// When the incident was detected: `:detected` or the journal's milestone, else the
/// incident's opening (the journal's first entry), else the console's start.
pub fn detected(state: &State) -> Timestamp {
    state
        .checklist
        .milestones
        .get(&Milestone::Detected)
        .and_then(|at| parse_ts(at))
        .or(state.opened_at)
        .unwrap_or(state.started)
}

/// The clock since detection, without its meaning: `T+12m05s`, `T+1h12m`, `T+2d03h`, or
/// `T-5m00s` when detection is still ahead (a time set by hand).
pub fn clock(now: Timestamp, detected: Timestamp) -> String {
    let secs = (now - detected).whole_seconds();
    let sign = if secs < 0 { "-" } else { "+" };
    let secs = secs.unsigned_abs();
    let (d, h, m, s) = (
        secs / 86_400,
        (secs % 86_400) / 3600,
        (secs % 3600) / 60,
        secs % 60,
    );
    if d > 0 {
        format!("T{sign}{d}d{h:02}h")
    } else if h > 0 {
        format!("T{sign}{h}h{m:02}m")
    } else {
        format!("T{sign}{m}m{s:02}s")
    }
}

/// The clock with its meaning, longest first: what the header may show.
pub fn clock_forms(state: &State) -> [String; 2] {
    let c = clock(state.now, detected(state));
    [format!("{c} since detection"), format!("detected {c}")]
}

/// The source of a recorded leak start, read back from its words.
pub fn source_of(words: &str) -> SinceSource {
    match words {
        "--since" => SinceSource::Flag,
        "first use of the leaked key" => SinceSource::FirstUse,
        // Older journals wrote "leaked key created".
        "key created" | "leaked key created" => SinceSource::KeyCreation,
        _ => SinceSource::Journal,
    }
}

/// Writes the leak's start to the journal whenever it moves, so a
/// restart and the report see what the console used.
pub fn record_since(state: &mut State) -> Vec<Effect> {
    if state.journal_dir.is_none() {
        return vec![];
    }
    let Some((t, src)) = state.since() else {
        return vec![];
    };
    // A start only the journal knows, or the time it holds already, is not written again.
    if src == SinceSource::Journal || state.since_recorded.is_some_and(|(r, _)| r == t) {
        return vec![];
    }
    state.since_recorded = Some((t, src));
    vec![Effect::Journal(Event::Since {
        since: journal::format_ts(t),
        from: src.words().into(),
    })]
}

/// `:detected TIME`: when the incident was detected, set by the operator. Refused before the
/// leak's start or in the future.
pub fn set_detected(state: &mut State, arg: &str) -> Vec<Effect> {
    let arg = arg.trim();
    if arg.is_empty() {
        state.flash(
            Level::Error,
            ":detected needs a time: 2026-11-22T08:40:00Z, 08:40 (UTC today) or -20m",
        );
        return vec![];
    }
    let t = match parse_when(arg, state.now) {
        Ok(t) => t,
        Err(e) => {
            state.flash(Level::Error, e);
            return vec![];
        }
    };
    if t > state.now {
        state.flash(
            Level::Error,
            format!(
                "detected at {} is in the future (now {}): not set",
                fmt::minute(t),
                fmt::minute(state.now)
            ),
        );
        return vec![];
    }
    // The leak's start as it would be with this detection: a first use after it no longer
    // counts as the start, so an earlier detection is refused only when it precedes what the
    // leak's start falls back to (--since, the journal's, the key's creation).
    let at = journal::format_ts(t);
    let before = state
        .checklist
        .milestones
        .insert(Milestone::Detected, at.clone());
    if let Some((since, src)) = state.since()
        && t < since
    {
        match before {
            Some(old) => state.checklist.milestones.insert(Milestone::Detected, old),
            None => state.checklist.milestones.remove(&Milestone::Detected),
        };
        state.flash(
            Level::Error,
            format!(
                "detected at {} is before the leak started ({}, {}): not set",
                fmt::minute(t),
                fmt::minute(since),
                src.words()
            ),
        );
        return vec![];
    }
    state.flash(
        Level::Ok,
        format!(
            "detected set to {}: the clock counts from it",
            fmt::minute(t)
        ),
    );
    // Written even before the journal has opened: the runtime opens it for the entry, and
    // `checklist::restore` keeps this detection over what the journal read back.
    vec![Effect::Journal(Event::Milestone {
        milestone: Milestone::Detected,
        at,
        detail: format!("set by {}", state.settings.operator),
    })]
}

/// A time as the operator types it: RFC 3339, `HH:MM` (today, UTC), or a time ago (`-20m`,
/// `20m`, `1h30m`, `2d`, `90s`, `20m ago`).
pub fn parse_when(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    let text = text.trim();
    let bad = || {
        format!(
            "'{text}' is not a time: give RFC 3339 (2026-11-22T08:40:00Z), HH:MM (UTC today) \
             or a time ago (-20m, 1h30m)"
        )
    };
    if let Ok(t) = Timestamp::parse(text, &Rfc3339) {
        return Ok(t.to_offset(time::UtcOffset::UTC));
    }
    if let Some((h, m)) = text.split_once(':') {
        let (Ok(h), Ok(m)) = (h.parse::<u8>(), m.parse::<u8>()) else {
            return Err(bad());
        };
        if h > 23 || m > 59 || text.len() > 5 {
            return Err(bad());
        }
        let time = Time::from_hms(h, m, 0).map_err(|_| bad())?;
        return Ok(now.to_offset(time::UtcOffset::UTC).replace_time(time));
    }
    let ago = text
        .strip_suffix("ago")
        .map(str::trim_end)
        .or_else(|| text.strip_prefix('-'))
        .unwrap_or(text);
    let d = parse_duration(ago).ok_or_else(bad)?;
    Ok(now - d)
}

/// `1h30m`, `20m`, `90s`, `2d`, `45min`: one or more numbers each with its unit.
fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: i64 = rest.get(..digits)?.parse().ok()?;
        rest = rest.get(digits..)?;
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = rest.get(..unit_len)?.trim();
        rest = rest.get(unit_len..)?;
        let one = match unit {
            "s" | "sec" => Duration::SECOND,
            "m" | "min" => Duration::MINUTE,
            "h" => Duration::HOUR,
            "d" => Duration::DAY,
            _ => return None,
        };
        total = total.checked_add(one.checked_mul(i32::try_from(n).ok()?)?)?;
    }
    Some(total)
}

/// On each clock tick (before `now` moves): time on the Cost tab with its figures counts
/// towards the review.
pub fn count_cost_review(state: &mut State, now: Timestamp) {
    if state.tab != Tab::Cost || state.cost.data.data.is_none() || state.dialog.is_some() {
        return;
    }
    let ms = (now - state.now)
        .whole_milliseconds()
        .clamp(0, i128::from(MAX_TICK_SECONDS) * 1000);
    let ms = i64::try_from(ms).unwrap_or(0);
    state.checklist.cost_review_ms = state.checklist.cost_review_ms.saturating_add(ms);
}

/// Whole seconds the Cost tab was reviewed.
pub fn cost_reviewed_seconds(state: &State) -> i64 {
    state.checklist.cost_review_ms / 1000
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: Timestamp = datetime!(2026-11-22 10:00:30 UTC);

    #[test]
    fn times_are_read_in_three_forms() {
        assert_eq!(
            parse_when("2026-11-22T08:40:00Z", NOW),
            Ok(datetime!(2026-11-22 08:40 UTC))
        );
        assert_eq!(
            parse_when("2026-11-22T09:40:00+01:00", NOW),
            Ok(datetime!(2026-11-22 08:40 UTC))
        );
        assert_eq!(
            parse_when("08:40", NOW),
            Ok(datetime!(2026-11-22 08:40 UTC))
        );
        assert_eq!(parse_when("-20m", NOW), Ok(NOW - Duration::minutes(20)));
        assert_eq!(parse_when("20m ago", NOW), Ok(NOW - Duration::minutes(20)));
        assert_eq!(parse_when("1h30m", NOW), Ok(NOW - Duration::minutes(90)));
        assert_eq!(parse_when("2d", NOW), Ok(NOW - Duration::days(2)));
        for bad in [
            "",
            "soon",
            "25:00",
            "08:4x",
            "-m",
            "20y",
            "1h 2",
            "99999999999d",
        ] {
            assert!(parse_when(bad, NOW).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn the_clock_shortens_with_the_time_it_counts() {
        let d = datetime!(2026-11-22 10:00:00 UTC);
        assert_eq!(clock(d + Duration::seconds(65), d), "T+1m05s");
        assert_eq!(clock(d + Duration::minutes(72), d), "T+1h12m");
        assert_eq!(clock(d + Duration::hours(51), d), "T+2d03h");
        assert_eq!(clock(d - Duration::minutes(5), d), "T-5m00s");
    }
}
