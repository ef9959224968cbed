//! Value paths such as `FaceRecords[0].Face.FaceId`: where captures and expectations read
//! a response.

use std::fmt;

use serde_json::Value;

/// A path into a JSON value, written like a mismatch path: `FaceRecords[0].Face.FaceId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValuePath(pub(super) Vec<Segment>);

/// One step of a [`ValuePath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    Member(String),
    Index(usize),
}

impl ValuePath {
    /// Parses `A.B[0].C`.
    pub fn parse(text: &str) -> Result<ValuePath, String> {
        let mut segments = Vec::new();
        for part in text.split('.') {
            let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
            if name.is_empty() {
                return Err(format!("path `{text}` has an empty member name"));
            }
            segments.push(Segment::Member(name.to_string()));
            if !part.contains('[') {
                continue;
            }
            loop {
                let (index, after) =
                    rest.split_once(']').ok_or_else(|| format!("path `{text}` has an unclosed `[`"))?;
                let index = index
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("path `{text}`: `{index}` is not an index"))?;
                segments.push(Segment::Index(index));
                if after.is_empty() {
                    break;
                }
                rest = after
                    .strip_prefix('[')
                    .ok_or_else(|| format!("path `{text}`: unexpected `{after}` after `]`"))?;
            }
        }
        Ok(ValuePath(segments))
    }

    /// The first member name, which must be a member of the response.
    pub fn first_member(&self) -> Option<&str> {
        match self.0.first() {
            Some(Segment::Member(name)) => Some(name),
            _ => None,
        }
    }

    /// The value at this path in `value`.
    pub fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.0.iter().try_fold(value, |v, segment| match segment {
            Segment::Member(name) => v.get(name.as_str()),
            Segment::Index(i) => v.get(*i),
        })
    }
}

impl fmt::Display for ValuePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Member(name) if i == 0 => f.write_str(name)?,
                Segment::Member(name) => write!(f, ".{name}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_paths_parse_and_read() {
        let path = ValuePath::parse("FaceRecords[0].Face.FaceId").unwrap();
        assert_eq!(path.to_string(), "FaceRecords[0].Face.FaceId");
        let v = serde_json::json!({"FaceRecords": [{"Face": {"FaceId": "f"}}]});
        assert_eq!(path.get(&v), Some(&Value::from("f")));
        assert!(ValuePath::parse("A[x]").is_err());
        assert!(ValuePath::parse("A[0][1].B").is_ok());
    }
}
