//! Amounts. The screen and the report write them differently on purpose: the screen wants them
//! short (`4,160`, `4.70`, `6k`) and signs credits with a real minus; the report wants every
//! cent and a plain `-` (`USD 1,234.56`).

use super::grouped;

/// An amount on screen: cents under 100 (`4.70`), whole units with thousands separators above
/// (`4,160`); a minus sign (`−`) for credits; `?` when not a number.
pub fn money(x: f64) -> String {
    if !x.is_finite() {
        return "?".into();
    }
    let a = x.abs();
    let s = if a < 99.995 {
        format!("{a:.2}")
    } else {
        grouped(a.round() as u64)
    };
    if x < 0.0 && s != "0.00" {
        format!("−{s}")
    } else {
        s
    }
}

/// An amount on screen with its sign: `+4,155`, `−12.30`, `0.00`.
pub fn signed_money(x: f64) -> String {
    let s = money(x);
    if x > 0.0 && s != "0.00" {
        format!("+{s}")
    } else {
        s
    }
}

/// A short amount for a chart's scale: `6k`, `2.5k`, `1.2M`, `40`, `7.5`.
pub fn short_money(x: f64) -> String {
    let one = |v: f64| {
        let s = format!("{v:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    };
    if x >= 999_950.0 {
        format!("{}M", one(x / 1_000_000.0))
    } else if x >= 1_000.0 {
        format!("{}k", one(x / 1_000.0))
    } else if x >= 10.0 {
        format!("{}", x.round() as u64)
    } else {
        one(x)
    }
}

/// Cents as an amount with two decimals and its unit, for the report: `USD 1,234.56`.
pub fn money_cents(cents: i64, unit: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{unit} {sign}{}.{:02}", grouped(c / 100), c % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_two_decimals_and_separators() {
        assert_eq!(money_cents(123_456, "USD"), "USD 1,234.56");
        assert_eq!(money_cents(5, "USD"), "USD 0.05");
        assert_eq!(money_cents(-250, "EUR"), "EUR -2.50");
        assert_eq!(money_cents(100_000_000, "USD"), "USD 1,000,000.00");
    }

    #[test]
    fn money_cents_edges() {
        assert_eq!(money_cents(0, "USD"), "USD 0.00");
        assert_eq!(money_cents(1, "USD"), "USD 0.01");
        assert_eq!(money_cents(-1, "USD"), "USD -0.01");
        assert_eq!(money_cents(99_999, "USD"), "USD 999.99");
        assert_eq!(money_cents(100_000, "USD"), "USD 1,000.00");
        assert_eq!(
            money_cents(i64::MIN, "USD"),
            "USD -92,233,720,368,547,758.08"
        );
    }

    #[test]
    fn screen_money_keeps_cents_below_a_hundred() {
        assert_eq!(money(0.0), "0.00");
        assert_eq!(money(1.0), "1.00");
        assert_eq!(money(4.7), "4.70");
        assert_eq!(money(99.99), "99.99");
        // 99.995 would print as 100.00: from there on, whole units.
        assert_eq!(money(99.995), "100");
        assert_eq!(money(999.4), "999");
        assert_eq!(money(999.5), "1,000");
        assert_eq!(money(4_160.2), "4,160");
        assert_eq!(money(1_234_567.0), "1,234,567");
    }

    #[test]
    fn screen_money_signs_credits_and_refuses_non_numbers() {
        assert_eq!(money(-12.3), "−12.30");
        assert_eq!(money(-4_160.0), "−4,160");
        // A credit too small to show is no credit.
        assert_eq!(money(-0.001), "0.00");
        assert_eq!(money(f64::NAN), "?");
        assert_eq!(money(f64::INFINITY), "?");
    }

    #[test]
    fn signed_money_shows_plus_for_gains_only() {
        assert_eq!(signed_money(4_155.0), "+4,155");
        assert_eq!(signed_money(0.5), "+0.50");
        assert_eq!(signed_money(0.0), "0.00");
        assert_eq!(signed_money(0.001), "0.00");
        assert_eq!(signed_money(-12.3), "−12.30");
        assert_eq!(signed_money(f64::NAN), "?");
    }

    #[test]
    fn short_money_for_the_scale() {
        assert_eq!(short_money(0.0), "0");
        assert_eq!(short_money(7.5), "7.5");
        assert_eq!(short_money(9.96), "10");
        assert_eq!(short_money(10.0), "10");
        assert_eq!(short_money(40.4), "40");
        assert_eq!(short_money(999.0), "999");
        assert_eq!(short_money(1_000.0), "1k");
        assert_eq!(short_money(2_500.0), "2.5k");
        assert_eq!(short_money(6_000.0), "6k");
        assert_eq!(short_money(999_949.0), "999.9k");
        assert_eq!(short_money(999_950.0), "1M");
        assert_eq!(short_money(1_200_000.0), "1.2M");
    }
}
