//! Ambient mode beyond the data plane: waypoints and the objects bound to them
//! (`istio.io/use-waypoint`), and what ztunnel makes of an AuthorizationPolicy.
//!
//! Istio's behaviour, from `pilot/pkg/serviceregistry/ambient/waypoints.go` and
//! `authorization.go`:
//! - a waypoint is a `gateway.networking.k8s.io` Gateway of class `istio-waypoint`;
//! - `istio.io/use-waypoint` names it on a Namespace, Service, ServiceEntry, Pod or
//!   WorkloadEntry; its namespace is `istio.io/use-waypoint-namespace` on the same
//!   object, else the object's own; the object's label beats its namespace's; `none`
//!   opts out;
//! - a policy with `targetRefs` is not sent to ztunnel; otherwise ztunnel enforces it on
//!   ambient workloads, dropping HTTP attributes: an ALLOW rule that uses one never
//!   matches, a DENY rule loses them (and matches nothing when no L4 condition is left),
//!   CUSTOM and AUDIT are not supported.

use crate::build::MeshGraph;
use meshlint_load::Node;
use meshlint_model::typed::Typed;
use meshlint_model::Kind;
use serde::Serialize;

pub const USE_WAYPOINT: &str = "istio.io/use-waypoint";
pub const USE_WAYPOINT_NAMESPACE: &str = "istio.io/use-waypoint-namespace";
pub const WAYPOINT_CLASS: &str = "istio-waypoint";

/// The waypoint an object asks for and whether it resolves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaypointBinding {
    /// The waypoint's name (`none` when the object opts out).
    pub name: String,
    /// The namespace it is looked for in.
    pub namespace: String,
    /// `object` (the label is on the object) or `namespace` (inherited).
    pub source: &'static str,
    /// The deciding label: resource index and field path.
    pub label: (usize, String),
    /// `istio.io/use-waypoint-namespace`, when set.
    pub namespace_label: Option<(usize, String)>,
    /// The Gateway found, if any.
    pub gateway: Option<usize>,
    /// `bound` (a `gateway.networking.k8s.io` Gateway of that name: istiod treats any
    /// Gateway named so as the waypoint, whatever its class), `opted-out` (`none`),
    /// `missing` (no Gateway of that name in the inputs), `attachment-denied` (the
    /// waypoint's HBONE listener `allowedRoutes` does not admit the object's namespace),
    /// `unsupported-traffic-type` (a Service or ServiceEntry bound to a waypoint not
    /// `for` service traffic, or a pod or WorkloadEntry whose own label names a
    /// waypoint not `for` workload traffic).
    pub outcome: &'static str,
    /// The waypoint's effective `istio.io/waypoint-for` (the Gateway's label, else its
    /// GatewayClass's, else `service`); `''` when a GatewayClass outside the inputs
    /// could decide.
    pub traffic_type: String,
    /// Where the traffic type comes from (resource, field path), null for the default.
    pub traffic_type_source: Option<(usize, String)>,
    /// The listener field that decides attachment (`allowedRoutes`), when it refuses.
    pub attachment_source: Option<(usize, String)>,
    /// Whether istiod refuses the binding on this very object (`WaypointBound=False`):
    /// an `attachment-denied` or `unsupported-traffic-type` outcome on the object's own
    /// label, or on a Service or ServiceEntry inheriting its namespace's (istiod judges
    /// each Service). A workload's inherited binding is silently not applied instead.
    pub refused: bool,
    /// What refuses: `attachment_source` or `traffic_type_source`, by outcome.
    pub refused_by: Option<(usize, String)>,
}

/// A listener of an `istio-waypoint` Gateway that istiod flags (its
/// `unexpectedWaypointListener`): a waypoint has one listener, HBONE on port 15008.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaypointListenerIssue {
    /// The listener (`spec.listeners[i]`), or `spec.gatewayClassName` when the waypoint
    /// has no listener at all.
    pub path: String,
    /// No listener is HBONE on 15008, so nothing admits cross-namespace bindings.
    pub no_hbone: bool,
}

