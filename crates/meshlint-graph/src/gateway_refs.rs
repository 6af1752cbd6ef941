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

    /// The hosts the Gateway a `gateways` entry names offers to VirtualServices of
    /// `vs_ns`, over every document of it: Istio server hosts with their `namespace/`
    /// part applied (`./` is the Gateway's namespace, `*/` any), Gateway API listener
    /// hostnames (`*` for a listener without one). Empty when the Gateway is missing.
    pub fn gateway_hosts(&self, reference: &str, vs_ns: &str) -> Vec<String> {
        let Some(gw) = self.gateway_lookup(reference, vs_ns).found else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for &copy in self.copies_of(gw) {
            let r = &self.resources[copy];
            match &r.typed {
                meshlint_model::Typed::Gateway(g) => {
                    for h in g.servers.iter().flat_map(|s| &s.hosts) {
                        let (ns, host) = match h.split_once('/') {
                            Some((".", host)) => (Some(r.namespace()), host),
                            Some(("*", host)) => (None, host),
                            Some((ns, host)) => (Some(ns), host),
                            None => (None, h.as_str()),
                        };
                        if ns.is_none_or(|ns| ns == vs_ns) {
                            out.push(host.to_string());
                        }
                    }
                }
                _ if r.kind == Kind::K8sGateway => {
                    let listeners = r
                        .spec()
                        .and_then(|s| s.get("listeners"))
                        .map(|l| l.items())
                        .unwrap_or(&[]);
                    for l in listeners {
                        out.push(l.str_at(&["hostname"]).unwrap_or("*").to_string());
                    }
                }
                _ => {}
            }
        }
        out.sort();
        out.dedup();
        out
    }
}
