//! How times, days and durations read, on screen and in the report.

use time::Date;

use crate::domain::Timestamp;

/// `2026-11-22`
pub fn date(t: Timestamp) -> String {
    iso_day(t.date())
}

/// A day in full: `2026-11-19`.
pub fn iso_day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A day in the current year's short form: `11-19`.
pub fn month_day(d: Date) -> String {
    format!("{:02}-{:02}", u8::from(d.month()), d.day())
}

/// `2026-11-22 14:03Z`
pub fn minute(t: Timestamp) -> String {
    format!("{} {:02}:{:02}Z", date(t), t.hour(), t.minute())
}

/// RFC 3339 to the minute, in UTC: `2026-11-22T14:03Z` (for the report; the screen has
/// `minute`).
pub fn iso_minute(t: Timestamp) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{}T{:02}:{:02}Z", date(t), t.hour(), t.minute())
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

/// A duration in words, down to the minute past the first: `45 s`, `1 h 12 min`,
/// `1 d 3 h 1 min`; negative ones get a `-`.
pub fn duration_words(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let sign = if seconds < 0 { "-" } else { "" };
    if s < 60 {
        return format!("{sign}{s} s");
    }
    let parts: Vec<String> = [
        (s / 86_400, "d"),
        (s % 86_400 / 3600, "h"),
        (s % 3600 / 60, "min"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, u)| format!("{n} {u}"))
    .collect();
    format!("{sign}{}", parts.join(" "))
}

/// Minutes as hours and minutes, for times between milestones: `45 min`, `1 h 05 min`,
/// `26 h 00 min` (no days, minutes padded); a negative span reads `0 min`.
pub fn hours_minutes(minutes: i64) -> String {
    let m = minutes.max(0);
    if m >= 60 {
        format!("{} h {:02} min", m / 60, m % 60)
    } else {
        format!("{m} min")
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
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(45), "45 s");
        assert_eq!(duration_words(60), "1 min");
        assert_eq!(duration_words(72 * 60), "1 h 12 min");
        assert_eq!(duration_words(2 * 3600), "2 h");
        assert_eq!(duration_words(86_400 + 3 * 3600 + 60), "1 d 3 h 1 min");
        assert_eq!(duration_words(-300), "-5 min");
    }

    #[test]
    fn duration_edges() {
        assert_eq!(duration_words(0), "0 s");
        assert_eq!(duration_words(59), "59 s");
        assert_eq!(duration_words(-59), "-59 s");
        // Seconds past the first minute are dropped, not rounded.
        assert_eq!(duration_words(119), "1 min");
        assert_eq!(duration_words(3600), "1 h");
        assert_eq!(duration_words(86_400), "1 d");
        assert_eq!(duration_words(86_400 + 59), "1 d");
    }

    #[test]
    fn iso_minutes_are_utc() {
        assert_eq!(
            iso_minute(datetime!(2026-11-22 14:03:59 UTC)),
            "2026-11-22T14:03Z"
        );
        assert_eq!(
            iso_minute(datetime!(2026-11-22 00:30 +01:00)),
            "2026-11-21T23:30Z"
        );
        assert_eq!(
            minute(datetime!(2026-11-22 14:03:59 UTC)),
            "2026-11-22 14:03Z"
        );
    }

    #[test]
    fn hours_and_padded_minutes() {
        assert_eq!(hours_minutes(0), "0 min");
        assert_eq!(hours_minutes(-5), "0 min");
        assert_eq!(hours_minutes(59), "59 min");
        assert_eq!(hours_minutes(60), "1 h 00 min");
        assert_eq!(hours_minutes(65), "1 h 05 min");
        assert_eq!(hours_minutes(26 * 60), "26 h 00 min");
    }

    #[test]
    fn days_in_full_and_short() {
        let d = time::macros::date!(2026 - 01 - 05);
        assert_eq!(iso_day(d), "2026-01-05");
        assert_eq!(month_day(d), "01-05");
        assert_eq!(date(datetime!(0999-12-31 23:59:59 UTC)), "0999-12-31");
    }

    #[test]
    fn ago_boundaries() {
        let now = datetime!(2026-11-22 14:00:00 UTC);
        assert_eq!(ago(now, now), "0 s");
        assert_eq!(ago(now, now - time::Duration::seconds(59)), "59 s");
        assert_eq!(ago(now, now - time::Duration::seconds(60)), "1 min");
        assert_eq!(ago(now, now - time::Duration::seconds(7199)), "119 min");
        assert_eq!(ago(now, now - time::Duration::seconds(7200)), "2 h");
        assert_eq!(ago(now, now - time::Duration::seconds(172_799)), "47 h");
        assert_eq!(ago(now, now - time::Duration::seconds(172_800)), "2 d");
    }
}