/// An HTTP (L7) attribute of an AuthorizationPolicy rule, which ztunnel cannot see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct L7Field {
    pub field: String,
    pub rule: usize,
    pub path: String,
}

/// What ztunnel makes of an AuthorizationPolicy without `targetRefs` that applies to
/// ambient workloads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZtunnelAuthz {
    pub action: String,
    /// Ambient workloads of the inputs the policy applies to.
    pub workloads: Vec<usize>,
    /// HTTP attributes ztunnel drops.
    pub l7: Vec<L7Field>,
    /// `unsupported-action` (CUSTOM, AUDIT), `admits-nothing` (ALLOW whose every rule
    /// uses an HTTP attribute), `rules-dropped` (ALLOW: some rules never match),
    /// `no-op` (DENY with nothing left to match), `broader` (DENY enforced without its
    /// HTTP conditions), `ok`.
    pub outcome: &'static str,
}

const HTTP_OPERATION: &[&str] = &[
    "hosts",
    "notHosts",
    "methods",
    "notMethods",
    "paths",
    "notPaths",
];
const HTTP_SOURCE: &[&str] = &[
    "remoteIpBlocks",
    "notRemoteIpBlocks",
    "requestPrincipals",
    "notRequestPrincipals",
    "trustDomains",
    "notTrustDomains",
];
const L4_OPERATION: &[&str] = &["ports", "notPorts"];
const L4_SOURCE: &[&str] = &[
    "ipBlocks",
    "notIpBlocks",
    "namespaces",
    "notNamespaces",
    "serviceAccounts",
    "notServiceAccounts",
    "principals",
    "notPrincipals",
];
/// `when` keys ztunnel honours (`l4WhenAttributes`).
pub const L4_WHEN: &[&str] = &[
    "source.ip",
    "source.namespace",
    "source.principal",
    "destination.ip",
    "destination.port",
];

fn non_empty(n: &Node, keys: &[&str]) -> bool {
    keys.iter().any(|k| {
        n.get(k)
            .and_then(Node::as_seq)
            .is_some_and(|s| !s.is_empty())
    })
}

/// One rule as ztunnel sees it: the HTTP fields it drops, and whether (for DENY) every
/// clause keeps a condition (a clause left empty never matches).
fn classify_rule(rule: &Node, index: usize, l7: &mut Vec<L7Field>) -> (bool, bool) {
    let before = l7.len();
    let mut effective = true;
    let mut clause =
        |list: Option<&Node>, key: &str, http: &[&str], l4: &[&str], l7: &mut Vec<L7Field>| {
            let Some(items) = list.and_then(Node::as_seq) else {
                return;
            };
            if items.is_empty() {
                return;
            }
            let mut any_l4 = false;
            for (j, item) in items.iter().enumerate() {
                let Some(inner) = item.get(key) else { continue };
                for f in http {
                    if inner
                        .get(f)
                        .and_then(Node::as_seq)
                        .is_some_and(|s| !s.is_empty())
                    {
                        let outer = if key == "operation" { "to" } else { "from" };
                        l7.push(L7Field {
                            field: (*f).to_string(),
                            rule: index,
                            path: format!("spec.rules[{index}].{outer}[{j}].{key}.{f}"),
                        });
                    }
                }
                any_l4 |= non_empty(inner, l4);
            }
            effective &= any_l4;
        };
    clause(
        rule.get("to"),
        "operation",
        HTTP_OPERATION,
        L4_OPERATION,
        l7,
    );
    clause(rule.get("from"), "source", HTTP_SOURCE, L4_SOURCE, l7);
    if let Some(whens) = rule.get("when").and_then(Node::as_seq) {
        for (j, w) in whens.iter().enumerate() {
            let key = w.get("key").and_then(Node::as_str).unwrap_or("");
            if !L4_WHEN.contains(&key) {
                l7.push(L7Field {
                    field: format!("when {key}"),
                    rule: index,
                    path: format!("spec.rules[{index}].when[{j}].key"),
                });
                effective = false;
            }
        }
    }
    (l7.len() > before, effective)
}

