//! Where policies attach in ambient mode: `targetRefs` (waypoints and gateways only),
//! the waypoints that serve a workload's Services, and whether an L4 ALLOW policy that
//! ztunnel enforces still admits those waypoints once traffic goes through them.
//!
//! Istio's behaviour (`pilot/pkg/model/policyattachment.go`,
//! `pilot/pkg/serviceregistry/ambient/policies.go`, validation `allowedTargetRefs`):
//! - a `targetRefs` entry names a Service, ServiceEntry, Gateway or GatewayClass of the
//!   policy's own namespace (the field has no `namespace`; a written one is rejected);
//! - a Service or ServiceEntry target attaches only when it is bound to a waypoint
//!   (`WaypointAccepted=False`, AncestorNotBound, otherwise); sidecars ignore policies
//!   with `targetRefs`, so an unbound target leaves the policy enforced nowhere;
//! - a GatewayClass target works only from the root namespace;
//! - traffic through a waypoint reaches the workload from the waypoint's identity
//!   (`spiffe://<td>/ns/<waypoint ns>/sa/<waypoint name>`), not the client's.

use crate::build::MeshGraph;
use crate::dataplane::DataPlane;
use meshlint_load::Node;
use meshlint_model::{Kind, UNSET_NAMESPACE};
use serde::Serialize;

/// One `targetRefs` entry of a policy, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetRef {
    pub path: String,
    pub kind: String,
    pub name: String,
    pub target: Option<usize>,
    /// `attached`, `missing`, `not-bound` (a Service or ServiceEntry without a
    /// waypoint), `cross-namespace` (a `namespace` is written), `class-outside-root`
    /// (a GatewayClass target outside the root namespace), `unknown`.
    pub outcome: &'static str,
    /// For `missing` and `not-bound`: whether the inputs make the absence certain.
    pub certain: bool,
}

/// An ALLOW policy enforced by ztunnel whose identity conditions refuse the waypoint
/// that traffic to its workloads now comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaypointIdentityRefused {
    /// The waypoint Gateways (bound to the workloads' Services) the policy refuses.
    pub waypoints: Vec<usize>,
    /// The ambient workloads behind those waypoints.
    pub workloads: Vec<usize>,
    /// The waypoint identities (`<td>/ns/<ns>/sa/<name>`).
    pub principals: Vec<String>,
    /// The `from` fields that decide (per rule).
    pub sources: Vec<String>,
}

fn strings(n: Option<&Node>) -> Vec<&str> {
    n.map(|s| s.items().iter().filter_map(Node::as_str).collect())
        .unwrap_or_default()
}

/// Istio's principal match: exact, `*`, or one `*` at the start or end.
fn principal_matches(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return value.ends_with(suffix);
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return value.starts_with(prefix);
    }
    pattern == value
}

impl MeshGraph {
    /// The `targetRefs` (and legacy `targetRef`) entries of a policy, resolved.
    pub fn policy_target_refs(&self, policy: usize) -> Vec<TargetRef> {
        let r = &self.resources[policy];
        let Some(spec) = r.spec() else {
            return Vec::new();
        };
        let entries: Vec<(String, &Node)> = match (spec.get("targetRefs"), spec.get("targetRef")) {
            (Some(list), _) => list
                .items()
                .iter()
                .enumerate()
                .map(|(i, n)| (format!("spec.targetRefs[{i}]"), n))
                .collect(),
            (None, Some(one)) => vec![("spec.targetRef".to_string(), one)],
            _ => Vec::new(),
        };
        let ns = r.namespace();
        entries
            .into_iter()
            .map(|(path, n)| {
                let kind = n.str_at(&["kind"]).unwrap_or("").to_string();
                let name = n.str_at(&["name"]).unwrap_or("").to_string();
                let mut out = TargetRef {
                    path,
                    kind,
                    name,
                    target: None,
                    outcome: "unknown",
                    certain: false,
                };
                if n.get("namespace")
                    .and_then(Node::as_str)
                    .is_some_and(|t| t != ns)
                {
                    out.outcome = "cross-namespace";
                    return out;
                }
                let model = match out.kind.as_str() {
                    "Service" => Kind::Service,
                    "ServiceEntry" => Kind::ServiceEntry,
                    "Gateway" => Kind::K8sGateway,
                    "GatewayClass" => Kind::K8sGatewayClass,
                    _ => return out,
                };
                if model == Kind::K8sGatewayClass {
                    if ns != self.mesh.root_namespace {
                        out.outcome = "class-outside-root";
                    }
                    return out;
                }
                let Some(t) = self.find(model, ns, &out.name) else {
                    // A Gateway's deployment in the inputs shows the Gateway exists.
                    let deployed = model == Kind::K8sGateway
                        && self.workloads_by_ns.get(ns).is_some_and(|ws| {
                            ws.iter().any(|&w| {
                                self.workload_labels(w)
                                    .get("gateway.networking.k8s.io/gateway-name")
                                    .is_some_and(|n| *n == out.name)
                            })
                        });
                    if deployed {
                        return out;
                    }
                    out.outcome = "missing";
                    out.certain = self.closed_world
                        || (model != Kind::K8sGateway && self.namespace_described(ns));
                    return out;
                };
                out.target = Some(t);
                if model == Kind::K8sGateway {
                    out.outcome = "attached";
                    return out;
                }
                match self.waypoint_binding(t) {
                    Some(b) if b.outcome != "opted-out" => out.outcome = "attached",
                    Some(_) => {
                        out.outcome = "not-bound";
                        out.certain = true;
                    }
                    None => {
                        out.outcome = "not-bound";
                        // Without the Namespace object its label could bind the Service.
                        out.certain = self.closed_world || self.namespace_resource(ns).is_some();
                    }
                }
                out
            })
            .collect()
    }

