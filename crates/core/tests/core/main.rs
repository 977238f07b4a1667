//! The pure core's tests, in one binary that builds without the AWS SDK or an async runtime:
//! flows through `update` with synthetic keys, `insta` snapshots of every screen on a
//! `TestBackend`, the timeline's parsing of real CloudTrail data, and the report.

mod fixture;
mod screen;

mod access_flow;
mod access_model;
mod authz_eval;
mod checklist_flow;
mod checklist_ui;
mod contrast;
mod copy_flow;
mod cost_ui;
mod detect_flow;
mod evidence_flow;
mod flows;
mod members_flow;
mod perms_flow;
mod report;
mod resources_flow;
mod resources_ui;
mod room;
mod routing;
mod secrets;
mod timeline_data;
mod timeline_shapes;
mod timeline_tab;
mod times_flow;
mod ui_snapshots;
