//! The catalogue of real photos (`images/catalogue.yaml`): who each photo shows.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::LoadError;
use crate::image::{self, BoundingBox, Catalogue, ImageFace};

use super::load::string;
use super::suggest::did_you_mean;
use super::yaml::{Fail, Key, Node, NodeValue, Pos, check_printable, decode_utf8, parse_yaml, scalar_text};
use super::{CATALOGUE_FILE, IMAGE_EXTENSIONS, IMAGES_DIR};

/// Loads `root/images/catalogue.yaml`, which declares who the real photos in that folder
/// show, so the model can predict what real AWS detects in them:
///
/// ```yaml
/// alice-1.jpg: [alice]
/// group-alice-bob.jpg: [alice, bob]        # largest face first
/// no-face.jpg: []
/// alice-twin-1.jpg: ["alice~twin"]         # a lookalike of alice
/// dave-1.jpg: [{ person: dave, box: [0.3, 0.2, 0.4, 0.5] }]   # left, top, width, height
/// ```
///
/// Keys are image file names in the folder (or the bare names scenarios use). Every
/// error names this file, its line and column; an unknown image suggests the closest
/// one. An entry for a fixture that carries a marker must agree with the marker, since
/// the built-in emulator reads the marker: a catalogue that disagreed would mispredict.
/// Without the file, the catalogue is empty.
pub fn load_catalogue(root: &Path) -> Result<Catalogue, LoadError> {
    let dir = root.join(IMAGES_DIR);
    let path = dir.join(CATALOGUE_FILE);
    let fail =
        |line: u64, column: u64, message: String| LoadError { path: path.clone(), line, column, message };
    let text = match std::fs::read(&path) {
        Ok(bytes) => decode_utf8(bytes).map_err(|(at, message)| fail(at.line, at.column, message))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Catalogue::default()),
        Err(e) => return Err(fail(0, 0, format!("cannot read: {e}"))),
    };
    parse_catalogue(&dir, &text).map_err(|(at, message)| fail(at.line, at.column, message))
}

/// One image a catalogue declared, for spotting duplicates.
struct Declared {
    file: String,
    at: Pos,
    faces: Vec<ImageFace>,
}

fn parse_catalogue(dir: &Path, text: &str) -> Result<Catalogue, Fail> {
    check_printable(text)?;
    // A file holding only comments declares nothing.
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Ok(Catalogue::default());
    }
    let root = parse_yaml(text)?;
    let entries = match root.value {
        NodeValue::Null => return Ok(Catalogue::default()),
        NodeValue::Map(entries) => entries,
        _ => {
            return Err((
                root.at,
                format!(
                    "the catalogue maps image file names to the people they show, largest face \
                     first (`alice-1.jpg: [alice]`), not {}",
                    root.kind()
                ),
            ));
        }
    };
    let files = image_files(dir);
    let mut catalogue = Catalogue::default();
    let mut by_file: BTreeMap<String, Pos> = BTreeMap::new();
    let mut by_digest: BTreeMap<String, Declared> = BTreeMap::new();
    for (key, value) in entries {
        let file = resolve_image(&key, &files, dir)?;
        if let Some(first) = by_file.insert(file.clone(), key.at) {
            return Err((key.at, format!("`{file}` is declared twice (first at line {})", first.line)));
        }
        let (faces, with_boxes) = catalogue_faces(&file, value)?;
        let bytes = std::fs::read(dir.join(&file))
            .map_err(|e| (key.at, format!("cannot read image {}: {e}", dir.join(&file).display())))?;
        if let Some(marked) = image::marker_faces(&bytes) {
            let people = |faces: &[ImageFace]| faces.iter().map(|f| f.person.clone()).collect::<Vec<_>>();
            let boxes_differ = with_boxes
                && marked.iter().zip(&faces).any(|(m, f)| !same_box(&m.bounding_box, &f.bounding_box));
            if people(&marked) != people(&faces) || boxes_differ {
                return Err((
                    key.at,
                    format!(
                        "`{file}` carries a fixture marker declaring {}, but the catalogue says {}: \
                         the built-in emulator reads the marker, so the entry must agree with it \
                         (remove the entry, or replace the fixture with a real photo)",
                        describe_faces(&marked, boxes_differ),
                        describe_faces(&faces, boxes_differ)
                    ),
                ));
            }
        }
        let digest = image::digest(&bytes);
        if let Some(other) = by_digest.get(&digest) {
            if other.faces != faces {
                return Err((
                    key.at,
                    format!(
                        "`{file}` has the same bytes as `{}` (line {}), which is declared with other \
                         faces; identical images show the same faces",
                        other.file, other.at.line
                    ),
                ));
            }
            continue;
        }
        catalogue.declare(&bytes, faces.clone());
        by_digest.insert(digest, Declared { file, at: key.at, faces });
    }
    Ok(catalogue)
}

