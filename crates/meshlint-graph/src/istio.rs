//! Relations `istioctl analyze` reasons about that the core graph does not: pods by label
//! in every namespace, Services selecting a pod, Gateway servers that collide or share a
//! certificate, VirtualService hosts claimed by several mesh-bound VirtualServices,
//! destination lookup through export scopes, DestinationRule subsets by host, policies
//! selecting a pod, and resources by name. Each is an index built once, on first use,
//! so rules never compare all pairs.

use crate::build::MeshGraph;
use crate::fast_map::{HashMap, HashSet};
use crate::flat_map::{FlatMap, Frozen, NameNumbers, NumberedHost};
use crate::queries::{host_matches, selector_matches};
use crate::tally::Tally;
use meshlint_load::Node;
use meshlint_model::typed::{Labels, Typed};
use meshlint_model::Kind;

/// A Gateway server's (port, host, bind).
type ServerKey = (u32, String, String);

/// The lazily built indexes of this module.
#[derive(Default)]
pub struct IstioIndex {
    /// Every Pod, in input order.
    pods: Tally<Vec<usize>>,
    /// Namespace → its Pods, in input order.
    pods_by_ns: Tally<HashMap<String, Vec<usize>>>,
    /// (port, host, bind) → (Istio Gateway, server index).
    gateway_servers: Tally<HashMap<ServerKey, Vec<(usize, usize)>>>,
    /// TLS identity of a Gateway server (credential name, or certificate+key files) →
    /// (Gateway, server index).
    gateway_certs: Tally<HashMap<String, Vec<(usize, usize)>>>,
    /// Gateway → the keys of `gateway_certs` its servers use (each once).
    certs_of_gateway: Tally<HashMap<usize, Vec<String>>>,
    /// (scope, FQDN) → mesh-bound VirtualServices declaring it.
    mesh_vs_hosts: Tally<FlatMap<NumberedHost, Frozen>>,
    /// Mesh-bound VirtualServices exported everywhere with a wildcard host, for overlap
    /// queries. Those with an exact host are the `*` scope's keys of `mesh_vs_hosts`
    /// (see [`IstioIndex::global_overlapping`]): a second index of them by host took
    /// 5.8 MB on the 20,000-namespace gen-mesh corpus.
    mesh_vs_global: HostIndex<usize>,
    /// Mesh-bound VirtualServices exported to one namespace: (host, VirtualService).
    mesh_vs_scoped: HostIndex<(String, usize)>,
    /// (scope, FQDN) → Services and ServiceEntries, as Istio's destination lookup sees them.
    /// The host is its position among the graph's hosts (`MeshGraph::hosts`, which has
    /// every host a Service or ServiceEntry defines): a copy of it per key took 5 MB
    /// on the 20,000-namespace gen-mesh corpus.
    destinations: Tally<FlatMap<(u32, u32), Frozen>>,
    /// Export scope (`*` or a namespace) → its number in the keys of `mesh_vs_hosts`
    /// and `destinations`.
    scopes: NameNumbers,
    /// Wildcard ServiceEntry hosts: (scope, suffix without `*`, entry).
    wildcard_destinations: Tally<Vec<(String, String, usize)>>,
    /// Normalised DestinationRule host (`ns/name` for cluster services) → subset names.
    /// Sorted and deduplicated (a `BTreeSet` took a 300-byte node for one name). A
    /// [`FlatMap`]: a hash map's table, twice the hosts, was 6 MB on the 20,000-namespace
    /// gen-mesh corpus. The names are the views' shared `Text`s, not copies.
    subsets_by_host: Tally<FlatMap<Box<str>, Vec<meshlint_model::Text>>>,
    /// Pod → (kind, policy) for Sidecars/Telemetries/… with a non-empty selector matching it.
    selected_by: Tally<HashMap<usize, Vec<(Kind, usize)>>>,
    /// (kind, name) → resources in any namespace.
    by_name: crate::resource_index::ByKindName,
    /// Destination host (as written) → VirtualServices with an HTTP route to it with a
    /// subset, where the host is also one of the VirtualService's own hosts.
    subset_routes_by_host: Tally<HashMap<String, Vec<usize>>>,
    /// Every namespace of the inputs spelled backwards, sorted, for `*suffix` patterns.
    namespaces_reversed: Tally<Vec<String>>,
    /// The namespaces of the inputs that are not in lower case, in lower case, for
    /// case-insensitive equality (the others are `MeshGraph::known_namespaces` as they
    /// are: Kubernetes names are lower case, and a copy of all 20,000 namespaces of the
    /// gen-mesh corpus took 1.5 MB).
    namespaces_lower: Tally<HashSet<String>>,
}

