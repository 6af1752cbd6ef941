//! What a VirtualService's `gateways` entry refers to, and how sure the inputs let us be
//! that it refers to nothing.
//!
//! A short name resolves in the VirtualService's namespace; `ns/name` names another. In
//! open world the Gateway may live in files that were not analyzed (a platform
//! repository owns the ingress Gateway), so a missing Gateway is certain only with
//! evidence of a mistake: a Gateway of that name in another namespace (the missing
//! `namespace/` prefix), a near spelling of a Gateway of that namespace, or a namespace
//! name that is a near spelling of one in the inputs.

use crate::build::MeshGraph;
use meshlint_model::{Kind, UNSET_NAMESPACE};
use serde::Serialize;

/// The answer of [`MeshGraph::gateway_lookup`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GatewayLookup {
    /// The namespace and name the reference means.
    pub namespace: String,
    pub name: String,
    /// The Istio or Gateway API Gateway it names, if the inputs hold it.
    pub found: Option<usize>,
    /// Istio Gateways of the same name in other namespaces.
    pub same_name_elsewhere: Vec<usize>,
    /// A Gateway of the referenced namespace with a near name.
    pub near_name: Option<usize>,
    /// A namespace of the inputs with a near name, when the referenced one has nothing.
    pub namespace_suggestion: Option<String>,
    /// Whether a missing Gateway is certainly missing (see the module doc).
    pub certain: bool,
}

impl MeshGraph {
    /// Resolves a `gateways` entry written in namespace `ns` (`mesh` is not a Gateway;
    /// callers skip it).
    pub fn gateway_lookup(&self, reference: &str, ns: &str) -> GatewayLookup {
        let (gns, name) = match reference.split_once('/') {
            Some((gns, name)) => (gns.to_string(), name.to_string()),
            None => (ns.to_string(), reference.to_string()),
        };
        let found = self
            .gateway_ref(reference, ns)
            .or_else(|| self.find(Kind::K8sGateway, &gns, &name));
        let mut out = GatewayLookup {
            namespace: gns.clone(),
            name: name.clone(),
            found,
            same_name_elsewhere: Vec::new(),
            near_name: None,
            namespace_suggestion: None,
            certain: true,
        };
        if found.is_some() {
            return out;
        }
        out.same_name_elsewhere = self
            .named(Kind::Gateway, &name)
            .into_iter()
            .filter(|&g| self.resources[g].namespace() != gns)
            .collect();
        let here = self.in_namespace(&gns, Kind::Gateway);
        out.near_name = meshlint_model::schema::did_you_mean(
            &name,
            here.iter().map(|&g| self.resources[g].name()),
        )
        .and_then(|n| {
            here.iter()
                .copied()
                .find(|&g| self.resources[g].name() == n)
        });
        if !self.namespace_known(&gns) && gns != UNSET_NAMESPACE {
            out.namespace_suggestion = self.suggest_namespace(&gns);
        }
        out.certain = self.closed_world
            || !out.same_name_elsewhere.is_empty()
            || out.near_name.is_some()
            || out.namespace_suggestion.is_some();
        out
    }
}
