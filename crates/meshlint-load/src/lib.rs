//! The loader: turns the bytes of one input file into spanned YAML trees.
//!
//! It owns everything about reading text: encodings (UTF-8, byte-order marks, binary
//! files), splitting multi-document streams so a broken document does not take its
//! neighbours down, YAML parsing (JSON is read as the YAML subset it is), anchors,
//! aliases and merge keys, duplicate keys, unrendered Helm templates, and the budgets
//! (file size, nesting depth, alias expansion) that keep hostile input from eating
//! time or memory. Every node keeps its span, so any field can be reported at its
//! exact line and column. Problems become [`Finding`]s, never panics.
//!
//! It knows nothing about Kubernetes beyond recognising `List` wrappers when the model
//! asks it to ([`Node::get`] and friends are generic).

mod node;
mod parse;
pub mod spanned;

pub use node::{Node, NodeValue, PathSegment, Resolved, Scalar};
pub use parse::{load_source, LoadLimits, LoadedDocument, LoadedFile};

use meshlint_diag::{Finding, Location, Severity, Span};
use std::sync::Arc;

/// Rule ids of the findings the loader produces.
pub mod codes {
    pub const PARSE_ERROR: &str = "parse-error";
    pub const HELM_TEMPLATE: &str = "helm-template";
    pub const DUPLICATE_KEY: &str = "duplicate-key";
    pub const UNREADABLE_FILE: &str = "unreadable-file";
    pub const INPUT_LIMIT: &str = "input-limit";
}

pub(crate) fn finding(
    file: &Arc<str>,
    code: &'static str,
    severity: Severity,
    span: Span,
    message: String,
) -> Finding {
    Finding::new(
        code,
        severity,
        message,
        Location {
            file: file.clone(),
            span,
        },
    )
}