/// Export scopes of a resource: `*`, or each namespace of `exportTo` (`.` = its own).
pub fn export_scopes(export_to: Option<&[String]>, own_ns: &str) -> Vec<String> {
    match export_to {
        None => vec!["*".to_string()],
        Some(list) if list.is_empty() || list.iter().any(|e| e == "*") => vec!["*".to_string()],
        Some(list) => {
            let mut out: Vec<String> = list
                .iter()
                .map(|e| {
                    if e == "." {
                        own_ns.to_string()
                    } else {
                        e.clone()
                    }
                })
                .collect();
            out.sort();
            out.dedup();
            out
        }
    }
}

/// Whether two hosts overlap (either may be a wildcard).
pub fn hosts_overlap(a: &str, b: &str) -> bool {
    host_matches(a, b) || host_matches(b, a)
}

/// Values keyed by host (possibly a `*.suffix` wildcard), answering "which entries
/// overlap this host" without scanning them all: an exact host is looked up as itself and
/// as every wildcard suffix that could cover it; only a wildcard query scans the hosts,
/// and wildcard hosts are rare. Each host is held once, as a key.
#[derive(Debug)]
pub(crate) struct HostIndex<T> {
    exact: Tally<FlatMap<String, Vec<T>>>,
    /// Wildcard entries by the part after `*` (`*.example.com` → `.example.com`).
    wildcard: Tally<HashMap<String, Vec<T>>>,
}

impl<T> Default for HostIndex<T> {
    fn default() -> Self {
        HostIndex {
            exact: Tally::default(),
            wildcard: Tally::default(),
        }
    }
}

impl<T> HostIndex<T> {
    fn shrink(&mut self) {
        self.exact.shrink_lists();
        crate::tally::shrink_lists(&mut self.wildcard);
    }

    pub(crate) fn insert(&mut self, host: &str, value: T) {
        let bucket = match host.strip_prefix('*') {
            Some(suffix) => self
                .wildcard
                .entry(suffix.to_string())
                .or_insert_with(crate::tally::new_list),
            None => self.exact.list(host.to_string()),
        };
        bucket.push(value);
    }

    /// Entries whose host overlaps `host` in the sense of [`hosts_overlap`].
    pub(crate) fn overlapping<'s>(&'s self, host: &'s str) -> Box<dyn Iterator<Item = &'s T> + 's> {
        if let Some(query_suffix) = host.strip_prefix('*') {
            let exact = self
                .exact
                .iter()
                .filter(move |(h, _)| hosts_overlap(h, host))
                .flat_map(|(_, bucket)| bucket);
            // Two wildcards overlap when one's suffix ends the other's (`*` has the
            // empty suffix), as `hosts_overlap` decides.
            let wildcard = self
                .wildcard
                .iter()
                .filter(move |(suffix, _)| {
                    query_suffix.ends_with(suffix.as_str()) || suffix.ends_with(query_suffix)
                })
                .flat_map(|(_, bucket)| bucket);
            return Box::new(exact.chain(wildcard));
        }
        let exact = self.exact.get(host).into_iter().flatten();
        let covering = host
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(host.len()))
            .filter_map(move |i| self.wildcard.get(&host[i..]))
            .flatten();
        Box::new(exact.chain(covering))
    }
}