/// Image file names in `dir`, sorted; empty when it cannot be read.
fn image_files(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|name| {
                    Path::new(name)
                        .extension()
                        .and_then(|x| x.to_str())
                        .is_some_and(|x| IMAGE_EXTENSIONS.contains(&x))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The image file a catalogue key names: a file name, or a bare name looked up like a
/// scenario's `images:` entry (`.png`, then `.jpg`, then `.jpeg`).
fn resolve_image(key: &Key, files: &[String], dir: &Path) -> Result<String, Fail> {
    if files.contains(&key.name) {
        return Ok(key.name.clone());
    }
    if let Some(file) =
        IMAGE_EXTENSIONS.iter().map(|ext| format!("{}.{ext}", key.name)).find(|f| files.contains(f))
    {
        return Ok(file);
    }
    let stems: Vec<&str> =
        files.iter().filter_map(|f| Path::new(f).file_stem().and_then(|s| s.to_str())).collect();
    let candidates = files.iter().map(String::as_str).chain(stems);
    Err((
        key.at,
        format!("no image `{}` in {}{}", key.name, dir.display(), did_you_mean(&key.name, candidates)),
    ))
}

/// The faces a catalogue entry declares, in order, and whether they came with boxes.
fn catalogue_faces(file: &str, node: Node) -> Result<(Vec<ImageFace>, bool), Fail> {
    let items = match node.value {
        NodeValue::Seq(items) => items,
        NodeValue::Null => {
            return Err((
                node.at,
                format!(
                    "`{file}` needs the list of people it shows, largest face first; \
                     write `[]` for an image without faces"
                ),
            ));
        }
        NodeValue::Str(person) => {
            return Err((node.at, format!("the faces of `{file}` are a list: write `[{person}]`")));
        }
        _ => {
            return Err((
                node.at,
                format!("the faces of `{file}` are a list like `[alice, bob]`, not {}", node.kind()),
            ));
        }
    };
    let mut faces: Vec<(String, Option<BoundingBox>, Pos)> = Vec::with_capacity(items.len());
    for item in items {
        faces.push(catalogue_face(item)?);
    }
    let with_boxes = faces.iter().any(|(_, b, _)| b.is_some());
    if with_boxes && let Some((person, _, at)) = faces.iter().find(|(_, b, _)| b.is_none()) {
        return Err((
            *at,
            format!("`{person}` has no box: give a box for every face of `{file}` or for none"),
        ));
    }
    for pair in faces.windows(2) {
        if let [(first, Some(a), _), (second, Some(b), at)] = pair
            && b.area() > a.area() + 1e-12
        {
            return Err((
                *at,
                format!(
                    "faces are listed largest first, but `{second}`'s box (area {:.4}) is larger \
                     than `{first}`'s before it ({:.4})",
                    b.area(),
                    a.area()
                ),
            ));
        }
    }
    let faces = faces
        .into_iter()
        .enumerate()
        .map(|(i, (person, bounding_box, _))| ImageFace {
            person,
            bounding_box: bounding_box.unwrap_or_else(|| image::placeholder_box(i)),
        })
        .collect();
    Ok((faces, with_boxes))
}

/// One face: `alice`, or `{ person: alice, box: [left, top, width, height] }`.
fn catalogue_face(node: Node) -> Result<(String, Option<BoundingBox>, Pos), Fail> {
    const FACE_KEYS: [&str; 2] = ["person", "box"];
    let at = node.at;
    let ((person, person_at), bounding_box) = match node.value {
        NodeValue::Str(person) => ((person, at), None),
        NodeValue::Map(entries) => {
            let (mut person, mut bounding_box) = (None, None);
            for (key, value) in entries {
                match key.name.as_str() {
                    "person" => person = Some((string(&value, "person")?, value.at)),
                    "box" => bounding_box = Some(catalogue_box(&value)?),
                    other => {
                        return Err((
                            key.at,
                            format!("unknown key `{other}`{}", did_you_mean(other, FACE_KEYS.into_iter())),
                        ));
                    }
                }
            }
            let Some(person) = person else {
                return Err((at, "a face written as a mapping needs `person:`".into()));
            };
            (person, bounding_box)
        }
        NodeValue::Int(_) | NodeValue::UInt(_) | NodeValue::Float(_) | NodeValue::Bool(_) => {
            return Err((
                at,
                format!("a person's name is a string: quote it (`\"{}\"`)", scalar_text(&node.value)),
            ));
        }
        _ => {
            return Err((
                at,
                format!(
                    "a face is a person's name (`alice`) or `{{ person: alice, box: [left, top, \
                     width, height] }}`, not {}",
                    node.kind()
                ),
            ));
        }
    };
    if person.trim().is_empty() {
        return Err((person_at, "a person's name cannot be empty".into()));
    }
    Ok((person, bounding_box, at))
}

/// `[left, top, width, height]`, ratios of the image size as IndexFaces reports them.
fn catalogue_box(node: &Node) -> Result<BoundingBox, Fail> {
    let shape =
        || (node.at, "a box is `[left, top, width, height]`, four ratios of the image size".to_string());
    let NodeValue::Seq(items) = &node.value else { return Err(shape()) };
    let numbers: Vec<f64> = items
        .iter()
        .map(|item| match item.value {
            NodeValue::Int(i) => Some(i as f64),
            NodeValue::UInt(u) => Some(u as f64),
            NodeValue::Float(x) if x.is_finite() => Some(x),
            _ => None,
        })
        .collect::<Option<_>>()
        .ok_or_else(shape)?;
    let [left, top, width, height] = numbers[..] else { return Err(shape()) };
    if !(width > 0.0 && width <= 1.0 && height > 0.0 && height <= 1.0) {
        return Err((
            node.at,
            format!("a box's width and height are ratios in (0, 1], got {width} and {height}"),
        ));
    }
    if !((-1.0..=1.0).contains(&left) && (-1.0..=1.0).contains(&top)) {
        return Err((node.at, format!("a box's left and top are ratios in [-1, 1], got {left} and {top}")));
    }
    Ok(BoundingBox { left, top, width, height })
}

fn same_box(a: &BoundingBox, b: &BoundingBox) -> bool {
    const TOL: f64 = 1e-9;
    (a.left - b.left).abs() <= TOL
        && (a.top - b.top).abs() <= TOL
        && (a.width - b.width).abs() <= TOL
        && (a.height - b.height).abs() <= TOL
}

/// `[alice, bob]`, or with boxes `[alice@0.1,0.1,0.3,0.4, …]`.
fn describe_faces(faces: &[ImageFace], with_boxes: bool) -> String {
    let faces: Vec<String> = faces
        .iter()
        .map(|f| {
            let b = f.bounding_box;
            if with_boxes {
                format!("{}@{},{},{},{}", f.person, b.left, b.top, b.width, b.height)
            } else {
                f.person.clone()
            }
        })
        .collect();
    format!("[{}]", faces.join(", "))
}
