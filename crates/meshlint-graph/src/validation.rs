//! Configuration Istio's webhook lets through (or that reaches istiod when the webhook is
//! bypassed) but that the proxy cannot use as written: HTTP routes without an action,
//! route weights, route names, ports and Gateway servers.
//!
//! Each query reads one resource's tree and answers with the fields at fault
//! ([`FieldIssue`]): what is wrong (`code`), the value concerned, and, for duplicates, the
//! first field it repeats. Nothing here compares resources with each other.

use crate::build::MeshGraph;
use meshlint_load::Node;
use meshlint_model::Kind;
use serde::Serialize;
use std::collections::HashMap;

/// One field of a resource that is wrong in itself or repeats another of the same
/// resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldIssue {
    /// Field path to point at (`spec.http[1].match`).
    pub path: String,
    /// What is wrong, a slug the rules switch on (see each query).
    pub code: &'static str,
    /// The value concerned, as text (a route name, a port, a weight total).
    pub value: String,
    /// For a duplicate, the path of the first field it repeats; otherwise empty.
    pub first: String,
    /// Extra figures some codes carry (the weights as written, for `sum`).
    pub numbers: Vec<i64>,
    /// A related field in another resource (resource index, path), for issues about a
    /// reference: the resource it names.
    pub other: Option<(usize, String)>,
    /// What is wrong, in words, where the code alone does not say it (the regex error).
    pub detail: String,
}

fn issue(path: String, code: &'static str, value: impl Into<String>) -> FieldIssue {
    FieldIssue {
        path,
        code,
        value: value.into(),
        first: String::new(),
        numbers: Vec::new(),
        other: None,
        detail: String::new(),
    }
}

/// Records the first place a key is seen; on a repeat, the issue naming that first place.
fn repeated<K: std::hash::Hash + Eq>(
    seen: &mut HashMap<K, String>,
    key: K,
    path: String,
    code: &'static str,
    value: impl Into<String>,
) -> Option<FieldIssue> {
    match seen.get(&key) {
        Some(first) => {
            let mut x = issue(path, code, value);
            x.first = first.clone();
            Some(x)
        }
        None => {
            seen.insert(key, path);
            None
        }
    }
}

impl FieldIssue {
    /// An issue at a path, with no value yet.
    pub(crate) fn at(path: String, code: &'static str) -> FieldIssue {
        issue(path, code, "")
    }
}

fn spec(g: &MeshGraph, r: usize) -> Option<&Node> {
    g.resources.get(r)?.node.get("spec")
}