    /// The waypoints (Gateways of the inputs) that the Services of a workload are bound
    /// to: ambient clients reach the workload through them.
    pub fn workload_waypoints(&self, workload: usize) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .services_for(workload)
            .into_iter()
            .filter_map(|s| self.waypoint_binding(s))
            .filter(|b| b.outcome == "bound")
            .filter_map(|b| b.gateway)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The identity a waypoint's proxies run as (its ServiceAccount is the Gateway's
    /// name), without the `spiffe://` scheme as AuthorizationPolicy principals write it.
    pub fn waypoint_principal(&self, gateway: usize) -> String {
        let g = &self.resources[gateway];
        format!(
            "{}/ns/{}/sa/{}",
            self.mesh.trust_domain,
            g.namespace(),
            g.name()
        )
    }

    /// Whether one `from.source` admits a peer identity (principal, namespace); None
    /// when it depends on something meshlint does not know (IP blocks).
    fn source_admits(source: &Node, principal: &str, ns: &str) -> Option<bool> {
        let sa = principal.rsplit('/').next().unwrap_or("");
        let ns_sa = format!("{ns}/{sa}");
        let list = |k: &str| strings(source.get(k));
        if !list("ipBlocks").is_empty() || !list("remoteIpBlocks").is_empty() {
            return None;
        }
        let ok = |k: &str, v: &str, matcher: &dyn Fn(&str, &str) -> bool| {
            let l = list(k);
            l.is_empty() || l.iter().any(|p| matcher(p, v))
        };
        let not = |k: &str, v: &str, matcher: &dyn Fn(&str, &str) -> bool| {
            list(k).iter().any(|p| matcher(p, v))
        };
        let exact = |p: &str, v: &str| principal_matches(p, v);
        Some(
            ok("principals", principal, &exact)
                && ok("namespaces", ns, &exact)
                && ok("serviceAccounts", &ns_sa, &exact)
                && !not("notPrincipals", principal, &exact)
                && !not("notNamespaces", ns, &exact)
                && !not("notServiceAccounts", &ns_sa, &exact),
        )
    }

    /// An ALLOW AuthorizationPolicy that ztunnel enforces on ambient workloads reached
    /// through a waypoint, none of whose rules admits the waypoint's identity: the
    /// callers its identity conditions name are refused once their traffic goes
    /// through the waypoint. None when it admits them, or meshlint cannot tell.
    pub fn waypoint_identity_refused(&self, policy: usize) -> Option<WaypointIdentityRefused> {
        let r = &self.resources[policy];
        if r.kind != Kind::AuthorizationPolicy {
            return None;
        }
        let spec = r.spec()?;
        if spec.get("targetRefs").is_some() || spec.get("targetRef").is_some() {
            return None;
        }
        if spec.str_at(&["action"]).unwrap_or("ALLOW") != "ALLOW" {
            return None;
        }
        let rules = spec.get("rules").map(|r| r.items()).unwrap_or(&[]);
        // Every rule must constrain the source's identity (else it admits the waypoint).
        if rules.is_empty()
            || rules
                .iter()
                .any(|rule| rule.get("from").is_none_or(|f| f.items().is_empty()))
        {
            return None;
        }
        let selector: Option<meshlint_model::typed::Labels> = spec
            .get("selector")
            .and_then(|s| s.get("matchLabels"))
            .and_then(Node::as_map)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
                    .collect()
            });
        let mut out = WaypointIdentityRefused {
            waypoints: Vec::new(),
            workloads: Vec::new(),
            principals: Vec::new(),
            sources: Vec::new(),
        };
        for w in self.policy_targets(r.namespace(), selector.as_ref().filter(|s| !s.is_empty())) {
            if self.data_plane(w).plane != DataPlane::Ambient {
                continue;
            }
            for gw in self.workload_waypoints(w) {
                let principal = self.waypoint_principal(gw);
                let gns = self.resources[gw].namespace();
                let mut admitted = Some(false);
                for rule in rules {
                    for s in rule.get("from").map(|f| f.items()).unwrap_or(&[]) {
                        match s
                            .get("source")
                            .map(|src| Self::source_admits(src, &principal, gns))
                        {
                            Some(Some(true)) | None => admitted = Some(true),
                            Some(None) if admitted != Some(true) => admitted = None,
                            Some(None) => {}
                            Some(Some(false)) => {}
                        }
                    }
                }
                if admitted == Some(false) {
                    if !out.waypoints.contains(&gw) {
                        out.waypoints.push(gw);
                        out.principals.push(principal);
                    }
                    if !out.workloads.contains(&w) {
                        out.workloads.push(w);
                    }
                }
            }
        }
        if out.waypoints.is_empty() {
            return None;
        }
        out.sources = rules
            .iter()
            .enumerate()
            .map(|(i, _)| format!("spec.rules[{i}].from"))
            .collect();
        Some(out)
    }
}

