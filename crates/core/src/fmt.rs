//! How times and durations read on screen.

use crate::domain::Timestamp;

/// `2026-11-22`
pub fn date(t: Timestamp) -> String {
    let d = t.date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `2026-11-22 14:03Z`
pub fn minute(t: Timestamp) -> String {
    format!("{} {:02}:{:02}Z", date(t), t.hour(), t.minute())
}

/// `14:03:09`
pub fn clock_time(t: Timestamp) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

/// How long ago, in the largest unit that reads naturally: `12 s`, `4 min`, `3 h`, `5 d`.
pub fn ago(now: Timestamp, t: Timestamp) -> String {
    let secs = (now - t).whole_seconds().max(0);
    match secs {
        0..=59 => format!("{secs} s"),
        60..=7199 => format!("{} min", secs / 60),
        7200..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} d", secs / 86_400),
    }
}

/// The incident clock: `T+02:13:45`, or `T+3d 02:13:45` past a day.
pub fn incident_clock(now: Timestamp, since: Timestamp) -> String {
    let secs = (now - since).whole_seconds();
    let sign = if secs < 0 { "-" } else { "+" };
    let secs = secs.unsigned_abs();
    let (d, h, m, s) = (
        secs / 86_400,
        (secs % 86_400) / 3600,
        (secs % 3600) / 60,
        secs % 60,
    );
    if d > 0 {
        format!("T{sign}{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("T{sign}{h:02}:{m:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats() {
        let now = datetime!(2026-11-22 14:03:09 UTC);
        assert_eq!(date(now), "2026-11-22");
        assert_eq!(minute(now), "2026-11-22 14:03Z");
        assert_eq!(ago(now, datetime!(2026-11-22 14:02:57 UTC)), "12 s");
        assert_eq!(ago(now, datetime!(2026-11-22 13:00:00 UTC)), "63 min");
        assert_eq!(ago(now, datetime!(2026-11-21 13:00:00 UTC)), "25 h");
        assert_eq!(ago(now, datetime!(2026-11-20 13:00:00 UTC)), "2 d");
        assert_eq!(ago(now, datetime!(2026-11-01 13:00:00 UTC)), "21 d");
        assert_eq!(ago(now, datetime!(2026-11-23 13:00:00 UTC)), "0 s");
        assert_eq!(
            incident_clock(now, datetime!(2026-11-22 11:50:00 UTC)),
            "T+02:13:09"
        );
        assert_eq!(
            incident_clock(now, datetime!(2026-11-19 11:50:00 UTC)),
            "T+3d 02:13:09"
        );
        assert_eq!(
            incident_clock(now, datetime!(2026-11-22 15:03:09 UTC)),
            "T-01:00:00"
        );
    }
}
