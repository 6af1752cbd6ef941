//! Gateway API routes as Istio resolves them: each `parentRefs` entry (a Gateway
//! listener, or a Service / ServiceEntry for mesh routing) and each `backendRefs` entry
//! (a Service, or Istio's `Hostname` for ServiceEntry hosts), with the ReferenceGrants
//! that permit crossing namespaces, and the Service a managed Gateway gets.
//!
//! Istio's behaviour (`pilot/pkg/config/kube/gateway/conversion.go`, `referenceAllowed`,
//! `buildDestination`, `GenerateSupportedKinds`; Gateway API spec):
//! - a Gateway parent narrows to the listeners its `sectionName` / `port` name (none:
//!   `NoMatchingParent`); a listener admits the route when its `allowedRoutes.namespaces`
//!   (`Same` by default, `All`, `Selector` over the namespace's labels plus
//!   `kubernetes.io/metadata.name`) admits the route's namespace (else
//!   `NotAllowedByListeners`), its kinds (explicit, or by protocol: HTTP/HTTPS take
//!   HTTPRoute and GRPCRoute, TCP takes TCPRoute, TLS takes TLSRoute and, terminating,
//!   TCPRoute) include the route's, and its `hostname` intersects the route's
//!   `hostnames` (else `NoMatchingListenerHostname`);
//! - a Service parent must exist; its `port` is not validated by Istio, it only adds a
//!   port match, so a port the Service lacks matches nothing;
//! - a backend of kind Service needs a port; a backend in another namespace needs a
//!   ReferenceGrant there (`RefNotPermitted`); kinds other than Service, Hostname,
//!   ServiceImport and InferencePool are `InvalidKind`; a missing Service is
//!   `BackendNotFound`.
//!
//! Absence (a parent Gateway, a Service, a ReferenceGrant) is certain in closed world, or
//! with evidence: a near spelling, the same name in another namespace, or a namespace
//! whose Namespace object and Services are in the inputs (see `namespace_described`).

use crate::build::MeshGraph;
use meshlint_load::Node;
use meshlint_model::schema::did_you_mean;
use meshlint_model::{Kind, UNSET_NAMESPACE};
use serde::Serialize;

pub const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// One `parentRefs` entry of a route, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteParent {
    /// Field path of the entry (`spec.parentRefs[i]`).
    pub path: String,
    /// `Gateway`, `Service`, `ServiceEntry` or the kind written (not resolved).
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The `port` the entry names, if any.
    pub port: Option<i64>,
    /// The parent found in the inputs.
    pub target: Option<usize>,
    /// `accepted`, `missing`, `no-matching-parent` (no listener has that `sectionName`
    /// / `port`), `not-allowed-by-listeners` (namespace or route kind refused),
    /// `no-matching-listener-hostname`, `port-missing` (a Service parent's `port` is
    /// not one of the Service's ports), `unknown` (meshlint cannot tell: a Selector over a
    /// Namespace outside the inputs, a kind it does not model).
    pub outcome: &'static str,
    /// For `missing`: whether the absence is certain (see the module doc).
    pub certain: bool,
    /// A near name of a parent of that kind in that namespace, or the namespace of one
    /// with that name elsewhere (`ns/name`).
    pub suggestion: Option<String>,
    /// The Gateway field that decided a refusal (a listener, its `allowedRoutes`, its
    /// `hostname`), or the Service's `spec.ports`.
    pub decided_by: Option<(usize, String)>,
}

/// One `backendRefs` entry of a route, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteBackend {
    /// Field path (`spec.rules[i].backendRefs[j]`).
    pub path: String,
    /// `Service`, `Hostname`, or the kind written.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub port: Option<i64>,
    pub target: Option<usize>,
    /// `resolved`, `missing` (BackendNotFound), `invalid-kind`, `port-unset` (a
    /// Service backend without `port`), `port-missing` (the Service has no such
    /// port), `not-permitted` (another namespace, no ReferenceGrant admits it),
    /// `unknown` (a kind Istio accepts that meshlint does not resolve).
    pub outcome: &'static str,
    /// For `missing` and `not-permitted`: whether the absence is certain.
    pub certain: bool,
    pub suggestion: Option<String>,
    /// The ReferenceGrant that permits a cross-namespace backend.
    pub grant: Option<usize>,
}

