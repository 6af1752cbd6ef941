//! What one request meets: the VirtualService a proxy uses for its host, the route (by
//! index) whose match applies to its port, path, method and headers, and that route's
//! destinations, weights and behaviour (rewrite, timeout, retries, fault injection,
//! redirect). The typed VirtualService view keeps only destinations, so the matches
//! are read from the resource's tree here; every answer names the field paths that
//! decided it.

use crate::build::MeshGraph;
use crate::queries::host_matches;
use meshlint_load::Node;
use meshlint_model::typed::{Labels, Typed};
use meshlint_model::Kind;
use serde::Serialize;

/// The request as a proxy sees it.
#[derive(Debug, Clone, Default)]
pub struct RequestAttrs {
    /// The host asked for: an FQDN in the mesh, the authority at a gateway.
    pub host: String,
    pub port: Option<u32>,
    pub path: String,
    pub method: String,
    /// Header names lower-case.
    pub headers: Vec<(String, String)>,
    /// Namespace and labels of the calling workload (sidecar requests).
    pub source_namespace: Option<String>,
    pub source_labels: Option<Labels>,
    /// The Gateway whose proxies take the request (`None`: a sidecar, gateway `mesh`).
    pub gateway: Option<usize>,
}

/// The VirtualService a proxy uses for a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VirtualServiceChoice {
    pub virtual_service: usize,
    /// The `spec.hosts[i]` entry that matched.
    pub host_path: String,
    /// Other VirtualServices for the same host that this proxy does not use.
    pub shadowed: Vec<usize>,
}

/// One destination of a route, with its weight (100 when alone and unweighted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeightedDestination {
    /// Resolved in the VirtualService's namespace.
    pub host: String,
    pub port: Option<u32>,
    pub subset: Option<String>,
    pub weight: u32,
    /// Path of the `destination` block.
    pub path: String,
}

/// The route of a VirtualService that a request takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteChoice {
    pub virtual_service: usize,
    /// `http`, `tls` or `tcp`.
    pub protocol: String,
    /// Index in `spec.http` (or `tls`, `tcp`).
    pub index: usize,
    pub name: Option<String>,
    /// Path of the route (`spec.http[2]`).
    pub path: String,
    /// Index of the match condition that applied; `None` when the route has none.
    pub match_index: Option<usize>,
    pub destinations: Vec<WeightedDestination>,
    /// (field path, value as written) of rewrite, timeout, retries, fault, redirect,
    /// directResponse, mirror, headers — what shapes the request besides its destination.
    pub behaviour: Vec<(String, String)>,
}

/// The outcome of matching a request against a VirtualService.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RouteOutcome {
    Matched(RouteChoice),
    /// No route matches: Envoy answers `404 NR`. `routes` is how many were tried.
    NoMatch {
        routes: usize,
    },
}

fn string_match(cond: &Node, value: &str, ignore_case: bool) -> Option<bool> {
    let norm = |s: &str| {
        if ignore_case {
            s.to_ascii_lowercase()
        } else {
            s.to_string()
        }
    };
    let v = norm(value);
    if let Some(e) = cond.get("exact").and_then(Node::as_str) {
        return Some(v == norm(e));
    }
    if let Some(p) = cond.get("prefix").and_then(Node::as_str) {
        return Some(v.starts_with(&norm(p)));
    }
    if let Some(r) = cond.get("regex").and_then(Node::as_str) {
        // RE2 semantics: the whole value must match.
        let re = regex_lite::Regex::new(&format!("^(?:{r})$")).ok()?;
        return Some(re.is_match(value));
    }
    // `{}` or an unknown operator: Istio treats an empty match as present.
    Some(true)
}