impl IstioIndex {
    /// Mesh-bound VirtualServices exported everywhere whose host overlaps `host` in the
    /// sense of [`hosts_overlap`], each at least once: the `*` scope's exact hosts of
    /// `mesh_vs_hosts` and the wildcard hosts of `mesh_vs_global`.
    fn global_overlapping<'s>(&'s self, host: &'s str) -> Box<dyn Iterator<Item = usize> + 's> {
        let wildcards = self.mesh_vs_global.overlapping(host).copied();
        let Some(everywhere) = self.scopes.find("*") else {
            return Box::new(wildcards);
        };
        if !host.starts_with('*') {
            let exact = self
                .mesh_vs_hosts
                .get_host(&self.scopes, "*", host)
                .into_iter()
                .flatten()
                .copied();
            return Box::new(exact.chain(wildcards));
        }
        // A wildcard query scans the exact hosts (wildcard hosts are rare), as
        // [`HostIndex::overlapping`] does.
        let exact = self
            .mesh_vs_hosts
            .iter()
            .filter(move |((scope, h), _)| {
                *scope == everywhere && !h.starts_with('*') && hosts_overlap(h, host)
            })
            .flat_map(|(_, list)| list.iter().copied());
        Box::new(exact.chain(wildcards))
    }
}

/// `k1=v1,k2=v2` with keys sorted.
fn canonical_selector(s: &Labels) -> String {
    s.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn str_at<'a>(n: &'a Node, path: &[&str]) -> Option<&'a str> {
    n.str_at(path)
}

impl MeshGraph {
    pub(crate) fn istio(&self) -> &IstioIndex {
        self.istio_index.get_or_init(|| self.build_istio_index())
    }