/// Mesh routing a waypoint does not read, or reads together with another API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaypointRouteIssue {
    /// Field path in the route (a VirtualService host, a route's parentRef).
    pub path: String,
    /// The waypoint-bound Service.
    pub service: usize,
    /// Its waypoint Gateway.
    pub waypoint: usize,
    /// `outside-scope` (the route's namespace is neither the Service's nor the
    /// waypoint's), `mixed-apis` (a mesh VirtualService and a route with a Service
    /// parent for the same Service).
    pub issue: &'static str,
    /// For `mixed-apis`: the other route.
    pub other: Option<usize>,
}

impl MeshGraph {
    /// The ambient workloads a policy without `targetRefs` applies to by selector,
    /// namespace or root scope (what ztunnel, not a waypoint, sees).
    pub fn policy_ambient_workloads(&self, policy: usize) -> Vec<usize> {
        let r = &self.resources[policy];
        let spec = r.spec();
        if spec.is_some_and(|s| s.get("targetRefs").is_some() || s.get("targetRef").is_some()) {
            return Vec::new();
        }
        let selector: Option<meshlint_model::typed::Labels> = spec
            .and_then(|s| s.get("selector"))
            .and_then(|s| s.get("matchLabels"))
            .and_then(Node::as_map)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
                    .collect()
            });
        self.policy_targets(r.namespace(), selector.as_ref().filter(|s| !s.is_empty()))
            .into_iter()
            .filter(|&w| self.is_ambient(w))
            .collect()
    }

    /// The Service of the inputs an FQDN `name.ns.svc.<domain>` names.
    fn service_of_fqdn(&self, fqdn: &str) -> Option<usize> {
        let rest = fqdn.strip_suffix(&format!(".svc.{}", self.mesh.dns_domain))?;
        let (name, ns) = rest.split_once('.')?;
        self.find(Kind::Service, ns, name)
    }

    /// The waypoint Gateway a Service is bound to (in the inputs).
    fn service_waypoint(&self, svc: usize) -> Option<usize> {
        self.waypoint_binding(svc)
            .filter(|b| b.outcome == "bound")
            .and_then(|b| b.gateway)
    }

    /// Mesh routing for waypoint-bound Services that the waypoint ignores or reads
    /// together with the other API: a mesh VirtualService, or a route with a Service
    /// parent, in a namespace that is neither the Service's nor the waypoint's (Istio's
    /// `getVirtualServiceForWaypoint` reads only those two); a mesh VirtualService for a
    /// Service that a route with a Service parent also routes (mixing is unsupported).
    pub fn waypoint_route_issues(&self, route: usize) -> Vec<WaypointRouteIssue> {
        let r = &self.resources[route];
        let ns = r.namespace();
        let mut out = Vec::new();
        // A route written without a namespace may be applied to either namespace.
        let outside = |svc: usize, wp: usize| {
            ns != UNSET_NAMESPACE
                && ns != self.resources[svc].namespace()
                && ns != self.resources[wp].namespace()
        };
        match &r.typed {
            meshlint_model::Typed::VirtualService(vs) => {
                if !vs.gateways.is_empty() && !vs.gateways.iter().any(|g| g.name == "mesh") {
                    return out;
                }
                for (i, h) in vs.hosts.iter().enumerate() {
                    let Some(svc) = self.service_of_fqdn(&self.resolve_host(h, ns)) else {
                        continue;
                    };
                    let Some(wp) = self.service_waypoint(svc) else {
                        continue;
                    };
                    let path = format!("spec.hosts[{i}]");
                    if outside(svc, wp) {
                        out.push(WaypointRouteIssue {
                            path,
                            service: svc,
                            waypoint: wp,
                            issue: "outside-scope",
                            other: None,
                        });
                        continue;
                    }
                    let other = [Kind::HTTPRoute, Kind::GRPCRoute]
                        .iter()
                        .flat_map(|&k| self.of_kind(k).iter().copied())
                        .find(|&o| {
                            self.route_parents(o)
                                .iter()
                                .any(|p| p.kind == "Service" && p.target == Some(svc))
                        });
                    if let Some(o) = other {
                        out.push(WaypointRouteIssue {
                            path,
                            service: svc,
                            waypoint: wp,
                            issue: "mixed-apis",
                            other: Some(o),
                        });
                    }
                }
            }
            _ => {
                for p in self.route_parents(route) {
                    let (true, Some(svc)) = (p.kind == "Service", p.target) else {
                        continue;
                    };
                    if let Some(wp) = self.service_waypoint(svc).filter(|&wp| outside(svc, wp)) {
                        out.push(WaypointRouteIssue {
                            path: p.path,
                            service: svc,
                            waypoint: wp,
                            issue: "outside-scope",
                            other: None,
                        });
                    }
                }
            }
        }
        out
    }
}

