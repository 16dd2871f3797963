//! The object store the handlers read files from and keep manifests in (the domain's `Objects`
//! port; its S3 adapter is `remit_aws::S3Objects`, its local one `remit::objects::LocalObjects`):
//! the JSON helpers over it. Keys are `/`-separated as in S3.

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use remit_domain::ports::{
    Destination, ObjectError, ObjectRef, Objects, PROCESSED_PREFIX as PROCESSED,
    QUARANTINE_PREFIX as QUARANTINE,
};

/// Manifests and chunk summaries of split files.
pub const MANIFESTS: &str = "manifests/";

/// A small JSON object, `None` when there is none.
pub fn get_json<O: Objects + ?Sized, T: DeserializeOwned>(
    objects: &O,
    key: &str,
) -> Result<Option<T>, ObjectError> {
    let Some(bytes) = objects.get(key)? else { return Ok(None) };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| ObjectError::Invalid { key: key.to_string(), detail: e.to_string() })
}

/// Writes `value` as JSON at `key` unless an object is there; returns the object that stays
/// (this one, or the one written first).
pub fn put_json_if_absent<O, T>(objects: &O, key: &str, value: T) -> Result<T, ObjectError>
where
    O: Objects + ?Sized,
    T: Serialize + DeserializeOwned,
{
    let body = serde_json::to_vec(&value)
        .map_err(|e| ObjectError::Invalid { key: key.to_string(), detail: e.to_string() })?;
    if objects.put_if_absent(key, &body)? {
        return Ok(value);
    }
    get_json(objects, key)?.ok_or_else(|| ObjectError::NotFound(key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use remit::objects::LocalObjects;

    #[test]
    fn the_first_json_written_stays() {
        let dir = tempfile::tempdir().unwrap();
        let o = LocalObjects::new(dir.path()).unwrap();
        assert_eq!(put_json_if_absent(&o, "m/a.json", 1u32).unwrap(), 1);
        assert_eq!(put_json_if_absent(&o, "m/a.json", 2u32).unwrap(), 1);
        assert_eq!(get_json::<_, u32>(&o, "m/a.json").unwrap(), Some(1));
    }
}
