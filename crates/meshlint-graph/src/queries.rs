//! The shared vocabulary of the graph's queries: decisions naming what decided them,
//! hosts and ports, short-host resolution, wildcard and selector matching, protocol
//! inference. The queries themselves live in one module per question (hosts,
//! destination rules, mTLS, visibility, routing, service entries, workloads,
//! injection, identity).

use crate::build::MeshGraph;
use meshlint_model::typed::Labels;
use meshlint_model::Resource;
use serde::Serialize;

/// A setting and the resource field that decided it (`None` for defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub value: String,
    /// Index of the deciding resource and the path of the deciding field.
    pub source: Option<(usize, String)>,
}

impl Decision {
    pub(crate) fn default_value(v: &str) -> Decision {
        Decision {
            value: v.to_string(),
            source: None,
        }
    }
}

/// A resource that defines a host (Service or ServiceEntry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostTarget {
    pub resource: usize,
    pub host: String,
}

/// A port of a Service or ServiceEntry, with its protocol as Istio infers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortInfo {
    pub number: u32,
    pub name: String,
    /// Upper-case protocol: HTTP, HTTP2, HTTPS, GRPC, TLS, TCP, MONGO, MYSQL, REDIS, …, or
    /// `UNKNOWN` when nothing declares it (Istio sniffs, or treats it as TCP).
    pub protocol: String,
    pub target_port: Option<String>,
    pub path: String,
}

/// Expands a short host (no dots) in the namespace that wrote it.
pub fn resolve_short(host: &str, ns: &str, domain: &str) -> String {
    if host.contains('.') || host.contains('*') || host.is_empty() || ns.is_empty() {
        host.to_string()
    } else {
        format!("{host}.{ns}.svc.{domain}")
    }
}

/// Whether `pattern` (possibly a wildcard) covers `host` (possibly a wildcard).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    if pattern == "*" || pattern == host {
        return true;
    }
    match (pattern.strip_prefix('*'), host.strip_prefix('*')) {
        (Some(ps), Some(hs)) => hs.ends_with(ps),
        (Some(ps), None) => host.ends_with(ps),
        (None, Some(hs)) => pattern.ends_with(hs),
        (None, None) => false,
    }
}

/// Whether every selector label is present with the same value.
pub fn selector_matches(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Protocol from `appProtocol`, else the port-name prefix.
pub fn infer_protocol(
    app_protocol: Option<&str>,
    name: Option<&str>,
    declared: Option<&str>,
) -> String {
    if let Some(p) = app_protocol {
        let p = p.rsplit('/').next().unwrap_or(p);
        return normalise_protocol(p);
    }
    if let Some(n) = name {
        let prefix = n.split('-').next().unwrap_or(n);
        let p = normalise_protocol(prefix);
        if p != "UNKNOWN" {
            return p;
        }
    }
    match declared {
        Some(d) if d.eq_ignore_ascii_case("UDP") => "UDP".to_string(),
        Some(d) if d.eq_ignore_ascii_case("SCTP") => "SCTP".to_string(),
        _ => "UNKNOWN".to_string(),
    }
}

pub(crate) fn normalise_protocol(p: &str) -> String {
    let up = p.to_ascii_uppercase();
    match up.as_str() {
        "HTTP" | "HTTP2" | "HTTPS" | "GRPC" | "GRPC-WEB" | "TLS" | "TCP" | "MONGO" | "MYSQL"
        | "REDIS" | "UDP" => up,
        "H2C" | "KUBERNETES.IO/H2C" => "HTTP2".to_string(),
        "WS" | "WSS" | "KUBERNETES.IO/WS" | "KUBERNETES.IO/WSS" => "HTTP".to_string(),
        _ => "UNKNOWN".to_string(),
    }
}

impl MeshGraph {
    /// `reviews` written in `ns` → `reviews.ns.svc.cluster.local`.
    pub fn resolve_host(&self, host: &str, ns: &str) -> String {
        resolve_short(host, ns, &self.mesh.dns_domain)
    }

    /// The resource at an index.
    pub fn resource(&self, i: usize) -> &Resource {
        &self.resources[i]
    }
}
