//! The Resources tab's domain: what exists in the account, who made it, and how to remove it
//! in an order nothing respawns from. Pure: the AWS adapter is `keyspill_aws::resources`.

pub mod action;
pub mod attribute;
pub mod evidence;
pub mod kind;
pub mod model;
pub mod plan;

pub use action::Action;
pub use kind::{Creation, Facts, RemovalRule};
pub use model::{
    CellState, GLOBAL, Kind, Parts, RegionSweep, Resource, ResourceRef, RoleParts, Sharing,
    UserParts,
};
