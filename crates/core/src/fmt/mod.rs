//! How numbers, amounts, words and times read: one place each, for the screen and the report.
//! `money` holds the amounts, `time` the times, days and durations; the small word and number
//! helpers are here.

pub mod money;
pub mod time;

pub use money::{money, money_cents, short_money, signed_money};
pub use time::{
    ago, clock_time, date, duration_words, hours_minutes, iso_day, iso_minute, minute, month_day,
};

/// A whole number with thousands separators: `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count and its noun: `1 day`, `0 days`, `3 entries`.
pub fn plural<N>(n: N, one: &str, many: &str) -> String
where
    N: std::fmt::Display + PartialEq + From<u8>,
{
    let word = if n == N::from(1) { one } else { many };
    format!("{n} {word}")
}

/// Cuts `s` to `n` characters, the last one `…` when cut. Counts characters, not screen
/// columns: for plain text (exports); the screen's version is `ui::layout::fit`.
pub fn clip_chars(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(n.saturating_sub(1)).collect();
        c.push('…');
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_puts_a_comma_every_three_digits() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(1), "1");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(12_345), "12,345");
        assert_eq!(grouped(123_456), "123,456");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn plural_takes_the_singular_only_for_one() {
        assert_eq!(plural(0u64, "day", "days"), "0 days");
        assert_eq!(plural(1u64, "day", "days"), "1 day");
        assert_eq!(plural(2u64, "day", "days"), "2 days");
        assert_eq!(plural(1usize, "entry", "entries"), "1 entry");
        assert_eq!(plural(11usize, "entry", "entries"), "11 entries");
        assert_eq!(plural(1u32, "monitor", "monitors"), "1 monitor");
    }

    #[test]
    fn clip_chars_keeps_short_text_and_marks_a_cut() {
        assert_eq!(clip_chars("AccessDenied", 22), "AccessDenied");
        assert_eq!(clip_chars("abcdef", 6), "abcdef");
        assert_eq!(clip_chars("abcdefg", 6), "abcde…");
        assert_eq!(clip_chars("ééééé", 3), "éé…");
        assert_eq!(clip_chars("", 0), "");
        assert_eq!(clip_chars("ab", 1), "…");
    }
}
