//! Source texts set aside while the rules run.
//!
//! Rules read the graph, never the text of a file: the text is needed again only to
//! render the findings (snippets, fingerprints) and to read suppression comments and
//! Helm `# Source:` markers. Holding every input's text through rule evaluation — the
//! run's peak — cost as much memory as the inputs themselves, so [`release`] drops the
//! text of a file read from disk right after it is loaded, keeping its path, length and
//! a digest, and [`ReleasedTexts::restore`] reads back only the files findings name.
//!
//! What keeps its text: standard input (it cannot be read twice), files whose text is
//! not byte for byte the file (a byte-order mark, lone carriage returns or invalid UTF-8
//! the loader rewrote, files it refused), and files holding a suppression comment or a
//! Helm `# Source:` marker (the passes after the rules scan every such file).
//!
//! A file that changed on disk between loading and restoring (other length or digest)
//! is not restored: its findings are rendered without source lines — as for a file
//! without text — rather than with lines the findings were not computed from, and the
//! run names it ([`ReleasedTexts::restore`] returns it).

use crate::rendered::SOURCE_COMMENT;
use crate::suppress::COMMENT_MARKER;
use meshlint_diag::SourceFile;
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::Hasher;
use std::path::Path;
use std::sync::Arc;

/// What a file read from disk was: its length and digest, before the loader saw it.
#[derive(Debug, Clone)]
pub(crate) struct ReadBytes {
    /// Where to read it again; `None` when that is its name (a walked file, usually).
    path: Option<Box<Path>>,
    len: usize,
    digest: u64,
}

impl ReadBytes {
    pub(crate) fn of(path: &Path, name: &str, bytes: &[u8]) -> ReadBytes {
        ReadBytes {
            path: (path != Path::new(name)).then(|| path.into()),
            len: bytes.len(),
            digest: digest(bytes),
        }
    }
}

/// A digest to recognise a file's bytes again within one run (collisions would need a
/// file rewritten to a same-length text with the same 64-bit SipHash during the run).
fn digest(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write(bytes);
    h.finish()
}

/// The text every released file holds meanwhile: one shared empty string.
fn empty_text() -> Arc<str> {
    static EMPTY: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| "".into()).clone()
}

/// Drops the text of `source` when it can be read back as it is (see the module
/// documentation); returns how to read it back.
pub(crate) fn release(source: &mut SourceFile, read: ReadBytes) -> Option<ReadBytes> {
    let text = &source.text;
    let same_as_file =
        !text.is_empty() && text.len() == read.len && digest(text.as_bytes()) == read.digest;
    if !same_as_file || text.contains(COMMENT_MARKER) || text.contains(SOURCE_COMMENT) {
        return None;
    }
    *source = SourceFile::new(source.name.clone(), empty_text());
    Some(read)
}

/// The files whose text [`release`] dropped, sorted by name (a list of exactly their
/// number: a hash map of the 9,000 files of a large repository doubled to 16,384 slots).
#[derive(Debug, Default)]
pub struct ReleasedTexts {
    files: Vec<(Arc<str>, ReadBytes)>,
}

impl ReleasedTexts {
    /// From every loaded file in load order, with how to read it back if released. A
    /// name loaded twice keeps its last file, as the sources map does.
    pub(crate) fn new(mut loaded: Vec<(Arc<str>, Option<ReadBytes>)>) -> ReleasedTexts {
        // Stable: the files of one name stay in load order, and the last one counts.
        loaded.sort_by(|a, b| a.0.cmp(&b.0));
        let mut files: Vec<(Arc<str>, ReadBytes)> = Vec::new();
        let mut last: Option<(Arc<str>, Option<ReadBytes>)> = None;
        for entry in loaded {
            if let Some((name, read)) = last.take() {
                if name != entry.0 {
                    files.extend(read.map(|r| (name, r)));
                }
            }
            last = Some(entry);
        }
        if let Some((name, Some(read))) = last {
            files.push((name, read));
        }
        files.shrink_to_fit();
        ReleasedTexts { files }
    }