    fn build_istio_index(&self) -> IstioIndex {
        let mut ix = IstioIndex::default();
        let domain = self.mesh.dns_domain.clone();
        ix.by_name = crate::resource_index::ByKindName::new(&self.resources);
        // Built with growing lists, kept with frozen ones.
        let mut mesh_vs_hosts: FlatMap<NumberedHost, Vec<usize>> = FlatMap::default();
        let mut destinations: FlatMap<(u32, u32), Vec<usize>> = FlatMap::default();
        for (i, r) in self.resources.iter().enumerate() {
            let ns = r.namespace();
            match &r.typed {
                Typed::Workload(w) if r.kind == Kind::Pod => {
                    ix.pods.push(i);
                    ix.pods_by_ns
                        .entry(ns.to_string())
                        .or_insert_with(crate::tally::new_list)
                        .push(i);
                }
                Typed::Gateway(gw) => {
                    let servers = r
                        .spec()
                        .and_then(|s| s.get("servers"))
                        .map(|s| s.items())
                        .unwrap_or(&[]);
                    for (si, s) in gw.servers.iter().enumerate() {
                        let bind = servers
                            .get(si)
                            .and_then(|n| str_at(n, &["bind"]))
                            .unwrap_or("")
                            .to_string();
                        for h in &s.hosts {
                            ix.gateway_servers
                                .entry((s.port, h.clone(), bind.clone()))
                                .or_insert_with(crate::tally::new_list)
                                .push((i, si));
                        }
                        if let Some(tls) = servers.get(si).and_then(|n| n.get("tls")) {
                            let key =
                                match str_at(tls, &["credentialName"]).filter(|c| !c.is_empty()) {
                                    Some(c) => Some(format!("credential:{c}")),
                                    None => match (
                                        str_at(tls, &["serverCertificate"]),
                                        str_at(tls, &["privateKey"]),
                                    ) {
                                        (Some(c), Some(k)) if !c.is_empty() && !k.is_empty() => {
                                            Some(format!("files:{c}|{k}"))
                                        }
                                        _ => None,
                                    },
                                };
                            if let Some(key) = key {
                                let mine = ix
                                    .certs_of_gateway
                                    .entry(i)
                                    .or_insert_with(crate::tally::new_list);
                                if !mine.contains(&key) {
                                    mine.push(key.clone());
                                }
                                ix.gateway_certs
                                    .entry(key)
                                    .or_insert_with(crate::tally::new_list)
                                    .push((i, si));
                            }
                        }
                    }
                }
                Typed::VirtualService(vs) => {
                    for d in &vs.destinations {
                        if d.protocol == "http"
                            && d.subset.as_deref().is_some_and(|x| !x.is_empty())
                            && vs.hosts.contains(&d.host)
                        {
                            let l = ix
                                .subset_routes_by_host
                                .entry(d.host.clone())
                                .or_insert_with(crate::tally::new_list);
                            if l.last() != Some(&i) {
                                l.push(i);
                            }
                        }
                    }
                    let mesh_bound =
                        vs.gateways.is_empty() || vs.gateways.iter().any(|g| g.name == "mesh");
                    if mesh_bound {
                        let scopes = export_scopes(vs.export_to.as_deref(), ns);
                        for h in &vs.hosts {
                            let fqdn = crate::queries::resolve_short(h, ns, &domain);
                            for s in &scopes {
                                let s = ix.scopes.number(s);
                                let list =
                                    mesh_vs_hosts.host_list(s, &fqdn, |h| self.shared_host(h));
                                if list.last() != Some(&i) {
                                    list.push(i);
                                }
                            }
                            if fqdn.starts_with('*') && scopes.iter().any(|s| s == "*") {
                                ix.mesh_vs_global.insert(&fqdn, i);
                            }
                            if scopes.iter().any(|s| s != "*") {
                                ix.mesh_vs_scoped.insert(&fqdn, (fqdn.clone(), i));
                            }
                        }
                    }
                }
                Typed::Service(svc) => {
                    let fqdn = format!("{}.{}.svc.{}", r.name(), ns, domain);
                    for s in export_scopes(svc.export_to.as_deref(), ns) {
                        let s = ix.scopes.number(&s);
                        if let Some(h) = self.hosts.position_of(fqdn.as_str()) {
                            destinations.list((s, h)).push(i);
                        }
                    }
                }
                Typed::ServiceEntry(se) => {
                    let scopes = export_scopes(se.export_to.as_deref(), ns);
                    for h in &se.hosts {
                        let h = crate::queries::resolve_short(h, ns, &domain);
                        for s in &scopes {
                            if let Some(suffix) = h.strip_prefix('*') {
                                ix.wildcard_destinations
                                    .push((s.clone(), suffix.to_string(), i));
                            } else {
                                let s = ix.scopes.number(s);
                                if let Some(h) = self.hosts.position_of(h.as_str()) {
                                    destinations.list((s, h)).push(i);
                                }
                            }
                        }
                    }
                }
                Typed::DestinationRule(dr) => {
                    let key = self.service_identity(&dr.host, ns);
                    let e = ix.subsets_by_host.list(key.into());
                    e.extend(dr.subsets.iter().map(|s| s.name.clone()));
                }
                _ => {}
            }
        }
        ix.namespaces_reversed = self
            .known_namespaces()
            .map(|n| n.chars().rev().collect())
            .collect();
        ix.namespaces_reversed.sort();
        ix.namespaces_lower = self
            .known_namespaces()
            .map(|n| (n, n.to_lowercase()))
            .filter(|(n, lower)| n != lower)
            .map(|(_, lower)| lower)
            .collect();
        // Policies with a non-empty selector → the pods of their namespace they select.
        for (i, r) in self.resources.iter().enumerate() {
            let sel = match &r.typed {
                Typed::Sidecar(sc) => sc.selector.clone(),
                Typed::Selecting(s) if !s.has_target_ref => s.selector.clone(),
                _ => None,
            };
            let Some(sel) = sel.filter(|s| !s.is_empty()) else {
                continue;
            };
            for p in self.pods_in_index(&ix, r.namespace(), &sel) {
                ix.selected_by
                    .entry(p)
                    .or_insert_with(crate::tally::new_list)
                    .push((r.kind, i));
            }
        }
        for names in ix.subsets_by_host.values_mut() {
            names.sort_unstable();
            names.dedup();
        }
        crate::tally::shrink_lists(&mut ix.pods_by_ns);
        crate::tally::shrink_lists(&mut ix.gateway_servers);
        crate::tally::shrink_lists(&mut ix.gateway_certs);
        crate::tally::shrink_lists(&mut ix.certs_of_gateway);
        ix.mesh_vs_hosts = Tally::new(mesh_vs_hosts.freeze());
        ix.destinations = Tally::new(destinations.freeze());
        ix.subsets_by_host.shrink_lists();
        crate::tally::shrink_lists(&mut ix.selected_by);
        crate::tally::shrink_lists(&mut ix.subset_routes_by_host);
        ix.mesh_vs_global.shrink();
        ix.mesh_vs_scoped.shrink();
        ix
    }

