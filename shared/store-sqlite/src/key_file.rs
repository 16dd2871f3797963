//! The local card key (issue 15): the secret the directory's tokens are made with, in a file
//! beside the database, created with mode 0600 on first use. On AWS the secret is an SSM
//! SecureString instead (`remit-aws`); rotation is described in the README ("Card data").

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use remit_domain::ports::StoreError;
use remit_domain::CardKey;

/// The key file's name inside the data directory.
pub const KEY_FILE: &str = "card.key";

/// Reads the key at `path`, or creates it when absent and `may_create` (a store that holds no
/// account yet: a lost key must not be silently replaced under tokens made with it).
pub fn load_or_create(path: &Path, may_create: bool) -> Result<CardKey, StoreError> {
    let shown = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match fs::read_to_string(path) {
        Ok(text) => {
            check_private(path, &shown)?;
            let secret = hex::decode(text.trim())
                .map_err(|_| StoreError::Corrupt(format!("card key file {shown}: not hex")))?;
            CardKey::from_secret(&secret)
                .map_err(|e| StoreError::Corrupt(format!("card key file {shown}: {e}")))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !may_create {
                return Err(StoreError::Corrupt(format!(
                    "card key file {shown} is missing but the store holds accounts tokenised with it: \
                     restore the key, or delete the data directory and load the directory again"
                )));
            }
            let secret = CardKey::generate_secret().map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut f = options
                .open(path)
                .map_err(|e| StoreError::Unavailable(format!("cannot create card key file {shown}: {e}")))?;
            writeln!(f, "{}", hex::encode(secret))
                .and_then(|()| f.sync_all())
                .map_err(|e| StoreError::Unavailable(format!("cannot write card key file {shown}: {e}")))?;
            CardKey::from_secret(&secret).map_err(|e| StoreError::Unavailable(e.to_string()))
        }
        Err(e) => Err(StoreError::Unavailable(format!("cannot read card key file {shown}: {e}"))),
    }
}

/// Refuses a key file others may read, as ssh refuses such a private key.
fn check_private(path: &Path, shown: &str) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)
            .map_err(|e| StoreError::Unavailable(format!("card key file {shown}: {e}")))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(StoreError::Corrupt(format!(
                "card key file {shown} is readable by others (mode {:o}): chmod 600 it",
                mode & 0o777
            )));
        }
    }
    let _ = (path, shown);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        load_or_create(&path, true).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        load_or_create(&path, false).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), text, "not replaced");
    }

    #[test]
    fn a_missing_key_under_existing_tokens_and_a_shared_key_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let e = load_or_create(&path, false).unwrap_err().to_string();
        assert!(e.contains("missing") && e.contains("restore the key"), "{e}");
        load_or_create(&path, true).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
            let e = load_or_create(&path, false).unwrap_err().to_string();
            assert!(e.contains("readable by others"), "{e}");
        }
    }
}
