//! Writes the scenario fixture images, `scenarios/images/*.png`, from the table below.
//!
//! Run from the repository root: `cargo run --example fixtures`. Each image is a small
//! grey PNG whose `tEXt` chunk declares the faces it shows (see `rekcon::image`), so the
//! reference model and the built-in emulator know who is in it without a face detector.
//! The output is deterministic: re-running rewrites byte-identical files.

use std::path::{Path, PathBuf};

use rekcon::image::{BoundingBox, ImageFace, fixture_png};

/// One face: person and box (`left, top, width, height`, ratios of the image size).
type Face = (&'static str, [f64; 4]);

/// The single-face and group fixtures: name, faces (any order; IndexFaces sorts by size).
const TABLE: &[(&str, &[Face])] = &[
    ("alice-1", &[("alice", [0.25, 0.20, 0.50, 0.60])]),
    ("alice-2", &[("alice", [0.20, 0.15, 0.55, 0.65])]),
    ("alice-3", &[("alice", [0.30, 0.25, 0.40, 0.50])]),
    ("alice-4", &[("alice", [0.22, 0.18, 0.48, 0.58])]),
    ("bob-1", &[("bob", [0.25, 0.20, 0.50, 0.60])]),
    ("bob-2", &[("bob", [0.28, 0.22, 0.45, 0.55])]),
    ("carol-1", &[("carol", [0.25, 0.20, 0.50, 0.60])]),
    ("carol-2", &[("carol", [0.27, 0.21, 0.46, 0.57])]),
    ("dave-1", &[("dave", [0.25, 0.20, 0.50, 0.60])]),
    ("alice-twin-1", &[("alice~twin", [0.25, 0.20, 0.50, 0.60])]),
    ("group-alice-bob", &[("alice", [0.05, 0.10, 0.40, 0.50]), ("bob", [0.60, 0.20, 0.25, 0.30])]),
    (
        "group-three",
        &[
            ("alice", [0.02, 0.10, 0.30, 0.40]),
            ("bob", [0.36, 0.12, 0.26, 0.34]),
            ("carol", [0.68, 0.15, 0.22, 0.28]),
        ],
    ),
    ("no-face", &[]),
];

/// Images of `count` distinct faces of one person, each in its own box on a grid, so
/// that IndexFaces stores `count` faces from one call.
const MANY: &[(&str, &str, usize, usize)] = &[
    // name, person, faces, grid offset (so the two 50-face images never share a box)
    ("alice-many-50", "alice", 50, 0),
    ("alice-many-50b", "alice", 50, 50),
    ("alice-many-49", "alice", 49, 100),
];

/// `count` boxes on a 10×15 grid of cells, starting at cell `offset`; later cells are
/// a little smaller so every box is distinct and the size order is stable.
fn grid(person: &str, count: usize, offset: usize) -> Vec<ImageFace> {
    const COLUMNS: usize = 10;
    const ROWS: usize = 15;
    (0..count)
        .map(|i| {
            let cell = offset + i;
            assert!(cell < COLUMNS * ROWS, "grid too small for {count} faces at {offset}");
            let (col, row) = (cell % COLUMNS, cell / COLUMNS);
            let shrink = 0.0001 * cell as f64;
            let side = 0.06 - shrink;
            ImageFace {
                person: person.to_string(),
                bounding_box: BoundingBox {
                    left: round(col as f64 * 0.1 + 0.01),
                    top: round(row as f64 * (1.0 / ROWS as f64) + 0.002),
                    width: round(side),
                    height: round(side),
                },
            }
        })
        .collect()
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn faces(spec: &[Face]) -> Vec<ImageFace> {
    spec.iter()
        .map(|(person, [left, top, width, height])| ImageFace {
            person: (*person).to_string(),
            bounding_box: BoundingBox { left: *left, top: *top, width: *width, height: *height },
        })
        .collect()
}

fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join("images")
}

fn main() -> std::io::Result<()> {
    let dir = out_dir();
    std::fs::create_dir_all(&dir)?;
    let mut written = Vec::new();
    for (name, spec) in TABLE {
        written.push((name.to_string(), fixture_png(&faces(spec))));
    }
    for (name, person, count, offset) in MANY {
        written.push((name.to_string(), fixture_png(&grid(person, *count, *offset))));
    }
    for (name, png) in &written {
        // Every fixture must declare exactly what the table says, and be distinct.
        let declared = rekcon::image::faces_in(png);
        let expected = TABLE
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, spec)| spec.len())
            .or_else(|| MANY.iter().find(|(n, ..)| n == name).map(|(_, _, count, _)| *count))
            .unwrap_or_default();
        assert_eq!(declared.len(), expected, "{name}: declared faces do not round-trip");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        println!("{} ({} faces, {} bytes)", path.display(), declared.len(), png.len());
    }
    let digests: std::collections::BTreeSet<String> =
        written.iter().map(|(_, png)| rekcon::image::digest(png)).collect();
    assert_eq!(digests.len(), written.len(), "two fixtures have the same bytes");
    Ok(())
}