    fn pods_matching_index(&self, ix: &IstioIndex, selector: &Labels) -> Vec<usize> {
        if selector.is_empty() {
            return ix.pods.iter().copied().collect();
        }
        let mut pods = self.labelled(selector);
        pods.retain(|&p| self.resources[p].kind == Kind::Pod);
        pods
    }

    fn pods_in_index(&self, ix: &IstioIndex, ns: &str, selector: &Labels) -> Vec<usize> {
        let in_ns = ix.pods_by_ns.get(ns).map(Vec::as_slice).unwrap_or(&[]);
        if selector.is_empty() {
            return in_ns.to_vec();
        }
        // Start from the smaller of the namespace's pods and the rarest selector label's
        // workloads: a label every namespace uses (`app: web`) would otherwise make each
        // namespace's question cost the whole mesh.
        let rarest = selector
            .iter()
            .map(|(k, v)| {
                self.workloads_by_label
                    .get_hashed(crate::build::label_hash(k, v), crate::build::is_label(k, v))
                    .map_or(0, Vec::len)
            })
            .min()
            .unwrap_or(0);
        if in_ns.len() <= rarest {
            return in_ns
                .iter()
                .copied()
                .filter(|&p| selector_matches(selector, self.workload_labels(p)))
                .collect();
        }
        self.pods_matching_index(ix, selector)
            .into_iter()
            .filter(|&p| self.resources[p].namespace() == ns)
            .collect()
    }

    /// Pods in any namespace whose labels the selector matches (an empty selector matches
    /// every pod), as Istio's Gateway analyzers select gateway pods.
    pub fn pods_matching(&self, selector: &Labels) -> Vec<usize> {
        self.pods_matching_index(self.istio(), selector)
    }

    /// Pods of one namespace whose labels the selector matches (empty = all of them).
    pub fn pods_in(&self, ns: &str, selector: &Labels) -> Vec<usize> {
        self.pods_in_index(self.istio(), ns, selector)
    }

    /// Services of the workload's namespace whose (non-empty) selector matches it, sorted:
    /// the Services among those [`Self::services_for`] finds (the index of a workload's
    /// Services and ServiceEntries), rather than an index of its own.
    pub fn services_selecting(&self, workload: usize) -> Vec<usize> {
        self.services_by_workload()
            .of(workload)
            .iter()
            .copied()
            .filter(|&s| matches!(self.resources[s].typed, Typed::Service(_)))
            .collect()
    }

