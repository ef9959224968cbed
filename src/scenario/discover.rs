//! Discovery: the scenario files under a root, each real folder visited once.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::LoadError;

use super::{EXTENSIONS, IMAGES_DIR};

/// A scenario file found under the root, not yet loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioFile {
    /// The scenario name (`users/x`).
    pub name: String,
    /// The file (`scenarios/users/x.yaml`).
    pub path: PathBuf,
}

/// Every scenario file below `root` (the `images/` folder and hidden folders aside),
/// sorted by name. See [`discover_all`] for symbolic links.
pub fn discover(root: &Path) -> Result<Vec<ScenarioFile>, LoadError> {
    discover_all(root).map(|found| found.files)
}

/// What [`discover_all`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// The scenario files, sorted by name.
    pub files: Vec<ScenarioFile>,
    /// Links to folders that were not followed, because the folder they lead to was
    /// searched already (a loop such as `loop -> ..`, or a second way to one folder).
    pub skipped: Vec<SkippedLink>,
}

/// A link to a folder that the search did not follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLink {
    /// The link, as found below the root.
    pub link: PathBuf,
    /// The folder it leads to.
    pub target: PathBuf,
}

impl fmt::Display for SkippedLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "skipped the link {}: it leads to {}, a folder already searched",
            self.link.display(),
            self.target.display()
        )
    }
}

/// [`discover`], also listing the links it skipped. Each real folder is searched once:
/// first the folders below `root` themselves, then the folders links lead to, each the
/// first time it is reached; a link to a folder searched already (a loop back up the
/// tree, or a second link to one folder) is skipped and listed.
pub fn discover_all(root: &Path) -> Result<Discovery, LoadError> {
    let mut walk =
        Walk { root, searched: HashSet::new(), links: VecDeque::new(), found: Discovery::default() };
    if let Ok(real) = root.canonicalize() {
        walk.searched.insert(real);
    }
    walk.folder(root)?;
    while let Some(link) = walk.links.pop_front() {
        // A link that no longer resolves cannot lead to a folder: nothing to search.
        let Ok(target) = link.canonicalize() else { continue };
        if walk.searched.insert(target.clone()) {
            walk.folder(&link)?;
        } else {
            walk.found.skipped.push(SkippedLink { link, target });
        }
    }
    walk.found.files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(walk.found)
}

/// The state of [`discover_all`].
struct Walk<'r> {
    root: &'r Path,
    /// Folders searched (or about to be), by their real path.
    searched: HashSet<PathBuf>,
    /// Links to folders, followed once the real folders are all searched.
    links: VecDeque<PathBuf>,
    found: Discovery,
}

impl Walk<'_> {
    fn folder(&mut self, dir: &Path) -> Result<(), LoadError> {
        let entries = std::fs::read_dir(dir).map_err(|e| LoadError {
            path: dir.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the scenarios folder: {e}"),
        })?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            // The suite's settlements file is read by the model, not run.
            if file_name.starts_with('.') || (dir == self.root && file_name == crate::settle::DEFAULT_FILE) {
                continue;
            }
            if path.is_dir() {
                if dir == self.root && file_name == IMAGES_DIR {
                    continue;
                }
                let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
                if is_link {
                    self.links.push_back(path);
                    continue;
                }
                // A real folder reached a second way (inside a linked folder that holds
                // one searched already) is not searched again.
                let real = path.canonicalize().unwrap_or_else(|_| path.clone());
                if self.searched.insert(real.clone()) {
                    self.folder(&path)?;
                } else {
                    self.found.skipped.push(SkippedLink { link: path, target: real });
                }
            } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e)) {
                self.found.files.push(ScenarioFile { name: scenario_name(self.root, &path), path });
            }
        }
        Ok(())
    }
}

/// The scenario name of `path`: relative to `root`, without extension, `/`-separated.
pub fn scenario_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let without_extension = relative.with_extension("");
    without_extension.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_searched_once_and_the_skipped_links_named() {
        use std::os::unix::fs::symlink;
        let base = std::env::temp_dir().join(format!("rekcon-links-{}", uuid::Uuid::new_v4().simple()));
        let (root, outside) = (base.join("root"), base.join("outside"));
        for dir in [root.join("a/deep"), root.join("b"), outside.clone()] {
            std::fs::create_dir_all(dir).expect("temp dir");
        }
        for file in [root.join("a/one.yaml"), root.join("a/deep/two.yaml"), outside.join("three.yaml")] {
            std::fs::write(file, "description: d\nsteps: []\n").expect("scenario file");
        }
        // Two loops back up the tree (once exponential), a second way to a/, and a link
        // to a folder outside the tree, which is searched once.
        symlink("..", root.join("a/loop")).expect("link");
        symlink("../..", root.join("a/deep/up")).expect("link");
        symlink("../a", root.join("b/again")).expect("link");
        symlink(&outside, root.join("shared")).expect("link");
        symlink(&outside, root.join("zz-shared-again")).expect("link");
        let found = discover_all(&root).expect("discovered");
        let names: Vec<&str> = found.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a/deep/two", "a/one", "shared/three"]);
        let mut skipped: Vec<String> = found
            .skipped
            .iter()
            .map(|s| s.link.strip_prefix(&root).expect("below the root").display().to_string())
            .collect();
        skipped.sort();
        assert_eq!(skipped, ["a/deep/up", "a/loop", "b/again", "zz-shared-again"]);
        let message = found.skipped[0].to_string();
        assert!(
            message.starts_with("skipped the link ") && message.contains("already searched"),
            "{message}"
        );
        let _ = std::fs::remove_dir_all(&base);
    }
}
