//! keyspill: a terminal incident console for the hour after an AWS access key leaks.
//!
//! The workspace's crates, bottom up:
//! - `keyspill-core`: the pure core (state, `update`, rendering, timeline, plans, journal,
//!   report); no AWS SDK type and no async runtime.
//! - `keyspill-aws`: the adapter, the only crate that names SDK types.
//! - `keyspill-gameday`: the emulator's side of the game day.
//! - this crate: the command line, the runtime that wires the core to the terminal, the
//!   pollers and the action executor, and the headless commands.

pub mod cli;
pub mod evidence_cmd;
pub mod footholds_cmd;
pub mod headless;
pub mod report_cmd;
pub mod runtime;
