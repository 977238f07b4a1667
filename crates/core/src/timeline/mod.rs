//! The CloudTrail timeline: what the leaked keys did, and everything they minted.

pub mod athena;
pub mod chain;
mod console_csv;
pub mod export;
pub mod files;
pub mod model;
pub mod parse;
pub mod prefilter;
pub mod progress;
pub mod risk;
mod siem;
pub mod store;

pub use model::{Event, Minted, Origin, Risk, Severity, Tactic};
