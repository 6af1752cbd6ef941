//! Envoy access-log lines as Istio writes them: the default text format (old and
//! current field lists), the JSON format, and a `stern`/`kubectl logs --prefix` pod
//! prefix. Only what a trace needs is kept: method, authority, path, response code and
//! flags, upstream cluster and host.

use serde::Serialize;

/// `direction|port|subset|host` of an upstream cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpstreamCluster {
    /// As written in the line.
    pub name: String,
    /// `outbound` or `inbound`; empty for `PassthroughCluster`, `BlackHoleCluster`, …
    pub direction: String,
    pub port: Option<u32>,
    pub subset: Option<String>,
    pub host: Option<String>,
}

/// One response flag and what it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub flag: String,
    pub meaning: String,
}

/// What an access-log line records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessLog {
    pub method: Option<String>,
    pub path: Option<String>,
    pub authority: Option<String>,
    pub response_code: Option<u16>,
    pub response_flags: Vec<Flag>,
    pub upstream_cluster: Option<UpstreamCluster>,
    pub upstream_host: Option<String>,
    /// The pod that wrote the line, when a log prefix names it.
    pub pod: Option<String>,
}

/// What an Envoy response flag means, in words.
pub fn flag_meaning(flag: &str) -> &'static str {
    match flag {
        "UH" => "no healthy upstream host in the cluster",
        "UF" => "the upstream connection failed (often a TLS handshake failure)",
        "UO" => "upstream overflow: the circuit breaker rejected the request",
        "NR" => "no route configured for the request (or no matching filter chain)",
        "URX" => "rejected after the retry or connect-attempt limit was reached",
        "NC" => "no cluster: the route names an upstream cluster that does not exist",
        "DT" => "the request or connection exceeded max duration",
        "DC" => "the downstream (client) connection was terminated",
        "LH" => "the local service failed its health check",
        "UT" => "upstream request timeout",
        "LR" => "the connection was reset locally",
        "UR" => "the upstream reset the connection",
        "UC" => "upstream connection termination: the server side closed the connection, as a sidecar in STRICT mTLS does to a plaintext client",
        "DI" => "the request was delayed by fault injection",
        "FI" => "the request was aborted by fault injection",
        "RL" => "rate limited locally",
        "UAEX" => "denied by an external authorization service",
        "RLSE" => "rate-limit service error",
        "IH" => "rejected for an invalid header value",
        "SI" => "stream idle timeout",
        "DPE" => "downstream protocol error",
        "UPE" => "upstream protocol error",
        "UMSDR" => "the upstream request reached max stream duration",
        "OM" => "overload manager terminated the request",
        "DF" => "DNS resolution failed",
        "NFCF" => "no filter chain matched the connection",
        _ => "unknown flag",
    }
}

/// Parses `direction|port|subset|host` (spaces around `|` allowed).
pub fn parse_cluster(s: &str) -> UpstreamCluster {
    let name: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let parts: Vec<&str> = name.split('|').collect();
    if parts.len() == 4 {
        let opt = |p: &str| (!p.is_empty()).then(|| p.to_string());
        return UpstreamCluster {
            direction: parts[0].to_string(),
            port: parts[1].parse().ok(),
            subset: opt(parts[2]),
            host: opt(parts[3]),
            name: name.clone(),
        };
    }
    UpstreamCluster {
        name,
        direction: String::new(),
        port: None,
        subset: None,
        host: None,
    }
}

fn flags(s: &str) -> Vec<Flag> {
    if s == "-" || s.is_empty() {
        return Vec::new();
    }
    s.split(',')
        .map(|f| Flag {
            flag: f.to_string(),
            meaning: flag_meaning(f).to_string(),
        })
        .collect()
}

fn none_dash(s: &str) -> Option<String> {
    (!s.is_empty() && s != "-").then(|| s.to_string())
}

/// Tokens of a text line: `"quoted strings"` (quotes dropped, flagged) and bare words.
fn tokens(line: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::new();
            for ch in chars.by_ref() {
                if ch == '"' {
                    break;
                }
                s.push(ch);
            }
            out.push((s, true));
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            out.push((s, false));
        }
    }
    out
}

fn is_cluster(s: &str) -> bool {
    s.starts_with("outbound|")
        || s.starts_with("inbound|")
        || matches!(
            s,
            "PassthroughCluster" | "BlackHoleCluster" | "InboundPassthroughCluster"
        )
}