    /// Policies of a kind (Sidecar, Telemetry, AuthorizationPolicy, …) whose non-empty
    /// selector matches a pod (of the pod's namespace).
    pub fn policies_selecting_pod(&self, pod: usize, kind: Kind) -> Vec<usize> {
        self.istio()
            .selected_by
            .get(&pod)
            .map(|l| {
                l.iter()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, i)| *i)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Resources of a kind with a name, in any namespace.
    pub fn named(&self, kind: Kind, name: &str) -> Vec<usize> {
        let found = self.istio().by_name.get(&self.resources, kind, name);
        // Charged as the list it hands out, like the other indexes (`Tally`).
        meshlint_diag::work::add(found.len().max(1) as u64);
        found.to_vec()
    }

    /// For each server of an Istio Gateway that conflicts with another Gateway (same
    /// port, a host written identically with the same `bind`, related selectors): the
    /// server index and the conflicting Gateways, each with the index of its first
    /// server that conflicts.
    pub fn gateway_conflicts(&self, gw: usize) -> Vec<(usize, Vec<(usize, usize)>)> {
        let Typed::Gateway(g) = &self.resources[gw].typed else {
            return Vec::new();
        };
        let ix = self.istio();
        let servers = self.resources[gw]
            .spec()
            .and_then(|s| s.get("servers"))
            .map(|s| s.items())
            .unwrap_or(&[]);
        let mut out = Vec::new();
        for (si, s) in g.servers.iter().enumerate() {
            let bind = servers
                .get(si)
                .and_then(|n| str_at(n, &["bind"]))
                .unwrap_or("")
                .to_string();
            let mut others: Vec<(usize, usize)> = s
                .hosts
                .iter()
                .flat_map(|h| {
                    ix.gateway_servers
                        .get(&(s.port, h.clone(), bind.clone()))
                        .map(Vec::as_slice)
                        .unwrap_or(&[])
                })
                .copied()
                .filter(|&(o, _)| !self.same_object(o, gw) && self.selectors_related(gw, o))
                .collect();
            // One entry per Gateway: its first conflicting server.
            others.sort_unstable();
            others.dedup_by_key(|(o, _)| *o);
            if !others.is_empty() {
                out.push((si, others));
            }
        }
        out
    }

    fn selectors_related(&self, a: usize, b: usize) -> bool {
        let (Typed::Gateway(ga), Typed::Gateway(gb)) =
            (&self.resources[a].typed, &self.resources[b].typed)
        else {
            return false;
        };
        let (sa, sb) = (
            canonical_selector(&ga.selector),
            canonical_selector(&gb.selector),
        );
        if sa == sb {
            return true;
        }
        if !(sa.contains(&sb) || sb.contains(&sa)) {
            return false;
        }
        let mut union = ga.selector.clone();
        union.extend(gb.selector.clone());
        !self.pods_matching(&union).is_empty()
    }

    /// Other Istio Gateways whose selector includes every label of this Gateway's and
    /// that serve TLS with the same certificate (credential name, or certificate and key
    /// files): (server index here, other Gateway).
    pub fn gateways_sharing_certificate(&self, gw: usize) -> Vec<(usize, usize)> {
        let Typed::Gateway(g) = &self.resources[gw].typed else {
            return Vec::new();
        };
        let ix = self.istio();
        let mut out = Vec::new();
        // Only the certificates this Gateway serves (the answer is sorted, so the order
        // they are visited in does not matter).
        let lists = ix
            .certs_of_gateway
            .walk(&gw)
            .filter_map(|key| ix.gateway_certs.get(key));
        for list in lists {
            for &(a, sa) in list.iter().filter(|(a, _)| *a == gw) {
                let _ = a;
                for &(o, _) in list.iter().filter(|(o, _)| !self.same_object(*o, gw)) {
                    let Typed::Gateway(og) = &self.resources[o].typed else {
                        continue;
                    };
                    if selector_matches(&g.selector, &og.selector) && !out.contains(&(sa, o)) {
                        out.push((sa, o));
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// Other mesh-bound VirtualServices claiming a host of this one in an overlapping
    /// export scope (exact FQDN in the same scope, or a `*`-exported one whose host
    /// overlaps), as Istio's ConflictingMeshGatewayHostsAnalyzer groups them.
    pub fn mesh_host_conflicts(&self, vs: usize) -> Vec<(String, usize)> {
        let Typed::VirtualService(v) = &self.resources[vs].typed else {
            return Vec::new();
        };
        if !(v.gateways.is_empty() || v.gateways.iter().any(|g| g.name == "mesh")) {
            return Vec::new();
        }
        let ix = self.istio();
        let ns = self.resources[vs].namespace();
        let scopes = export_scopes(v.export_to.as_deref(), ns);
        let mut out: Vec<(String, usize)> = Vec::new();
        for h in &v.hosts {
            let fqdn = self.resolve_host(h, ns);
            for s in &scopes {
                let mut group: Vec<usize> = ix
                    .mesh_vs_hosts
                    .get_host(&ix.scopes, s, &fqdn)
                    .map(|l| l.to_vec())
                    .unwrap_or_default();
                if s != "*" {
                    group.extend(ix.global_overlapping(&fqdn));
                }
                group.sort_unstable();
                group.dedup();
                if group.len() > 1 && group.contains(&vs) {
                    for o in group.into_iter().filter(|&o| !self.same_object(o, vs)) {
                        if !out.iter().any(|(_, x)| *x == o) {
                            out.push((fqdn.clone(), o));
                        }
                    }
                }
            }
            // A `*`-exported VirtualService also conflicts with scoped ones whose host
            // it overlaps.
            if scopes.iter().any(|s| s == "*") {
                let mut scoped: Vec<&(String, usize)> = ix
                    .mesh_vs_scoped
                    .overlapping(&fqdn)
                    .filter(|(_, o)| !self.same_object(*o, vs))
                    .collect();
                // The index answers in bucket order; keep the answer independent of it.
                scoped.sort();
                for (f, o) in scoped {
                    if !out.iter().any(|(_, x)| x == o) {
                        out.push((f.clone(), *o));
                    }
                }
            }
        }
        out
    }

    /// VirtualServices routing to `host` (as written) with a subset on HTTP routes, where
    /// `host` is also one of their own hosts (Istio's IngressRouteRulesNotAffected).
    pub fn subset_routes_to(&self, host: &str) -> Vec<usize> {
        self.istio()
            .subset_routes_by_host
            .get(host)
            .cloned()
            .unwrap_or_default()
    }

    /// Istio's destination lookup: the Service or ServiceEntry a host written in `ns`
    /// resolves to, seen through export scopes (`export_to` of the referring resource).
    pub fn destination_target(
        &self,
        host: &str,
        ns: &str,
        export_to: Option<&[String]>,
    ) -> Option<usize> {
        let ix = self.istio();
        let fqdn = self.resolve_host(host, ns);
        let mut scopes = vec!["*".to_string()];
        match export_to.filter(|l| !l.is_empty()) {
            None => scopes.push(ns.to_string()),
            Some(list) => {
                scopes.extend(
                    list.iter()
                        .map(|e| if e == "." { ns.to_string() } else { e.clone() }),
                )
            }
        }
        // A host no Service or ServiceEntry defines has no key (as a scope no key has).
        let host = self.hosts.position_of(fqdn.as_str());
        for s in &scopes {
            let found = match (ix.scopes.find(s), host) {
                (Some(s), Some(h)) => ix.destinations.get(&(s, h)),
                _ => {
                    meshlint_diag::work::add(1);
                    None
                }
            };
            if let Some(t) = found.and_then(|l| l.first()) {
                return Some(*t);
            }
        }
        let bare = fqdn.trim_start_matches('*');
        ix.wildcard_destinations
            .iter()
            .find(|(s, suffix, _)| (s == "*" || s == ns) && bare.ends_with(suffix.as_str()))
            .map(|(_, _, i)| *i)
    }

    /// `reviews` in `default` and `reviews.default.svc.cluster.local` → `default/reviews`;
    /// other hosts unchanged.
    pub fn service_identity(&self, host: &str, ns: &str) -> String {
        let fqdn = self.resolve_host(host, ns);
        let suffix = format!(".svc.{}", self.mesh.dns_domain);
        match fqdn.strip_suffix(&suffix) {
            Some(rest) => match rest.split_once('.') {
                Some((name, n)) if !n.contains('.') => format!("{n}/{name}"),
                _ => fqdn,
            },
            None => fqdn,
        }
    }

    /// Whether some DestinationRule for the host (normalised as [`Self::service_identity`])
    /// defines the subset.
    pub fn subset_defined(&self, host: &str, ns: &str, subset: &str) -> bool {
        self.istio()
            .subsets_by_host
            .get(self.service_identity(host, ns).as_str())
            .is_some_and(|s| s.binary_search_by(|x| (**x).cmp(subset)).is_ok())
    }

    /// Whether some namespace of the inputs (a Namespace resource, or the namespace of any
    /// resource) matches an AuthorizationPolicy `source.namespaces` entry: `*` matches any
    /// namespace, `*x` is a suffix and `x*` a prefix match, anything else is compared
    /// ignoring case. Answered from sorted name lists, never by scanning them.
    pub fn namespace_pattern_matches(&self, pattern: &str) -> bool {
        if pattern == "*" {
            return self.known_namespaces().next().is_some();
        }
        if let Some(suffix) = pattern.strip_prefix('*') {
            let rev: String = suffix.chars().rev().collect();
            let names = &self.istio().namespaces_reversed;
            let i = names.partition_point(|n| n.as_str() < rev.as_str());
            return names.get(i).is_some_and(|n| n.starts_with(&rev));
        }
        if let Some(prefix) = pattern.strip_suffix('*') {
            return self
                .known_namespaces
                .range(prefix.to_string()..)
                .next()
                .is_some_and(|n| n.starts_with(prefix));
        }
        let lower = pattern.to_lowercase();
        self.known_namespaces.contains(&lower) || self.istio().namespaces_lower.contains(&lower)
    }

    /// Whether a pod runs in the mesh as Istio's analyzers judge it: an `istio-proxy`
    /// container with an image, else `sidecar.istio.io/inject` on the pod, else its
    /// Namespace labelled `istio-injection: enabled`.
    pub fn pod_in_mesh(&self, pod: usize) -> bool {
        let r = &self.resources[pod];
        let spec = r.spec();
        let has_proxy = ["containers", "initContainers"].iter().any(|k| {
            spec.and_then(|s| s.get(k))
                .map(|c| c.items())
                .unwrap_or(&[])
                .iter()
                .any(|c| {
                    c.str_at(&["name"]) == Some("istio-proxy")
                        && c.str_at(&["image"]).is_some_and(|i| !i.is_empty())
                })
        });
        if has_proxy {
            return true;
        }
        let inject = r
            .labels
            .get("sidecar.istio.io/inject")
            .or_else(|| r.annotations.get("sidecar.istio.io/inject"));
        if let Some(v) = inject {
            return v == "true";
        }
        self.namespace_resource(r.namespace())
            .is_some_and(|n| self.resources[n].labels.get("istio-injection") == Some("enabled"))
    }
}

#[cfg(test)]
mod host_index_tests {
    use super::{hosts_overlap, HostIndex};

    /// The index must answer exactly what a scan with `hosts_overlap` answers.
    #[test]
    fn agrees_with_a_scan() {
        let hosts = [
            "reviews.shop.svc.cluster.local",
            "*.shop.svc.cluster.local",
            "*.svc.cluster.local",
            "*",
            "*view.example.com",
            "api.example.com",
            "review.example.com",
        ];
        let mut ix = HostIndex::default();
        for (i, h) in hosts.iter().enumerate() {
            ix.insert(h, i);
        }
        let queries = hosts.iter().copied().chain([
            "ratings.shop.svc.cluster.local",
            "*.example.com",
            "other",
        ]);
        for q in queries {
            let mut got: Vec<usize> = ix.overlapping(q).copied().collect();
            got.sort();
            let want: Vec<usize> = (0..hosts.len())
                .filter(|&i| hosts_overlap(hosts[i], q))
                .collect();
            assert_eq!(got, want, "query {q}");
        }
    }
}
