//! Routing: which VirtualService routes send traffic to a host, through which gateways.

use crate::build::MeshGraph;
use crate::fast_map::HashMap;
use meshlint_model::typed::*;
use meshlint_model::Kind;
use serde::Serialize;

/// A VirtualService route destination that sends traffic to a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteTo {
    pub virtual_service: usize,
    /// Path of the `destination` block.
    pub path: String,
    pub port: Option<u32>,
    pub subset: Option<String>,
    /// `http`, `tcp` or `tls`.
    pub protocol: String,
    /// VirtualService-level `gateways` as written (`mesh` when none).
    pub gateways: Vec<String>,
    /// Gateway resources among them that exist.
    pub gateway_resources: Vec<usize>,
    /// Namespaces of the gateway proxies that execute the route (the namespace of the
    /// Gateway resource when its workloads are not in the inputs).
    pub gateway_namespaces: Vec<String>,
}

impl MeshGraph {
    /// VirtualService route destinations that send traffic to `fqdn`, with the gateways
    /// executing them.
    pub fn routes_to(&self, fqdn: &str) -> Vec<RouteTo> {
        self.routes_index().get(fqdn).cloned().unwrap_or_default()
    }

    /// Route destinations by destination FQDN, built on first use.
    pub(crate) fn routes_index(&self) -> &crate::Tally<HashMap<String, Vec<RouteTo>>> {
        self.routes_index
            .get_or_init(|| crate::Tally::new(self.build_routes_index()))
    }

    pub(crate) fn build_routes_index(&self) -> HashMap<String, Vec<RouteTo>> {
        let mut out: HashMap<String, Vec<RouteTo>> = HashMap::default();
        for &v in self.of_kind(Kind::VirtualService) {
            let r = &self.resources[v];
            let Typed::VirtualService(vs) = &r.typed else {
                continue;
            };
            let ns = r.namespace();
            let mut gateways: Vec<String> = vs
                .gateways
                .iter()
                .filter(|g| g.path.starts_with("spec.gateways"))
                .map(|g| g.name.clone())
                .collect();
            if gateways.is_empty() {
                gateways.push("mesh".to_string());
            }
            let mut gateway_resources = Vec::new();
            let mut gateway_namespaces: Vec<String> = Vec::new();
            for g in gateways.iter().filter(|g| g.as_str() != "mesh") {
                let Some(gi) = self.gateway_ref(g, ns) else {
                    continue;
                };
                gateway_resources.push(gi);
                let proxies = match &self.resources[gi].typed {
                    Typed::Gateway(gw) => self.gateway_workloads_for(&gw.selector, ns),
                    _ => Vec::new(),
                };
                if proxies.is_empty() {
                    gateway_namespaces.push(self.resources[gi].namespace().to_string());
                }
                for w in proxies {
                    gateway_namespaces.push(self.resources[w].namespace().to_string());
                }
            }
            gateway_namespaces.sort();
            gateway_namespaces.dedup();
            for d in &vs.destinations {
                let fqdn = self.resolve_host(&d.host, ns);
                out.entry(fqdn).or_default().push(RouteTo {
                    virtual_service: v,
                    path: d.path.clone(),
                    port: d.port,
                    subset: d.subset.clone(),
                    protocol: d.protocol.to_string(),
                    gateways: gateways.clone(),
                    gateway_resources: gateway_resources.clone(),
                    gateway_namespaces: gateway_namespaces.clone(),
                });
            }
        }
        crate::tally::shrink_lists(&mut out);
        out
    }
}
