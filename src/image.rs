//! Faces without a face detector.
//!
//! rekcon never analyses pixels. An image says which faces it holds through a marker
//! that the project's fixture images carry (a PNG `tEXt` chunk or any embedded text):
//!
//! ```text
//! rekcon-faces:v1[alice@0.10,0.12,0.30,0.40;bob@0.55,0.20,0.20,0.25]
//! ```
//!
//! Each entry is a person and a bounding box (`left,top,width,height`, ratios of the
//! image size). `[]` declares an image with no face. An image without a marker holds
//! one face of a person named after its digest, so re-sending the same bytes shows the
//! same person and different bytes show different people. The built-in emulator reads
//! faces only this way, from the image itself. The model does too, except for images a
//! [`Catalogue`] declares: against real AWS the fixture names point at real photos, which
//! carry no marker, so `scenarios/images/catalogue.yaml` says who they show.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::api::Blob;

/// The marker that declares an image's faces.
pub const MARKER: &str = "rekcon-faces:v1[";

/// Most faces IndexFaces stores from one image (contract §7).
pub const MAX_FACES_PER_IMAGE: usize = 100;

/// The one face the canned detector (`rekcon serve --detector canned`) finds in any image.
pub const CANNED_BOX: BoundingBox = BoundingBox { left: 0.25, top: 0.2, width: 0.5, height: 0.6 };

/// A face's bounding box, as ratios of the image's width and height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoundingBox {
    /// Distance of the left edge from the image's left edge.
    pub left: f64,
    /// Distance of the top edge from the image's top edge.
    pub top: f64,
    /// Width of the box.
    pub width: f64,
    /// Height of the box.
    pub height: f64,
}

impl BoundingBox {
    /// Area of the box; IndexFaces orders faces by it, largest first.
    pub fn area(&self) -> f64 {
        self.width * self.height
    }
}

/// One face an image holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFace {
    /// Who the face shows; faces of one person are similar, of different people not.
    pub person: String,
    /// Where the face is.
    pub bounding_box: BoundingBox,
}

/// The container format of an image, from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG (`\x89PNG`).
    Png,
    /// JPEG (`FF D8 FF`).
    Jpeg,
}

/// The format of `bytes`, or `None` when it is neither PNG nor JPEG.
pub fn format_of(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else {
        None
    }
}

/// A short, stable digest of image bytes (hex of the first 8 bytes of SHA-256).
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..8])
}

/// The faces `bytes` holds, largest first: declared by a marker, otherwise one face per digest.
pub fn faces_in(bytes: &[u8]) -> Vec<ImageFace> {
    faces_given(bytes, &digest(bytes))
}

/// [`faces_in`] of bytes whose digest is already known.
pub(crate) fn faces_given(bytes: &[u8], digest: &str) -> Vec<ImageFace> {
    let mut faces = match find_marker(bytes) {
        Some(declared) => declared,
        None => vec![ImageFace {
            person: format!("image-{digest}"),
            bounding_box: BoundingBox { left: 0.25, top: 0.2, width: 0.5, height: 0.6 },
        }],
    };
    // Stable: equal areas keep their declared order.
    faces.sort_by(|a, b| b.bounding_box.area().total_cmp(&a.bounding_box.area()));
    faces
}

/// The faces an image's own marker declares, largest first; `None` when it carries none.
///
/// A catalogue entry must agree with this: a fixture's marker is what the built-in
/// emulator reads, so a catalogue that said otherwise would mispredict every run.
pub fn marker_faces(bytes: &[u8]) -> Option<Vec<ImageFace>> {
    let mut faces = find_marker(bytes)?;
    faces.sort_by(|a, b| b.bounding_box.area().total_cmp(&a.bounding_box.area()));
    Some(faces)
}

/// A stand-in box for the `index`-th face of an image declared without boxes.
///
/// Areas strictly decrease with `index`, so the declared order stays "largest first",
/// and every box lies inside the image. Only the built-in emulator's sample answers use
/// the values; the model accepts any box a real endpoint reports.
pub fn placeholder_box(index: usize) -> BoundingBox {
    let width = 0.3 * 0.98f64.powi(i32::try_from(index.min(1000)).unwrap_or(1000));
    let height = width * 1.2;
    let column = (index % 10) as f64 / 9.0;
    let row = (index / 10 % 10) as f64 / 9.0;
    BoundingBox { left: (1.0 - width) * column, top: (1.0 - height) * row, width, height }
}

