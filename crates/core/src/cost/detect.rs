//! The Cost tab's own spike detection: which series jumped after the leak. Pure.
//!
//! AWS's anomaly detection (`GetAnomalies`) lags a day and only runs when the account has a
//! monitor, so keyspill flags spend itself, from the daily figures Cost Explorer returns
//! (`GetCostAndUsage`, `DAILY`, `UnblendedCost`), for the total and for every service and
//! region.
//!
//! # The rule
//!
//! Each series is split into *baseline* days and *recent* days:
//!
//! - with a leak start, the baseline is every day of the window strictly before it, and the
//!   recent days are the leak day and everything after;
//! - without one, the recent days are the last [`RECENT_DAYS`] (7) of the window and the
//!   baseline is everything before them.
//!
//! Days of the window a series has no figure for count as 0 (Cost Explorer leaves a group out
//! of a day it had no cost on), so a service used twice a month has a baseline median of 0, not
//! the median of its two busy days.
//!
//! A recent day is a **spike** when its cost is above all three of
//!
//! 1. `median + k × σ`, where `median` is the median of the baseline days and `σ` is their
//!    median absolute deviation (MAD) × [`MAD_TO_SIGMA`] (1.4826, which makes it estimate a
//!    standard deviation for normal noise). `σ` is never taken below [`FLAT_SCALE`] (5 %) of
//!    the median: a perfectly flat baseline has a MAD of 0 and would otherwise make every
//!    extra cent a spike;
//! 2. the absolute `floor` (USD 10 a day), so a quiet account's few-dollar wobbles and a new
//!    series' first cents do not flag;
//! 3. `ratio × median` (1.5 ×), so a very regular big series (where `k × σ` is only a few
//!    percent) does not flag on a small relative wobble.
//!
//! Median and MAD rather than mean and standard deviation: both ignore the largest values, so a
//! few attack days that slipped into the baseline (the real leak started before the known leak
//! start, or there is no leak start and the attack is older than 7 days) barely raise the
//! threshold, and the occasional legitimate busy day does not either. Only high days flag: a
//! drop in spend is never a spike.
//!
//! **Thin baseline.** With fewer than `min_baseline_days` (7) baseline days, a median and MAD
//! mean little (and do not cover a weekly cycle), so the baseline is treated as zero: only the
//! floor applies, and the row says `thin_baseline`. A steady USD 40 a day then flags on every
//! recent day: with no history, keyspill cannot tell it from new spend, and says so.
//!
//! **New spend.** A series with at most 1 cent on every baseline day (and at least one baseline
//! day) and more than 1 cent on some recent day is `new_spend`: a region or service the account
//! never used before. It is reported whether or not it also spikes; whether it spikes is up to
//! the floor.
//!
//! # Defaults, and why
//!
//! - `k = 5`: cost noise is heavy-tailed (a weekly cycle, a batch job, a snapshot), so the
//!   usual 3 σ would flag a normal busy day now and then. In the noisy-account test (USD
//!   800–1,400 a day with a weekly cycle) no baseline day is above `median + 5 σ` of the other
//!   baseline days.
//! - `floor = 10`: the smallest GPU instance (g4dn.xlarge, about USD 0.53 an hour) costs about
//!   USD 12.60 over a day, so one miner running a day still flags, while a quiet account's
//!   USD 3–6 days, and a new region's first cents, do not.
//! - `ratio = 1.5`: a steady USD 300-a-day database has a σ of a few dollars, so `k × σ` alone
//!   would flag a USD 20 wobble. Requiring +50 % means a big account only flags a series that
//!   really jumped. The price: on a noisy USD 1,200-a-day account, an attacker adding USD 150
//!   a day to EC2 does not flag the total nor EC2 (it is within the account's normal swing);
//!   it shows as the largest `delta` (rows are sorted by it) and, when the attacker uses a
//!   region the account never used, that region flags as new spend. The tests pin this down.
//! - `min_baseline_days = 7`: one week, the shortest baseline that covers the weekly cycle.
//!
//! # Limits
//!
//! A once-a-month fee (Tax, Route 53 hosted zones, Support) that lands after the leak start
//! flags if it is above the floor: the key of the row tells what it is. A slow ramp that never
//! reaches the threshold on any one day does not flag, but its `delta` still ranks it.
//!
//! # Input
//!
//! Never panics. Amounts are taken as given, negative ones included (Cost Explorer returns
//! credits and refunds as negative costs), except NaN and infinities, which count as 0. Days
//! outside the window are ignored, several figures for one day are summed, and series with the
//! same key are merged into one row.

use std::collections::BTreeMap;

use time::{Date, Duration};

use super::model::{Day, Series};

/// Scales a median absolute deviation to estimate a standard deviation (for normal noise).
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// The spread `σ` is never taken below this fraction of the baseline median, so a flat baseline
/// (MAD 0) does not make every extra cent a spike.
pub const FLAT_SCALE: f64 = 0.05;

/// Without a leak start, the last this many days of the window are the recent days.
pub const RECENT_DAYS: usize = 7;

/// "Nothing": at most this much a day (one cent) does not count as spend, for `new_spend`.
pub const NOTHING: f64 = 0.01;

/// The parameters of the spike rule (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// How many robust standard deviations above the baseline median a spike must be.
    pub k: f64,
    /// A spike costs more than this a day (in the data's currency, USD).
    pub floor: f64,
    /// A spike costs more than this many times the baseline median.
    pub ratio: f64,
    /// With fewer baseline days, the baseline is too thin: only the floor applies.
    pub min_baseline_days: usize,
}

