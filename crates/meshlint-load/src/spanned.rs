//! Typed deserialization of a spanned YAML/JSON tree, with errors at the offending
//! line and column: serde through `serde_path_to_error`, then the error's path is looked
//! up in the tree. Rule files, `.meshlint.yaml` and baselines are all read this way.

use crate::{load_source, LoadLimits, Node, NodeValue, PathSegment, Resolved};
use meshlint_diag::{Location, Span};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// A file that could not be read as the expected structure, with its own position.
#[derive(Debug, Clone)]
pub struct SpannedError {
    pub location: Location,
    pub message: String,
}

impl std::fmt::Display for SpannedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.location.file,
            self.location.span.start.line,
            self.location.span.start.column,
            self.message
        )
    }
}

/// The tree as plain JSON (scalars resolved with YAML 1.2 core rules).
pub fn to_json(node: &Node) -> serde_json::Value {
    match &node.value {
        NodeValue::Scalar(s) => match s.resolved() {
            Resolved::Null => serde_json::Value::Null,
            Resolved::Bool(b) => serde_json::Value::Bool(b),
            Resolved::Int(i) => serde_json::Value::from(i),
            Resolved::Float(f) => serde_json::Value::from(f),
            Resolved::Str(t) => serde_json::Value::String(t.to_string()),
        },
        NodeValue::Seq(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        NodeValue::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or("").to_string(), to_json(v)))
                .collect(),
        ),
    }
}

fn segments(path: &serde_path_to_error::Path) -> Vec<PathSegment> {
    path.iter()
        .filter_map(|seg| match seg {
            serde_path_to_error::Segment::Seq { index } => Some(PathSegment::Index(*index)),
            serde_path_to_error::Segment::Map { key } => Some(PathSegment::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => {
                Some(PathSegment::Key(variant.clone()))
            }
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect()
}

/// Deserializes `json` (made from `root` with [`to_json`], possibly adjusted) and maps
/// an error to the span of the field it is about; an unknown key points at the key.
pub fn deserialize<T: DeserializeOwned>(
    file: &Arc<str>,
    root: &Node,
    json: serde_json::Value,
) -> Result<T, SpannedError> {
    serde_path_to_error::deserialize(json).map_err(|e| {
        let mut segs = segments(e.path());
        let inner = e.inner().to_string();
        let unknown = inner
            .strip_prefix("unknown field `")
            .and_then(|s| s.split('`').next())
            .map(str::to_string);
        let mut span = root.span_of(&segs).unwrap_or(Span::point(1, 1));
        if let Some(key) = &unknown {
            // The path may end with the unknown key itself: look it up in its parent.
            if matches!(segs.last(), Some(PathSegment::Key(k)) if k == key) {
                segs.pop();
            }
            let parent = if segs.is_empty() {
                Some(root)
            } else {
                root.lookup(&segs).map(|(n, _)| n)
            };
            if let Some((k, _)) = parent.and_then(|p| p.get_entry(key)) {
                span = k.span();
            }
        } else if segs.is_empty() {
            span = root.head_span();
        }
        SpannedError {
            location: Location {
                file: file.clone(),
                span,
            },
            message: inner.split(" at line").next().unwrap_or(&inner).to_string(),
        }
    })
}

/// Parses YAML or JSON text into its first document's tree. An empty file gives `None`.
pub fn parse(file: &Arc<str>, text: Vec<u8>) -> Result<Option<Node>, SpannedError> {
    let loaded = load_source(file.clone(), text, &LoadLimits::default());
    if let Some(f) = loaded.findings.first() {
        return Err(SpannedError {
            location: f.location.clone(),
            message: f.message.clone(),
        });
    }
    Ok(loaded.documents.into_iter().next().map(|d| d.root))
}

/// A position in `file` at `span`.
pub fn error_at(file: &Arc<str>, span: Span, message: impl Into<String>) -> SpannedError {
    SpannedError {
        location: Location {
            file: file.clone(),
            span,
        },
        message: message.into(),
    }
}
