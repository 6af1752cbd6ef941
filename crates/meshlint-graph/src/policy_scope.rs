//! Where workload policies take effect, as istioctl's analyzers judge it: the mesh
//! workloads an AuthorizationPolicy applies to, `source.namespaces` entries that match
//! no namespace, JWT-claim routes on gateways no RequestAuthentication covers, and
//! Telemetries that compete for the same workloads.

use crate::build::MeshGraph;
use crate::injector::string_labels;
use crate::queries::selector_matches;
use meshlint_load::Node;
use meshlint_model::typed::{Labels, Typed};
use meshlint_model::Kind;
use serde::Serialize;

/// Whether a policy is enforced on some workload of the mesh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyReach {
    /// The first mesh workload (sidecar or ambient) it applies to, if any.
    pub workload: Option<usize>,
    /// Its `selector.matchLabels` as `key=value`, sorted by key (empty without one).
    pub selector: Vec<String>,
    /// Whether it has a `selector` (else it covers its namespace).
    pub has_selector: bool,
}

/// An entry of `rules[].from[].source.namespaces` / `notNamespaces`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceNamespace {
    pub namespace: String,
    /// `namespaces` or `notNamespaces`.
    pub field: String,
    pub path: String,
}

/// A gateway workload that routes on a JWT claim without a RequestAuthentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimRouteGap {
    /// The first claim match of the VirtualService (`@request.auth.claims…`) and its path.
    pub claim: String,
    pub path: String,
    /// The Istio Gateway and the workload of it that validates no token.
    pub gateway: usize,
    pub workload: usize,
}

/// Telemetries that compete with one Telemetry for the workloads it configures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TelemetryConflicts {
    /// For a namespace-wide Telemetry (no selector, no `targetRef(s)`): the others of its
    /// namespace.
    pub namespace_wide: Vec<usize>,
    /// For a selector-based one: each workload it selects that other selector-based
    /// Telemetries select too, with those.
    pub shared: Vec<(usize, Vec<usize>)>,
}

fn spec_field<'a>(n: &'a Node, key: &str) -> Option<&'a Node> {
    n.get("spec")
        .and_then(|s| s.get(key))
        .filter(|v| !v.is_null())
}

fn has_target_ref(n: &Node) -> bool {
    spec_field(n, "targetRef").is_some() || spec_field(n, "targetRefs").is_some()
}

/// A non-empty `spec.selector.matchLabels`, when there is no `targetRef(s)`.
fn selector_labels(n: &Node) -> Option<Labels> {
    if has_target_ref(n) {
        return None;
    }
    let ml = spec_field(n, "selector")?
        .get("matchLabels")
        .filter(|m| !m.is_null())?;
    Some(string_labels(ml)).filter(|l| !l.is_empty())
}

impl MeshGraph {
    fn in_mesh_or_ambient_pod(&self, p: usize) -> bool {
        self.pod_in_mesh(p) || self.is_ambient(p)
    }