    /// Reads back the texts of `names` that were released, in parallel, into `sources`.
    /// Returns the files that changed since they were loaded (sorted): they are removed
    /// from `sources`, so nothing renders lines of theirs.
    pub fn restore<'a>(
        &mut self,
        sources: &mut HashMap<Arc<str>, SourceFile>,
        names: impl IntoIterator<Item = &'a Arc<str>>,
    ) -> Vec<Arc<str>> {
        let mut taken = vec![false; self.files.len()];
        for name in names {
            if let Ok(i) = self.files.binary_search_by(|(n, _)| n.cmp(name)) {
                taken[i] = true;
            }
        }
        let mut wanted: Vec<(Arc<str>, ReadBytes)> = Vec::new();
        let mut kept = Vec::new();
        for (entry, taken) in std::mem::take(&mut self.files).into_iter().zip(taken) {
            if taken {
                wanted.push(entry);
            } else {
                kept.push(entry);
            }
        }
        self.files = kept;
        // Each text becomes its exact-size shared copy on the thread that read it: the
        // files findings name may be most of them, read back while the graph still lives.
        let read_back: Vec<(Arc<str>, Option<SourceFile>)> = wanted
            .into_par_iter()
            .map(|(name, read)| {
                let text = read_again(&name, &read).map(|t| SourceFile::new(name.clone(), t));
                (name, text)
            })
            .collect();
        let mut changed = Vec::new();
        for (name, source) in read_back {
            match source {
                Some(source) => {
                    sources.insert(name, source);
                }
                None => {
                    sources.remove(&name);
                    changed.push(name);
                }
            }
        }
        changed.sort();
        changed
    }

    /// Reads back every released text (for callers that render arbitrary locations).
    pub fn restore_all(&mut self, sources: &mut HashMap<Arc<str>, SourceFile>) -> Vec<Arc<str>> {
        let names: Vec<Arc<str>> = self.files.iter().map(|(n, _)| n.clone()).collect();
        self.restore(sources, &names)
    }
}

/// The file's text again, when its bytes are still those that were loaded: read as
/// every input is ([`meshlint_load::read_bounded`]: a regular file, opened without
/// blocking, at most one byte more than it had, into a buffer of that size).
fn read_again(name: &str, read: &ReadBytes) -> Option<String> {
    let path = read.path.as_deref().unwrap_or(Path::new(name));
    let bytes = meshlint_load::read_bounded(path, read.len).ok()?;
    if bytes.len() != read.len || digest(&bytes) != read.digest {
        return None;
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn released(dir: &std::path::Path, file: &str, text: &str) -> (SourceFile, ReadBytes) {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        let mut source = SourceFile::new(file, text);
        let read = release(
            &mut source,
            ReadBytes::of(&path, "elsewhere", text.as_bytes()),
        );
        (source, read.expect("released"))
    }

    #[test]
    fn a_released_text_comes_back_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let (source, read) = released(dir.path(), "a.yaml", "kind: Service\n");
        assert_eq!(&*source.text, "");
        let mut texts = ReleasedTexts::new(vec![(source.name.clone(), Some(read))]);
        let mut sources = HashMap::from([(source.name.clone(), source)]);
        let name: Arc<str> = "a.yaml".into();
        assert!(texts.restore(&mut sources, [&name]).is_empty());
        assert_eq!(&*sources[&name].text, "kind: Service\n");
    }

    #[test]
    fn a_file_changed_since_loading_is_not_rendered() {
        let dir = tempfile::tempdir().unwrap();
        let (source, read) = released(dir.path(), "a.yaml", "kind: Service\n");
        // Same length, other bytes: the digest tells.
        std::fs::write(dir.path().join("a.yaml"), "kind: Gateway\n").unwrap();
        let mut texts = ReleasedTexts::new(vec![(source.name.clone(), Some(read))]);
        let mut sources = HashMap::from([(source.name.clone(), source)]);
        let name: Arc<str> = "a.yaml".into();
        assert_eq!(texts.restore(&mut sources, [&name]), vec![name.clone()]);
        assert!(!sources.contains_key(&name));
    }

    #[test]
    fn a_name_loaded_twice_keeps_its_last_file() {
        let dir = tempfile::tempdir().unwrap();
        let (_, first) = released(dir.path(), "a.yaml", "kind: Service\n");
        let (_, other) = released(dir.path(), "b.yaml", "kind: Gateway\n");
        let name: Arc<str> = "a.yaml".into();
        let texts = ReleasedTexts::new(vec![
            (name.clone(), Some(first)),
            ("b.yaml".into(), Some(other)),
            (name.clone(), None),
        ]);
        let names: Vec<&str> = texts.files.iter().map(|(n, _)| &**n).collect();
        assert_eq!(names, ["b.yaml"]);
    }

    #[test]
    fn texts_the_later_passes_scan_or_the_loader_rewrote_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        for text in [
            "a: 1 # meshlint-ignore: ML1\n",
            "# Source: chart/templates/a.yaml\na: 1\n",
        ] {
            let mut source = SourceFile::new("a.yaml", text);
            let read = ReadBytes::of(&dir.path().join("a.yaml"), "a.yaml", text.as_bytes());
            assert!(release(&mut source, read).is_none());
            assert_eq!(&*source.text, text);
        }
        // The loader dropped a byte-order mark: the text is not the file's bytes.
        let mut source = SourceFile::new("a.yaml", "a: 1\n");
        let read = ReadBytes::of(&dir.path().join("a.yaml"), "a.yaml", b"\xEF\xBB\xBFa: 1\n");
        assert!(release(&mut source, read).is_none());
        assert_eq!(&*source.text, "a: 1\n");
    }
}
