//! The standard suite built into the binary (scenarios/ and its fixture images, by
//! `build.rs`), and the rule that picks the suite a command reads.
//!
//! Which suite, first match wins:
//! 1. `--scenarios DIR`: that folder.
//! 2. `./scenarios` when it is a folder (a checkout): the files on disk, so edits take
//!    effect without a rebuild.
//! 3. The built-in copy, written for the run to a private temporary folder that is
//!    removed afterwards.
//!
//! Reports name a built-in scenario by the path it would have in a checkout
//! (`scenarios/users/create_user.yaml`): `rekcon scenarios export scenarios` puts it there.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::Error;

mod files {
    include!(concat!(env!("OUT_DIR"), "/suite.rs"));
}

/// The folder a checkout's suite lives in, and how reports name the built-in one.
pub const DEFAULT_DIR: &str = "scenarios";

/// The built-in files: (path relative to the suite's root, `/`-separated; contents), sorted.
pub fn files() -> &'static [(&'static str, &'static [u8])] {
    files::FILES
}

/// The SHA-256 of the built-in suite (every path and its contents), in hex.
pub fn hash() -> String {
    let mut hasher = Sha256::new();
    for (path, bytes) in files() {
        hasher.update((path.len() as u64).to_le_bytes());
        hasher.update(path.as_bytes());
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    }
    hex::encode(hasher.finalize())
}

/// Where a command's scenarios come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A folder on disk (`--scenarios DIR`, or `./scenarios`).
    Dir(PathBuf),
    /// The suite built into the binary.
    BuiltIn,
}

impl Source {
    /// Applies the rule in the module docs to a `--scenarios` value.
    pub fn resolve(flag: Option<PathBuf>) -> Source {
        match flag {
            Some(dir) => Source::Dir(dir),
            None if Path::new(DEFAULT_DIR).is_dir() => Source::Dir(PathBuf::from(DEFAULT_DIR)),
            None => Source::BuiltIn,
        }
    }

    /// The folder on disk, if the suite is one.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Source::Dir(dir) => Some(dir),
            Source::BuiltIn => None,
        }
    }

    /// The suite for humans: its folder, or `the built-in suite`.
    pub fn describe(&self) -> String {
        match self {
            Source::Dir(dir) => dir.display().to_string(),
            Source::BuiltIn => format!("the built-in suite ({} files)", files().len()),
        }
    }
}

/// The built-in suite written out to a private temporary folder, removed on drop.
#[derive(Debug)]
pub struct Unpacked {
    base: PathBuf,
    root: PathBuf,
}

impl Unpacked {
    /// Writes the built-in suite to a new folder under the system's temporary folder.
    pub fn new() -> Result<Unpacked, Error> {
        let base = std::env::temp_dir().join(format!("rekcon-suite-{}", uuid::Uuid::new_v4().simple()));
        let root = base.join(DEFAULT_DIR);
        let unpacked = Unpacked { base, root };
        write_files(&unpacked.root)?;
        Ok(unpacked)
    }

    /// The unpacked suite's root (its `images/` holds the fixtures).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How a report names `path`, a file below [`Unpacked::root`]: as it would be in a
    /// checkout, `scenarios/<relative path>`; any other path unchanged.
    pub fn display_path(&self, path: &Path) -> PathBuf {
        match path.strip_prefix(&self.root) {
            Ok(relative) => Path::new(DEFAULT_DIR).join(relative),
            Err(_) => path.to_path_buf(),
        }
    }
}

impl Drop for Unpacked {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// `rekcon scenarios export DIR`: writes the built-in suite to `dir`, which must not exist
/// or be an empty folder (nothing is ever overwritten). Returns the number of files.
pub fn export(dir: &Path) -> Result<usize, Error> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map_err(|e| Error::Config(format!("cannot read {}: {e}", dir.display())))?
            .next()
            .is_none();
        if !empty {
            return Err(Error::Config(format!(
                "{} already exists and is not empty; export into a new folder (nothing is overwritten)",
                dir.display()
            )));
        }
    }
    write_files(dir)?;
    Ok(files().len())
}

fn write_files(root: &Path) -> Result<(), Error> {
    for (relative, bytes) in files() {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|source| Error::Write { path: parent.to_path_buf(), source })?;
        }
        std::fs::write(&path, bytes).map_err(|source| Error::Write { path, source })?;
    }
    Ok(())
}

/// `rekcon scenarios` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ScenariosCommand {
    /// Write the built-in suite (scenarios and fixture images) to DIR for editing; run it
    /// with `rekcon run --scenarios DIR`, or from DIR's parent when DIR is `scenarios`.
    Export {
        /// A folder that does not exist yet, or an empty one.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// Runs a `rekcon scenarios` subcommand; returns the exit code (0 done, 2 refused).
pub fn command(cmd: ScenariosCommand) -> u8 {
    match cmd {
        ScenariosCommand::Export { dir } => match export(&dir) {
            Ok(n) => {
                println!("wrote {n} files of the built-in suite (sha256 {}) to {}", hash(), dir.display());
                0
            }
            Err(e) => {
                eprintln!("rekcon scenarios export: {e}");
                2
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_suite_is_the_checkouts_scenarios_folder() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_DIR);
        for (relative, bytes) in files() {
            let on_disk = std::fs::read(root.join(relative)).expect("a built-in file is in scenarios/");
            assert_eq!(&on_disk[..], *bytes, "{relative}");
        }
        assert!(files().iter().any(|(p, _)| *p == "users/create_user.yaml"));
        assert!(files().iter().any(|(p, _)| *p == "images/alice-1.png"));
        assert_eq!(hash().len(), 64);
    }

    #[test]
    fn export_refuses_a_folder_with_files_and_unpacked_suites_are_removed() {
        let base = std::env::temp_dir().join(format!("rekcon-export-{}", uuid::Uuid::new_v4().simple()));
        assert_eq!(export(&base).expect("exports"), files().len());
        assert!(base.join("users/create_user.yaml").is_file());
        let err = export(&base).expect_err("not empty").to_string();
        assert!(err.contains("not empty"), "{err}");
        let _ = std::fs::remove_dir_all(&base);

        let unpacked = Unpacked::new().expect("unpacks");
        let file = unpacked.root().join("users/create_user.yaml");
        assert!(file.is_file());
        assert_eq!(unpacked.display_path(&file), Path::new("scenarios/users/create_user.yaml"));
        let root = unpacked.root().to_path_buf();
        drop(unpacked);
        assert!(!root.exists());
    }
}