impl MeshGraph {
    /// Gateways of class `istio-waypoint` (`gateway.networking.k8s.io`).
    pub fn is_waypoint(&self, gateway: usize) -> bool {
        let r = &self.resources[gateway];
        r.kind == Kind::K8sGateway
            && r.node.str_at(&["spec", "gatewayClassName"]) == Some(WAYPOINT_CLASS)
    }

    /// The labels that carry `use-waypoint` for an object: a workload's pod labels,
    /// else its own labels; with the path of that label map.
    fn waypoint_labels(&self, i: usize) -> (&meshlint_model::typed::Labels, String) {
        let r = &self.resources[i];
        match &r.typed {
            Typed::Workload(w) => (&w.labels, format!("{}.labels", self.pod_metadata_path(i))),
            _ => (&r.labels, "metadata.labels".to_string()),
        }
    }

    /// The waypoint an object (Namespace, Service, ServiceEntry, workload,
    /// WorkloadEntry) uses: its own `istio.io/use-waypoint`, else its namespace's.
    /// None when neither sets it.
    pub fn waypoint_binding(&self, i: usize) -> Option<WaypointBinding> {
        let r = &self.resources[i];
        let own = matches!(
            r.kind,
            Kind::Namespace | Kind::Service | Kind::ServiceEntry | Kind::WorkloadEntry
        ) || matches!(r.typed, Typed::Workload(_));
        if !own {
            return None;
        }
        let (labels, path) = self.waypoint_labels(i);
        let (holder, labels, path, source) = if labels.contains_key(USE_WAYPOINT) {
            (i, labels, path, "object")
        } else if r.kind != Kind::Namespace {
            let n = self.namespace_resource(r.namespace())?;
            let labels = &self.resources[n].labels;
            if !labels.contains_key(USE_WAYPOINT) {
                return None;
            }
            (n, labels, "metadata.labels".to_string(), "namespace")
        } else {
            return None;
        };
        let name = labels[USE_WAYPOINT].to_string();
        let own_ns = if self.resources[holder].kind == Kind::Namespace {
            self.resources[holder].name().to_string()
        } else {
            self.resources[holder].namespace().to_string()
        };
        let namespace = labels
            .get(USE_WAYPOINT_NAMESPACE)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .unwrap_or(own_ns);
        let namespace_label = labels
            .contains_key(USE_WAYPOINT_NAMESPACE)
            .then(|| (holder, format!("{path}[\"{USE_WAYPOINT_NAMESPACE}\"]")));
        let label = (holder, format!("{path}[\"{USE_WAYPOINT}\"]"));
        let (gateway, mut outcome) = if name == "none" {
            (None, "opted-out")
        } else {
            // istiod's waypoint collection takes every Gateway (of any class: a custom
            // class of the mesh controller is a waypoint too) once it has addresses.
            match self.find(Kind::K8sGateway, &namespace, &name) {
                Some(g) => (Some(g), "bound"),
                None => (None, "missing"),
            }
        };
        let (mut traffic_type, mut traffic_type_source, mut attachment_source) =
            (String::new(), None, None);
        if let Some(g) = gateway {
            (traffic_type, traffic_type_source) = self.waypoint_traffic_type(g);
            // The namespace attaching: the object's own (a Namespace's name).
            let from_ns = if r.kind == Kind::Namespace {
                r.name()
            } else {
                r.namespace()
            };
            if let Some((false, src)) = self.waypoint_admits(g, from_ns) {
                outcome = "attachment-denied";
                attachment_source = Some(src);
            } else {
                // fetchWaypointForService: service traffic, whether the label is the
                // object's or its namespace's; the waypoint's own Service never binds.
                let service = matches!(r.kind, Kind::Service | Kind::ServiceEntry)
                    && r.labels.get("gateway.istio.io/managed") != Some("istio.io-mesh-controller");
                // Workloads: only their own label is refused; one inherited from the
                // namespace is silently not applied.
                let workload = (matches!(r.typed, Typed::Workload(_))
                    || r.kind == Kind::WorkloadEntry)
                    && source == "object";
                let accepts = |t: &str| traffic_type == t || traffic_type == "all";
                if !traffic_type.is_empty()
                    && ((service && !accepts("service")) || (workload && !accepts("workload")))
                {
                    outcome = "unsupported-traffic-type";
                }
            }
        }
        let refused_by = match outcome {
            "attachment-denied" => attachment_source.clone(),
            "unsupported-traffic-type" => traffic_type_source.clone(),
            _ => None,
        };
        let refused = matches!(outcome, "attachment-denied" | "unsupported-traffic-type")
            && (source == "object" || matches!(r.kind, Kind::Service | Kind::ServiceEntry));
        Some(WaypointBinding {
            name,
            namespace,
            source,
            label,
            namespace_label,
            gateway,
            outcome,
            traffic_type,
            traffic_type_source,
            attachment_source,
            refused,
            refused_by,
        })
    }

