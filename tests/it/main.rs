//! Integration tests, in one binary: the real SDK against a private moto server per test
//! (started from the project's virtualenv; missing moto fails, never skips), the in-test
//! wire-protocol servers for what moto lacks, and the binary end to end under tmux.

#[path = "support/ce_server.rs"]
mod ce_server;
mod common;
#[path = "support/http.rs"]
mod http;
#[path = "support/iam_server.rs"]
mod iam_server;
#[path = "support/lookup_server.rs"]
mod lookup_server;

mod access_moto;
mod accounts_moto;
mod cost_sources;
mod detect_sources;
mod e2e_accounts;
mod e2e_clipboard;
mod e2e_cost_checklist;
mod e2e_crash;
mod e2e_evidence;
mod e2e_gameday;
mod e2e_resources;
mod e2e_tmux;
mod e2e_war_room;
mod evidence_moto;
mod footholds_accounts;
mod footholds_headless;
mod gameday;
mod gameday_data;
mod gameday_lambda;
mod gameday_trust;
mod moto_keys;
mod report_cli;
mod resources_moto;
mod simulate;
mod timeline_athena;
mod timeline_collect;
mod timeline_headless;
mod timeline_sources;
