//! Builds the standard suite into the binary: every regular file under `scenarios/`
//! (scenarios, fixture images, their README) becomes one entry of `$OUT_DIR/suite.rs`,
//! a sorted table of relative paths and `include_bytes!`, read by `src/suite.rs`.
//! No dependency is needed for that, and cargo reruns this script whenever a file under
//! `scenarios/` is added, removed or changed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.join("scenarios");
    println!("cargo:rerun-if-changed=scenarios");
    let mut files = Vec::new();
    if root.is_dir() {
        walk(&root, &root, &mut files);
    } else {
        println!("cargo:warning=no scenarios/ folder: the built-in suite is empty");
    }
    files.sort();
    let mut out =
        String::from("/// The built-in suite: (path relative to scenarios/, contents), sorted by path.\n");
    out.push_str("pub static FILES: &[(&str, &[u8])] = &[\n");
    for (relative, absolute) in &files {
        // Debug formatting of a str is a valid Rust string literal.
        let _ = writeln!(out, "    ({relative:?}, include_bytes!({absolute:?})),");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("suite.rs"), out).expect("OUT_DIR is writable");
}

/// Collects the regular files below `dir` as (`/`-separated path relative to `root`,
/// absolute path). Symbolic links and names that are not UTF-8 are skipped with a warning.
fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            println!("cargo:warning=cannot read {}: {e}", dir.display());
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            walk(root, &path, files);
        } else if kind.is_file() {
            let relative = path.strip_prefix(root).ok().and_then(|r| {
                r.components()
                    .map(|c| c.as_os_str().to_str())
                    .collect::<Option<Vec<&str>>>()
                    .map(|parts| parts.join("/"))
            });
            match (relative, path.to_str()) {
                (Some(relative), Some(absolute)) => files.push((relative, absolute.to_string())),
                _ => println!("cargo:warning=skipped {} (not UTF-8)", path.display()),
            }
        } else {
            println!("cargo:warning=skipped {} (a link or special file)", path.display());
        }
    }
}