impl MeshGraph {
    /// HTTP route entries of a VirtualService with none of `route`, `redirect`,
    /// `directResponse` or `delegate` (code `no-action`, `value` the route's name or
    /// `''`). `path` is the entry's `match` when it has one, else the entry.
    pub fn routes_without_action(&self, vs: usize) -> Vec<FieldIssue> {
        let Some(spec) = spec(self, vs) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, entry) in spec.items_at(&["http"]).iter().enumerate() {
            if entry.as_map().is_none() {
                continue;
            }
            let acts = ["route", "redirect", "directResponse", "delegate"]
                .iter()
                .any(|k| entry.get(k).is_some_and(|n| !n.is_null()));
            if acts {
                continue;
            }
            let path = if entry.get("match").is_some() {
                format!("spec.http[{i}].match")
            } else {
                format!("spec.http[{i}]")
            };
            out.push(issue(
                path,
                "no-action",
                entry.str_at(&["name"]).unwrap_or(""),
            ));
        }
        out
    }

    /// Route weights of a VirtualService's `http`, `tcp` and `tls` entries that Istio or
    /// Envoy do not take as written. Codes: `negative` (a weight below 0, at the weight),
    /// `zero-total` (several destinations whose weights add up to 0, at `route`), `sum`
    /// (several destinations, some weight set, total other than 100; `value` the total,
    /// `numbers` the weights in order, unset as 0), `single-zero` (one destination with
    /// `weight: 0`, which Istio ignores: it still gets all traffic).
    pub fn weight_issues(&self, vs: usize) -> Vec<FieldIssue> {
        let Some(spec) = spec(self, vs) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for section in ["http", "tcp", "tls"] {
            for (i, entry) in spec.items_at(&[section]).iter().enumerate() {
                let Some(route) = entry.get("route").and_then(Node::as_seq) else {
                    continue;
                };
                let at = format!("spec.{section}[{i}].route");
                let weights: Vec<Option<i64>> = route
                    .iter()
                    .map(|d| d.get("weight").and_then(Node::as_i64))
                    .collect();
                let mut negative = false;
                for (j, w) in weights.iter().enumerate() {
                    if let Some(w) = w.filter(|w| *w < 0) {
                        negative = true;
                        out.push(issue(
                            format!("{at}[{j}].weight"),
                            "negative",
                            w.to_string(),
                        ));
                    }
                }
                if negative {
                    continue;
                }
                let total: i64 = weights.iter().map(|w| w.unwrap_or(0)).sum();
                if route.len() == 1 {
                    if weights[0] == Some(0) {
                        out.push(issue(format!("{at}[0].weight"), "single-zero", "0"));
                    }
                } else if total == 0 {
                    if weights.iter().any(Option::is_some) {
                        out.push(issue(at, "zero-total", "0"));
                    }
                } else if total != 100 {
                    let mut x = issue(at, "sum", total.to_string());
                    x.numbers = weights.iter().map(|w| w.unwrap_or(0)).collect();
                    out.push(x);
                }
            }
        }
        out
    }

    /// HTTP route names a VirtualService uses more than once (code `duplicate-name`):
    /// each repetition, with `first` the first route of that name.
    pub fn duplicate_route_names(&self, vs: usize) -> Vec<FieldIssue> {
        let Some(spec) = spec(self, vs) else {
            return Vec::new();
        };
        let mut seen: HashMap<&str, String> = HashMap::new();
        let mut out = Vec::new();
        for (i, entry) in spec.items_at(&["http"]).iter().enumerate() {
            let Some(name) = entry.str_at(&["name"]).filter(|n| !n.is_empty()) else {
                continue;
            };
            out.extend(repeated(
                &mut seen,
                name,
                format!("spec.http[{i}].name"),
                "duplicate-name",
                name,
            ));
        }
        out
    }

    /// Ports of a Service (`spec.ports`), ServiceEntry (`spec.ports`) or Istio Gateway
    /// (`spec.servers[].port`): `out-of-range` (a number or target port outside 1–65535, 0
    /// allowed for `nodePort` and Gateway servers, which Istio does not check;
    /// `value` the number), `duplicate-number` (a Service or ServiceEntry port number
    /// repeated with the same transport protocol), `duplicate-name` (a port name
    /// repeated). Gateways may repeat a number (servers for several hosts share one
    /// listener), not a name.
    pub fn port_issues(&self, r: usize) -> Vec<FieldIssue> {
        let Some(spec) = spec(self, r) else {
            return Vec::new();
        };
        let kind: &str = &self.resources[r].id.kind;
        let ports: Vec<(String, &Node)> = if kind == "Gateway" {
            spec.items_at(&["servers"])
                .iter()
                .enumerate()
                .filter_map(|(i, s)| Some((format!("spec.servers[{i}].port"), s.get("port")?)))
                .collect()
        } else {
            spec.items_at(&["ports"])
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("spec.ports[{i}]"), p))
                .collect()
        };
        let mut out = Vec::new();
        let mut numbers: HashMap<(i64, String), String> = HashMap::new();
        let mut names: HashMap<&str, String> = HashMap::new();
        for (at, p) in &ports {
            for key in ["number", "port", "targetPort", "nodePort"] {
                let Some(n) = p.get(key).filter(|n| !n.is_null()) else {
                    continue;
                };
                // A named target port is a container port name, not a number.
                let Some(v) = n.scalar().and_then(|s| s.as_i64()) else {
                    continue;
                };
                // An unset nodePort is 0; Istio's validation checks a Gateway port only
                // when it is above 0.
                let zero_allowed = v == 0 && (key == "nodePort" || kind == "Gateway");
                if !(1..=65535).contains(&v) && !zero_allowed {
                    out.push(issue(format!("{at}.{key}"), "out-of-range", v.to_string()));
                }
            }
            let number_key = if kind == "Service" { "port" } else { "number" };
            if kind != "Gateway" {
                if let Some(v) = p
                    .get(number_key)
                    .and_then(|n| n.scalar())
                    .and_then(|s| s.as_i64())
                {
                    let transport = if kind == "Service" {
                        p.str_at(&["protocol"])
                            .unwrap_or("TCP")
                            .to_ascii_uppercase()
                    } else {
                        String::new()
                    };
                    let path = format!("{at}.{number_key}");
                    out.extend(repeated(
                        &mut numbers,
                        (v, transport),
                        path,
                        "duplicate-number",
                        v.to_string(),
                    ));
                }
            }
            if let Some(name) = p.str_at(&["name"]).filter(|n| !n.is_empty()) {
                let path = format!("{at}.name");
                out.extend(repeated(&mut names, name, path, "duplicate-name", name));
            }
        }
        out
    }

    /// Servers of an Istio Gateway whose protocol is HTTPS or TLS and that have no `tls`
    /// block (code `no-tls`, `value` the protocol as written, at the protocol).
    pub fn servers_without_tls(&self, gw: usize) -> Vec<FieldIssue> {
        let Some(spec) = spec(self, gw) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, s) in spec.items_at(&["servers"]).iter().enumerate() {
            let Some(protocol) = s.str_at(&["port", "protocol"]) else {
                continue;
            };
            let tls_protocol = matches!(protocol.to_ascii_uppercase().as_str(), "HTTPS" | "TLS");
            if tls_protocol && s.get("tls").is_none_or(Node::is_null) {
                out.push(issue(
                    format!("spec.servers[{i}].port.protocol"),
                    "no-tls",
                    protocol,
                ));
            }
        }
        out
    }

    /// Delegation problems of a VirtualService. As a root: each `http[].delegate` that
    /// names no VirtualService of the inputs (`missing`, `value` `namespace/name`; the
    /// namespace defaults to the root's) or one that declares `hosts` (`has-hosts`, with
    /// `other` its `hosts`), which Istio does not take as a delegate. As a delegate (no
    /// `hosts`): `gateways` set (`delegate-gateways`, at `spec.gateways`), which Istio's
    /// validation refuses since a delegate runs wherever its root does. Copies of one
    /// object satisfy a reference.
    pub fn delegate_issues(&self, vs: usize) -> Vec<FieldIssue> {
        let Some(spec) = spec(self, vs) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let ns = self.resources[vs].namespace();
        let has_hosts = |n: &Node| n.get("hosts").is_some_and(|h| !h.items().is_empty());
        for (i, entry) in spec.items_at(&["http"]).iter().enumerate() {
            let Some(d) = entry.get("delegate").filter(|d| d.as_map().is_some()) else {
                continue;
            };
            let Some(name) = d.str_at(&["name"]).filter(|n| !n.is_empty()) else {
                continue;
            };
            let target_ns = d
                .str_at(&["namespace"])
                .filter(|n| !n.is_empty())
                .unwrap_or(ns);
            let at = format!("spec.http[{i}].delegate");
            let found = self.find(Kind::VirtualService, target_ns, name);
            match found {
                None => out.push(issue(at, "missing", format!("{target_ns}/{name}"))),
                Some(t) => {
                    let hosted = self
                        .copies_of(t)
                        .iter()
                        .copied()
                        .filter(|&c| c != vs)
                        .find(|&c| self.resources[c].node.get("spec").is_some_and(has_hosts));
                    let all_hosted = self
                        .copies_of(t)
                        .iter()
                        .all(|&c| self.resources[c].node.get("spec").is_some_and(has_hosts));
                    if let (Some(c), true) = (hosted, all_hosted) {
                        let mut x = issue(at, "has-hosts", format!("{target_ns}/{name}"));
                        x.other = Some((c, "spec.hosts".to_string()));
                        out.push(x);
                    }
                }
            }
        }
        let gateways = spec.items_at(&["gateways"]);
        if !has_hosts(spec) && !gateways.is_empty() {
            out.push(issue("spec.gateways".to_string(), "delegate-gateways", ""));
        }
        out
    }

    /// Regular expressions of a VirtualService (every `regex` string match: `uri`,
    /// `scheme`, `method`, `authority`, `headers`, `queryParams`, `withoutHeaders`, CORS
    /// `allowOrigins`; and `rewrite.uriRegexRewrite.match`) that RE2, the engine of Istio's
    /// validation and of Envoy, refuses. Codes: `lookaround`, `backreference`,
    /// `nested-repetition` (`a**`, possessive `a++`), `repeat-count` (a count above
    /// 1000), `syntax` (anything else); `value` the expression, `numbers` the 1-based
    /// character where the problem starts, `detail` what it is.
    pub fn invalid_regexes(&self, vs: usize) -> Vec<FieldIssue> {
        let Some(spec) = spec(self, vs) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        collect_regexes(spec, &mut "spec".to_string(), false, &mut out);
        out
    }

    /// Durations of a VirtualService or DestinationRule that Istio's validation refuses
    /// though they parse: a non-zero value below 1 ms or negative (`below-1ms`), or one
    /// finer than a millisecond (`sub-ms`, e.g. `1500us`). Zero is left alone (it means
    /// "disabled" for timeouts). Fields: `timeout`, `perTryTimeout`, `connectTimeout`,
    /// `idleTimeout`, `maxConnectionDuration`, `interval`, `baseEjectionTime`, `time`,
    /// `fixedDelay`, at any depth of `spec`. `value` is the duration as written.
    pub fn duration_issues(&self, r: usize) -> Vec<FieldIssue> {
        let Some(spec) = spec(self, r) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        collect_durations(spec, &mut "spec".to_string(), &mut out);
        out
    }

    /// `retries.retryOn` entries of a VirtualService's HTTP routes that are neither an
    /// Envoy retry condition (`5xx`, `gateway-error`, `reset`, `connect-failure`,
    /// `retriable-4xx`, `refused-stream`, `retriable-status-codes`, the gRPC ones, …) nor
    /// an HTTP status code (code `unknown-retry-on`, `value` the entry, at `retryOn`).
    pub fn retry_on_issues(&self, vs: usize) -> Vec<FieldIssue> {
        const CONDITIONS: &[&str] = &[
            "5xx",
            "gateway-error",
            "reset",
            "reset-before-request",
            "connect-failure",
            "envoy-ratelimited",
            "retriable-4xx",
            "refused-stream",
            "retriable-status-codes",
            "retriable-headers",
            "http3-post-connect-failure",
            "cancelled",
            "deadline-exceeded",
            "internal",
            "resource-exhausted",
            "unavailable",
        ];
        let Some(spec) = spec(self, vs) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, entry) in spec.items_at(&["http"]).iter().enumerate() {
            let Some(on) = entry.str_at(&["retries", "retryOn"]) else {
                continue;
            };
            for part in on.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let status = part.parse::<u16>().is_ok_and(|c| (100..600).contains(&c));
                if !status && !CONDITIONS.contains(&part) {
                    out.push(issue(
                        format!("spec.http[{i}].retries.retryOn"),
                        "unknown-retry-on",
                        part,
                    ));
                }
            }
        }
        out
    }

    /// Routes and matches of a VirtualService (`http`, `tcp`, `tls`) that no request can
    /// reach because an earlier one takes it, as istioctl's IST0130 / IST0131 judge:
    /// `unreachable` (a route without `match` after another one without `match`, detail
    /// `only the last rule can have no matches`; or a route all of whose matches repeat
    /// earlier ones, detail `all matches used by prior rules`; at the route) and
    /// `ineffective` (a match equal to an earlier one, names aside, detail `duplicate`; or,
    /// for HTTP, a `uri.prefix` match — with at most a `method` beside it — under an
    /// earlier prefix match with no `method` or the same one, detail `covered`; at the
    /// match, `first` the earlier match). `value` is the route's name, else `#<index>`.
    pub fn shadowed_matches(&self, vs: usize) -> Vec<FieldIssue> {
        let Some(spec) = spec(self, vs) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for section in ["http", "tcp", "tls"] {
            let routes = spec.items_at(&[section]);
            let mut seen: Vec<(String, String, &Node)> = Vec::new(); // (key, path, match)
            let mut empty_at: Option<usize> = None;
            for (i, route) in routes.iter().enumerate() {
                let name = route
                    .str_at(&["name"])
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("#{i}"));
                let at = format!("spec.{section}[{i}]");
                let matches = route.items_at(&["match"]);
                if matches.is_empty() {
                    if let Some(prev) = empty_at {
                        let mut x = issue(at.clone(), "unreachable", name.clone());
                        x.detail = "only the last rule can have no matches".into();
                        x.first = format!("spec.{section}[{prev}]");
                        out.push(x);
                    }
                    empty_at = Some(i);
                    continue;
                }
                let mut duplicates = 0;
                let mut own: Vec<(String, String, &Node)> = Vec::new();
                for (j, m) in matches.iter().enumerate() {
                    let key = canonical_match(m);
                    let path = format!("{at}.match[{j}]");
                    let earlier = seen.iter().chain(own.iter());
                    if let Some((_, first, _)) = earlier.clone().find(|(k, _, _)| *k == key) {
                        let mut x = issue(path.clone(), "ineffective", name.clone());
                        x.detail = "duplicate".into();
                        x.first = first.clone();
                        out.push(x);
                        duplicates += 1;
                        continue;
                    }
                    if section == "http" {
                        if let Some((_, first, _)) =
                            earlier.clone().find(|(_, _, a)| prefix_covers(a, m))
                        {
                            let mut x = issue(path.clone(), "ineffective", name.clone());
                            x.detail = "covered".into();
                            x.first = first.clone();
                            out.push(x);
                        }
                    }
                    own.push((key, path, m));
                }
                if duplicates == matches.len() {
                    let mut x = issue(at, "unreachable", name);
                    x.detail = "all matches used by prior rules".into();
                    out.push(x);
                }
                seen.extend(own);
            }
        }
        out
    }
}

