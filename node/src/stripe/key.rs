use std::path::Path;

use crate::secret::{Secret, SecretFile};

/// The Stripe API key from its mounted Secret file, re-read when the file changes (secret.rs).
pub struct ApiKeyFile {
    file: SecretFile,
}

const PREFIXES: [&str; 4] = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"];

impl ApiKeyFile {
    /// Reads and checks the key; the error names the file, never the key. Only start-up checks
    /// the key's shape: a rotated key goes to Stripe as it is, and Stripe's answer tells.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let file = SecretFile::open("--stripe-api-key-file", path)?;
        if !well_formed(file.current().expose()) {
            anyhow::bail!(
                "--stripe-api-key-file {}: not a Stripe secret key (expected sk_test_..., sk_live_..., rk_test_... or rk_live_...)",
                path.display()
            );
        }
        Ok(Self { file })
    }

    /// The current key.
    pub fn current(&self) -> Secret {
        self.file.current()
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
    use crate::secret::MountedFile;

    #[test]
    fn re_reads_the_key_when_the_file_changes() {
        let mounted = MountedFile::new("sk_test_one\n");
        let key = ApiKeyFile::open(&mounted.path).unwrap();
        assert_eq!(key.current().expose(), "sk_test_one");
        mounted.rotate("sk_test_two");
        assert_eq!(key.current().expose(), "sk_test_two");
        // Only start-up checks the shape: Stripe judges a rotated key.
        mounted.rotate("pk_test_rotated");
        assert_eq!(key.current().expose(), "pk_test_rotated");
    }

    #[test]
    fn a_malformed_key_is_a_clear_error_without_the_key() {
        let mounted = MountedFile::new("pk_test_secretish");
        let err = ApiKeyFile::open(&mounted.path).err().unwrap().to_string();
        assert!(err.contains("not a Stripe secret key"), "{err}");
        assert!(!err.contains("secretish"), "{err}");
    }
}