impl Default for Rule {
    fn default() -> Self {
        Rule {
            k: 5.0,
            floor: 10.0,
            ratio: 1.5,
            min_baseline_days: 7,
        }
    }
}

/// What the rule found for one series (a service, a region, or the total).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub key: String,
    /// Median daily cost of the baseline days (before the leak), 0 without baseline days.
    pub baseline: f64,
    /// Mean daily cost of the recent days (since the leak, or the last 7 days), 0 without any.
    pub since: f64,
    /// `since - baseline`: how much more a day it costs now. Rows are sorted by it.
    pub delta: f64,
    /// Total cost of the recent days.
    pub total_since: f64,
    /// The highest daily cost among the recent days (0 when none cost anything).
    pub peak: f64,
    /// The first recent day with the peak cost; `None` when no recent day cost anything.
    pub peak_day: Option<Date>,
    /// The recent days above the threshold, oldest first.
    pub spike_days: Vec<Date>,
    /// Some recent day is a spike.
    pub spike: bool,
    /// At most 1 cent on every baseline day, more on some recent day: never used before.
    pub new_spend: bool,
    /// Fewer than `min_baseline_days` baseline days: only the floor applied.
    pub thin_baseline: bool,
    /// The daily cost a recent day had to exceed to be a spike (for the chart's guide line).
    pub threshold: f64,
}

/// Analyses every series over the window `from .. to` (`to` excluded) and returns one row a
/// key, the biggest jump (`delta`) first, ties by key.
pub fn analyse(
    series: &[Series],
    from: Date,
    to: Date,
    leak: Option<Date>,
    rule: &Rule,
) -> Vec<Row> {
    let window = Window::new(from, to, leak);
    let mut merged: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for s in series {
        let daily = merged
            .entry(s.key.as_str())
            .or_insert_with(|| vec![0.0; window.len]);
        window.add(daily, &s.days);
    }
    let mut rows: Vec<Row> = merged
        .into_iter()
        .map(|(key, daily)| row(key, &daily, &window, rule))
        .collect();
    rows.sort_by(|a, b| {
        order(b.delta)
            .total_cmp(&order(a.delta))
            .then_with(|| a.key.cmp(&b.key))
    });
    rows
}

/// Analyses the account's total (key `"total"`), for the chart's spike marks.
pub fn analyse_total(days: &[Day], from: Date, to: Date, leak: Option<Date>, rule: &Rule) -> Row {
    let window = Window::new(from, to, leak);
    let mut daily = vec![0.0; window.len];
    window.add(&mut daily, days);
    row("total", &daily, &window, rule)
}

/// The rule in words, with its parameters, for the help overlay.
pub fn describe(rule: &Rule) -> Vec<String> {
    vec![
        "A day since the leak start is a spike when its cost is above all of:".to_string(),
        format!(
            "  the median of the days before the leak + {} × their spread (MAD × {MAD_TO_SIGMA},",
            rule.k
        ),
        format!(
            "    about one standard deviation; at least {:.0}% of the median);",
            FLAT_SCALE * 100.0
        ),
        format!("  USD {:.2} a day (the floor);", rule.floor),
        format!("  {} × the median of the days before the leak.", rule.ratio),
        format!("Without a leak start: the last {RECENT_DAYS} days against the days before them."),
        "Days without spend count as 0.".to_string(),
        format!(
            "Fewer than {} days before the leak: thin baseline, only the floor applies.",
            rule.min_baseline_days
        ),
        "New spend: at most 1 cent on every day before the leak, spend since:".to_string(),
        "  a region or service the account never used.".to_string(),
        "Rows are sorted by how much more a day they cost since the leak.".to_string(),
    ]
}

/// The window, split into baseline days (`..split`) and recent days (`split..`).
struct Window {
    from: Date,
    len: usize,
    split: usize,
}

impl Window {
    fn new(from: Date, to: Date, leak: Option<Date>) -> Self {
        let len = usize::try_from((to - from).whole_days()).unwrap_or(0);
        let split = match leak {
            Some(leak) => {
                usize::try_from((leak - from).whole_days()).map_or(0, |split| split.min(len))
            }
            None => len.saturating_sub(RECENT_DAYS),
        };
        Window { from, len, split }
    }

    /// Adds the days inside the window to `daily` (one slot a day of the window).
    fn add(&self, daily: &mut [f64], days: &[Day]) {
        for day in days {
            let Ok(i) = usize::try_from((day.date - self.from).whole_days()) else {
                continue;
            };
            if let Some(slot) = daily.get_mut(i) {
                *slot += if day.amount.is_finite() {
                    day.amount
                } else {
                    0.0
                };
            }
        }
    }

    fn date(&self, i: usize) -> Option<Date> {
        let days = i64::try_from(i).ok()?;
        self.from.checked_add(Duration::days(days))
    }
}

/// The daily cost a recent day must exceed, and whether the baseline was too thin to use.
struct Threshold {
    median: f64,
    level: f64,
    thin: bool,
}

fn threshold(baseline: &[f64], rule: &Rule) -> Threshold {
    let centre = median(baseline.to_vec());
    if baseline.len() < rule.min_baseline_days {
        return Threshold {
            median: centre,
            level: rule.floor,
            thin: true,
        };
    }
    let mad = median(baseline.iter().map(|x| (x - centre).abs()).collect());
    let sigma = (MAD_TO_SIGMA * mad).max(FLAT_SCALE * centre.abs());
    // Above all three ⇔ above the largest. `f64::max` skips a NaN (a nonsensical parameter).
    let level = (centre + rule.k * sigma)
        .max(rule.floor)
        .max(rule.ratio * centre);
    Threshold {
        median: centre,
        level,
        thin: false,
    }
}