fn is_route(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::HTTPRoute | Kind::GRPCRoute | Kind::TCPRoute | Kind::TLSRoute
    )
}

fn route_kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::HTTPRoute => "HTTPRoute",
        Kind::GRPCRoute => "GRPCRoute",
        Kind::TCPRoute => "TCPRoute",
        _ => "TLSRoute",
    }
}

/// Whether two hostnames intersect (Gateway API: a `*.` label matches one or more
/// labels; either side may be the wildcard).
pub fn hostnames_intersect(a: &str, b: &str) -> bool {
    fn covers(pattern: &str, host: &str) -> bool {
        match pattern.strip_prefix('*') {
            Some(suffix) => host.len() > suffix.len() && host.ends_with(suffix),
            None => false,
        }
    }
    a.eq_ignore_ascii_case(b) || covers(a, b) || covers(b, a)
}

/// The route kinds a listener takes by its protocol (Istio's `GenerateSupportedKinds`).
fn kinds_by_protocol(listener: &Node) -> &'static [&'static str] {
    let terminate = listener.str_at(&["tls", "mode"]).unwrap_or("Terminate") == "Terminate";
    match listener.str_at(&["protocol"]).unwrap_or("") {
        "HTTP" | "HTTPS" => &["HTTPRoute", "GRPCRoute"],
        "TCP" => &["TCPRoute"],
        "TLS" if terminate => &["TLSRoute", "TCPRoute"],
        "TLS" => &["TLSRoute"],
        _ => &[],
    }
}

fn str_field<'n>(n: &'n Node, key: &str) -> Option<&'n str> {
    n.get(key).and_then(Node::as_str)
}

impl MeshGraph {
    /// A label selector's `matchLabels` against a namespace's labels (including the
    /// implicit `kubernetes.io/metadata.name`); None when meshlint cannot tell
    /// (expressions, or labels other than the name on a Namespace outside the inputs).
    fn namespace_selected(&self, selector: &Node, ns: &str) -> Option<bool> {
        if selector
            .get("matchExpressions")
            .and_then(Node::as_seq)
            .is_some_and(|e| !e.is_empty())
        {
            return None;
        }
        let labels = self
            .namespace_resource(ns)
            .map(|n| &self.resources[n].labels);
        let wanted = selector
            .get("matchLabels")
            .and_then(Node::as_map)
            .unwrap_or(&[]);
        let mut all = true;
        for (k, v) in wanted {
            let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else {
                return None;
            };
            let have = if k == NAMESPACE_NAME_LABEL {
                Some(ns)
            } else {
                match labels {
                    Some(l) => l.get(k),
                    None => return None,
                }
            };
            all &= have == Some(v);
        }
        Some(all)
    }

    /// Whether a Gateway listener's `allowedRoutes.namespaces` admits routes of `ns`.
    fn listener_admits_namespace(&self, gateway: usize, listener: &Node, ns: &str) -> Option<bool> {
        let namespaces = listener
            .get("allowedRoutes")
            .and_then(|a| a.get("namespaces"));
        let from = namespaces
            .and_then(|n| str_field(n, "from"))
            .unwrap_or("Same");
        // A route written without a namespace may be applied to any: only `All` (or the
        // Gateway in the same unnamed namespace) settles it.
        if ns == UNSET_NAMESPACE && from != "All" && self.resources[gateway].namespace() != ns {
            return None;
        }
        match from {
            "All" => Some(true),
            "Same" => Some(self.resources[gateway].namespace() == ns),
            "Selector" => self.namespace_selected(namespaces?.get("selector")?, ns),
            _ => Some(false),
        }
    }

