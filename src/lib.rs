//! keyspill: a terminal incident console for the hour after an AWS access key leaks.
//!
//! The core (`app`) is pure: `update(state, msg) -> effects`. `ui` renders state, `aws` is the
//! only code that sees SDK types, `journal` is the append-only incident record, and `runtime`
//! wires them to the terminal, the pollers and the action executor.

pub mod app;
pub mod aws;
pub mod checklist;
pub mod cli;
pub mod cost;
pub mod domain;
pub mod fmt;
pub mod gameday;
pub mod headless;
pub mod journal;
pub mod report;
pub mod resources;
pub mod runtime;
pub mod timeline;
pub mod ui;
