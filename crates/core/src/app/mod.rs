//! The pure core: state, messages, key handling and the update function.

pub mod access;
pub mod checklist;
pub mod copy;
pub mod cost;
pub mod cursor;
pub mod footer;
pub mod keymap;
pub mod keys;
pub mod msg;
pub mod perms;
pub mod plan;
pub mod resources;
pub mod secret;
pub mod state;
pub mod timeline;
pub mod times;
pub mod update;

pub use msg::{Effect, Msg};
pub use state::State;
pub use update::update;