    /// Whether a listener takes routes of a kind: it must be in `allowedRoutes.kinds`
    /// when that is written; Istio's gateways also take only the kinds of the listener's
    /// protocol. None when meshlint cannot tell (another implementation's defaults, or a
    /// protocol Istio does not route).
    fn listener_takes_kind(&self, gateway: usize, listener: &Node, kind: &str) -> Option<bool> {
        let istio = self.is_istio_gateway(gateway);
        let by_protocol = kinds_by_protocol(listener);
        let listed = listener
            .get("allowedRoutes")
            .and_then(|a| a.get("kinds"))
            .and_then(Node::as_seq)
            .filter(|k| !k.is_empty())
            .map(|kinds| {
                kinds.iter().any(|k| {
                    str_field(k, "kind") == Some(kind)
                        && str_field(k, "group").unwrap_or(GATEWAY_GROUP) == GATEWAY_GROUP
                })
            });
        match listed {
            Some(false) => Some(false),
            _ if istio && !by_protocol.is_empty() => Some(by_protocol.contains(&kind)),
            Some(true) if !istio => Some(true),
            _ => None,
        }
    }

    /// A resource of `kind` named `name` in `ns`, or — when the objects written without
    /// a namespace could be those of `ns` — in the unnamed namespace.
    fn find_in(&self, kind: Kind, ns: &str, name: &str) -> Option<usize> {
        self.find(kind, ns, name).or_else(|| {
            self.could_be_unset(ns)
                .then(|| self.find(kind, UNSET_NAMESPACE, name))
                .flatten()
        })
    }

    /// Evidence that a missing `kind` `ns/name` is a mistake: a near name in `ns`, or
    /// the name in another namespace (`other/name`).
    fn suggest_object(&self, kind: Kind, ns: &str, name: &str) -> Option<String> {
        let here = self.in_namespace(ns, kind);
        if let Some(near) = did_you_mean(name, here.iter().map(|&i| self.resources[i].name())) {
            return Some(near.to_string());
        }
        self.named(kind, name)
            .into_iter()
            .map(|i| self.resources[i].namespace())
            .find(|other| *other != ns && *other != UNSET_NAMESPACE)
            .map(|other| format!("{other}/{name}"))
    }

    /// The parents of a Gateway API route, resolved (empty for other kinds).
    pub fn route_parents(&self, route: usize) -> Vec<RouteParent> {
        let r = &self.resources[route];
        if !is_route(r.kind) {
            return Vec::new();
        }
        let route_kind = route_kind_name(r.kind);
        let hostnames: Vec<&str> = r
            .spec()
            .and_then(|s| s.get("hostnames"))
            .map(|h| h.items().iter().filter_map(Node::as_str).collect())
            .unwrap_or_default();
        let refs = r
            .spec()
            .and_then(|s| s.get("parentRefs"))
            .map(|p| p.items())
            .unwrap_or(&[]);
        refs.iter()
            .enumerate()
            .map(|(i, p)| {
                let path = format!("spec.parentRefs[{i}]");
                let group = str_field(p, "group").unwrap_or(GATEWAY_GROUP);
                let kind = str_field(p, "kind").unwrap_or("Gateway");
                let name = str_field(p, "name").unwrap_or("").to_string();
                let namespace = str_field(p, "namespace")
                    .unwrap_or(r.namespace())
                    .to_string();
                let mut out = RouteParent {
                    path,
                    kind: kind.to_string(),
                    namespace,
                    name,
                    port: p.get("port").and_then(Node::as_i64),
                    target: None,
                    outcome: "unknown",
                    certain: false,
                    suggestion: None,
                    decided_by: None,
                };
                let model = match (group, kind) {
                    (GATEWAY_GROUP, "Gateway") => Kind::K8sGateway,
                    ("" | "core", "Service") => Kind::Service,
                    ("networking.istio.io", "ServiceEntry") => Kind::ServiceEntry,
                    _ => return out,
                };
                let Some(t) = self.find_in(model, &out.namespace, &out.name) else {
                    out.outcome = "missing";
                    out.suggestion = self.suggest_object(model, &out.namespace, &out.name);
                    out.certain = self.closed_world
                        || out.suggestion.is_some()
                        || (model != Kind::K8sGateway && self.namespace_described(&out.namespace));
                    return out;
                };
                out.target = Some(t);
                match model {
                    Kind::K8sGateway => self.resolve_gateway_parent(
                        &mut out,
                        t,
                        p,
                        r.namespace(),
                        route_kind,
                        &hostnames,
                    ),
                    Kind::Service => {
                        out.outcome = "accepted";
                        if let Some(port) = p.get("port").and_then(Node::as_i64) {
                            let ports = self.resources[t].spec().and_then(|s| s.get("ports"));
                            let has = ports.is_some_and(|ps| {
                                ps.items()
                                    .iter()
                                    .any(|x| x.get("port").and_then(Node::as_i64) == Some(port))
                            });
                            if !has {
                                out.outcome = "port-missing";
                                out.decided_by = Some((t, "spec.ports".to_string()));
                            }
                        }
                    }
                    _ => out.outcome = "accepted",
                }
                out
            })
            .collect()
    }

