//! The Cost tab's domain: daily spend, its own spike detection, AWS's anomalies. Pure.

pub mod detect;
pub mod model;
