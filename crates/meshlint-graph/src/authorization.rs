//! Whether a workload's AuthorizationPolicies let one request in, and whether a
//! RequestAuthentication makes a token checked (it never makes one required). Istio's
//! order: CUSTOM is not judged offline, any matching DENY rejects, and when ALLOW
//! policies select the workload one of their rules must match. Conditions meshlint
//! cannot judge offline (`when`, IP blocks) count as holding.

use crate::build::MeshGraph;
use crate::queries::selector_matches;
use meshlint_load::Node;
use meshlint_model::typed::Typed;
use meshlint_model::Kind;
use serde::Serialize;

/// What the authorization filter of the destination's sidecar sees.
#[derive(Debug, Clone, Default)]
pub struct AuthzRequest {
    pub method: String,
    pub path: String,
    /// The container port reached.
    pub port: u32,
    /// Whether the request carries a bearer token (`Authorization: Bearer …`). meshlint
    /// cannot validate it and assumes its issuer is one a policy names.
    pub has_token: bool,
    /// The client's identity (`cluster.local/ns/NS/sa/SA`) when it arrives over Istio mTLS.
    pub principal: Option<String>,
    pub source_namespace: Option<String>,
}

/// The answer of [`MeshGraph::authorize`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthzDecision {
    pub allowed: bool,
    /// The resource fields that decided (the matching DENY rule, the ALLOW rule that
    /// let the request in, or the ALLOW policies none of whose rules matched).
    pub decided_by: Vec<(usize, String)>,
    pub reason: String,
    /// AuthorizationPolicies that select the workload.
    pub policies: Vec<usize>,
    /// RequestAuthentications that select the workload.
    pub request_authentications: Vec<usize>,
}

fn value_matches(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if let Some(p) = pattern.strip_suffix('*') {
        return value.starts_with(p);
    }
    if let Some(s) = pattern.strip_prefix('*') {
        return value.ends_with(s);
    }
    pattern == value
}

fn strings(n: Option<&Node>) -> Option<Vec<&str>> {
    n.and_then(Node::as_seq)
        .map(|s| s.iter().filter_map(Node::as_str).collect())
}

/// Whether `want`/`not` lists accept a value; `None` value means unknown to the filter
/// (e.g. no mTLS identity), which fails a positive list.
fn field_ok(node: &Node, key: &str, not_key: &str, value: Option<&str>) -> bool {
    if let Some(list) = strings(node.get(key)) {
        match value {
            Some(v) if list.iter().any(|p| value_matches(p, v)) => {}
            _ => return false,
        }
    }
    if let (Some(list), Some(v)) = (strings(node.get(not_key)), value) {
        if list.iter().any(|p| value_matches(p, v)) {
            return false;
        }
    }
    true
}

fn source_ok(src: &Node, req: &AuthzRequest) -> bool {
    let token = req.has_token.then_some("*");
    // A token's principal is `iss/sub`; with a token present, assume it is a listed one.
    let rp_ok = match strings(src.get("requestPrincipals")) {
        Some(_) => req.has_token,
        None => true,
    };
    let not_rp_ok = match (strings(src.get("notRequestPrincipals")), token) {
        (Some(list), Some(_)) => !list.contains(&"*"),
        _ => true,
    };
    rp_ok
        && not_rp_ok
        && field_ok(src, "principals", "notPrincipals", req.principal.as_deref())
        && field_ok(
            src,
            "namespaces",
            "notNamespaces",
            req.source_namespace.as_deref(),
        )
}

fn operation_ok(op: &Node, req: &AuthzRequest) -> bool {
    let port = req.port.to_string();
    field_ok(op, "methods", "notMethods", Some(&req.method))
        && field_ok(op, "paths", "notPaths", Some(&req.path))
        && field_ok(op, "ports", "notPorts", Some(&port))
}