    fn resolve_gateway_parent(
        &self,
        out: &mut RouteParent,
        gateway: usize,
        parent: &Node,
        route_ns: &str,
        route_kind: &str,
        hostnames: &[&str],
    ) {
        // Waypoints take mesh routes on their HBONE listener; Istio does not match
        // listeners there.
        if self.is_waypoint(gateway) {
            out.outcome = "accepted";
            return;
        }
        let g = &self.resources[gateway];
        let section = str_field(parent, "sectionName");
        let port = parent.get("port").and_then(Node::as_i64);
        let listeners = g
            .spec()
            .and_then(|s| s.get("listeners"))
            .map(|l| l.items())
            .unwrap_or(&[]);
        let candidates: Vec<(usize, &Node)> = listeners
            .iter()
            .enumerate()
            .filter(|(_, l)| section.is_none_or(|s| str_field(l, "name") == Some(s)))
            .filter(|(_, l)| port.is_none_or(|p| l.get("port").and_then(Node::as_i64) == Some(p)))
            .collect();
        if candidates.is_empty() {
            out.outcome = "no-matching-parent";
            out.decided_by = Some((gateway, "spec.listeners".to_string()));
            return;
        }
        let mut hostname_refusal = None;
        let mut other_refusal = None;
        let mut unknown = false;
        for (i, l) in candidates {
            let lp = format!("spec.listeners[{i}]");
            let host_ok = match str_field(l, "hostname") {
                Some(h) if !hostnames.is_empty() => {
                    hostnames.iter().any(|r| hostnames_intersect(h, r))
                }
                _ => true,
            };
            let ns_ok = self.listener_admits_namespace(gateway, l, route_ns);
            let kind_ok = self.listener_takes_kind(gateway, l, route_kind);
            match (host_ok, ns_ok, kind_ok) {
                (true, Some(true), Some(true)) => {
                    out.outcome = "accepted";
                    out.decided_by = None;
                    return;
                }
                (_, None, _) => unknown = true,
                (false, _, _) => {
                    hostname_refusal.get_or_insert(format!("{lp}.hostname"));
                }
                (true, Some(false), _) => {
                    let at = if l.get("allowedRoutes").is_some() {
                        format!("{lp}.allowedRoutes")
                    } else {
                        lp
                    };
                    other_refusal.get_or_insert(at);
                }
                (true, Some(true), None) => unknown = true,
                (true, Some(true), Some(false)) => {
                    let at = if l
                        .get("allowedRoutes")
                        .and_then(|a| a.get("kinds"))
                        .is_some()
                    {
                        format!("{lp}.allowedRoutes.kinds")
                    } else {
                        format!("{lp}.protocol")
                    };
                    other_refusal.get_or_insert(at);
                }
            }
        }
        if unknown {
            out.outcome = "unknown";
        } else if let Some(at) = other_refusal {
            out.outcome = "not-allowed-by-listeners";
            out.decided_by = Some((gateway, at));
        } else if let Some(at) = hostname_refusal {
            out.outcome = "no-matching-listener-hostname";
            out.decided_by = Some((gateway, at));
        }
    }