fn find_marker(bytes: &[u8]) -> Option<Vec<ImageFace>> {
    let start = memchr::memmem::find(bytes, MARKER.as_bytes())? + MARKER.len();
    let len = bytes[start..].iter().position(|b| *b == b']')?;
    let text = std::str::from_utf8(&bytes[start..start + len]).ok()?;
    parse_declaration(text).ok()
}

/// Parses the inside of a marker, e.g. `alice@0.1,0.1,0.3,0.4;bob@…`.
pub fn parse_declaration(text: &str) -> Result<Vec<ImageFace>, String> {
    text.split(';')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (person, boxed) = entry.split_once('@').ok_or_else(|| format!("`{entry}` lacks `@box`"))?;
            let numbers: Vec<f64> = boxed
                .split(',')
                .map(|n| n.trim().parse::<f64>().map_err(|_| format!("`{n}` in `{entry}` is not a number")))
                .collect::<Result<_, _>>()?;
            let [left, top, width, height] = numbers[..] else {
                return Err(format!("`{entry}` needs four numbers: left,top,width,height"));
            };
            if person.is_empty() {
                return Err(format!("`{entry}` names no person"));
            }
            Ok(ImageFace {
                person: person.to_string(),
                bounding_box: BoundingBox { left, top, width, height },
            })
        })
        .collect()
}

/// Writes the marker text for `faces`.
pub fn declaration(faces: &[ImageFace]) -> String {
    let entries: Vec<String> = faces
        .iter()
        .map(|f| {
            let b = f.bounding_box;
            format!("{}@{},{},{},{}", f.person, b.left, b.top, b.width, b.height)
        })
        .collect();
    format!("{MARKER}{}]", entries.join(";"))
}

/// A small valid PNG (96×96 grey) carrying the marker for `faces` in a `tEXt` chunk.
///
/// The pixels are a flat shade derived from the declaration, so different fixtures
/// have different bytes and digests.
pub fn fixture_png(faces: &[ImageFace]) -> Vec<u8> {
    const SIDE: u32 = 96;
    let text = declaration(faces);
    let shade = Sha256::digest(text.as_bytes())[0];
    let mut raw = Vec::with_capacity(((SIDE + 1) * SIDE) as usize);
    for _ in 0..SIDE {
        raw.push(0); // filter: none
        raw.extend(std::iter::repeat_n(shade, SIDE as usize));
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(SIDE.to_be_bytes());
    ihdr.extend(SIDE.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]); // 8-bit greyscale, deflate, no filter, no interlace
    chunk(&mut png, b"IHDR", &ihdr);
    let mut text_chunk = b"Comment\0".to_vec();
    text_chunk.extend(text.as_bytes());
    chunk(&mut png, b"tEXt", &text_chunk);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend(kind);
    out.extend(data);
    let crc = crc32(&out[start..]);
    out.extend(crc.to_be_bytes());
}

/// A zlib stream of stored (uncompressed) deflate blocks: valid, and needs no compressor.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend(*block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend(((b << 16) | a).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Declared faces of real photos, keyed by image digest, for runs against real AWS.
///
/// Fixture images carry their declaration; a real photo cannot, so its people are
/// declared beside it (`scenarios/images/catalogue.yaml`, loaded by
/// [`crate::scenario::load_catalogue`]) and the model consults this first. Cloning is
/// cheap: every scenario's model gets its own handle on one shared map.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    by_digest: Arc<BTreeMap<String, Vec<ImageFace>>>,
}

impl Catalogue {
    /// Declares the faces of the image with these bytes.
    pub fn declare(&mut self, bytes: &[u8], faces: Vec<ImageFace>) {
        Arc::make_mut(&mut self.by_digest).insert(digest(bytes), faces);
    }

    /// The faces declared for exactly these bytes, as declared; `None` when undeclared.
    pub fn declared(&self, bytes: &[u8]) -> Option<&[ImageFace]> {
        // Hashing a 10 KB image costs more than the rest of the lookup: skip it when nothing is declared.
        if self.by_digest.is_empty() {
            return None;
        }
        self.by_digest.get(&digest(bytes)).map(Vec::as_slice)
    }

