//! What meshlint keeps of a Secret: its type, the *names* of its keys, and facts about the
//! certificate it carries (whether it parses, its validity period). Values — private keys
//! above all — are read once while the document is modelled and never stored.

use meshlint_diag::Span;
use meshlint_load::{Node, NodeValue, Scalar};
use serde::Serialize;

/// What replaces a Secret's value that YAML aliasing copied somewhere else.
pub const REDACTED: &str = "<redacted>";

fn is_secret(node: &Node) -> bool {
    node.str_at(&["kind"]) == Some("Secret")
}

fn secret_value_spans(root: &Node, out: &mut Vec<Span>) {
    if is_secret(root) {
        for key in ["data", "stringData"] {
            if let Some(v) = root.get(key) {
                out.push(v.span());
            }
        }
    }
    if let Some(items) = root.get("items").and_then(Node::as_seq) {
        for item in items {
            secret_value_spans(item, out);
        }
    }
}

fn within(inner: Span, outer: Span) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// Keeps a Secret's values in its `data` / `stringData` and nowhere else in the
/// document: a value anchored there and aliased (or merged with `<<`) into another
/// resource — a `kind: List` can hold both — or into the Secret's own metadata becomes
/// [`REDACTED`], so no rule message, graph or baseline can print it. `aliases` are the
/// document's alias expansions (use, anchored node) from the loader. Costs nothing for
/// documents without a Secret.
pub fn scrub_secret_copies(root: &mut Node, aliases: &[(Span, Span)]) {
    let mut ranges = Vec::new();
    secret_value_spans(root, &mut ranges);
    if ranges.is_empty() {
        return;
    }
    let mut uses: Vec<Span> = aliases
        .iter()
        .filter(|(_, target)| ranges.iter().any(|r| within(*target, *r)))
        .map(|(u, _)| *u)
        .collect();
    uses.sort_by_key(|s| (s.start, s.end));
    scrub(root, &ranges, &uses);
}

fn scrub(node: &mut Node, ranges: &[Span], uses: &[Span]) {
    let tainted = ranges.iter().any(|r| within(node.span(), *r))
        || uses
            .binary_search_by_key(&(node.span().start, node.span().end), |s| (s.start, s.end))
            .is_ok();
    if tainted {
        node.set_value(NodeValue::Scalar(Scalar::new(REDACTED, false)));
        return;
    }
    let secret = is_secret(node);
    match &mut node.value {
        NodeValue::Scalar(_) => {}
        NodeValue::Seq(items) => {
            for item in items {
                scrub(item, ranges, uses);
            }
        }
        NodeValue::Map(entries) => {
            for (k, v) in entries {
                if secret && matches!(k.as_str(), Some("data" | "stringData")) {
                    continue;
                }
                scrub(v, ranges, uses);
            }
        }
    }
}

/// The key names and certificate facts of a Secret.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Secret {
    pub secret_type: Option<String>,
    /// Keys of `data` (base64 values).
    pub data_keys: Vec<String>,
    /// Keys of `stringData` (plain values).
    pub string_data_keys: Vec<String>,
    /// The server certificate (`tls.crt`, else `cert`) when the Secret has one.
    pub certificate: Option<Certificate>,
}

/// Facts about the first certificate of a PEM bundle.
#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    /// The key it was read from (`tls.crt` or `cert`).
    pub key: String,
    /// Why it could not be read (not base64, not PEM, not X.509), when it could not.
    pub error: Option<String>,
    /// Validity period, seconds since the Unix epoch.
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
}

fn keys(node: Option<&Node>) -> Vec<String> {
    node.map(|n| {
        n.entries()
            .iter()
            .filter_map(|(k, _)| k.as_str().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

/// Reads the facts of a Secret document (before its values are dropped).
pub fn secret_facts(node: &Node) -> Secret {
    let data = node.get("data");
    let string_data = node.get("stringData");
    let certificate = ["tls.crt", "cert"].iter().find_map(|key| {
        if let Some(v) = data.and_then(|d| d.get(key)).and_then(Node::as_str) {
            return Some(certificate(key, base64_decode(v).ok_or("not valid base64")));
        }
        string_data
            .and_then(|d| d.get(key))
            .and_then(Node::as_str)
            .map(|v| certificate(key, Ok(v.as_bytes().to_vec())))
    });
    Secret {
        secret_type: node.str_at(&["type"]).map(str::to_string),
        data_keys: keys(data),
        string_data_keys: keys(string_data),
        certificate,
    }
}

fn certificate(key: &str, bytes: Result<Vec<u8>, &str>) -> Certificate {
    let parsed = bytes
        .map_err(str::to_string)
        .and_then(|b| pem_body(&b).ok_or_else(|| "not a PEM certificate".to_string()))
        .and_then(|der| validity(&der).ok_or_else(|| "not an X.509 certificate".to_string()));
    match parsed {
        Ok((nb, na)) => Certificate {
            key: key.to_string(),
            error: None,
            not_before: Some(nb),
            not_after: Some(na),
        },
        Err(e) => Certificate {
            key: key.to_string(),
            error: Some(e),
            not_before: None,
            not_after: None,
        },
    }
}

/// Decodes standard base64, ignoring whitespace.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut padding = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if padding > 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The DER bytes of the first `CERTIFICATE` block of a PEM text.
fn pem_body(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let start = text.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + text[start..].find("-----END CERTIFICATE-----")?;
    let der = base64_decode(&text[start..end])?;
    (!der.is_empty()).then_some(der)
}

/// One DER element: (tag, content, rest).
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// `(notBefore, notAfter)` of a DER certificate.
fn validity(cert: &[u8]) -> Option<(i64, i64)> {
    let (0x30, cert, _) = der(cert)? else {
        return None;
    };
    let (0x30, mut tbs, _) = der(cert)? else {
        return None;
    };
    // version [0] (optional), serialNumber, signature, issuer, then validity.
    let (tag, _, rest) = der(tbs)?;
    if tag == 0xa0 {
        tbs = rest;
        let (_, _, rest) = der(tbs)?;
        tbs = rest;
    } else {
        tbs = rest;
    }
    let (_, _, rest) = der(tbs)?; // signature algorithm
    let (_, _, rest) = der(rest)?; // issuer
    let (0x30, validity, _) = der(rest)? else {
        return None;
    };
    let (t1, nb, rest) = der(validity)?;
    let (t2, na, _) = der(rest)?;
    Some((time(t1, nb)?, time(t2, na)?))
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) → Unix seconds.
fn time(tag: u8, bytes: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(bytes).ok()?.strip_suffix('Z')?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = s.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let num = |r: std::ops::Range<usize>| -> Option<i64> { rest.get(r)?.parse().ok() };
    let (month, day, hour, minute) = (num(0..2)?, num(2..4)?, num(4..6)?, num(6..8)?);
    let second = num(8..10).unwrap_or(0);
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_dates() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert!(base64_decode("a*b").is_none());
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(time(0x17, b"230314120000Z"), Some(1_678_795_200));
        assert_eq!(
            time(0x18, b"21220101000000Z").map(|t| t > 4_700_000_000),
            Some(true)
        );
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        let c = certificate("tls.crt", Ok(b"hush hush".to_vec()));
        assert_eq!(c.error.as_deref(), Some("not a PEM certificate"));
        let c = certificate(
            "tls.crt",
            Ok(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec()),
        );
        assert_eq!(c.error.as_deref(), Some("not an X.509 certificate"));
    }
}