    /// The mesh workloads an AuthorizationPolicy (or any policy with a workload selector)
    /// is enforced on, as istioctl's `AuthorizationPoliciesAnalyzer` looks for them: Pods
    /// in the mesh or in ambient mode of its namespace (of every namespace for a
    /// root-namespace policy) that its `matchLabels` select, and pod templates of its
    /// namespace that get a sidecar or are ambient. `None` when it is not judged: it has
    /// `targetRef(s)`, or it is a root-namespace policy without selector (mesh-wide).
    pub fn policy_reach(&self, policy: usize) -> Option<PolicyReach> {
        let r = &self.resources[policy];
        if has_target_ref(&r.node) {
            return None;
        }
        let ns = r.namespace();
        let root = ns == self.mesh.root_namespace;
        let selector = spec_field(&r.node, "selector");
        if selector.is_none() && root {
            return None;
        }
        let labels = selector
            .and_then(|s| s.get("matchLabels"))
            .filter(|m| !m.is_null())
            .map(string_labels)
            .unwrap_or_default();
        let pods = if root {
            self.pods_matching(&labels)
        } else {
            self.pods_in(ns, &labels)
        };
        let mut workload = pods.into_iter().find(|&p| self.in_mesh_or_ambient_pod(p));
        if workload.is_none() && !root {
            workload = self.workloads_selected(ns, &labels).into_iter().find(|&w| {
                self.resources[w].kind != Kind::Pod && (self.has_sidecar(w) || self.is_ambient(w))
            });
        }
        let written = selector
            .and_then(|s| s.get("matchLabels"))
            .map(Node::entries)
            .unwrap_or(&[]);
        let mut shown: Vec<(&str, &str)> = written
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?, v.as_str().unwrap_or(""))))
            .collect();
        shown.sort();
        Some(PolicyReach {
            workload,
            selector: shown.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            has_selector: selector.is_some(),
        })
    }

    /// The distinct entries of an AuthorizationPolicy's `source.namespaces` and
    /// `notNamespaces` that match no namespace of the inputs (see
    /// [`Self::namespace_pattern_matches`]), first occurrence first.
    pub fn unmatched_source_namespaces(&self, policy: usize) -> Vec<SourceNamespace> {
        let rules = spec_field(&self.resources[policy].node, "rules")
            .map(Node::items)
            .unwrap_or(&[]);
        let mut seen: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            for (j, from) in rule.items_at(&["from"]).iter().enumerate() {
                let Some(source) = from.get("source") else {
                    continue;
                };
                for field in ["namespaces", "notNamespaces"] {
                    let items = source.get(field).map(Node::items).unwrap_or(&[]);
                    for (k, n) in items.iter().enumerate() {
                        let namespace = n.as_str().unwrap_or("").to_string();
                        if seen.contains(&namespace) {
                            continue;
                        }
                        seen.push(namespace.clone());
                        if !self.namespace_pattern_matches(&namespace) {
                            out.push(SourceNamespace {
                                path: format!("spec.rules[{i}].from[{j}].source.{field}[{k}]"),
                                namespace,
                                field: field.to_string(),
                            });
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether a RequestAuthentication validates tokens for a workload: one of the root
    /// namespace or the workload's own without selector, or whose `matchLabels` select it.
    pub fn request_authn_applies(&self, workload: usize) -> bool {
        let ns = self.resources[workload].namespace();
        let root = self.mesh.root_namespace.as_str();
        let labels = self.workload_labels(workload);
        let mut candidates = self
            .in_namespace(root, Kind::RequestAuthentication)
            .to_vec();
        if ns != root {
            candidates.extend(self.in_namespace(ns, Kind::RequestAuthentication));
        }
        candidates.into_iter().any(|ra| {
            match spec_field(&self.resources[ra].node, "selector")
                .and_then(|s| s.get("matchLabels"))
                .filter(|m| !m.is_null())
            {
                None => true,
                Some(ml) => selector_matches(&string_labels(ml), labels),
            }
        })
    }

    /// For a VirtualService that matches on JWT claims (`@request.auth.claims…` keys of
    /// `headers` / `withoutHeaders`): each workload of its Istio Gateways (not `mesh`)
    /// that no RequestAuthentication covers (see [`Self::request_authn_applies`]), with
    /// the first claim match.
    pub fn claim_routes_without_authn(&self, vs: usize) -> Vec<ClaimRouteGap> {
        let r = &self.resources[vs];
        let mut claims: Vec<(String, String)> = Vec::new();
        let http = spec_field(&r.node, "http").map(Node::items).unwrap_or(&[]);
        for (i, route) in http.iter().enumerate() {
            for (j, m) in route.items_at(&["match"]).iter().enumerate() {
                for f in ["headers", "withoutHeaders"] {
                    for (k, _) in m.get(f).map(Node::entries).unwrap_or(&[]) {
                        let Some(key) =
                            k.as_str().filter(|k| k.starts_with("@request.auth.claims"))
                        else {
                            continue;
                        };
                        let path = format!("spec.http[{i}].match[{j}].{f}[\"{key}\"]");
                        claims.push((key.to_string(), path));
                    }
                }
            }
        }
        let Some((claim, path)) = claims.into_iter().next() else {
            return Vec::new();
        };
        let gateways = spec_field(&r.node, "gateways")
            .map(Node::items)
            .unwrap_or(&[]);
        let mut out = Vec::new();
        for name in gateways
            .iter()
            .filter_map(Node::as_str)
            .filter(|g| *g != "mesh")
        {
            let Some(gw) = self.gateway_ref(name, r.namespace()) else {
                continue;
            };
            if !matches!(self.resources[gw].typed, Typed::Gateway(_))
                || !self.resources[gw]
                    .id
                    .api_version
                    .starts_with("networking.istio.io/")
            {
                continue;
            }
            for w in self.selected_workloads(gw) {
                if !self.request_authn_applies(w) {
                    out.push(ClaimRouteGap {
                        claim: claim.clone(),
                        path: path.clone(),
                        gateway: gw,
                        workload: w,
                    });
                }
            }
        }
        out
    }

    /// The Telemetries competing with one (see [`TelemetryConflicts`]); documents of
    /// the same name are not counted against each other.
    pub fn telemetry_conflicts(&self, telemetry: usize) -> TelemetryConflicts {
        let r = &self.resources[telemetry];
        let ns = r.namespace();
        let namespace_wide = |n: &Node| spec_field(n, "selector").is_none() && !has_target_ref(n);
        let mut out = TelemetryConflicts {
            namespace_wide: Vec::new(),
            shared: Vec::new(),
        };
        if namespace_wide(&r.node) {
            out.namespace_wide = self
                .in_namespace(ns, Kind::Telemetry)
                .iter()
                .copied()
                .filter(|&t| {
                    self.resources[t].name() != r.name() && namespace_wide(&self.resources[t].node)
                })
                .collect();
        }
        if let Some(labels) = selector_labels(&r.node) {
            for w in self.workloads_selected(ns, &labels) {
                let others: Vec<usize> = self
                    .selected_by(w, Kind::Telemetry)
                    .into_iter()
                    .filter(|&t| self.resources[t].name() != r.name())
                    .filter_map(|t| {
                        let o = &self.resources[t];
                        self.find(Kind::Telemetry, o.namespace(), o.name())
                    })
                    .filter(|&t| selector_labels(&self.resources[t].node).is_some())
                    .collect();
                if !others.is_empty() {
                    out.shared.push((w, others));
                }
            }
        }
        out
    }
}

impl MeshGraph {
    /// For a policy with a non-empty `matchLabels` (no `targetRef(s)`) that selects no
    /// workload of its namespace, counting objects written without a namespace that
    /// could be its (see [`Self::workloads_maybe_selected`]): its selector as `key=value`,
    /// sorted by key. Judged where the inputs hold the namespace's workloads
    /// ([`Self::namespace_workloads_known`]), or in closed world; the installer's gateway
    /// labels are not judged in open world.
    pub fn unmatched_selector(&self, policy: usize) -> Option<Vec<String>> {
        let r = &self.resources[policy];
        let labels = selector_labels(&r.node)?;
        let ns = r.namespace();
        if !self.namespace_workloads_known(ns) || self.selects_installed_gateway(&labels) {
            return None;
        }
        if !self.workloads_maybe_selected(ns, &labels).is_empty() {
            return None;
        }
        let written = spec_field(&r.node, "selector")
            .and_then(|s| s.get("matchLabels"))
            .map(Node::entries)
            .unwrap_or(&[]);
        let mut shown: Vec<(&str, &str)> = written
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?, v.as_str().unwrap_or(""))))
            .collect();
        shown.sort();
        Some(shown.iter().map(|(k, v)| format!("{k}={v}")).collect())
    }

    /// The Gateway API Gateways (`gateway.networking.k8s.io/gateway-name` of the Pods)
    /// whose Pods a policy's `matchLabels` select in its namespace, where Istio ignores
    /// selectors (`targetRefs` attach policies to them), distinct, first seen first.
    pub fn gateway_api_pods_selected(&self, policy: usize) -> Vec<String> {
        let r = &self.resources[policy];
        if has_target_ref(&r.node) {
            return Vec::new();
        }
        let Some(ml) = spec_field(&r.node, "selector")
            .and_then(|s| s.get("matchLabels"))
            .filter(|m| !m.is_null())
        else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for p in self.pods_in(r.namespace(), &string_labels(ml)) {
            if let Some(name) = self
                .workload_labels(p)
                .get("gateway.networking.k8s.io/gateway-name")
            {
                if !out.iter().any(|o| o == name) {
                    out.push(name.to_string());
                }
            }
        }
        out
    }

    /// For a VirtualService bound to a gateway (other than `mesh`): its HTTP routes
    /// (not mirrors) to a host without a subset, while another VirtualService (not this
    /// object) routes that host by subset for the mesh (see
    /// [`Self::subset_routes_to`]): `(path of the destination, host, other
    /// VirtualService)`, once per host and VirtualService. The gateway applies only its
    /// own routes, so the subsets do not apply to its traffic.
    pub fn subset_bypasses(&self, vs: usize) -> Vec<(String, String, usize)> {
        let r = &self.resources[vs];
        let Typed::VirtualService(v) = &r.typed else {
            return Vec::new();
        };
        if !v.gateways.iter().any(|g| g.name != "mesh") {
            return Vec::new();
        }
        let mut out: Vec<(String, String, usize)> = Vec::new();
        for d in &v.destinations {
            if d.protocol != "http"
                || d.path.contains(".mirror")
                || d.subset.as_deref().is_some_and(|s| !s.is_empty())
            {
                continue;
            }
            for o in self.subset_routes_to(&d.host) {
                let other = &self.resources[o];
                let same = other.namespace() == r.namespace() && other.name() == r.name();
                let seen = out.iter().any(|(_, h, x)| {
                    *h == d.host
                        && self.resources[*x].namespace() == other.namespace()
                        && self.resources[*x].name() == other.name()
                });
                if !same && !seen {
                    out.push((d.path.to_string(), d.host.clone(), o));
                }
            }
        }
        out
    }
}