    /// The backends of a Gateway API route, resolved (empty for other kinds).
    pub fn route_backends(&self, route: usize) -> Vec<RouteBackend> {
        let r = &self.resources[route];
        if !is_route(r.kind) {
            return Vec::new();
        }
        let rules = r
            .spec()
            .and_then(|s| s.get("rules"))
            .map(|p| p.items())
            .unwrap_or(&[]);
        let mut out = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let refs = rule.get("backendRefs").map(|b| b.items()).unwrap_or(&[]);
            for (j, b) in refs.iter().enumerate() {
                out.push(self.resolve_backend(
                    route,
                    b,
                    format!("spec.rules[{i}].backendRefs[{j}]"),
                ));
            }
        }
        out
    }

    fn resolve_backend(&self, route: usize, b: &Node, path: String) -> RouteBackend {
        let r = &self.resources[route];
        let group = str_field(b, "group").unwrap_or("");
        let kind = str_field(b, "kind").unwrap_or("Service");
        let explicit_ns = str_field(b, "namespace");
        let mut out = RouteBackend {
            path,
            kind: kind.to_string(),
            namespace: explicit_ns.unwrap_or(r.namespace()).to_string(),
            name: str_field(b, "name").unwrap_or("").to_string(),
            port: b.get("port").and_then(Node::as_i64),
            target: None,
            outcome: "unknown",
            certain: false,
            suggestion: None,
            grant: None,
        };
        match (group, kind) {
            ("" | "core", "Service") => {}
            ("networking.istio.io", "Hostname") => {
                let found = self
                    .of_kind(Kind::ServiceEntry)
                    .iter()
                    .copied()
                    .find(|&se| {
                        self.resources[se]
                            .spec()
                            .and_then(|s| s.get("hosts"))
                            .is_some_and(|h| {
                                h.items()
                                    .iter()
                                    .any(|x| x.as_str() == Some(out.name.as_str()))
                            })
                    });
                out.target = found;
                out.outcome = if found.is_some() {
                    "resolved"
                } else {
                    "missing"
                };
                out.certain = self.closed_world;
                return out;
            }
            ("multicluster.x-k8s.io", "ServiceImport")
            | ("inference.networking.x-k8s.io" | "inference.networking.k8s.io", "InferencePool")
            | ("gateway.networking.x-k8s.io", "XBackend") => return out,
            _ => {
                // Kinds are implementation-specific: only Istio's refusal is known.
                let istio_only = self
                    .route_parents(route)
                    .iter()
                    .all(|p| match p.kind.as_str() {
                        "Gateway" => p.target.is_some_and(|g| self.is_istio_gateway(g)),
                        _ => true,
                    });
                if istio_only {
                    out.outcome = "invalid-kind";
                }
                return out;
            }
        }
        if out.port.is_none() {
            out.outcome = "port-unset";
            return out;
        }
        // A route written without a namespace may be applied to the backend's.
        if out.namespace != r.namespace() && r.namespace() != UNSET_NAMESPACE {
            let grant = self.reference_grant(
                r.namespace(),
                route_kind_name(r.kind),
                &out.namespace,
                "",
                "Service",
                &out.name,
            );
            match grant {
                Some(g) => out.grant = Some(g),
                None => {
                    out.outcome = "not-permitted";
                    out.certain = self.closed_world || self.namespace_described(&out.namespace);
                    return out;
                }
            }
        }
        let Some(svc) = self.find_in(Kind::Service, &out.namespace, &out.name) else {
            out.outcome = "missing";
            out.suggestion = self.suggest_object(Kind::Service, &out.namespace, &out.name);
            out.certain = self.closed_world
                || out.suggestion.is_some()
                || self.namespace_described(&out.namespace);
            return out;
        };
        out.target = Some(svc);
        let ports = self.resources[svc].spec().and_then(|s| s.get("ports"));
        let has_port = ports.is_some_and(|ps| {
            ps.items()
                .iter()
                .any(|x| x.get("port").and_then(Node::as_i64) == out.port)
        });
        out.outcome = if has_port { "resolved" } else { "port-missing" };
        out
    }

    /// The ReferenceGrant in `to_ns` that lets a `from_kind` route of `from_ns` refer
    /// to the `to_group`/`to_kind` object `name`.
    pub fn reference_grant(
        &self,
        from_ns: &str,
        from_kind: &str,
        to_ns: &str,
        to_group: &str,
        to_kind: &str,
        name: &str,
    ) -> Option<usize> {
        self.in_namespace(to_ns, Kind::ReferenceGrant)
            .iter()
            .copied()
            .find(|&g| {
                let spec = self.resources[g].spec();
                let from = spec
                    .and_then(|s| s.get("from"))
                    .map(|f| f.items())
                    .unwrap_or(&[]);
                let to = spec
                    .and_then(|s| s.get("to"))
                    .map(|f| f.items())
                    .unwrap_or(&[]);
                from.iter().any(|f| {
                    str_field(f, "group") == Some(GATEWAY_GROUP)
                        && str_field(f, "kind") == Some(from_kind)
                        && str_field(f, "namespace") == Some(from_ns)
                }) && to.iter().any(|t| {
                    str_field(t, "group").unwrap_or("") == to_group
                        && str_field(t, "kind") == Some(to_kind)
                        && str_field(t, "name").is_none_or(|n| n == name)
                })
            })
    }

    /// Whether Istio implements a Gateway: one of Istio's classes, or a GatewayClass of
    /// the inputs whose controller is Istio's. Other implementations (agentgateway,
    /// Envoy Gateway, …) route by their own rules, and their proxies may be mesh
    /// workloads themselves.
    pub fn is_istio_gateway(&self, gateway: usize) -> bool {
        let class = self.resources[gateway]
            .node
            .str_at(&["spec", "gatewayClassName"])
            .unwrap_or("");
        if matches!(
            class,
            "istio" | "istio-waypoint" | "istio-east-west" | "istio-remote"
        ) {
            return true;
        }
        self.find(Kind::K8sGatewayClass, "", class)
            .is_some_and(|c| {
                self.resources[c]
                    .node
                    .str_at(&["spec", "controllerName"])
                    .is_some_and(|n| n.starts_with("istio.io/"))
            })
    }

    /// The Service istiod deploys for a managed Gateway: `<name>-<class>` for classes
    /// other than waypoints, the Gateway's own name for waypoints; None for a manual
    /// deployment (a single `spec.addresses` entry of type Hostname names the Service).
    pub fn gateway_service_name(&self, gateway: usize) -> Option<String> {
        let g = &self.resources[gateway];
        if g.kind != Kind::K8sGateway {
            return None;
        }
        let addresses = g
            .spec()
            .and_then(|s| s.get("addresses"))
            .map(|a| a.items())
            .unwrap_or(&[]);
        let manual = addresses.len() > 1
            || addresses
                .first()
                .is_some_and(|a| str_field(a, "type").is_some_and(|t| t != "IPAddress"));
        if manual {
            return None;
        }
        let class = g.node.str_at(&["spec", "gatewayClassName"]).unwrap_or("");
        if self.is_waypoint(gateway) {
            Some(g.name().to_string())
        } else {
            Some(format!("{}-{class}", g.name()))
        }
    }
}