fn collect_regexes(n: &Node, at: &mut String, in_regex_rewrite: bool, out: &mut Vec<FieldIssue>) {
    // `at` is one buffer extended and cut back around each step down: a path is copied
    // only for a problem found, not for every field walked.
    let len = at.len();
    if let Some(entries) = n.as_map() {
        for (k, v) in entries {
            let Some(key) = k.as_str() else { continue };
            // Header names may hold dots or slashes: those keys are written `["key"]`.
            let plain = key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if plain {
                at.push('.');
                at.push_str(key);
            } else {
                at.push_str("[\"");
                at.push_str(key);
                at.push_str("\"]");
            }
            if key == "regex" || (in_regex_rewrite && key == "match") {
                if let Some(mut x) = v.as_str().and_then(re2_problem) {
                    x.path = at.clone();
                    out.push(x);
                }
            } else {
                collect_regexes(v, at, key == "uriRegexRewrite", out);
            }
            at.truncate(len);
        }
    } else if let Some(items) = n.as_seq() {
        for (i, item) in items.iter().enumerate() {
            push_index(at, i);
            collect_regexes(item, at, false, out);
            at.truncate(len);
        }
    }
}

/// Appends `[i]` to a field path.
fn push_index(at: &mut String, i: usize) {
    use std::fmt::Write;
    let _ = write!(at, "[{i}]");
}

