//! The domain's `Objects` port on the S3 landing bucket, over `S3Files` (which makes the S3
//! calls): streamed reads pinned to the event's version, moves by copy and delete, manifests
//! written once with `If-None-Match: *`.

use std::io::BufRead;

use remit_domain::ports::{Destination, ObjectError, ObjectRef, Objects};

use crate::s3::{S3Error, S3Files};

/// The landing bucket. Blocks on the runtime `S3Files` was built with: call it from
/// `spawn_blocking`, as the handlers do.
#[derive(Clone, Debug)]
pub struct S3Objects {
    files: S3Files,
    bucket: String,
}

impl S3Objects {
    /// The bucket `bucket` through `files`. Manifests and chunk summaries live there; the objects
    /// events name carry their own bucket.
    pub fn new(files: S3Files, bucket: impl Into<String>) -> Self {
        Self { files, bucket: bucket.into() }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn object(&self, key: &str) -> ObjectRef {
        ObjectRef::new(&self.bucket, key)
    }
}

/// An S3 failure as the port's: a missing object is an answer, a refused key or range the
/// request's fault, anything else (throttling, a dropped body, a refusal) worth a retry.
fn port_error(key: &str, e: S3Error) -> ObjectError {
    match e {
        S3Error::NotFound { .. } => ObjectError::NotFound(key.to_string()),
        S3Error::BadKey { .. } | S3Error::BadRange { .. } | S3Error::RangeNotSatisfiable { .. } => {
            ObjectError::Invalid { key: key.to_string(), detail: e.to_string() }
        }
        S3Error::Request { .. } | S3Error::Read { .. } => ObjectError::Unavailable(e.to_string()),
    }
}

impl Objects for S3Objects {
    fn open(&self, object: &ObjectRef) -> Result<Box<dyn BufRead + Send>, ObjectError> {
        let reader = self.files.reader(object).map_err(|e| port_error(&object.key, e))?;
        Ok(Box::new(reader))
    }

    fn move_to(&self, object: &ObjectRef, to: &Destination) -> Result<String, ObjectError> {
        let moved = self.files.move_object(object, to).map_err(|e| port_error(&object.key, e))?;
        Ok(moved.key)
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError> {
        self.files.get_small(&self.object(key)).map_err(|e| port_error(key, e))
    }

    fn put_if_absent(&self, key: &str, body: &[u8]) -> Result<bool, ObjectError> {
        self.files.put_if_absent(&self.object(key), body).map_err(|e| port_error(key, e))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        let mut keys = self.files.list(&self.bucket, prefix).map_err(|e| port_error(prefix, e))?;
        // S3 lists in UTF-8 byte order already; sorted here too, as the port promises.
        keys.sort();
        Ok(keys)
    }
}