fn row(key: &str, daily: &[f64], window: &Window, rule: &Rule) -> Row {
    let (baseline, recent) = daily.split_at(window.split.min(daily.len()));
    let t = threshold(baseline, rule);
    let total_since: f64 = recent.iter().sum();
    let since = if recent.is_empty() {
        0.0
    } else {
        total_since / recent.len() as f64
    };
    let mut peak = 0.0;
    let mut peak_at = None;
    for (i, &x) in recent.iter().enumerate() {
        if x > peak {
            peak = x;
            peak_at = Some(i);
        }
    }
    let spike_days: Vec<Date> = recent
        .iter()
        .enumerate()
        .filter(|&(_, &x)| x > t.level)
        .filter_map(|(i, _)| window.date(window.split + i))
        .collect();
    let new_spend = !baseline.is_empty()
        && baseline.iter().all(|&x| x <= NOTHING)
        && recent.iter().any(|&x| x > NOTHING);
    Row {
        key: key.to_string(),
        baseline: t.median,
        since,
        delta: since - t.median,
        total_since,
        peak,
        peak_day: peak_at.and_then(|i| window.date(window.split + i)),
        spike: !spike_days.is_empty(),
        spike_days,
        new_spend,
        thin_baseline: t.thin,
        threshold: t.level,
    }
}