/// Why RE2 refuses a pattern, or None. Parsed with `regex-syntax`, whose syntax is RE2's
/// save for what is checked on top: nested repetition operators and counts above 1000,
/// which RE2 refuses and `regex-syntax` accepts.
fn re2_problem(pattern: &str) -> Option<FieldIssue> {
    use regex_syntax::ast::{parse::Parser, Ast, ErrorKind};
    let char_at = |offset: usize| pattern[..offset.min(pattern.len())].chars().count() as i64 + 1;
    let found = |code: &'static str, offset: usize, detail: String| {
        let mut x = issue(String::new(), code, pattern);
        x.numbers = vec![char_at(offset)];
        x.detail = detail;
        Some(x)
    };
    let ast = match Parser::new().parse(pattern) {
        Ok(ast) => ast,
        Err(e) => {
            let offset = e.span().start.offset;
            return match e.kind() {
                ErrorKind::UnsupportedLookAround => {
                    found("lookaround", offset, "a lookaround assertion".into())
                }
                ErrorKind::UnsupportedBackreference => {
                    found("backreference", offset, "a backreference".into())
                }
                kind => found("syntax", offset, kind.to_string()),
            };
        }
    };
    fn walk(ast: &Ast) -> Option<(&'static str, usize, String)> {
        match ast {
            Ast::Repetition(rep) => {
                if let Ast::Repetition(_) = rep.ast.as_ref() {
                    return Some((
                        "nested-repetition",
                        rep.op.span.start.offset,
                        "a repetition operator applied to another (possessive or doubled)".into(),
                    ));
                }
                if let regex_syntax::ast::RepetitionKind::Range(r) = &rep.op.kind {
                    use regex_syntax::ast::RepetitionRange::*;
                    let max = match r {
                        Exactly(n) | AtLeast(n) => *n,
                        Bounded(a, b) => (*a).max(*b),
                    };
                    if max > 1000 {
                        return Some((
                            "repeat-count",
                            rep.op.span.start.offset,
                            format!("a repetition count of {max} (RE2 allows at most 1000)"),
                        ));
                    }
                }
                walk(&rep.ast)
            }
            Ast::Group(g) => walk(&g.ast),
            Ast::Alternation(a) => a.asts.iter().find_map(walk),
            Ast::Concat(c) => c.asts.iter().find_map(walk),
            _ => None,
        }
    }
    if let Some((code, offset, detail)) = walk(&ast) {
        return found(code, offset, detail);
    }
    if let Err(e) = regex_syntax::Parser::new().parse(pattern) {
        return found(
            "syntax",
            0,
            e.to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string(),
        );
    }
    None
}

