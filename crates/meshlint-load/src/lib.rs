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
// Memory-unsafe code is confined to the modules allowed it below (docs/hardening.md).
#![deny(unsafe_code)]

mod block_parse;
#[allow(unsafe_code)]
mod key;
#[allow(unsafe_code)]
mod list;
#[allow(unsafe_code)]
mod node;
mod parse;
pub mod spanned;

pub use key::Key;
pub use list::{Ends, List};
pub use node::{Node, NodeValue, PathSegment, Resolved, Scalar};
pub use parse::{load_source, load_source_in, LoadLimits, LoadedDocument, LoadedFile, RunBudget};

use meshlint_diag::{Finding, Location, Severity, Span};
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// Reads an input file the way every input must be read: only a regular file (a FIFO,
/// a device or a socket is refused, and opening never blocks on one), and never more
/// than `max + 1` bytes, so an input larger than the limit is recognised as such
/// without reading it whole. Symbolic links are followed (the target must be regular).
/// The buffer is sized from the file's length (plus the byte that tells a file that grew
/// meanwhile), not grown by doubling.
pub fn read_bounded(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file ({})", meshlint_diag::file_kind(&meta)),
        ));
    }
    let expected = usize::try_from(meta.len()).unwrap_or(usize::MAX).min(max);
    read_into(file, max, Vec::with_capacity(expected + 1))
}

/// Reads at most `max + 1` bytes of `reader` (standard input, say).
pub fn read_at_most(reader: impl Read, max: usize) -> std::io::Result<Vec<u8>> {
    read_into(reader, max, Vec::new())
}

fn read_into(reader: impl Read, max: usize, mut buf: Vec<u8>) -> std::io::Result<Vec<u8>> {
    reader.take(max as u64 + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

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
