//! keyspill's pure core: the program's picture of an incident and everything that can be
//! decided without a network, a runtime or a terminal. State and `update(state, msg) ->
//! effects` (`app`), rendering as a function of state (`ui`), the timeline's parsing, risk
//! rules, chains and store, the resources' model, attribution and removal plans, cost spike
//! detection, the checklist, the journal's format and the report.
//!
//! This crate names no AWS SDK type and depends on no async runtime: `cargo tree -p
//! keyspill-core` shows neither, and the adapters (`keyspill-aws`) are the only place that
//! translates between AWS and these types.

pub mod access;
pub mod app;
pub mod checklist;
pub mod cost;
pub mod detect;
pub mod domain;
pub mod failure;
pub mod fmt;
pub mod journal;
pub mod report;
pub mod resources;
pub mod timeline;
pub mod ui;