fn rule_matches(rule: &Node, req: &AuthzRequest) -> bool {
    let from_ok = match rule.get("from").and_then(Node::as_seq) {
        Some(list) => list
            .iter()
            .any(|f| f.get("source").is_none_or(|s| source_ok(s, req))),
        None => true,
    };
    let to_ok = match rule.get("to").and_then(Node::as_seq) {
        Some(list) => list
            .iter()
            .any(|t| t.get("operation").is_none_or(|o| operation_ok(o, req))),
        None => true,
    };
    from_ok && to_ok
}

impl MeshGraph {
    /// Policies of `kind` that apply to workload `w`: its namespace's (by selector, or
    /// selector-less) and the root namespace's selector-less ones, in input order.
    pub fn policies_for(&self, w: usize, kind: Kind) -> Vec<usize> {
        let ns = self.resources[w].namespace();
        let labels = self.workload_labels(w);
        let root = self.mesh.root_namespace.as_str();
        let mut out = Vec::new();
        for (scope, allow_selector) in [(ns, true), (root, ns == root)] {
            for &p in self.in_namespace(scope, kind) {
                let Typed::Selecting(s) = &self.resources[p].typed else {
                    continue;
                };
                if s.has_target_ref {
                    continue;
                }
                let applies = match s.selector.as_ref().filter(|l| !l.is_empty()) {
                    None => true,
                    Some(sel) => allow_selector && selector_matches(sel, labels),
                };
                if applies && !out.contains(&p) {
                    out.push(p);
                }
            }
            if scope == root {
                break;
            }
        }
        out
    }

    /// Whether workload `w`'s AuthorizationPolicies let `req` in.
    pub fn authorize(&self, w: usize, req: &AuthzRequest) -> AuthzDecision {
        let policies = self.policies_for(w, Kind::AuthorizationPolicy);
        let request_authentications = self.policies_for(w, Kind::RequestAuthentication);
        let mut allow_policies = Vec::new();
        for &p in &policies {
            let Some(spec) = self.resources[p].spec() else {
                continue;
            };
            let action = spec.get("action").and_then(Node::as_str).unwrap_or("ALLOW");
            let rules = spec.items_at(&["rules"]);
            match action {
                "DENY" => {
                    if let Some(i) = rules.iter().position(|r| rule_matches(r, req)) {
                        return AuthzDecision {
                            allowed: false,
                            decided_by: vec![(p, format!("spec.rules[{i}]"))],
                            reason: format!(
                                "DENY rule {i} of AuthorizationPolicy {}/{} matches",
                                self.resources[p].namespace(),
                                self.resources[p].name()
                            ),
                            policies,
                            request_authentications,
                        };
                    }
                }
                "ALLOW" => allow_policies.push((p, rules)),
                _ => {}
            }
        }
        if allow_policies.is_empty() {
            return AuthzDecision {
                allowed: true,
                decided_by: Vec::new(),
                reason: "no ALLOW or matching DENY policy selects the workload".to_string(),
                policies,
                request_authentications,
            };
        }
        for (p, rules) in &allow_policies {
            if let Some(i) = rules.iter().position(|r| rule_matches(r, req)) {
                return AuthzDecision {
                    allowed: true,
                    decided_by: vec![(*p, format!("spec.rules[{i}]"))],
                    reason: format!(
                        "ALLOW rule {i} of AuthorizationPolicy {}/{} matches",
                        self.resources[*p].namespace(),
                        self.resources[*p].name()
                    ),
                    policies,
                    request_authentications,
                };
            }
        }
        let decided_by = allow_policies
            .iter()
            .map(|(p, rules)| {
                let path = if rules.is_empty() {
                    "spec".to_string()
                } else {
                    "spec.rules".to_string()
                };
                (*p, path)
            })
            .collect();
        AuthzDecision {
            allowed: false,
            decided_by,
            reason: "ALLOW policies select the workload and none of their rules matches"
                .to_string(),
            policies,
            request_authentications,
        }
    }
}