    /// The listeners of a Gateway of class `istio-waypoint` other than the HBONE one on
    /// port 15008 (one entry at `spec.gatewayClassName` when there are none); empty for
    /// other Gateways, well-formed waypoints and listener lists meshlint cannot read.
    pub fn waypoint_listener_issues(&self, gateway: usize) -> Vec<WaypointListenerIssue> {
        let g = &self.resources[gateway];
        if g.kind != Kind::K8sGateway
            || g.node.str_at(&["spec", "gatewayClassName"]) != Some(WAYPOINT_CLASS)
        {
            return Vec::new();
        }
        let listeners = match g.node.get("spec").and_then(|s| s.get("listeners")) {
            None => &[][..],
            Some(l) => match l.as_seq() {
                Some(l) => l,
                None => return Vec::new(),
            },
        };
        let hbone = |l: &Node| {
            l.get("port").and_then(Node::as_i64) == Some(15008)
                && l.get("protocol").and_then(Node::as_str) == Some("HBONE")
        };
        if listeners.is_empty() {
            return vec![WaypointListenerIssue {
                path: "spec.gatewayClassName".into(),
                no_hbone: true,
            }];
        }
        let no_hbone = !listeners.iter().any(hbone);
        listeners
            .iter()
            .enumerate()
            .filter(|(_, l)| !hbone(l))
            .map(|(i, _)| WaypointListenerIssue {
                path: format!("spec.listeners[{i}]"),
                no_hbone,
            })
            .collect()
    }

    /// The Service parents of a Gateway API route that run in ambient mode (their
    /// Namespace enrolls its pods) with no waypoint bound (no `istio.io/use-waypoint` on
    /// the Service or its namespace, or `none`): istiod marks the route
    /// `ResolvedWaypoints=False` and ambient clients, whose ztunnel does no HTTP
    /// routing, ignore it.
    pub fn parents_without_waypoint(&self, route: usize) -> Vec<crate::RouteParent> {
        self.route_parents(route)
            .into_iter()
            .filter(|p| {
                p.kind == "Service"
                    && p.target.is_some_and(|t| {
                        self.waypoint_binding(t)
                            .is_none_or(|b| b.outcome == "opted-out")
                    })
                    && self.namespace_ambient(&p.namespace)
            })
            .collect()
    }

    /// A waypoint's `istio.io/waypoint-for`: the Gateway's label, else its
    /// GatewayClass's, else `service`. Empty when the class is not in the inputs and is
    /// not Istio's own `istio-waypoint` (it could say otherwise).
    pub fn waypoint_traffic_type(&self, gateway: usize) -> (String, Option<(usize, String)>) {
        const FOR: &str = "istio.io/waypoint-for";
        let g = &self.resources[gateway];
        if let Some(v) = g.labels.get(FOR) {
            return (
                v.to_string(),
                Some((gateway, format!("metadata.labels[\"{FOR}\"]"))),
            );
        }
        let class = g.node.str_at(&["spec", "gatewayClassName"]).unwrap_or("");
        match self.find(Kind::K8sGatewayClass, "", class) {
            Some(c) => match self.resources[c].labels.get(FOR) {
                Some(v) => (
                    v.to_string(),
                    Some((c, format!("metadata.labels[\"{FOR}\"]"))),
                ),
                None => ("service".to_string(), None),
            },
            None if class == WAYPOINT_CLASS => ("service".to_string(), None),
            None => (String::new(), None),
        }
    }

