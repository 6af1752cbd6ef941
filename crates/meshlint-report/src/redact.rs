//! Which source lines may be shown in a snippet, and how.
//!
//! A snippet is raw source text, and the findings that point into a Secret (a parse
//! error, a duplicate key, invalid UTF-8, a Helm marker, a missing name) are exactly the
//! ones where the tree — and with it the model's redaction — may not exist. So the
//! decision is made on the text alone, once per file, in one linear pass:
//!
//! - the text is cut into documents at `---` / `...` lines;
//! - a document is a *Secret document* when the word `Secret` appears as a value after a
//!   `:` (skipping quotes, blanks, line breaks, `&anchor` / `!tag` properties and block
//!   scalar indicators), which covers `kind: Secret`, `"kind": "Secret"`, flow mappings,
//!   `kind:\n  Secret` and `kind: List` documents holding a Secret;
//! - in a Secret document a line keeps its indentation, an optional `- ` and its key;
//!   its value is shown only when the key is one of a few structural ones (`apiVersion`,
//!   `kind`, `metadata`, `name`, `namespace`, `type`, `labels`, `annotations`) outside a
//!   `data` / `stringData` block and the value is a short plain token. Everything else
//!   is replaced with [`MASK`]. A line with no recognisable key is masked whole.
//!
//! Over-masking is the price of not parsing: a comment in a Secret document is masked too.

/// What replaces a hidden value.
pub(crate) const MASK: &str = "<redacted>";

/// How a source line may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineClass {
    /// Not in a Secret document: shown as written.
    Plain,
    /// In a Secret document, outside `data` / `stringData`: see [`mask`].
    Secret,
    /// Inside a Secret's `data` / `stringData` block: key only.
    SecretData,
}

/// The class of every line of `text` (0-based; as many lines as `\n`s plus one).
/// Linear in the text.
pub(crate) fn classify(text: &str) -> Vec<LineClass> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    // (first line, line after the last, first byte, end byte) of every document.
    let mut docs = Vec::new();
    let mut doc_first = 0usize;
    let mut doc_byte = 0usize;
    let mut pos = 0usize;
    loop {
        let end = memchr_nl(bytes, pos);
        if is_doc_separator(&text[pos..end]) {
            docs.push((doc_first, out.len(), doc_byte, pos));
            out.push(LineClass::Plain);
            doc_first = out.len();
            doc_byte = (end + 1).min(bytes.len());
        } else {
            out.push(LineClass::Plain);
        }
        if end >= bytes.len() {
            break;
        }
        pos = end + 1;
    }
    docs.push((doc_first, out.len(), doc_byte, bytes.len()));
    for (first, next, from, to) in docs {
        let doc = &text[from..to];
        if !mentions_secret_kind(doc) {
            continue;
        }
        let mut data_indent: Option<usize> = None;
        for (i, line) in doc.split('\n').take(next - first).enumerate() {
            let Some(slot) = out.get_mut(first + i) else {
                break;
            };
            let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
            let rest = line[indent..].trim_end();
            if let Some(d) = data_indent {
                if !rest.is_empty() && indent <= d {
                    data_indent = None;
                }
            }
            if data_indent.is_some() {
                *slot = LineClass::SecretData;
                continue;
            }
            *slot = LineClass::Secret;
            let body = rest.strip_prefix("- ").unwrap_or(rest);
            if let Some((key, _)) = split_key(body) {
                if matches!(key.trim_matches(['"', '\'']), "data" | "stringData") {
                    data_indent = Some(indent);
                }
            }
        }
    }
    out
}

fn memchr_nl(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| from + i)
        .unwrap_or(bytes.len())
}

fn is_doc_separator(line: &str) -> bool {
    let line = line.trim_end_matches('\r');
    (line.starts_with("---") || line.starts_with("..."))
        && line[3..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == '\t')
}

/// Whether `Secret` occurs as a scalar value right after a `:` (see the module docs).
fn mentions_secret_kind(doc: &str) -> bool {
    let b = doc.as_bytes();
    let mut from = 0;
    while let Some(i) = doc[from..].find("Secret").map(|i| from + i) {
        from = i + 1;
        let after = b.get(i + 6).copied();
        if after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
            continue;
        }
        if preceded_by_colon(&b[..i]) {
            return true;
        }
    }
    false
}