/// Parses one line in Istio's text or JSON format. `None` when it records no request.
pub fn parse(line: &str) -> Option<AccessLog> {
    let line = line.trim();
    if let Some(start) = line.find('{') {
        if line.ends_with('}') {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line[start..]) {
                return parse_json(&v, line[..start].split_whitespace().next());
            }
        }
    }
    let (prefix, rest) = match line.find('[') {
        Some(i) => (&line[..i], &line[i..]),
        None => ("", line),
    };
    let toks = tokens(rest);
    // The request line: `"GET /path HTTP/1.1"` (also `GET /pathHTTP/1.1`, as a copy
    // that lost a space has it).
    let (ri, req) = toks.iter().enumerate().find(|(_, (t, q))| {
        *q && t
            .split_whitespace()
            .next()
            .is_some_and(|m| m.chars().all(|c| c.is_ascii_uppercase()) && m.len() >= 3)
    })?;
    let mut parts = req.0.split_whitespace();
    let method = parts.next().map(str::to_string);
    let mut path = parts.next().map(str::to_string);
    if let Some(p) = &mut path {
        if let Some(i) = p.find("HTTP/") {
            if i > 0 {
                p.truncate(i);
            }
        }
    }
    let after = &toks[ri + 1..];
    let response_code = after.first().and_then(|t| t.0.parse().ok());
    let response_flags = after.get(1).map(|t| flags(&t.0)).unwrap_or_default();
    let ci = toks.iter().position(|(t, q)| !q && is_cluster(t));
    let (upstream_cluster, upstream_host, authority) = match ci {
        Some(ci) => {
            let host = ci
                .checked_sub(1)
                .and_then(|i| toks.get(i))
                .filter(|t| t.1)
                .and_then(|t| none_dash(&t.0));
            let authority = ci
                .checked_sub(2)
                .and_then(|i| toks.get(i))
                .filter(|t| t.1)
                .and_then(|t| none_dash(&t.0));
            (Some(parse_cluster(&toks[ci].0)), host, authority)
        }
        None => (None, None, None),
    };
    Some(AccessLog {
        method,
        path,
        authority,
        response_code,
        response_flags,
        upstream_cluster,
        upstream_host,
        pod: prefix.split_whitespace().next().map(str::to_string),
    })
}

fn parse_json(v: &serde_json::Value, pod: Option<&str>) -> Option<AccessLog> {
    let field = |keys: &[&str]| {
        keys.iter().find_map(|k| match v.get(*k) {
            Some(serde_json::Value::String(s)) => none_dash(s),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    };
    let method = field(&["method"]);
    let path = field(&["path", "uri_path"]);
    if method.is_none() && path.is_none() && field(&["upstream_cluster"]).is_none() {
        return None;
    }
    Some(AccessLog {
        method,
        path,
        authority: field(&["authority"]),
        response_code: field(&["response_code", "status_code"]).and_then(|s| s.parse().ok()),
        response_flags: field(&["response_flags"])
            .map(|s| flags(&s))
            .unwrap_or_default(),
        upstream_cluster: field(&["upstream_cluster"]).map(|s| parse_cluster(&s)),
        upstream_host: field(&["upstream_host", "upstream_service"]),
        pod: pod.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_line_with_pod_prefix_and_lost_space() {
        let l = parse(r#"weather-frontend-7ff5d6d698-9nfbv istio-proxy [2019-03-28T12:53:32.264Z] "GET /api/weatherHTTP/1.1" 503 UC 0 57 1 - "-" "python-requests/2.21.0" "b3785f8b" "weather-backend:5000" "10.52.1.12:5000" outbound|5000|multiple|weather-backend.default.svc.cluster.local - 10.55.253.172:5000 10.52.2.22:54984"#).unwrap();
        assert_eq!(l.method.as_deref(), Some("GET"));
        assert_eq!(l.path.as_deref(), Some("/api/weather"));
        assert_eq!(l.response_code, Some(503));
        assert_eq!(l.response_flags[0].flag, "UC");
        assert_eq!(l.authority.as_deref(), Some("weather-backend:5000"));
        assert_eq!(l.upstream_host.as_deref(), Some("10.52.1.12:5000"));
        let c = l.upstream_cluster.unwrap();
        assert_eq!(c.port, Some(5000));
        assert_eq!(c.subset.as_deref(), Some("multiple"));
        assert_eq!(
            c.host.as_deref(),
            Some("weather-backend.default.svc.cluster.local")
        );
        assert_eq!(l.pod.as_deref(), Some("weather-frontend-7ff5d6d698-9nfbv"));
    }

    #[test]
    fn current_default_format() {
        let l = parse(r#"[2024-01-01T00:00:00.000Z] "GET /headers HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure} - "TLS_error" 0 91 3 - "-" "curl/8" "id" "httpbin:8000" "10.0.0.1:8000" outbound|8000||httpbin.foo.svc.cluster.local - 10.0.0.2:8000 10.0.0.3:4000 - default"#).unwrap();
        assert_eq!(l.response_flags[0].flag, "UF");
        assert_eq!(l.authority.as_deref(), Some("httpbin:8000"));
        assert_eq!(l.upstream_cluster.unwrap().subset, None);
    }

    #[test]
    fn json_format_with_spaced_cluster() {
        let l = parse(r#"{"authority":"httpbin:8000","method":"GET","response_flags":"-","status_code":"200","upstream_cluster":"outbound | 8000 | | httpbin.default.svc.cluster.local","uri_path":"/headers"}"#).unwrap();
        assert_eq!(l.response_code, Some(200));
        assert!(l.response_flags.is_empty());
        let c = l.upstream_cluster.unwrap();
        assert_eq!(c.port, Some(8000));
        assert_eq!(c.host.as_deref(), Some("httpbin.default.svc.cluster.local"));
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        for s in [
            "",
            "[",
            "\"",
            "{",
            "{}",
            "\"GET",
            "[x] \"GET / HTTP/1.1\" 503",
            "outbound|||",
        ] {
            let _ = parse(s);
        }
        assert!(parse("hello world").is_none());
    }
}
