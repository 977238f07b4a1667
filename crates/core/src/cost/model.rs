//! What the Cost tab knows: daily spend from Cost Explorer, in total and grouped by service
//! and by region, and AWS's own anomalies. The adapter (`keyspill_aws::cost`) fills these in.

use time::Date;

/// What one Cost Explorer request costs, in US dollars (every page is a request).
pub const USD_PER_REQUEST: f64 = 0.01;

/// How far back the anomaly query looks, in days before today.
pub const ANOMALY_WINDOW_DAYS: i64 = 90;

/// One day's unblended cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub date: Date,
    pub amount: f64,
    /// Cost Explorer marks days whose figures may still change.
    pub estimated: bool,
}

/// Daily cost of one group (a service or a region), day by day. Days without spend may be
/// missing: Cost Explorer leaves a group out of a day it had no cost on.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub key: String,
    pub days: Vec<Day>,
}

/// The figures of one refresh.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CostData {
    /// Every day of the window, oldest first (days Cost Explorer did not return are zero).
    pub total: Vec<Day>,
    pub by_service: Vec<Series>,
    pub by_region: Vec<Series>,
    /// ISO currency of the amounts (`USD`).
    pub unit: String,
}

/// One cause AWS names for an anomaly.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RootCause {
    pub service: Option<String>,
    pub region: Option<String>,
    pub usage_type: Option<String>,
    pub account: Option<String>,
}

/// An anomaly from `GetAnomalies`.
#[derive(Debug, Clone, PartialEq)]
pub struct Anomaly {
    pub id: String,
    pub start: Option<Date>,
    pub end: Option<Date>,
    /// Cost above what AWS expected, over the anomaly.
    pub impact: f64,
    pub max_impact: f64,
    pub score: Option<f64>,
    pub monitor: String,
    pub causes: Vec<RootCause>,
}

/// What `GetAnomalyMonitors` and `GetAnomalies` said.
#[derive(Debug, Clone, PartialEq)]
pub enum Anomalies {
    /// The account has no anomaly monitor: AWS's own detection is not running.
    NoMonitor,
    Found {
        monitors: Vec<String>,
        anomalies: Vec<Anomaly>,
    },
}