    /// Whether a waypoint's HBONE listener (port 15008) admits bindings from a
    /// namespace, with the deciding field; None when meshlint cannot tell (a
    /// `Selector` with expressions or on a Namespace not in the inputs, or a waypoint
    /// whose inbound binding annotation picks another listener).
    pub fn waypoint_admits(
        &self,
        gateway: usize,
        from_ns: &str,
    ) -> Option<(bool, (usize, String))> {
        let g = &self.resources[gateway];
        if g.annotations
            .contains_key("ambient.istio.io/waypoint-inbound-binding")
        {
            return None;
        }
        let listeners = g
            .node
            .get("spec")
            .and_then(|s| s.get("listeners"))
            .and_then(Node::as_seq)?;
        let (i, l) = listeners.iter().enumerate().find(|(_, l)| {
            l.get("protocol").and_then(Node::as_str) == Some("HBONE")
                && l.get("port").and_then(Node::as_i64) == Some(15008)
        })?;
        let path = format!("spec.listeners[{i}]");
        let namespaces = l.get("allowedRoutes").and_then(|a| a.get("namespaces"));
        let from = namespaces
            .and_then(|n| n.get("from"))
            .and_then(Node::as_str)
            .unwrap_or("Same");
        let src = |p: &str| (gateway, format!("{path}{p}"));
        let at = if namespaces.is_some() {
            src(".allowedRoutes.namespaces")
        } else {
            src("")
        };
        match from {
            "All" => Some((true, at)),
            "Same" => Some((g.namespace() == from_ns, at)),
            "Selector" => {
                let sel = namespaces?.get("selector")?;
                if sel.get("matchExpressions").is_some() {
                    return None;
                }
                let n = self.namespace_resource(from_ns)?;
                let labels = &self.resources[n].labels;
                let ok = sel
                    .get("matchLabels")
                    .and_then(Node::as_map)
                    .unwrap_or(&[])
                    .iter()
                    .all(|(k, v)| k.as_str().is_some_and(|k| labels.get(k) == v.as_str()));
                Some((ok, at))
            }
            _ => None,
        }
    }

    /// What ztunnel makes of an AuthorizationPolicy: None when ztunnel does not
    /// enforce it (it has `targetRefs`) or it applies to no ambient workload of the
    /// inputs.
    pub fn ztunnel_authz(&self, policy: usize) -> Option<ZtunnelAuthz> {
        let r = &self.resources[policy];
        if r.kind != Kind::AuthorizationPolicy {
            return None;
        }
        let spec = r.node.get("spec");
        if spec.is_some_and(|s| s.get("targetRef").is_some() || s.get("targetRefs").is_some()) {
            return None;
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
        let workloads: Vec<usize> = self
            .policy_targets(r.namespace(), selector.as_ref().filter(|s| !s.is_empty()))
            .into_iter()
            .filter(|&w| self.is_ambient(w))
            .collect();
        if workloads.is_empty() {
            return None;
        }
        let action = spec
            .and_then(|s| s.get("action"))
            .and_then(Node::as_str)
            .unwrap_or("ALLOW")
            .to_string();
        let mut l7 = Vec::new();
        let rules = spec
            .and_then(|s| s.get("rules"))
            .and_then(Node::as_seq)
            .unwrap_or(&[]);
        let mut with_l7 = 0;
        let mut effective = 0;
        for (i, rule) in rules.iter().enumerate() {
            let (has_l7, eff) = classify_rule(rule, i, &mut l7);
            with_l7 += usize::from(has_l7);
            effective += usize::from(eff);
        }
        let outcome = match action.as_str() {
            "ALLOW" | "DENY" if l7.is_empty() => "ok",
            "ALLOW" if with_l7 == rules.len() => "admits-nothing",
            "ALLOW" => "rules-dropped",
            "DENY" if effective == 0 => "no-op",
            "DENY" => "broader",
            _ => "unsupported-action",
        };
        Some(ZtunnelAuthz {
            action,
            workloads,
            l7,
            outcome,
        })
    }
}