/// An ingress route to a waypoint-bound Service that the gateway sends straight to
/// the workloads, skipping the waypoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngressBypass {
    /// Field path of the destination or backend.
    pub path: String,
    pub service: usize,
    pub waypoint: usize,
    /// Policies attached to the waypoint for this Service (`targetRefs` naming the
    /// Service or the waypoint Gateway) that the ingress traffic skips.
    pub policies: Vec<usize>,
}

const INGRESS_USE_WAYPOINT: &str = "istio.io/ingress-use-waypoint";

impl MeshGraph {
    /// Policies attached by `targetRefs` to a Service or to its waypoint Gateway.
    fn waypoint_policies(&self, svc: usize, waypoint: usize) -> Vec<usize> {
        let mut out = Vec::new();
        for kind in [Kind::AuthorizationPolicy, Kind::RequestAuthentication] {
            for &p in self.of_kind(kind) {
                let hit = self.policy_target_refs(p).iter().any(|t| {
                    t.outcome == "attached" && (t.target == Some(svc) || t.target == Some(waypoint))
                });
                if hit {
                    out.push(p);
                }
            }
        }
        out
    }

    /// Destinations of an ingress route (a VirtualService bound to gateways, a route
    /// whose parent is a Gateway other than a waypoint) that are Services bound to a
    /// waypoint without `istio.io/ingress-use-waypoint: "true"` (on the Service, or
    /// its Namespace): gateways use a Service's waypoint only when asked to.
    pub fn ingress_waypoint_bypass(&self, route: usize) -> Vec<IngressBypass> {
        let r = &self.resources[route];
        let ns = r.namespace();
        let mut services: Vec<(String, usize)> = Vec::new();
        match &r.typed {
            meshlint_model::Typed::VirtualService(vs) => {
                if vs.gateways.is_empty() || vs.gateways.iter().all(|g| g.name == "mesh") {
                    return Vec::new();
                }
                for d in &vs.destinations {
                    if let Some(svc) = self.service_of_fqdn(&self.resolve_host(&d.host, ns)) {
                        services.push((d.path.to_string(), svc));
                    }
                }
            }
            _ => {
                // Istio's own gateways only: another implementation's proxy may itself
                // be an ambient workload whose traffic ztunnel sends to the waypoint.
                let ingress = self.route_parents(route).iter().any(|p| {
                    p.kind == "Gateway"
                        && p.target
                            .is_some_and(|g| !self.is_waypoint(g) && self.is_istio_gateway(g))
                });
                if !ingress {
                    return Vec::new();
                }
                for b in self.route_backends(route) {
                    if let (Some(svc), "Service") = (b.target, b.kind.as_str()) {
                        services.push((b.path, svc));
                    }
                }
            }
        }
        let asked = |i: usize| self.resources[i].labels.get(INGRESS_USE_WAYPOINT) == Some("true");
        let mut out: Vec<IngressBypass> = Vec::new();
        for (path, svc) in services {
            let Some(wp) = self.service_waypoint(svc) else {
                continue;
            };
            let ns_asked = self
                .namespace_resource(self.resources[svc].namespace())
                .is_some_and(asked);
            if asked(svc) || ns_asked || out.iter().any(|o| o.service == svc) {
                continue;
            }
            let policies = self.waypoint_policies(svc, wp);
            out.push(IngressBypass {
                path,
                service: svc,
                waypoint: wp,
                policies,
            });
        }
        out
    }
}