    /// The faces declared for the image with this digest; `None` when undeclared.
    fn declared_digest(&self, digest: &str) -> Option<&[ImageFace]> {
        self.by_digest.get(digest).map(Vec::as_slice)
    }

    /// How many distinct images are declared.
    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    /// Whether no image is declared (no catalogue file, or an empty one).
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }

    /// The faces of `image`, largest first: declared here, else by marker, else one per digest.
    pub fn faces_in<'a>(&self, image: &'a Blob) -> Cow<'a, [ImageFace]> {
        match self.declared_digest(image.digest()) {
            Some(faces) => {
                let mut faces = faces.to_vec();
                faces.sort_by(|a, b| b.bounding_box.area().total_cmp(&a.bounding_box.area()));
                Cow::Owned(faces)
            }
            None => Cow::Borrowed(image.faces()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(person: &str, w: f64) -> ImageFace {
        ImageFace {
            person: person.into(),
            bounding_box: BoundingBox { left: 0.1, top: 0.1, width: w, height: w },
        }
    }

    #[test]
    fn fixture_png_round_trips_its_declaration_largest_first() {
        let png = fixture_png(&[face("bob", 0.1), face("alice", 0.3)]);
        assert_eq!(format_of(&png), Some(Format::Png));
        let faces = faces_in(&png);
        assert_eq!(faces.iter().map(|f| f.person.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
    }

    #[test]
    fn empty_marker_means_no_face_and_no_marker_means_one_face_per_digest() {
        assert!(faces_in(&fixture_png(&[])).is_empty());
        let a = faces_in(b"\xFF\xD8\xFFsome jpeg");
        let b = faces_in(b"\xFF\xD8\xFFother jpeg");
        assert_eq!(a.len(), 1);
        assert_ne!(a[0].person, b[0].person);
        assert_eq!(a, faces_in(b"\xFF\xD8\xFFsome jpeg"));
    }

    #[test]
    fn png_checksums_are_valid() {
        // CRC of "IEND" with no data is a well-known constant.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(format_of(b"GIF89a"), None);
    }

    #[test]
    fn bad_declarations_say_what_is_wrong() {
        assert!(parse_declaration("alice@1,2,3").unwrap_err().contains("four numbers"));
        assert!(parse_declaration("alice").unwrap_err().contains("@box"));
    }

    #[test]
    fn catalogue_overrides_marker() {
        let png = fixture_png(&[face("alice", 0.3)]);
        let mut catalogue = Catalogue::default();
        catalogue.declare(&png, vec![face("carol", 0.2)]);
        assert_eq!(catalogue.faces_in(&Blob::new(png.clone()))[0].person, "carol");
        // Other bytes fall back to their marker.
        let other = fixture_png(&[face("dave", 0.3)]);
        assert_eq!(catalogue.faces_in(&Blob::new(other))[0].person, "dave");
        assert_eq!(catalogue.len(), 1);
        assert!(catalogue.declared(b"\xFF\xD8\xFFother").is_none());
    }

    #[test]
    fn marker_faces_only_from_a_marker() {
        let png = fixture_png(&[face("bob", 0.1), face("alice", 0.3)]);
        let faces = marker_faces(&png).expect("a marker");
        assert_eq!(faces.iter().map(|f| f.person.as_str()).collect::<Vec<_>>(), ["alice", "bob"]);
        assert_eq!(marker_faces(b"\xFF\xD8\xFFno marker"), None);
        assert_eq!(marker_faces(&fixture_png(&[])), Some(Vec::new()));
    }

    #[test]
    fn placeholder_boxes_shrink_and_stay_inside_the_image() {
        let boxes: Vec<BoundingBox> = (0..120).map(placeholder_box).collect();
        for pair in boxes.windows(2) {
            assert!(pair[0].area() > pair[1].area(), "{pair:?}");
        }
        for b in &boxes {
            assert!(b.left >= 0.0 && b.top >= 0.0 && b.width > 0.0 && b.height > 0.0, "{b:?}");
            assert!(b.left + b.width <= 1.0 + 1e-12 && b.top + b.height <= 1.0 + 1e-12, "{b:?}");
        }
    }
}
