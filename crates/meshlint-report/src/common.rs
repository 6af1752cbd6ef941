//! Helpers shared by the formats: ordering, fingerprints, small text utilities.

use meshlint_diag::{Finding, ResourceId, Severity, SourceFile};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// The findings in [`Finding::sort_key`] order (stable for equal keys).
pub(crate) fn sorted(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    v
}

/// The API group of an `apiVersion` (`networking.istio.io/v1beta1` → `networking.istio.io`,
/// `v1` → ``), so that moving a resource to a newer API version keeps its identity.
pub(crate) fn api_group(api_version: &str) -> &str {
    match api_version.rfind('/') {
        Some(i) => &api_version[..i],
        None => "",
    }
}

/// A 128-bit hex digest (32 lowercase hex digits) of `parts`, separated unambiguously.
pub(crate) fn digest_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let out = h.finalize();
    out[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// A fingerprint of a finding that does not depend on where in the file it is: a digest of
/// the rule id, the file name, the resource identity (API group, kind, namespace, name —
/// not the API version) and the content the finding is about, which is
/// [`Finding::fingerprint`] when the rule set one, else the trimmed text of the finding's
/// first line in `source`, else the message. Line and column never enter it.
///
/// Two findings can share a fingerprint (the same rule on two identical lines of one
/// resource); the SARIF and Code Climate writers add an occurrence number to tell them apart.
pub fn stable_fingerprint(finding: &Finding, source: Option<&SourceFile>) -> String {
    let (group, kind, ns, name) = match &finding.resource {
        Some(ResourceId {
            api_version,
            kind,
            namespace,
            name,
        }) => (
            api_group(api_version),
            kind.as_str(),
            namespace.as_deref().unwrap_or(""),
            name.as_str(),
        ),
        None => ("", "", "", ""),
    };
    let content: String = match (&finding.fingerprint, source) {
        (Some(fp), _) => format!("fingerprint:{fp}"),
        (None, Some(src)) => format!(
            "line:{}",
            src.line_text(finding.location.span.start.line).trim()
        ),
        (None, None) => format!("message:{}", finding.message),
    };
    digest_hex(&[
        "meshlint/v1",
        &finding.rule,
        &finding.location.file,
        group,
        kind,
        ns,
        name,
        &content,
    ])
}

/// For each finding (in the given order), its [`stable_fingerprint`] and its 1-based
/// occurrence among earlier findings with the same fingerprint.
pub(crate) fn fingerprints(
    findings: &[&Finding],
    sources: &HashMap<Arc<str>, SourceFile>,
) -> Vec<(String, usize)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let fp = stable_fingerprint(f, sources.get(&f.location.file));
            let n = seen.entry(fp.clone()).or_insert(0);
            *n += 1;
            (fp, *n)
        })
        .collect()
}

/// `error` / `warning` / `note`: the gcc and SARIF word for a severity.
pub(crate) fn gcc_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The text on one line: line breaks (and other control characters) become spaces.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshlint_diag::{Location, Span};

    fn finding(line: u32) -> Finding {
        Finding::new(
            "ML001",
            Severity::Error,
            "bad",
            Location {
                file: "a.yaml".into(),
                span: Span::point(line, 3),
            },
        )
        .with_resource(Some(ResourceId {
            api_version: "networking.istio.io/v1beta1".into(),
            kind: "DestinationRule".into(),
            namespace: Some("default".into()),
            name: "reviews".into(),
        }))
    }

    #[test]
    fn fingerprint_ignores_line_moves_and_api_version() {
        let before = SourceFile::new("a.yaml", "a: 1\n  mode: DISABLE\n");
        let after = SourceFile::new("a.yaml", "# moved\na: 1\n\n    mode: DISABLE\n");
        let fa = stable_fingerprint(&finding(2), Some(&before));
        let fb = stable_fingerprint(&finding(4), Some(&after));
        assert_eq!(fa, fb);
        assert_eq!(fa.len(), 32);
        assert!(fa.chars().all(|c| c.is_ascii_hexdigit()));

        let mut v1 = finding(4);
        v1.resource.as_mut().unwrap().api_version = "networking.istio.io/v1".into();
        assert_eq!(stable_fingerprint(&v1, Some(&after)), fb);

        // A different offending text, rule or resource changes it.
        let changed = SourceFile::new("a.yaml", "a: 1\n  mode: SIMPLE\n");
        assert_ne!(stable_fingerprint(&finding(2), Some(&changed)), fa);
        let mut other = finding(2);
        other.rule = "ML002".into();
        assert_ne!(stable_fingerprint(&other, Some(&before)), fa);
        let mut renamed = finding(2);
        renamed.resource.as_mut().unwrap().name = "ratings".into();
        assert_ne!(stable_fingerprint(&renamed, Some(&before)), fa);
    }

    #[test]
    fn explicit_fingerprint_wins_over_line_text() {
        let src = SourceFile::new("a.yaml", "a: 1\n  mode: DISABLE\n");
        let mut f = finding(2);
        f.fingerprint = Some("abc".into());
        let other_src = SourceFile::new("a.yaml", "a: 1\n  mode: SOMETHING ELSE\n");
        assert_eq!(
            stable_fingerprint(&f, Some(&src)),
            stable_fingerprint(&f, Some(&other_src))
        );
    }

    #[test]
    fn occurrences_count_duplicates() {
        let src = SourceFile::new("a.yaml", "x\n  mode: DISABLE\n  mode: DISABLE\n");
        let mut sources = HashMap::new();
        sources.insert(Arc::<str>::from("a.yaml"), src);
        let a = finding(2);
        let b = finding(3);
        let fps = fingerprints(&[&a, &b], &sources);
        assert_eq!(fps[0].0, fps[1].0);
        assert_eq!((fps[0].1, fps[1].1), (1, 2));
    }

    #[test]
    fn one_line_replaces_breaks() {
        assert_eq!(one_line("a\r\nb\nc\td"), "a b c d");
        assert_eq!(api_group("v1"), "");
        assert_eq!(api_group("apps/v1"), "apps");
    }
}
