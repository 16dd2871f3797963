//! The local object store: a folder standing for the landing bucket, a key being a path under
//! it. One store for the CLI's demo (the samples folder), the handler tests and local runs of the
//! binaries; `ingest::ObjectFile` reads a file from it as from S3.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use remit_domain::ports::{Destination, ObjectError, ObjectRef, Objects};

fn unavailable(key: &str, e: std::io::Error) -> ObjectError {
    ObjectError::Unavailable(format!("{key}: {e}"))
}

/// A local folder standing for the bucket: a key is a path under it. Buckets, versions and tags
/// are not kept (an `ObjectRef`'s bucket and version are ignored). For tests and local runs of the binaries.
#[derive(Clone, Debug)]
pub struct LocalObjects {
    root: PathBuf,
}

/// Read buffer over a local file: large enough that syscalls do not dominate.
const BUFFER: usize = 256 * 1024;

impl LocalObjects {
    /// The folder `root` (created when missing).
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of `key`, refusing keys that would leave the folder.
    pub fn path(&self, key: &str) -> Result<PathBuf, ObjectError> {
        let bad = key.is_empty()
            || key.starts_with('/')
            || key.split('/').any(|part| part == ".." || part == ".")
            || key.contains('\\');
        if bad {
            return Err(ObjectError::Invalid {
                key: key.to_string(),
                detail: "not a key under the folder".into(),
            });
        }
        Ok(self.root.join(key))
    }

    /// Writes an object (tests: a bank dropping a file).
    pub fn put(&self, key: &str, body: &[u8]) -> Result<(), ObjectError> {
        let path = self.path(key)?;
        create_parent(&path, key)?;
        fs::write(&path, body).map_err(|e| unavailable(key, e))
    }

    fn open_file(&self, key: &str) -> Result<File, ObjectError> {
        File::open(self.path(key)?).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ObjectError::NotFound(key.to_string()),
            _ => unavailable(key, e),
        })
    }
}

fn create_parent(path: &Path, key: &str) -> Result<(), ObjectError> {
    match path.parent() {
        Some(dir) => fs::create_dir_all(dir).map_err(|e| unavailable(key, e)),
        None => Ok(()),
    }
}

impl Objects for LocalObjects {
    fn open(&self, object: &ObjectRef) -> Result<Box<dyn BufRead + Send>, ObjectError> {
        Ok(Box::new(BufReader::with_capacity(BUFFER, self.open_file(&object.key)?)))
    }

    fn move_to(&self, object: &ObjectRef, to: &Destination) -> Result<String, ObjectError> {
        let to_key = format!("{}{}", to.prefix(), object.key);
        let (from, to) = (self.path(&object.key)?, self.path(&to_key)?);
        create_parent(&to, &to_key)?;
        match fs::rename(&from, &to) {
            Ok(()) => Ok(to_key),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && to.exists() => Ok(to_key),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(ObjectError::NotFound(object.key.clone()))
            }
            Err(e) => Err(unavailable(&object.key, e)),
        }
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectError> {
        match fs::read(self.path(key)?) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(unavailable(key, e)),
        }
    }

    fn put_if_absent(&self, key: &str, body: &[u8]) -> Result<bool, ObjectError> {
        let path = self.path(key)?;
        create_parent(&path, key)?;
        // Written aside and linked into place: a reader never sees half an object, and the
        // link fails when the key exists, as S3's conditional put does.
        let tmp =
            path.with_extension(format!("tmp-{}-{:?}", std::process::id(), std::thread::current().id()));
        let mut f =
            OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(|e| unavailable(key, e))?;
        f.write_all(body).map_err(|e| unavailable(key, e))?;
        drop(f);
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(unavailable(key, e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, ObjectError> {
        let mut keys = Vec::new();
        let mut dirs = vec![self.root.clone()];
        while let Some(d) = dirs.pop() {
            let rd = match fs::read_dir(&d) {
                Ok(rd) => rd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(unavailable(prefix, e)),
            };
            for entry in rd {
                let path = entry.map_err(|e| unavailable(prefix, e))?.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let Ok(rel) = path.strip_prefix(&self.root) else { continue };
                let key = rel.to_string_lossy().replace('\\', "/");
                if key.starts_with(prefix) && !key.contains(".tmp-") {
                    keys.push(key);
                }
            }
        }
        keys.sort();
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use remit_domain::FileId;
    use std::io::Read;

    #[test]
    fn a_local_folder_behaves_as_the_bucket_the_handlers_expect() {
        let dir = tempfile::tempdir().unwrap();
        let o = LocalObjects::new(dir.path()).unwrap();
        o.put("ca/cpa005/a b.txt", b"hello").unwrap();
        let obj = ObjectRef::new("landing", "ca/cpa005/a b.txt");
        let done = Destination::Processed { file_id: FileId::of_bytes(b"hello") };
        let mut hello = Vec::new();
        o.open(&obj).unwrap().read_to_end(&mut hello).unwrap();
        assert_eq!(hello, b"hello");

        assert!(o.put_if_absent("manifests/x/chunk-0.json", b"1").unwrap());
        assert!(!o.put_if_absent("manifests/x/chunk-0.json", b"2").unwrap());
        assert_eq!(o.get("manifests/x/chunk-0.json").unwrap().unwrap(), b"1");
        assert_eq!(o.get("manifests/x/none.json").unwrap(), None);
        assert_eq!(o.list("manifests/x/").unwrap(), vec!["manifests/x/chunk-0.json".to_string()]);

        assert_eq!(o.move_to(&obj, &done).unwrap(), "processed/ca/cpa005/a b.txt");
        // Moving again: the source is gone and the destination is there.
        assert_eq!(o.move_to(&obj, &done).unwrap(), "processed/ca/cpa005/a b.txt");
        assert!(matches!(o.open(&obj), Err(ObjectError::NotFound(_))));
        assert!(matches!(
            o.move_to(&ObjectRef::new("landing", "none"), &done),
            Err(ObjectError::NotFound(_))
        ));
    }

    #[test]
    fn keys_that_leave_the_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let o = LocalObjects::new(dir.path()).unwrap();
        for key in ["../x", "/etc/passwd", "a/../../b", "", "a\\b"] {
            assert!(matches!(o.get(key), Err(ObjectError::Invalid { .. })), "{key}");
        }
    }
}
