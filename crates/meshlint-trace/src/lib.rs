//! `meshlint trace`: what one request does in the mesh, worked out from the manifests
//! alone, hop by hop, each hop naming the resource field that decided it.
//!
//! This crate owns the walk of a request (a sidecar's registry and Sidecar scope, the
//! gateway server that accepts it, the VirtualService route it takes, the destination
//! and its workloads, the TLS the client proxy originates, the mTLS and authorization
//! the server enforces), the verdict with the symptom a user would see and the fix,
//! Envoy access-log parsing ([`access_log`]) and the human and JSON renderings
//! ([`render`]). It asks the graph's typed queries every question (the same answers the
//! rules use) and adds no Istio semantics of its own beyond combining them.
#![forbid(unsafe_code)]

pub mod access_log;
mod engine;
pub mod render;

pub use engine::trace;

use meshlint_diag::Location;
use serde::Serialize;

/// Where the request starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A workload's application (`NAMESPACE[/WORKLOAD]`).
    Workload {
        namespace: String,
        workload: Option<String>,
    },
    /// An external client entering through a Gateway's proxies.
    Gateway { namespace: String, name: String },
}

/// What the access log says the request went to (pins the trace to that cluster).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pin {
    pub subset: Option<String>,
}

/// The request to trace.
#[derive(Debug, Clone)]
pub struct TraceRequest {
    pub source: Source,
    /// As given: FQDN, `name.namespace`, a short name, or an external host.
    pub host: String,
    pub port: Option<u32>,
    pub path: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub pin: Option<Pin>,
}

/// Why a trace cannot be made (exit code 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    pub message: String,
}

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Delivered,
    Failed,
    /// Left the mesh's control through `PassthroughCluster` (`ALLOW_ANY`).
    Passthrough,
    /// Dropped by `BlackHoleCluster` (`REGISTRY_ONLY`).
    Blackholed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Delivered => "delivered",
            Verdict::Failed => "failed",
            Verdict::Passthrough => "passthrough",
            Verdict::Blackholed => "blackholed",
        }
    }
}

/// A file position (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Position {
    pub file: String,
    pub line: u32,
    pub column: u32,
    #[serde(skip)]
    pub location: Option<Location>,
}

/// A resource field that decided something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecidedBy {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub field: String,
    pub location: Option<Position>,
    /// What this field decided, in words (the label in the human output).
    pub label: String,
}

/// One hop of the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// `source`, `sidecar-scope`, `gateway`, `route`, `service-entry`, `destination`,
    /// `client-tls`, `waypoint` (ambient destinations bound to one), `server-mtls`,
    /// `authorization`, `egress-gateway`.
    pub step: String,
    pub summary: String,
    pub decided_by: Vec<DecidedBy>,
}

/// The request as traced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestOut {
    pub from: Option<String>,
    pub gateway: Option<String>,
    pub to: HostPort,
    pub path: String,
    pub method: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostPort {
    pub host: String,
    pub port: Option<u32>,
}

/// An access-log line explained: what it records and whether the trace agrees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogExplained {
    pub record: access_log::AccessLog,
    /// One sentence on what the line says happened.
    pub meaning: String,
    /// Whether the traced outcome matches the logged one.
    pub consistent: bool,
}

/// A finished trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trace {
    pub version: u32,
    pub request: RequestOut,
    pub verdict: Verdict,
    pub symptom: Option<String>,
    pub explanation: String,
    pub fix: Option<String>,
    pub decided_by: Vec<DecidedBy>,
    pub hops: Vec<Hop>,
    /// Things on the path that did not change the verdict but are likely not what was
    /// meant (an ignored removed API, a policy that selects nothing, …).
    pub notes: Vec<Hop>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_log: Option<LogExplained>,
}

impl Trace {
    /// 0 for `delivered`, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.verdict != Verdict::Delivered)
    }

    /// Every deciding field of every hop, in hop order.
    pub fn all_decided_by(&self) -> impl Iterator<Item = &DecidedBy> {
        self.hops.iter().flat_map(|h| h.decided_by.iter())
    }

    /// The hop of a step, if any (the first).
    pub fn hop(&self, step: &str) -> Option<&Hop> {
        self.hops.iter().find(|h| h.step == step)
    }
}

