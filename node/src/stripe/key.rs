use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use crate::error::{ApiError, Code};

/// The API key from a mounted Secret file, re-read whenever the file's modification time changes
/// (Kubernetes swaps the file when the Secret is rotated). One `stat` per call is cheaper than a
/// file watcher and cannot miss the atomic symlink swap Kubernetes does.
pub struct ApiKeyFile {
    path: PathBuf,
    cached: RwLock<Option<(SystemTime, String)>>,
}

const PREFIXES: [&str; 4] = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"];

impl ApiKeyFile {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            cached: RwLock::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads and checks the key once; the error names the file, never the key.
    pub fn validate(&self) -> anyhow::Result<()> {
        let key = std::fs::read_to_string(&self.path).map_err(|e| {
            anyhow::anyhow!(
                "--stripe-api-key-file {}: cannot read: {e}",
                self.path.display()
            )
        })?;
        if !well_formed(key.trim()) {
            anyhow::bail!(
                "--stripe-api-key-file {}: not a Stripe secret key (expected sk_test_..., sk_live_..., rk_test_... or rk_live_...)",
                self.path.display()
            );
        }
        Ok(())
    }

    /// The current key, re-read when the file changed.
    pub fn get(&self) -> Result<String, ApiError> {
        let unreadable = |e: std::io::Error| {
            ApiError::new(
                Code::Internal,
                format!("cannot read the API key file {}: {e}", self.path.display()),
            )
        };
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .map_err(unreadable)?;
        if let Some((at, key)) = self
            .cached
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            && *at == modified
        {
            return Ok(key.clone());
        }
        let key = std::fs::read_to_string(&self.path)
            .map_err(unreadable)?
            .trim()
            .to_string();
        *self.cached.write().unwrap_or_else(|p| p.into_inner()) = Some((modified, key.clone()));
        Ok(key)
    }
}

fn well_formed(key: &str) -> bool {
    PREFIXES
        .iter()
        .any(|p| key.starts_with(p) && key.len() > p.len())
        && !key.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn re_reads_the_key_when_the_file_changes() {
        let dir = std::env::temp_dir().join(format!("keyfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        std::fs::write(&path, "sk_test_one\n").unwrap();
        let file = ApiKeyFile::new(path.clone());
        file.validate().unwrap();
        assert_eq!(file.get().unwrap(), "sk_test_one");
        std::fs::write(&path, "sk_test_two").unwrap();
        // Make sure the modification time moves even on coarse-grained file systems.
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_eq!(file.get().unwrap(), "sk_test_two");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_malformed_key_is_a_clear_error_without_the_key() {
        let dir = std::env::temp_dir().join(format!("keyfile-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        std::fs::write(&path, "pk_test_secretish").unwrap();
        let err = ApiKeyFile::new(path).validate().unwrap_err().to_string();
        assert!(err.contains("not a Stripe secret key"), "{err}");
        assert!(!err.contains("secretish"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