/// The median (mean of the middle two for an even count); 0 for no values.
fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// A sort key for `delta`: NaN (only from overflowing sums) last, -0 as 0 so ties go by key.
fn order(x: f64) -> f64 {
    if x.is_nan() {
        f64::NEG_INFINITY
    } else {
        x + 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::Weekday;
    use time::macros::date;

    /// A Saturday. The window is 35 days, 2025-03-01 .. 2025-04-05.
    const FROM: Date = date!(2025 - 03 - 01);
    const DAYS: i64 = 35;
    /// The leak started on day 30, Monday 2025-03-31: 30 baseline days, 5 recent (Mon–Fri).
    const LEAK_DAY: i64 = 30;

    const EC2: &str = "Amazon Elastic Compute Cloud - Compute";
    const S3: &str = "Amazon Simple Storage Service";

    fn d(i: i64) -> Date {
        FROM + Duration::days(i)
    }

    fn to() -> Date {
        d(DAYS)
    }

    fn leak() -> Option<Date> {
        Some(d(LEAK_DAY))
    }

    fn dates(days: impl IntoIterator<Item = i64>) -> Vec<Date> {
        days.into_iter().map(d).collect()
    }

    fn day(i: i64, amount: f64) -> Day {
        Day {
            date: d(i),
            amount,
            estimated: false,
        }
    }

    /// A series as Cost Explorer returns it: only the days with a cost (zero days left out).
    fn series(key: &str, amounts: impl IntoIterator<Item = (i64, f64)>) -> Series {
        Series {
            key: key.to_string(),
            days: amounts
                .into_iter()
                .filter(|&(_, a)| a != 0.0)
                .map(|(i, a)| day(i, a))
                .collect(),
        }
    }

    /// A series with one figure for every day of the window.
    fn every_day(key: &str, amounts: &[f64]) -> Series {
        series(key, (0..).zip(amounts.iter().copied()))
    }

    /// The day-by-day sum of some series, every day of the window present.
    fn total_of(all: &[Series]) -> Vec<Day> {
        let mut sums = vec![0.0; DAYS as usize];
        for s in all {
            for day in &s.days {
                sums[(day.date - FROM).whole_days() as usize] += day.amount;
            }
        }
        (0..).zip(sums).map(|(i, a)| day(i, a)).collect()
    }

    /// Deterministic noise (xorshift64), so the realistic series are the same on every run.
    struct Noise(u64);

    impl Noise {
        fn unit(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }

        /// Uniform in `centre ± spread`.
        fn around(&mut self, centre: f64, spread: f64) -> f64 {
            centre + spread * (2.0 * self.unit() - 1.0)
        }

        /// One value a day of the window.
        fn days(&mut self, mut f: impl FnMut(&mut Self, i64) -> f64) -> Vec<f64> {
            (0..DAYS).map(|i| f(self, i)).collect()
        }
    }

    fn weekend(i: i64) -> bool {
        matches!(d(i).weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    fn find<'a>(rows: &'a [Row], key: &str) -> &'a Row {
        rows.iter()
            .find(|r| r.key == key)
            .unwrap_or_else(|| panic!("no row {key}"))
    }

    fn keys(rows: &[Row]) -> Vec<&str> {
        rows.iter().map(|r| r.key.as_str()).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
        a.iter().zip(b).map(|(x, y)| x + y).collect()
    }

    /// Leave-one-out: no baseline day is a spike against the other baseline days.
    fn assert_no_false_spikes_in_baseline(key: &str, daily: &[f64], rule: &Rule) {
        let baseline = &daily[..LEAK_DAY as usize];
        for (i, &x) in baseline.iter().enumerate() {
            let mut others = baseline.to_vec();
            others.remove(i);
            let t = threshold(&others, rule);
            assert!(
                x <= t.level,
                "{key}: baseline day {i} ({x:.2}) above {:.2}",
                t.level
            );
        }
    }

    fn daily_of(s: &Series) -> Vec<f64> {
        let window = Window::new(FROM, to(), leak());
        let mut daily = vec![0.0; window.len];
        window.add(&mut daily, &s.days);
        daily
    }

    // 1. A quiet account (USD 3–6 a day) whose key starts crypto miners in three regions it
    //    never used.
    #[test]
    fn quiet_account_with_miners_in_three_new_regions() {
        let mut n = Noise(0x2545_f491_4f6c_dd1d);
        // One small instance and its volume; CloudWatch; S3 in two regions; a bit of Lambda.
        let ec2_quiet = n.days(|n, _| n.around(2.4, 0.6));
        let cloudwatch = n.days(|n, _| n.around(0.9, 0.3));
        let s3_use1 = n.days(|n, _| n.around(0.6, 0.15));
        let s3_euw1 = n.days(|n, _| n.around(0.3, 0.1));
        let lambda = n.days(|n, _| {
            if n.unit() < 0.6 {
                n.around(0.06, 0.04)
            } else {
                0.0
            }
        });
        // The miners: the first starts on the afternoon of the leak day, the others follow.
        let zeros = vec![0.0; LEAK_DAY as usize];
        let miners = [
            (
                "ap-southeast-1",
                [310.0, 2_650.0, 2_700.0, 2_580.0, 2_720.0],
            ),
            ("sa-east-1", [0.0, 1_980.0, 2_050.0, 2_010.0, 1_995.0]),
            ("eu-north-1", [0.0, 0.0, 1_420.0, 3_150.0, 3_200.0]),
        ]
        .map(|(region, recent)| (region, [zeros.as_slice(), &recent].concat()));
        let mined = miners
            .iter()
            .fold(vec![0.0; DAYS as usize], |sum, (_, m)| add(&sum, m));

        let by_service = vec![
            every_day(EC2, &add(&ec2_quiet, &mined)),
            every_day("AmazonCloudWatch", &cloudwatch),
            every_day(S3, &add(&s3_use1, &s3_euw1)),
            every_day("AWS Lambda", &lambda),
        ];
        let mut by_region = vec![
            every_day(
                "us-east-1",
                &add(&add(&ec2_quiet, &cloudwatch), &add(&s3_use1, &lambda)),
            ),
            every_day("eu-west-1", &s3_euw1),
        ];
        by_region.extend(miners.iter().map(|(region, m)| every_day(region, m)));
        let total = total_of(&by_service);
        // The premise: a quiet account, USD 3–6 a day before the leak.
        for day in &total[..LEAK_DAY as usize] {
            assert!((3.0..=6.0).contains(&day.amount), "{day:?}");
        }

        let rule = Rule::default();
        let services = analyse(&by_service, FROM, to(), leak(), &rule);
        assert_eq!(services.len(), 4);
        let ec2 = &services[0];
        assert_eq!(ec2.key, EC2, "the biggest jump first");
        assert!(ec2.spike && !ec2.new_spend && !ec2.thin_baseline);
        assert_eq!(ec2.spike_days, dates(30..35), "even the partial first day");
        assert!((1.8..3.0).contains(&ec2.baseline), "{}", ec2.baseline);
        // The quiet baseline's median + 5 σ is a few dollars: the floor decides.
        assert_eq!(ec2.threshold, rule.floor);
        assert_eq!(ec2.peak_day, Some(d(34)));
        assert!(close(ec2.peak, 7_915.0 + ec2_quiet[34]), "{}", ec2.peak);
        let quiet_since: f64 = ec2_quiet[30..].iter().sum();
        assert!(close(ec2.total_since, 26_765.0 + quiet_since));
        for quiet in &services[1..] {
            assert!(!quiet.spike && !quiet.new_spend, "{quiet:?}");
            assert!(quiet.spike_days.is_empty());
            assert!(quiet.delta.abs() < 1.0, "{quiet:?}");
        }

        let regions = analyse(&by_region, FROM, to(), leak(), &rule);
        assert_eq!(
            keys(&regions)[..3],
            ["ap-southeast-1", "sa-east-1", "eu-north-1"],
            "by delta: mean since the leak 2,192 > 1,607 > 1,554"
        );
        let expected = [
            ("ap-southeast-1", dates(30..35), 2_720.0, 34),
            ("sa-east-1", dates(31..35), 2_050.0, 32),
            ("eu-north-1", dates(32..35), 3_200.0, 34),
        ];
        for (key, spike_days, peak, peak_day) in expected {
            let r = find(&regions, key);
            assert!(r.spike && r.new_spend && !r.thin_baseline, "{r:?}");
            assert_eq!(r.spike_days, spike_days, "{key}");
            assert_eq!(r.baseline, 0.0);
            assert_eq!(r.threshold, rule.floor);
            assert_eq!((r.peak, r.peak_day), (peak, Some(d(peak_day))));
            assert!(close(r.delta, r.since));
        }
        assert!(close(find(&regions, "sa-east-1").total_since, 8_035.0));
        for steady in ["us-east-1", "eu-west-1"] {
            let r = find(&regions, steady);
            assert!(!r.spike && !r.new_spend && r.spike_days.is_empty(), "{r:?}");
        }

        let total = analyse_total(&total, FROM, to(), leak(), &rule);
        assert_eq!(total.key, "total");
        assert_eq!(total.spike_days, dates(30..35));
        assert!(total.spike && !total.new_spend);
        assert!((3.0..=6.0).contains(&total.baseline));
    }

    // 2. A noisy account, USD 800–1,400 a day with a weekly cycle, where the key adds about
    //    USD 150 a day of EC2 in a region the account never used.
    //
    //    The honest outcome, with the defaults: the total and the EC2 row do NOT flag. The total's
    //    baseline median is about 1,230 (weekday-heavy), its robust σ about 80 (the weekend dip
    //    widens the MAD), so median + 5 σ is about 1,620 and 1.5 × median about 1,840: the ratio
    //    decides. The leak's days total 1,380–1,500: above every baseline day, but only 2–3.4 σ
    //    above the median, and part of that is the weekly cycle (the five leak days are all
    //    weekdays). EC2 alone: median about 500, σ about 38, so its 640–690 leak days are just
    //    under median + 5 σ (about 690) and well under 1.5 × median (about 750). Flagging this
    //    would mean flagging ordinary busy weeks. What does show the leak: EC2 has the largest
    //    delta (rows are sorted by it, so it tops the services), and the region the miner runs
    //    in was never used, so it is new spend and spikes on every leak day (its baseline is 0:
    //    the floor decides).
    #[test]
    fn noisy_account_small_leak_is_within_noise_but_its_new_region_flags() {
        let mut n = Noise(0x9e37_79b9_7f4a_7c15);
        let ec2_use1 = n.days(|n, i| {
            if weekend(i) {
                n.around(210.0, 25.0)
            } else {
                n.around(370.0, 30.0)
            }
        });
        let ec2_euc1 = n.days(|n, i| {
            if weekend(i) {
                n.around(90.0, 10.0)
            } else {
                n.around(150.0, 15.0)
            }
        });
        let rds = n.days(|n, _| n.around(310.0, 8.0));
        let s3 = n.days(|n, _| n.around(140.0, 15.0));
        let cloudfront = n.days(|n, i| {
            if weekend(i) {
                n.around(90.0, 30.0)
            } else {
                n.around(240.0, 50.0)
            }
        });
        let lambda = n.days(|n, _| n.around(60.0, 20.0));
        let mut miner = vec![0.0; LEAK_DAY as usize];
        miner.extend([90.0, 150.0, 155.0, 148.0, 152.0]);

        let by_service = vec![
            every_day(EC2, &add(&add(&ec2_use1, &ec2_euc1), &miner)),
            every_day("Amazon Relational Database Service", &rds),
            every_day(S3, &s3),
            every_day("Amazon CloudFront", &cloudfront),
            every_day("AWS Lambda", &lambda),
        ];
        let by_region = vec![
            every_day("us-east-1", &add(&add(&ec2_use1, &s3), &lambda)),
            every_day("eu-central-1", &add(&ec2_euc1, &rds)),
            every_day("global", &cloudfront),
            every_day("ap-south-1", &miner),
        ];
        let total = total_of(&by_service);
        for day in &total[..LEAK_DAY as usize] {
            assert!((780.0..=1_420.0).contains(&day.amount), "{day:?}");
        }

        let rule = Rule::default();
        // No false spikes on noise alone: no baseline day flags against the other baseline days,
        // for the total and for every service and region.
        let total_daily: Vec<f64> = total.iter().map(|d| d.amount).collect();
        assert_no_false_spikes_in_baseline("total", &total_daily, &rule);
        for s in by_service.iter().chain(&by_region) {
            assert_no_false_spikes_in_baseline(&s.key, &daily_of(s), &rule);
        }

        let t = analyse_total(&total, FROM, to(), leak(), &rule);
        assert!(!t.spike && t.spike_days.is_empty(), "{t:?}");
        assert!(t.delta > 100.0, "the jump shows in the numbers: {t:?}");
        assert!((1_600.0..2_000.0).contains(&t.threshold), "{t:?}");

        let services = analyse(&by_service, FROM, to(), leak(), &rule);
        assert_eq!(services[0].key, EC2, "EC2 jumped the most");
        assert!(
            (120.0..220.0).contains(&services[0].delta),
            "{:?}",
            services[0]
        );
        assert!(
            services.iter().all(|r| !r.spike && !r.new_spend),
            "{services:#?}"
        );

        let regions = analyse(&by_region, FROM, to(), leak(), &rule);
        let new = &regions[0];
        assert_eq!(new.key, "ap-south-1");
        assert!(new.spike && new.new_spend);
        assert_eq!(new.spike_days, dates(30..35));
        assert!(close(new.since, 139.0) && close(new.total_since, 695.0));
        assert!(
            regions[1..].iter().all(|r| !r.spike && !r.new_spend),
            "{regions:#?}"
        );
    }

    // 3. Gaps: services with spend on some days only, an empty series, single-day series, and
    //    a series of zeros, in one month.
    #[test]
    fn gaps_empty_single_day_and_zero_series() {
        let by_service = vec![
            // A hosted zone's monthly fee on the 1st, queries every third day: missing days are 0,
            // so the baseline median is 0, not the median of the days with a figure.
            series(
                "Amazon Route 53",
                (0..DAYS).map(|i| {
                    (
                        i,
                        if i == 0 {
                            0.5
                        } else if i % 3 == 0 {
                            0.12
                        } else {
                            0.0
                        },
                    )
                }),
            ),
            // A notebook run twice before the leak; a big job on one day since.
            series("Amazon SageMaker", [(8, 14.0), (9, 14.0), (32, 60.0)]),
            series("AWS Config", []),
            series("Amazon GuardDuty", [(33, 0.4)]),
            series("AWS Marketplace", [(32, 900.0)]),
            Series {
                key: "AWS Cost Explorer".to_string(),
                days: (0..DAYS).map(|i| day(i, 0.0)).collect(),
            },
        ];
        let rule = Rule::default();
        let rows = analyse(&by_service, FROM, to(), leak(), &rule);
        assert_eq!(
            keys(&rows),
            [
                "AWS Marketplace",   // +180 a day
                "Amazon SageMaker",  // +12
                "Amazon GuardDuty",  // +0.08
                "Amazon Route 53",   // +0.048
                "AWS Config",        // 0, ties by key
                "AWS Cost Explorer", // 0
            ]
        );

        let route53 = find(&rows, "Amazon Route 53");
        assert_eq!(route53.baseline, 0.0);
        assert!(close(route53.since, 0.048) && close(route53.total_since, 0.24));
        assert_eq!((route53.peak, route53.peak_day), (0.12, Some(d(30))));
        assert!(!route53.spike && !route53.new_spend);

        let sagemaker = find(&rows, "Amazon SageMaker");
        assert_eq!(sagemaker.spike_days, [d(32)]);
        assert!(
            sagemaker.spike && !sagemaker.new_spend,
            "used before the leak"
        );
        assert_eq!((sagemaker.baseline, sagemaker.threshold), (0.0, 10.0));

        let marketplace = find(&rows, "AWS Marketplace");
        assert_eq!(marketplace.spike_days, [d(32)]);
        assert!(marketplace.new_spend);
        assert_eq!((marketplace.peak, marketplace.since), (900.0, 180.0));

        let guardduty = find(&rows, "Amazon GuardDuty");
        assert!(
            guardduty.new_spend && !guardduty.spike,
            "new, but under the floor"
        );
        assert_eq!(guardduty.peak_day, Some(d(33)));

        for key in ["AWS Config", "AWS Cost Explorer"] {
            let r = find(&rows, key);
            let nothing = Row {
                key: key.to_string(),
                baseline: 0.0,
                since: 0.0,
                delta: 0.0,
                total_since: 0.0,
                peak: 0.0,
                peak_day: None,
                spike_days: vec![],
                spike: false,
                new_spend: false,
                thin_baseline: false,
                threshold: 10.0,
            };
            assert_eq!(r, &nothing);
        }

        // A total with gaps (not every day returned) is filled the same way.
        let total = analyse_total(&[day(3, 4.0), day(31, 44.0)], FROM, to(), leak(), &rule);
        assert_eq!(total.spike_days, [d(31)]);
        assert_eq!(total.baseline, 0.0);
        assert!(!total.new_spend, "4.00 on day 3 is spend");
    }

    #[test]
    fn outside_the_window_ignored_duplicates_summed() {
        let mut days: Vec<Day> = (0..DAYS).map(|i| day(i, 2.0)).collect();
        days.push(day(-1, 5_000.0));
        days.push(day(DAYS, 5_000.0)); // `to` itself is outside
        days.push(day(31, 11.0)); // a second figure for day 31: 13.00 in all
        days.push(day(33, 7.0)); // 9.00 in all: under the floor
        let rows = analyse(
            &[Series {
                key: EC2.to_string(),
                days,
            }],
            FROM,
            to(),
            leak(),
            &Rule::default(),
        );
        let r = &rows[0];
        assert_eq!(r.spike_days, [d(31)]);
        assert_eq!((r.peak, r.peak_day), (13.0, Some(d(31))));
        assert_eq!(r.baseline, 2.0);
        assert!(close(r.total_since, 28.0));
    }

    #[test]
    fn series_with_the_same_key_are_merged_and_ties_go_by_key() {
        let a = series("b", [(31, 30.0)]);
        let b = series("b", [(31, 20.0), (32, 50.0)]);
        let c = series("a", [(31, 50.0), (32, 50.0)]);
        let rows = analyse(&[a, b, c], FROM, to(), leak(), &Rule::default());
        assert_eq!(keys(&rows), ["a", "b"]);
        assert_eq!(rows[0].since, rows[1].since);
        assert_eq!(rows[1].spike_days, dates([31, 32]));
    }

    #[test]
    fn flat_baseline_does_not_make_every_cent_a_spike() {
        // A database at exactly 300.00 a day: MAD 0, so σ is taken as 5% of the median (15).
        let mut amounts = vec![300.0; DAYS as usize];
        amounts[30..].copy_from_slice(&[300.01, 320.0, 380.0, 460.0, 300.0]);
        let flat = [every_day("Amazon Relational Database Service", &amounts)];
        let r = &analyse(&flat, FROM, to(), leak(), &Rule::default())[0];
        assert_eq!(r.threshold, 450.0, "1.5 × the median decides");
        assert_eq!(r.spike_days, [d(33)]);
        // Without the ratio, median + 5 × 15 = 375 still keeps the cents and the 320 quiet.
        let no_ratio = Rule {
            ratio: 0.0,
            ..Rule::default()
        };
        let r = &analyse(&flat, FROM, to(), leak(), &no_ratio)[0];
        assert_eq!(r.threshold, 375.0);
        assert_eq!(r.spike_days, dates([32, 33]));
    }

    // 4. No leak start, a thin baseline, credits, NaN.
    #[test]
    fn without_a_leak_start_the_last_seven_days_are_checked() {
        let mut n = Noise(0xdead_beef_cafe_f00d);
        let mut quiet = n.days(|n, _| n.around(4.0, 1.0));
        quiet[33] = 400.0;
        quiet[34] = 420.0;
        // An attack 10 days old, unknown: 3 of the 28 baseline days are attack days. The median
        // and MAD barely move, so the attack days since still flag.
        let old = n.days(|n, i| {
            if i < 25 {
                n.around(4.0, 1.0)
            } else {
                n.around(800.0, 50.0)
            }
        });
        let rows = analyse(
            &[every_day("quiet", &quiet), every_day("old", &old)],
            FROM,
            to(),
            None,
            &Rule::default(),
        );
        let q = find(&rows, "quiet");
        assert_eq!(q.spike_days, dates([33, 34]));
        assert!(!q.thin_baseline && !q.new_spend);
        let recent: f64 = quiet[28..].iter().sum();
        assert!(close(q.total_since, recent) && close(q.since, recent / 7.0));
        let o = find(&rows, "old");
        assert_eq!(o.spike_days, dates(28..35));
        assert!((3.0..5.0).contains(&o.baseline), "{o:?}");
        assert_eq!(o.threshold, 10.0);
        assert_eq!(rows[0].key, "old");

        // A window of 7 days or fewer has no baseline: all of it is recent, and thin.
        let short = analyse_total(
            &[day(0, 4.0), day(3, 25.0)],
            FROM,
            d(5),
            None,
            &Rule::default(),
        );
        assert!(short.thin_baseline && !short.new_spend);
        assert_eq!(short.spike_days, [d(3)]);
        assert_eq!(short.baseline, 0.0);
    }

    #[test]
    fn thin_baseline_relies_on_the_floor_only() {
        let leak = Some(d(3)); // 3 baseline days, fewer than 7
        let all = [
            every_day("rds", &[40.0; DAYS as usize]),
            every_day("s3", &[4.0; DAYS as usize]),
            series("eu-west-3", (10..DAYS).map(|i| (i, 25.0))),
        ];
        let rule = Rule::default();
        let rows = analyse(&all, FROM, to(), leak, &rule);
        assert!(
            rows.iter()
                .all(|r| r.thin_baseline && r.threshold == rule.floor)
        );
        // Without enough history, a steady 40 a day cannot be told from new spend: it flags.
        let rds = find(&rows, "rds");
        assert_eq!(rds.spike_days, dates(3..35));
        assert_eq!((rds.baseline, rds.delta), (40.0, 0.0));
        assert!(!find(&rows, "s3").spike);
        let new = find(&rows, "eu-west-3");
        assert!(new.spike && new.new_spend);
        assert_eq!(new.spike_days, dates(10..35));

        // With `min_baseline_days` lowered to 3, the same 3 days are a baseline.
        let three = Rule {
            min_baseline_days: 3,
            ..rule
        };
        let rows = analyse(&all, FROM, to(), leak, &three);
        let rds = find(&rows, "rds");
        assert!(!rds.thin_baseline && !rds.spike);
        assert_eq!(rds.threshold, 60.0);
        assert_eq!(find(&rows, "eu-west-3").spike_days, dates(10..35));
    }

    #[test]
    fn leak_at_or_outside_the_window_edges() {
        let all = [series("ec2", (0..DAYS).map(|i| (i, 50.0)))];
        let rule = Rule::default();
        // Leak start before the window: no baseline day at all, so not "new" either.
        for leak in [d(-3), d(0)] {
            let r = &analyse(&all, FROM, to(), Some(leak), &rule)[0];
            assert!(r.thin_baseline && !r.new_spend && r.spike);
            assert_eq!(r.spike_days, dates(0..DAYS));
            assert_eq!(r.baseline, 0.0);
        }
        // Leak start after the window: nothing recent.
        for leak in [d(DAYS), d(DAYS + 9)] {
            let r = &analyse(&all, FROM, to(), Some(leak), &rule)[0];
            assert!(!r.spike && !r.new_spend && !r.thin_baseline);
            assert_eq!(
                (r.since, r.total_since, r.peak, r.peak_day),
                (0.0, 0.0, 0.0, None)
            );
            assert_eq!((r.baseline, r.delta), (50.0, -50.0));
        }
        // An empty or backwards window.
        for to in [FROM, d(-5)] {
            let r = &analyse(&all, FROM, to, leak(), &rule)[0];
            assert!(r.thin_baseline && !r.spike && r.spike_days.is_empty());
            assert_eq!((r.baseline, r.since, r.peak_day), (0.0, 0.0, None));
            assert!(!analyse_total(&all[0].days, FROM, to, None, &rule).spike);
        }
        // The ends of the calendar.
        let far = [Series {
            key: "far".into(),
            days: vec![
                Day {
                    date: Date::MIN,
                    amount: 1e6,
                    estimated: true,
                },
                Day {
                    date: Date::MAX,
                    amount: 1e6,
                    estimated: true,
                },
            ],
        }];
        let start = Date::MAX - Duration::days(3);
        let r = &analyse(&far, start, Date::MAX, Some(Date::MIN), &rule)[0];
        assert!(!r.spike && r.thin_baseline);
        let r = &analyse(&far, start, Date::MAX, Some(Date::MAX), &rule)[0];
        assert!(!r.spike);
    }

    #[test]
    fn credits_are_taken_as_given() {
        let mut n = Noise(0x0123_4567_89ab_cdef);
        let mut ec2 = n.days(|n, _| n.around(20.0, 2.0));
        ec2[12] = -80.0; // a refund before the leak
        ec2[30..].copy_from_slice(&[21.0, 20.0, -150.0, 22.0, 19.0]); // a credit since
        let all = [
            every_day(EC2, &ec2),
            every_day("Credits", &[-5.0; DAYS as usize]),
            series(
                "eu-south-1",
                (0..LEAK_DAY).map(|i| (i, -5.0)).chain([(31, 15.0)]),
            ),
        ];
        let rows = analyse(&all, FROM, to(), leak(), &Rule::default());
        let r = find(&rows, EC2);
        assert!(!r.spike && !r.new_spend);
        assert!(
            (18.0..22.0).contains(&r.baseline),
            "a refund barely moves the median"
        );
        assert!(close(r.total_since, -68.0) && close(r.since, -13.6));
        assert!(r.delta < -30.0);
        assert_eq!((r.peak, r.peak_day), (22.0, Some(d(33))));
        assert_eq!(keys(&rows).last(), Some(&EC2), "the biggest drop last");

        let credits = find(&rows, "Credits");
        assert!(!credits.spike && !credits.new_spend);
        assert_eq!((credits.baseline, credits.delta), (-5.0, 0.0));
        assert_eq!((credits.peak, credits.peak_day), (0.0, None));

        // Only credits before, spend since: nothing was spent there, so it is new.
        let r = find(&rows, "eu-south-1");
        assert!(r.new_spend && r.spike);
        assert_eq!(r.spike_days, [d(31)]);
        assert_eq!(r.threshold, 10.0);
    }

    #[test]
    fn nan_and_infinities_count_as_zero() {
        let mut days: Vec<Day> = (0..DAYS).map(|i| day(i, 3.0)).collect();
        days[5].amount = f64::NAN;
        days[6].amount = f64::NEG_INFINITY;
        days[31].amount = f64::NAN;
        days[32].amount = f64::NAN;
        days.push(day(32, 12.0)); // NaN + 12.00 = 12.00
        days[33].amount = f64::INFINITY;
        let all = [Series {
            key: "AWS Lambda".into(),
            days: days.clone(),
        }];
        let r = &analyse(&all, FROM, to(), leak(), &Rule::default())[0];
        assert_eq!(r.spike_days, [d(32)]);
        assert!(close(r.total_since, 18.0) && close(r.since, 3.6));
        assert_eq!((r.baseline, r.peak, r.peak_day), (3.0, 12.0, Some(d(32))));
        for x in [
            r.baseline,
            r.since,
            r.delta,
            r.total_since,
            r.peak,
            r.threshold,
        ] {
            assert!(x.is_finite());
        }
        assert_eq!(
            analyse_total(&days, FROM, to(), leak(), &Rule::default()).key,
            "total"
        );
        // A nonsensical rule flags nothing rather than panicking.
        let nan = Rule {
            k: f64::NAN,
            floor: f64::NAN,
            ratio: f64::NAN,
            min_baseline_days: 7,
        };
        assert!(!analyse(&all, FROM, to(), leak(), &nan)[0].spike);
    }

    #[test]
    fn describe_quotes_the_parameters() {
        let text = describe(&Rule::default()).join("\n");
        for part in [
            "+ 5 ×",
            "MAD × 1.4826",
            "5% of the median",
            "USD 10.00",
            "1.5 ×",
            "last 7 days",
            "Fewer than 7 days",
            "1 cent",
        ] {
            assert!(text.contains(part), "{part:?} in\n{text}");
        }
        let custom = Rule {
            k: 4.0,
            floor: 25.5,
            ratio: 2.0,
            min_baseline_days: 10,
        };
        let text = describe(&custom).join("\n");
        for part in ["+ 4 ×", "USD 25.50", "2 ×", "Fewer than 10 days"] {
            assert!(text.contains(part), "{part:?} in\n{text}");
        }
    }

    fn arb_amount() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => -50.0f64..5_000.0,
            1 => Just(0.0),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => any::<f64>(),
        ]
    }

    fn arb_series() -> impl Strategy<Value = Series> {
        (
            "[ab]{0,2}",
            prop::collection::vec((-20i64..70, arb_amount()), 0..40),
        )
            .prop_map(|(key, days)| Series {
                key,
                days: days.into_iter().map(|(i, a)| day(i, a)).collect(),
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn analyse_never_panics_and_stays_in_the_window(
            all in prop::collection::vec(arb_series(), 0..6),
            from in -10i64..40,
            len in -5i64..60,
            leak in prop::option::of(-20i64..80),
            k in prop_oneof![0.0f64..10.0, Just(f64::NAN)],
            floor in prop_oneof![0.0f64..100.0, Just(f64::NAN)],
            ratio in 0.0f64..3.0,
            min_baseline_days in 0usize..20,
        ) {
            let rule = Rule { k, floor, ratio, min_baseline_days };
            let (from, to, leak) = (d(from), d(from + len), leak.map(d));
            let rows = analyse(&all, from, to, leak, &rule);
            let mut distinct: Vec<&str> = all.iter().map(|s| s.key.as_str()).collect();
            distinct.sort();
            distinct.dedup();
            prop_assert_eq!(rows.len(), distinct.len());
            let check = |r: &Row| -> Result<(), TestCaseError> {
                prop_assert_eq!(r.spike, !r.spike_days.is_empty());
                prop_assert!(r.spike_days.windows(2).all(|w| w[0] < w[1]));
                for &day in r.spike_days.iter().chain(&r.peak_day) {
                    prop_assert!(from <= day && day < to, "{} outside {}..{}", day, from, to);
                    if let Some(leak) = leak {
                        prop_assert!(day >= leak, "{} before the leak {}", day, leak);
                    }
                }
                Ok(())
            };
            for r in &rows {
                check(r)?;
            }
            for w in rows.windows(2) {
                let (a, b) = (order(w[0].delta), order(w[1].delta));
                prop_assert!(a > b || (a == b && w[0].key < w[1].key), "{:?} before {:?}", w[0], w[1]);
            }
            let days: Vec<Day> = all.iter().flat_map(|s| s.days.clone()).collect();
            check(&analyse_total(&days, from, to, leak, &rule))?;
        }
    }
}
