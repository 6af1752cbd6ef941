//! Routing: which VirtualService routes send traffic to a host, through which gateways.

use crate::build::MeshGraph;
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

/// What the index keeps of a route destination: where to read it and which gateway set
/// executes it. Each [`RouteTo`] used to be stored whole, its strings and lists copied
/// per destination (4.6 MB on the 2,000-namespace gen-mesh corpus while the lists still
/// had their growth room); `routes_to` copies them out of the VirtualService instead.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouteEntry {
    virtual_service: u32,
    /// Position in the VirtualService's `destinations`.
    destination: u32,
    /// Position in [`RoutesIndex::gateway_sets`].
    gateways: u32,
}

/// The gateways executing a VirtualService's routes, computed once per VirtualService.
#[derive(Debug, Default, PartialEq)]
struct GatewaySet {
    gateways: Vec<String>,
    gateway_resources: Vec<usize>,
    gateway_namespaces: Vec<String>,
}

/// Route destinations by destination FQDN.
#[derive(Debug, Default)]
pub(crate) struct RoutesIndex {
    /// Keyed by the graph's copy of each host it defines (`MeshGraph::shared_host`).
    by_host: crate::Tally<crate::flat_map::FlatMap<std::sync::Arc<str>, Vec<RouteEntry>>>,
    /// The gateway sets of the VirtualServices; the first is `mesh` alone, which most
    /// VirtualServices share.
    gateway_sets: Vec<GatewaySet>,
}

impl MeshGraph {
    /// VirtualService route destinations that send traffic to `fqdn`, with the gateways
    /// executing them.
    pub fn routes_to(&self, fqdn: &str) -> Vec<RouteTo> {
        let ix = self.routes_index();
        let Some(entries) = ix.by_host.get(fqdn) else {
            return Vec::new();
        };
        entries
            .iter()
            .filter_map(|e| {
                let v = e.virtual_service as usize;
                let Typed::VirtualService(vs) = &self.resources[v].typed else {
                    return None;
                };
                let d = &vs.destinations[e.destination as usize];
                let set = &ix.gateway_sets[e.gateways as usize];
                Some(RouteTo {
                    virtual_service: v,
                    path: d.path.to_string(),
                    port: d.port,
                    subset: d.subset.as_deref().map(str::to_string),
                    protocol: d.protocol.to_string(),
                    gateways: set.gateways.clone(),
                    gateway_resources: set.gateway_resources.clone(),
                    gateway_namespaces: set.gateway_namespaces.clone(),
                })
            })
            .collect()
    }

    /// Route destinations by destination FQDN, built on first use.
    pub(crate) fn routes_index(&self) -> &RoutesIndex {
        self.routes_index.get_or_init(|| self.build_routes_index())
    }

    /// The gateways executing the routes of VirtualService `v` written in `ns`.
    fn gateway_set(&self, vs: &VirtualService, ns: &str) -> GatewaySet {
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
        GatewaySet {
            gateways,
            gateway_resources,
            gateway_namespaces,
        }
    }

    pub(crate) fn build_routes_index(&self) -> RoutesIndex {
        let mesh_only = GatewaySet {
            gateways: vec!["mesh".to_string()],
            ..GatewaySet::default()
        };
        // Each destination names one host: a bound of the hosts.
        let destinations = self
            .of_kind(Kind::VirtualService)
            .iter()
            .map(|&v| match &self.resources[v].typed {
                Typed::VirtualService(vs) => vs.destinations.len(),
                _ => 0,
            })
            .sum();
        let mut ix = RoutesIndex {
            by_host: crate::Tally::new(crate::flat_map::FlatMap::with_capacity(destinations)),
            gateway_sets: vec![mesh_only],
        };
        for &v in self.of_kind(Kind::VirtualService) {
            let r = &self.resources[v];
            let Typed::VirtualService(vs) = &r.typed else {
                continue;
            };
            if vs.destinations.is_empty() {
                continue;
            }
            let ns = r.namespace();
            let set = self.gateway_set(vs, ns);
            let gateways = if set == ix.gateway_sets[0] {
                0
            } else {
                ix.gateway_sets.push(set);
                ix.gateway_sets.len() - 1
            };
            for (di, d) in vs.destinations.iter().enumerate() {
                let entry = RouteEntry {
                    virtual_service: v as u32,
                    destination: di as u32,
                    gateways: gateways as u32,
                };
                let host = self.resolve_host(&d.host, ns);
                let list = match ix.by_host.position_of(host.as_str()) {
                    Some(at) => ix.by_host.at_mut(at),
                    None => ix.by_host.list(self.shared_host(&host)),
                };
                list.push(entry);
            }
        }
        ix.by_host.shrink_lists();
        ix.gateway_sets.shrink_to_fit();
        ix
    }
}