const DURATION_FIELDS: &[&str] = &[
    "timeout",
    "perTryTimeout",
    "connectTimeout",
    "idleTimeout",
    "maxConnectionDuration",
    "interval",
    "baseEjectionTime",
    "time",
    "fixedDelay",
];

fn collect_durations(n: &Node, at: &mut String, out: &mut Vec<FieldIssue>) {
    // One path buffer, as in `collect_regexes`.
    let len = at.len();
    if let Some(entries) = n.as_map() {
        for (k, v) in entries {
            let Some(key) = k.as_str() else { continue };
            at.push('.');
            at.push_str(key);
            match v
                .as_str()
                .filter(|_| DURATION_FIELDS.contains(&key) && v.scalar().is_some())
            {
                Some(text) => {
                    if let Some(nanos) = go_duration_nanos(text) {
                        let code = if nanos < 0 || (nanos > 0 && nanos < 1_000_000) {
                            Some("below-1ms")
                        } else if nanos % 1_000_000 != 0 {
                            Some("sub-ms")
                        } else {
                            None
                        };
                        if let Some(code) = code {
                            out.push(issue(at.clone(), code, text));
                        }
                    }
                }
                None => collect_durations(v, at, out),
            }
            at.truncate(len);
        }
    } else if let Some(items) = n.as_seq() {
        for (i, item) in items.iter().enumerate() {
            push_index(at, i);
            collect_durations(item, at, out);
            at.truncate(len);
        }
    }
}