/// Traces an access-log line: the request it records, pinned to its upstream cluster.
/// `from` is the namespace (or `ns/workload`) of the proxy that wrote it when the line
/// does not name the pod.
pub fn trace_access_log(
    graph: &meshlint_graph::MeshGraph,
    line: &str,
    from: Option<Source>,
) -> Result<Trace, TraceError> {
    let log = access_log::parse(line).ok_or_else(|| TraceError {
        message: "the access-log line records no request (expected Istio's text or JSON format)"
            .to_string(),
    })?;
    let cluster = log.upstream_cluster.clone();
    let (host, port) = match &cluster {
        Some(c) if c.host.is_some() => (c.host.clone().unwrap_or_default(), c.port),
        _ => {
            let auth = log.authority.clone().ok_or_else(|| TraceError {
                message: "the access-log line names neither an upstream cluster nor an authority"
                    .to_string(),
            })?;
            match auth.rsplit_once(':') {
                Some((h, p)) if p.parse::<u32>().is_ok() => (h.to_string(), p.parse().ok()),
                _ => (auth, None),
            }
        }
    };
    let inbound = cluster.as_ref().is_some_and(|c| c.direction == "inbound");
    let source = match from {
        Some(s) => s,
        None if inbound => {
            return Err(TraceError {
                message: "an inbound line is written by the server's proxy and does not say who the client was: give --from NAMESPACE[/WORKLOAD]".to_string(),
            })
        }
        None => engine::source_from_pod(graph, log.pod.as_deref(), &host).ok_or_else(|| {
            TraceError {
                message: "the access-log line does not say which workload wrote it: give --from NAMESPACE[/WORKLOAD]".to_string(),
            }
        })?,
    };
    let req = TraceRequest {
        source,
        host,
        port,
        path: log.path.clone().unwrap_or_else(|| "/".to_string()),
        method: log.method.clone().unwrap_or_else(|| "GET".to_string()),
        headers: Vec::new(),
        pin: Some(Pin {
            subset: cluster.as_ref().and_then(|c| c.subset.clone()),
        }),
    };
    let mut t = trace(graph, &req)?;
    let code = log.response_code;
    let flags: Vec<&str> = log.response_flags.iter().map(|f| f.flag.as_str()).collect();
    let mut meaning = format!(
        "{} {} to {} answered {}",
        log.method.as_deref().unwrap_or("?"),
        log.path.as_deref().unwrap_or("?"),
        log.authority.as_deref().unwrap_or("?"),
        code.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
    );
    for f in &log.response_flags {
        meaning.push_str(&format!(" with {} ({})", f.flag, f.meaning));
    }
    if let Some(c) = &cluster {
        if let Some(h) = &c.host {
            meaning.push_str(&format!(
                ", on the {} cluster for {}:{}{}",
                c.direction,
                h,
                c.port.map(|p| p.to_string()).unwrap_or_default(),
                c.subset
                    .as_ref()
                    .map(|s| format!(" subset `{s}`"))
                    .unwrap_or_default()
            ));
        } else {
            meaning.push_str(&format!(", through {}", c.name));
        }
    }
    meaning.push('.');
    let logged_ok = code.is_some_and(|c| c < 500) && flags.is_empty();
    let consistent = match t.verdict {
        Verdict::Delivered => logged_ok,
        Verdict::Failed => {
            !logged_ok
                && t.symptom
                    .as_deref()
                    .is_none_or(|s| flags.is_empty() || flags.iter().any(|f| s.contains(f)))
        }
        Verdict::Blackholed => {
            !logged_ok
                || cluster
                    .as_ref()
                    .is_some_and(|c| c.name == "BlackHoleCluster")
        }
        Verdict::Passthrough => cluster
            .as_ref()
            .is_some_and(|c| c.name == "PassthroughCluster"),
    };
    t.access_log = Some(LogExplained {
        record: log,
        meaning,
        consistent,
    });
    Ok(t)
}