impl MeshGraph {
    /// The VirtualService that proxies in `client_ns` (or the proxies of `gateway`) use
    /// for `host`: bound to `mesh` (no `gateways`, or `mesh` listed) and exported to
    /// `client_ns` for sidecars, bound to the Gateway for gateways; the most specific
    /// host wins (exact over wildcard, longer wildcard over shorter), then input order.
    pub fn virtual_service_for(
        &self,
        client_ns: &str,
        gateway: Option<usize>,
        host: &str,
    ) -> Option<VirtualServiceChoice> {
        let mut found: Vec<(usize, usize, String)> = Vec::new();
        for &v in self.of_kind(Kind::VirtualService) {
            let r = &self.resources[v];
            let Typed::VirtualService(vs) = &r.typed else {
                continue;
            };
            let ns = r.namespace();
            let bound = vs
                .gateways
                .iter()
                .filter(|g| g.path.starts_with("spec.gateways"))
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>();
            let applies = match gateway {
                None => {
                    (bound.is_empty() || bound.contains(&"mesh"))
                        && self
                            .export_scope_of(v)
                            .is_none_or(|s| s.iter().any(|n| n == client_ns))
                }
                Some(g) => bound
                    .iter()
                    .any(|b| *b != "mesh" && self.gateway_ref(b, ns) == Some(g)),
            };
            if !applies {
                continue;
            }
            for (i, h) in vs.hosts.iter().enumerate() {
                let resolved = if gateway.is_some() {
                    h.clone()
                } else {
                    self.resolve_host(h, ns)
                };
                if host_matches(&resolved, host) {
                    let specificity = if resolved.starts_with('*') {
                        resolved.len()
                    } else {
                        usize::MAX
                    };
                    found.push((v, specificity, format!("spec.hosts[{i}]")));
                    break;
                }
            }
        }
        let best = found.iter().map(|f| f.1).max()?;
        let mut winners = found.iter().filter(|f| f.1 == best);
        let (v, _, path) = winners.next()?.clone();
        let shadowed = found.iter().map(|f| f.0).filter(|&o| o != v).collect();
        Some(VirtualServiceChoice {
            virtual_service: v,
            host_path: path,
            shadowed,
        })
    }

    /// The route of VirtualService `vs` that a request takes: for HTTP, the first
    /// `spec.http` entry one of whose `match` conditions holds (uri, method, headers,
    /// withoutHeaders, port, gateways, sourceNamespace, sourceLabels; none = always);
    /// for `tls`/`tcp` (`protocol`), the first entry whose match port, SNI hosts and
    /// gateways fit. Conditions meshlint cannot judge offline (query parameters,
    /// authority regexes it cannot compile) count as holding.
    pub fn route_for(&self, vs: usize, protocol: &str, req: &RequestAttrs) -> RouteOutcome {
        let r = &self.resources[vs];
        let ns = r.namespace();
        let list = r
            .spec()
            .and_then(|s| s.get(protocol))
            .map(Node::items)
            .unwrap_or(&[]);
        for (i, route) in list.iter().enumerate() {
            let matches = route.items_at(&["match"]);
            let chosen = if matches.is_empty() {
                Some(None)
            } else {
                matches
                    .iter()
                    .position(|m| self.match_holds(m, protocol, ns, req))
                    .map(Some)
            };
            let Some(match_index) = chosen else {
                continue;
            };
            let path = format!("spec.{protocol}[{i}]");
            let dests = route.items_at(&["route"]);
            let mut destinations: Vec<WeightedDestination> = Vec::new();
            for (j, d) in dests.iter().enumerate() {
                let Some(dest) = d.get("destination") else {
                    continue;
                };
                let host = dest.get("host").and_then(Node::as_str).unwrap_or("");
                destinations.push(WeightedDestination {
                    host: self.resolve_host(host, ns),
                    port: dest
                        .get("port")
                        .and_then(|p| p.get("number"))
                        .and_then(Node::as_i64)
                        .and_then(|n| u32::try_from(n).ok()),
                    subset: dest
                        .get("subset")
                        .and_then(Node::as_str)
                        .map(str::to_string),
                    weight: d
                        .get("weight")
                        .and_then(Node::as_i64)
                        .and_then(|n| u32::try_from(n).ok())
                        .unwrap_or(if dests.len() == 1 { 100 } else { 0 }),
                    path: format!("{path}.route[{j}].destination"),
                });
            }
            // Unweighted multi-destination routes split evenly.
            if destinations.len() > 1 && destinations.iter().all(|d| d.weight == 0) {
                let n = destinations.len() as u32;
                for d in &mut destinations {
                    d.weight = 100 / n;
                }
            }
            let mut behaviour = Vec::new();
            for key in [
                "rewrite",
                "timeout",
                "retries",
                "fault",
                "redirect",
                "directResponse",
                "mirror",
                "headers",
            ] {
                if let Some(n) = route.get(key) {
                    behaviour.push((format!("{path}.{key}"), render_inline(n)));
                }
            }
            return RouteOutcome::Matched(RouteChoice {
                virtual_service: vs,
                protocol: protocol.to_string(),
                index: i,
                name: route.get("name").and_then(Node::as_str).map(str::to_string),
                path,
                match_index,
                destinations,
                behaviour,
            });
        }
        RouteOutcome::NoMatch { routes: list.len() }
    }