/// A Go-style duration (`1h30m`, `1.5s`, `250ms`, `10us`) in nanoseconds, or None when it
/// does not parse (the schema reports those).
fn go_duration_nanos(s: &str) -> Option<i128> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    let mut total: i128 = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_end);
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_end);
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
        if whole.is_empty() && frac.is_empty() {
            return None;
        }
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        total += whole * scale;
        let mut place = scale;
        for d in frac.chars() {
            place /= 10;
            total += i128::from(d.to_digit(10)?) * place;
        }
        rest = next;
    }
    Some(if neg { -total } else { total })
}

/// A match as comparable text: keys sorted, the `name` left out (it changes nothing).
fn canonical_match(m: &Node) -> String {
    fn write(n: &Node, out: &mut String, top: bool) {
        if let Some(entries) = n.as_map() {
            let mut keys: Vec<(&str, &Node)> = entries
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?, v)))
                .filter(|(k, _)| !(top && *k == "name"))
                .collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            keys.dedup_by(|a, b| a.0 == b.0);
            out.push('{');
            for (k, v) in keys {
                out.push_str(k);
                out.push(':');
                write(v, out, false);
                out.push(',');
            }
            out.push('}');
        } else if let Some(items) = n.as_seq() {
            out.push('[');
            for item in items {
                write(item, out, false);
                out.push(',');
            }
            out.push(']');
        } else {
            out.push_str(&format!("{:?}", n.as_str().unwrap_or("")));
        }
    }
    let mut out = String::new();
    write(m, &mut out, true);
    out
}

