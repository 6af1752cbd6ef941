//! Status conditions in which Istio or a Gateway API controller says a resource is not
//! (fully) in effect, as istioctl's condition analyzer reads exported manifests.

use crate::build::MeshGraph;
use meshlint_load::{Node, Resolved};
use meshlint_model::Kind;

/// One failed condition: where it is and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedCondition {
    /// `status.conditions[c]`, or `status.parents[p].conditions[c]` for routes.
    pub path: String,
    pub condition_type: String,
    /// `status` as written; `None` when absent.
    pub status: Option<String>,
    pub reason: Option<String>,
    pub message: Option<String>,
}

/// A scalar as text the way it reads as a value: a plain `False` is the boolean
/// `false`, not the condition status `"False"` a controller writes.
fn text(n: &Node) -> Option<String> {
    Some(match n.scalar()?.resolved() {
        Resolved::Null => return None,
        Resolved::Bool(b) => b.to_string(),
        Resolved::Int(i) => i.to_string(),
        Resolved::Float(f) => f.to_string(),
        Resolved::Str(s) => s.to_string(),
    })
}

/// The condition types whose `False` means "not in effect", by kind and group.
fn watched_types(kind: Kind, group: &str) -> &'static [&'static str] {
    match (kind, group) {
        (Kind::Service, "") | (Kind::ServiceEntry, "networking.istio.io") => {
            &["istio.io/WaypointBound"]
        }
        (Kind::AuthorizationPolicy, "security.istio.io") => {
            &["ZtunnelAccepted", "WaypointAccepted"]
        }
        (_, "gateway.networking.k8s.io") => &["Accepted", "Programmed", "ResolvedRefs"],
        _ => &[],
    }
}

impl MeshGraph {
    /// Failed conditions of a Service, ServiceEntry (`istio.io/WaypointBound`),
    /// AuthorizationPolicy (`ZtunnelAccepted`, `WaypointAccepted`, the latter also with
    /// reason `PartiallyInvalid`) or Gateway API resource (`Accepted`, `Programmed`,
    /// `ResolvedRefs`; per parent for HTTPRoute and GRPCRoute): those with status `False`.
    pub fn failed_conditions(&self, resource: usize) -> Vec<FailedCondition> {
        let r = &self.resources[resource];
        let types = watched_types(r.kind, r.group());
        let Some(status) = r
            .node
            .get("status")
            .filter(|s| !s.is_null() && !types.is_empty())
        else {
            return Vec::new();
        };
        let mut lists: Vec<(String, &Node)> = Vec::new();
        if matches!(r.kind, Kind::HTTPRoute | Kind::GRPCRoute) {
            let parents = status.items_at(&["parents"]);
            for (p, parent) in parents.iter().enumerate() {
                if let Some(c) = parent.get("conditions") {
                    lists.push((format!("status.parents[{p}].conditions"), c));
                }
            }
        } else if let Some(c) = status.get("conditions") {
            lists.push(("status.conditions".to_string(), c));
        }
        let policy = r.kind == Kind::AuthorizationPolicy;
        let mut out = Vec::new();
        for (base, conditions) in lists {
            for (c, cond) in conditions.items().iter().enumerate() {
                let Some(t) = cond.str_at(&["type"]).filter(|t| types.contains(t)) else {
                    continue;
                };
                let field = |k: &str| cond.get(k).and_then(text);
                let (status, reason) = (field("status"), field("reason"));
                let failed = status.as_deref() == Some("False")
                    || (policy
                        && t == "WaypointAccepted"
                        && reason.as_deref() == Some("PartiallyInvalid"));
                if !failed {
                    continue;
                }
                out.push(FailedCondition {
                    path: format!("{base}[{c}]"),
                    condition_type: t.to_string(),
                    status,
                    reason,
                    message: field("message"),
                });
            }
        }
        out
    }
}