fn preceded_by_colon(before: &[u8]) -> bool {
    let mut j = before.len();
    // Skip at most a handful of tokens: quotes, blanks, properties, block indicators.
    for _ in 0..16 {
        while j > 0 && matches!(before[j - 1], b' ' | b'\t' | b'\r' | b'\n' | b'"' | b'\'') {
            j -= 1;
        }
        if j == 0 {
            return false;
        }
        match before[j - 1] {
            b':' => return true,
            b'|' | b'>' | b'-' | b'+' => {
                j -= 1;
                continue;
            }
            _ => {}
        }
        // A property token (`&a`, `!!str`, `!t`): skip it when it is one.
        let mut k = j;
        while k > 0 && !matches!(before[k - 1], b' ' | b'\t' | b'\n' | b'\r') {
            k -= 1;
        }
        if matches!(before[k], b'&' | b'!') {
            j = k;
            continue;
        }
        // `- Secret` under a key, or a digit of a block indentation indicator.
        if before[k..j].iter().all(|c| c.is_ascii_digit()) {
            j = k;
            continue;
        }
        return false;
    }
    false
}

const SAFE_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "type",
    "labels",
    "annotations",
    "items",
];

/// A line of a Secret document as it may be shown (`class` is not [`LineClass::Plain`]).
pub(crate) fn mask(line: &str, class: LineClass) -> String {
    let line = line.trim_end_matches('\r');
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    let rest = &line[indent..];
    if rest.trim().is_empty() {
        return String::new();
    }
    let mut shown = String::from(&line[..indent]);
    let mut body = rest;
    if let Some(r) = body.strip_prefix("- ") {
        shown.push_str("- ");
        body = r;
    }
    let Some((key, value)) = split_key(body) else {
        shown.push_str(MASK);
        return shown;
    };
    let bare = key.trim_matches(['"', '\'']);
    shown.push_str(&truncate(key, 60));
    shown.push(':');
    let value = value.trim();
    if value.is_empty() {
        return shown;
    }
    let plain_token = value.len() <= 253
        && value
            .trim_matches(['"', '\''])
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'/' | b'_'));
    shown.push(' ');
    if class == LineClass::Secret && SAFE_KEYS.contains(&bare) && plain_token {
        shown.push_str(value);
    } else {
        shown.push_str(MASK);
    }
    shown
}

/// `key: value` or `key:` at the start of `s`, for a simple (possibly quoted) key.
fn split_key(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let end = if matches!(b.first(), Some(b'"') | Some(b'\'')) {
        let q = b[0];
        1 + b[1..].iter().position(|&c| c == q)? + 1
    } else {
        b.iter()
            .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'/')))
            .unwrap_or(b.len())
    };
    if end == 0 {
        return None;
    }
    let after = &s[end..];
    let after_trim = after.trim_start_matches([' ', '\t']);
    let value = after_trim.strip_prefix(':')?;
    if !(value.is_empty() || value.starts_with([' ', '\t'])) {
        return None;
    }
    Some((&s[..end], value))
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_secret_documents() {
        use LineClass::*;
        let text = "kind: ConfigMap\ndata:\n  a: b\n---\napiVersion: v1\nkind: Secret\ndata:\n  k: c2VjcmV0\n---\n{\"kind\":\"Secret\"}\n";
        assert_eq!(
            classify(text),
            vec![
                Plain, Plain, Plain, Plain, Secret, Secret, Secret, SecretData, Plain, Secret,
                Secret
            ]
        );
        assert!(mentions_secret_kind("kind:\n  Secret\n"));
        assert!(mentions_secret_kind("kind: !!str &k 'Secret'"));
        assert!(mentions_secret_kind("{kind: Secret, data: {a: b}}"));
        assert!(!mentions_secret_kind("kind: SecretProviderClass"));
        assert!(!mentions_secret_kind("credentialName: my-Secret"));
    }

    #[test]
    fn masks_values_but_keeps_keys() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  name: SUPERSECRET\n  password: SUPERSECRET\n  \"quoted\": SUPERSECRET\nstringData: {a: SUPERSECRET}\n  SUPERSECRET\ntype: Opaque";
        let classes = classify(text);
        let shown: Vec<String> = text
            .lines()
            .zip(&classes)
            .map(|(l, c)| mask(l, *c))
            .collect();
        assert!(
            shown.iter().all(|l| !l.contains("SUPERSECRET")),
            "{shown:?}"
        );
        assert_eq!(shown[3], "  name: db");
        assert_eq!(shown[5], "  name: <redacted>");
        assert_eq!(shown[10], "type: Opaque");
    }
}