/// Whether an earlier HTTP match `a` takes every request of a later `b`: both match only
/// a `uri.prefix` (and maybe a `method`), `b`'s prefix starts with `a`'s, and `a` has no
/// `method` or the same one.
fn prefix_covers(a: &Node, b: &Node) -> bool {
    let simple = |m: &Node| {
        m.entries()
            .iter()
            .all(|(k, _)| matches!(k.as_str(), Some("name" | "uri" | "method")))
    };
    let prefix = |m: &Node| m.str_at(&["uri", "prefix"]).map(str::to_string);
    let (Some(pa), Some(pb)) = (prefix(a), prefix(b)) else {
        return false;
    };
    if !simple(a) || !simple(b) || !pb.starts_with(&pa) {
        return false;
    }
    match (a.get("method"), b.get("method")) {
        (None, _) => true,
        (Some(ma), Some(mb)) => canonical_match(ma) == canonical_match(mb),
        (Some(_), None) => false,
    }
}

impl MeshGraph {
    /// An AuthorizationPolicy (without `provider`) whose rules are easy to misread:
    /// `no-rules` (none, or an empty list: ALLOW denies everything, DENY and AUDIT match
    /// nothing; at `metadata.name`) or `empty-rule` (a rule `{}`, which matches every
    /// request; at the first such rule). `value` is the action as it acts: `DENY`,
    /// `AUDIT`, else `ALLOW`.
    pub fn authorization_rule_shape(&self, i: usize) -> Vec<FieldIssue> {
        let r = &self.resources[i];
        let Some(spec) = r.spec().filter(|_| r.kind == Kind::AuthorizationPolicy) else {
            return Vec::new();
        };
        if spec.get("provider").is_some_and(|p| !p.is_null()) {
            return Vec::new();
        }
        let action = spec
            .get("action")
            .and_then(Node::as_str)
            .filter(|a| matches!(*a, "DENY" | "AUDIT"))
            .unwrap_or("ALLOW");
        let rules = spec.get("rules").map(Node::items).unwrap_or_default();
        if rules.is_empty() {
            return vec![issue("metadata.name".into(), "no-rules", action)];
        }
        let empty = rules
            .iter()
            .position(|x| x.as_map().is_some_and(|m| m.is_empty()));
        empty
            .map(|k| issue(format!("spec.rules[{k}]"), "empty-rule", action))
            .into_iter()
            .collect()
    }
}