    fn match_holds(&self, m: &Node, protocol: &str, ns: &str, req: &RequestAttrs) -> bool {
        if let (Some(want), Some(port)) = (m.get("port").and_then(Node::as_i64), req.port) {
            if want != i64::from(port) {
                return false;
            }
        }
        if let Some(gws) = m.get("gateways").and_then(Node::as_seq) {
            let ok = gws
                .iter()
                .filter_map(Node::as_str)
                .any(|g| match req.gateway {
                    None => g == "mesh",
                    Some(gi) => g != "mesh" && self.gateway_ref(g, ns) == Some(gi),
                });
            if !ok {
                return false;
            }
        }
        if let (Some(want), Some(have)) = (
            m.get("sourceNamespace").and_then(Node::as_str),
            req.source_namespace.as_deref(),
        ) {
            if want != have {
                return false;
            }
        }
        if let Some(sel) = m.get("sourceLabels").and_then(Node::as_map) {
            let Some(labels) = &req.source_labels else {
                return false;
            };
            for (k, v) in sel {
                if labels.get(k.as_str().unwrap_or("")) != v.as_str() {
                    return false;
                }
            }
        }
        if protocol == "tls" {
            if let Some(sni) = m.get("sniHosts").and_then(Node::as_seq) {
                if !sni
                    .iter()
                    .filter_map(Node::as_str)
                    .any(|h| host_matches(&self.resolve_host(h, ns), &req.host))
                {
                    return false;
                }
            }
            return true;
        }
        if protocol != "http" {
            return true;
        }
        let ignore_case = m.get("ignoreUriCase").and_then(Node::as_bool) == Some(true);
        if let Some(c) = m.get("uri") {
            if string_match(c, &req.path, ignore_case) == Some(false) {
                return false;
            }
        }
        if let Some(c) = m.get("method") {
            if string_match(c, &req.method, false) == Some(false) {
                return false;
            }
        }
        let header = |name: &str| {
            let name = name.to_ascii_lowercase();
            req.headers
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.as_str())
        };
        for (k, cond) in m.get("headers").map(Node::entries).unwrap_or(&[]) {
            let Some(name) = k.as_str() else { continue };
            match header(name) {
                None => return false,
                Some(v) => {
                    if string_match(cond, v, false) == Some(false) {
                        return false;
                    }
                }
            }
        }
        for (k, cond) in m.get("withoutHeaders").map(Node::entries).unwrap_or(&[]) {
            let Some(name) = k.as_str() else { continue };
            if let Some(v) = header(name) {
                if string_match(cond, v, false) != Some(false) {
                    return false;
                }
            }
        }
        true
    }
}

/// A short one-line rendering of a YAML value (`{prefix: /v2}`), for summaries.
pub fn render_inline(n: &Node) -> String {
    if let Some(s) = n.as_str() {
        return s.to_string();
    }
    if let Some(m) = n.as_map() {
        let parts: Vec<String> = m
            .iter()
            .map(|(k, v)| format!("{}: {}", k.as_str().unwrap_or("?"), render_inline(v)))
            .collect();
        return format!("{{{}}}", parts.join(", "));
    }
    if let Some(s) = n.as_seq() {
        let parts: Vec<String> = s.iter().map(render_inline).collect();
        return format!("[{}]", parts.join(", "));
    }
    String::new()
}
