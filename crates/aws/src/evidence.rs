//! Evidence before eradication: reads what a preservation step keeps of a resource (a
//! [`Keep`]) into core types. Writing it to disk is the runtime's.

use keyspill_core::resources::ResourceRef;
use keyspill_core::resources::evidence::{Keep, Kept};

use crate::{Aws, AwsError};

/// Keeps `what` of `target`: snapshots started in AWS, files read into memory. `incident` is
/// the incident's id, the value of the snapshots' incident tag.
pub async fn keep(
    _aws: &Aws,
    target: &ResourceRef,
    what: &Keep,
    _incident: &str,
) -> Result<Kept, AwsError> {
    Err(AwsError::other(format!(
        "keeping \"{what}\" of {target} is not built yet"
    )))
}
