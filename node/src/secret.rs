//! Secrets mounted as files: the client token, the Stripe API key, the proxy password and the
//! Redis password. One type reads them all, with one rule for each concern:
//!
//! - Trim: whitespace around the value is not part of it (a trailing newline from `echo` or an
//!   editor is the usual case), and a file that is empty once trimmed is refused.
//! - Reload: [`SecretFile::current`] looks at the file (one `stat`) on every call and reads it
//!   again when its modification time, size or inode changed, so a rotated Secret is in effect
//!   for the very next call. Kubernetes swaps a mounted Secret atomically (a symlink), which a
//!   `stat` cannot miss; it costs a few microseconds, little next to a request. A file that is
//!   unreadable or empty after a change keeps the last good value (a rotation caught half-way),
//!   with one warning per bad state.
//! - Redaction: every value read becomes a [`Secret`], which registers itself with redact.rs.
//!
//! The client token and the API key are read through [`SecretFile::current`] on every use, so
//! they follow rotations. The proxy and Redis passwords are read once at start-up: the operator
//! rolls the nodes when the proxy password changes, and an open Redis connection stays
//! authenticated.

use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

/// A secret value. Making one registers it with the log redaction, so no log line shows it, and
/// its `Debug` never prints it. Written here rather than taken from the `secrecy` crate because
/// the registration is the point; `secrecy`'s zeroizing would buy nothing while redaction keeps a
/// copy of every secret to look for.
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        let value: String = value.into();
        crate::redact::register_secret(&value);
        Self(value.into())
    }

    /// The value itself, for the one place that sends it (a header, a digest, a Redis AUTH).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// A secret in a mounted file, re-read when the file changes (see the module's rules).
pub struct SecretFile {
    /// The flag that named the file, for errors and logs (`--stripe-api-key-file`).
    flag: &'static str,
    path: PathBuf,
    state: RwLock<State>,
}

struct State {
    value: Secret,
    /// The file as it was when `value` was read.
    stamp: Option<Stamp>,
    /// The file as it was when a read failed, so a bad state is warned about and read once.
    rejected: Option<Option<Stamp>>,
}

impl State {
    fn is_current(&self, stamp: Option<Stamp>) -> bool {
        self.stamp == stamp || self.rejected == Some(stamp)
    }
}

/// What tells a changed file from the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl SecretFile {
    /// Reads the file now; a missing, unreadable or empty file is an error naming `flag`, the
    /// path and the reason, never the value.
    pub fn open(flag: &'static str, path: &Path) -> anyhow::Result<Self> {
        let stamp = stamp(path);
        let value =
            read(path).map_err(|reason| anyhow::anyhow!("{flag} {}: {reason}", path.display()))?;
        Ok(Self {
            flag,
            path: path.to_path_buf(),
            state: RwLock::new(State {
                value,
                stamp,
                rejected: None,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value now: the file's, read again if it changed since the last call.
    pub fn current(&self) -> Secret {
        let now = stamp(&self.path);
        {
            let state = self.state.read().unwrap_or_else(|p| p.into_inner());
            if state.is_current(now) {
                return state.value.clone();
            }
        }
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        if state.is_current(now) {
            return state.value.clone();
        }
        match read(&self.path) {
            Ok(value) => {
                state.value = value;
                state.stamp = now;
                state.rejected = None;
                tracing::info!(flag = self.flag, file = %self.path.display(),
                    "secret file changed; the new value is in effect");
            }
            Err(reason) => {
                state.rejected = Some(now);
                tracing::warn!(flag = self.flag, file = %self.path.display(), %reason,
                    "secret file changed but is unusable; keeping the last value");
            }
        }
        state.value.clone()
    }
}

fn stamp(path: &Path) -> Option<Stamp> {
    let metadata = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: metadata.modified().ok(),
        len: metadata.len(),
        inode: metadata.ino(),
    })
}

/// The trim rule: surrounding whitespace goes, and nothing left is an error.
fn read(path: &Path) -> Result<Secret, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let value = text.trim();
    if value.is_empty() {
        return Err("the file is empty".into());
    }
    Ok(Secret::new(value))
}

/// A secret file in a temporary folder for tests, rotated as Kubernetes rotates a mounted
/// Secret: a new file renamed over the old one.
#[cfg(test)]
pub(crate) struct MountedFile {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

#[cfg(test)]
impl MountedFile {
    /// A path where no file is yet.
    pub fn missing() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        Self { _dir: dir, path }
    }

    pub fn new(content: &str) -> Self {
        let file = Self::missing();
        std::fs::write(&file.path, content).unwrap();
        file
    }

    pub fn rotate(&self, content: &str) {
        let staged = self.path.with_extension("new");
        std::fs::write(&staged, content).unwrap();
        std::fs::rename(&staged, &self.path).unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_the_value_and_follows_changes_at_once() {
        let mounted = MountedFile::new("  first-value\n");
        let file = SecretFile::open("--some-file", &mounted.path).unwrap();
        assert_eq!(file.current().expose(), "first-value");
        mounted.rotate("second-value");
        assert_eq!(file.current().expose(), "second-value");
    }

    #[test]
    fn an_unusable_change_keeps_the_last_value_until_the_file_is_good_again() {
        let mounted = MountedFile::new("good-value");
        let file = SecretFile::open("--some-file", &mounted.path).unwrap();
        // Emptied in place, as a write caught half-way would leave it.
        std::fs::write(&mounted.path, " \n").unwrap();
        assert_eq!(file.current().expose(), "good-value");
        std::fs::remove_file(&mounted.path).unwrap();
        assert_eq!(file.current().expose(), "good-value");
        mounted.rotate("next-value");
        assert_eq!(file.current().expose(), "next-value");
    }

    #[test]
    fn a_missing_or_empty_file_is_an_error_naming_the_flag_and_the_reason() {
        let error = |mounted: &MountedFile| {
            let error = SecretFile::open("--some-file", &mounted.path)
                .err()
                .unwrap();
            error.to_string()
        };
        let missing = error(&MountedFile::missing());
        assert!(
            missing.starts_with("--some-file ") && missing.contains("cannot read"),
            "{missing}"
        );
        let empty = error(&MountedFile::new("\t\n"));
        assert!(empty.ends_with(": the file is empty"), "{empty}");
    }

    #[test]
    fn a_secret_is_redacted_from_logs_and_never_debug_printed() {
        let secret = Secret::new("a-registered-secret-value");
        assert_eq!(format!("{secret:?}"), "Secret([REDACTED])");
        let line = crate::redact::redact_text("value=a-registered-secret-value;");
        assert_eq!(line, "value=[REDACTED];");
    }
}
