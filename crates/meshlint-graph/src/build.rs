//! Building the indexes and the petgraph relation graph.

use crate::fast_map::HashMap;
use crate::tally::Tally;
use meshlint_model::typed::{namespace_injection, Injection, Typed};
use meshlint_model::{Kind, MeshConfig, Resource};
use petgraph::graph::{DiGraph, NodeIndex};
use rayon::prelude::*;
use std::collections::BTreeSet;

/// A vertex of the relation graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GraphNode {
    Resource(usize),
    Host(String),
    Namespace(String),
}

/// What an edge means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edge {
    /// Service/ServiceEntry → host it defines.
    Defines,
    /// Service, Gateway, policy, Sidecar → workload it selects.
    Selects,
    /// DestinationRule/VirtualService → host it configures.
    Configures,
    /// VirtualService → destination host.
    RoutesTo,
    /// VirtualService → Gateway it is bound to.
    Binds,
    /// Sidecar → host it imports explicitly.
    Imports,
    /// Resource → its namespace.
    InNamespace,
}

/// All resources plus indexes and relations.
pub struct MeshGraph {
    pub resources: Tally<Vec<Resource>>,
    pub mesh: MeshConfig,
    /// When true, the inputs are the whole mesh.
    pub closed_world: bool,
    /// The time certificates are judged at, in seconds since the Unix epoch; `None`
    /// means the system clock. Tests set it so their results do not depend on the date.
    pub now: Option<i64>,
    pub graph: DiGraph<GraphNode, Edge>,
    pub(crate) node_of: Tally<HashMap<GraphNode, NodeIndex>>,
    pub(crate) by_kind: Tally<HashMap<Kind, Vec<usize>>>,
    pub(crate) by_ns_kind: Tally<HashMap<(String, Kind), Vec<usize>>>,
    /// Namespace name → its Namespace resource, when the inputs contain one.
    pub(crate) namespace_resources: Tally<HashMap<String, usize>>,
    /// Every namespace that appears anywhere in the inputs.
    pub(crate) known_namespaces: Tally<BTreeSet<String>>,
    /// Exact FQDN → Services and ServiceEntries defining it.
    pub(crate) hosts: Tally<HashMap<String, Vec<usize>>>,
    /// ServiceEntry wildcard hosts (`*.example.com`) → entries.
    pub(crate) wildcard_hosts: Tally<Vec<(String, usize)>>,
    /// The same entries keyed by suffix (`.example.com`), so a concrete host finds the
    /// wildcards covering it by looking up its own suffixes instead of scanning them all.
    pub(crate) wildcard_by_suffix: Tally<HashMap<String, Vec<usize>>>,
    /// Workload resources (pods, pod templates, WorkloadEntries) by namespace.
    pub(crate) workloads_by_ns: Tally<HashMap<String, Vec<usize>>>,
    /// Gateways by (namespace, name).
    pub(crate) gateways: Tally<HashMap<(String, String), usize>>,
    /// Resources by (kind, namespace, name).
    pub(crate) by_identity: Tally<HashMap<(Kind, String, String), usize>>,
    /// Indexes for istioctl-analyze relations, built on first use (see `istio.rs`).
    pub(crate) istio_index: std::sync::OnceLock<crate::istio::IstioIndex>,
    /// Proxied namespaces, sorted, and how many of them run sidecars (not only gateways).
    pub(crate) proxies_by_ns:
        std::sync::OnceLock<(Tally<Vec<crate::injection::ProxyNamespace>>, usize)>,
    pub(crate) scale_index: std::sync::OnceLock<crate::scale::ScaleIndex>,
    /// Workloads that are gateway proxies, built on first use (`is_gateway_workload`).
    pub(crate) gateway_workloads: std::sync::OnceLock<Tally<std::collections::HashSet<usize>>>,
    /// Every resource's data-plane decision, built on first use (`data_plane`).
    pub(crate) data_planes: std::sync::OnceLock<Tally<Vec<crate::dataplane::DataPlaneDecision>>>,
    /// Each workload's Services and ServiceEntries, built on first use (`services_for`).
    pub(crate) services_by_workload: std::sync::OnceLock<Tally<HashMap<usize, Vec<usize>>>>,
    /// Route destinations by destination FQDN, built on first use (`routes_to`).
    pub(crate) routes_index:
        std::sync::OnceLock<Tally<HashMap<String, Vec<crate::routing::RouteTo>>>>,
    /// STRICT service ports by deciding PeerAuthentication, built on first use
    /// (`tls_answers.rs`).
    pub(crate) tls_answers_index: std::sync::OnceLock<crate::tls_answers::TlsAnswersIndex>,
    /// What the pods of a gateway selector offer, by selector, filled on first use
    /// (`gateway_servers.rs`): Gateways sharing a selector share one answer.
    pub(crate) gateway_pods: crate::gateway_servers::GatewayPodsMemo,
    /// The sidecar injector ConfigMaps' parsed values, built on first use (`injector.rs`).
    pub(crate) injector_index: std::sync::OnceLock<crate::injector::InjectorIndex>,
    /// `istio_mutual_to_disabled` of every PeerAuthentication, by DestinationRule, built
    /// on first use (`disabled_namespaces_under_istio_mutual` asks per DestinationRule).
    pub(crate) disabled_by_dr:
        std::sync::OnceLock<Tally<HashMap<usize, Vec<crate::mesh_mtls::LevelConflict>>>>,
    /// DestinationRules by namespace and host, for `merged_destination_rule`; built on
    /// first use.
    pub(crate) dr_by_host: std::sync::OnceLock<crate::dr_index::DestinationRulesByHost>,
    /// The first selector-less Sidecar of each namespace (its default), in input order.
    pub(crate) default_sidecar: Tally<HashMap<String, usize>>,
    /// Hosts and wildcard entries by their dot-suffixes, for `host_targets` of a
    /// wildcard host; built on first use.
    pub(crate) wildcard_patterns: std::sync::OnceLock<crate::wildcard_index::WildcardPatterns>,
    /// Port number → ServiceEntries declaring it with a protocol Istio cannot route by
    /// host name (TCP, unset, MONGO, MYSQL, REDIS, …): these claim the port by address.
    pub(crate) host_blind_ports: Tally<HashMap<u32, Vec<usize>>>,
    /// Namespaces with at least one workload that runs an Istio proxy.
    pub(crate) proxy_namespaces: Tally<BTreeSet<String>>,
    /// Kubernetes Nodes by name (for the topology labels of the pods scheduled on them).
    pub(crate) nodes: Tally<HashMap<String, usize>>,
    /// Workloads by one of their labels `(key, value)`, to answer cross-namespace
    /// selectors (Gateways) without scanning every workload.
    pub(crate) workloads_by_label: Tally<HashMap<(String, String), Vec<usize>>>,
    /// Objects written in more than one document → those documents, in input order
    /// (see `identity.rs`). Objects written once are not in it.
    pub(crate) copies: Tally<HashMap<crate::identity::ObjectKey, Vec<usize>>>,
    /// `copy_self[i] == i`: lets `copies_of` answer a single document with a slice.
    pub(crate) copy_self: Vec<usize>,
    /// Some namespaced object has no namespace and the run gave no `-n`: those objects
    /// could be applied to any namespace (see `hosts.rs`, `could_be_unset`).
    pub(crate) unset_in_play: bool,
    /// Did-you-mean candidates over host and namespace names, and the answers given so
    /// far (see `name_index.rs`), built on first use.
    pub(crate) name_index: std::sync::OnceLock<crate::name_index::NameIndex>,
    /// Tells this graph apart from every other built in the process (the language
    /// server rebuilds its graph after each edit), for per-thread caches keyed by it.
    pub(crate) generation: u64,
}

impl MeshGraph {
    /// "Now" for certificate validity: [`MeshGraph::now`] when set, else the system clock.
    pub fn now(&self) -> i64 {
        self.now.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        })
    }

    pub fn new(resources: Vec<Resource>, mesh: MeshConfig, closed_world: bool) -> MeshGraph {
        let mut g = MeshGraph {
            resources: Tally::new(resources),
            mesh,
            closed_world,
            now: None,
            graph: DiGraph::new(),
            node_of: Tally::default(),
            by_kind: Tally::default(),
            by_ns_kind: Tally::default(),
            namespace_resources: Tally::default(),
            known_namespaces: Tally::default(),
            hosts: Tally::default(),
            wildcard_hosts: Tally::default(),
            wildcard_by_suffix: Tally::default(),
            workloads_by_ns: Tally::default(),
            gateways: Tally::default(),
            by_identity: Tally::default(),
            istio_index: std::sync::OnceLock::new(),
            proxies_by_ns: std::sync::OnceLock::new(),
            scale_index: std::sync::OnceLock::new(),
            gateway_workloads: std::sync::OnceLock::new(),
            routes_index: std::sync::OnceLock::new(),
            services_by_workload: std::sync::OnceLock::new(),
            data_planes: std::sync::OnceLock::new(),
            tls_answers_index: std::sync::OnceLock::new(),
            gateway_pods: Default::default(),
            injector_index: std::sync::OnceLock::new(),
            disabled_by_dr: std::sync::OnceLock::new(),
            dr_by_host: std::sync::OnceLock::new(),
            default_sidecar: Tally::default(),
            wildcard_patterns: std::sync::OnceLock::new(),
            host_blind_ports: Tally::default(),
            proxy_namespaces: Tally::default(),
            nodes: Tally::default(),
            workloads_by_label: Tally::default(),
            copies: Tally::default(),
            copy_self: Vec::new(),
            generation: {
                static BUILT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
            unset_in_play: false,
            name_index: std::sync::OnceLock::new(),
        };
        g.index();
        g.relate();
        g.proxy_namespaces = g
            .workloads_by_ns
            .iter()
            .filter(|(_, ws)| ws.iter().any(|&w| g.has_sidecar(w)))
            .map(|(ns, _)| ns.clone())
            .collect();
        g
    }

    fn index(&mut self) {
        let domain = self.mesh.dns_domain.clone();
        self.copy_self = (0..self.resources.len()).collect();
        self.copies = Tally::new(documents_of_one_object(&self.resources));
        self.unset_in_play = self.resources.iter().any(|r| r.namespace_unset());
        // Sized up front: grown by doubling, these tables rehashed every key several
        // times (a fifth of the graph stage on the 2,000-namespace gen-mesh corpus).
        self.by_identity.reserve(self.resources.len());
        for (i, r) in self.resources.iter().enumerate() {
            self.by_kind.entry(r.kind).or_default().push(i);
            let ns = r.namespace();
            self.by_ns_kind
                .entry((ns.to_string(), r.kind))
                .or_default()
                .push(i);
            self.by_identity
                .entry((r.kind, ns.to_string(), r.name().to_string()))
                .or_insert(i);
            if r.id.kind == "Node" && r.group.is_empty() {
                self.nodes.insert(r.name().to_string(), i);
            }
            if r.kind == Kind::Namespace {
                self.namespace_resources.insert(r.name().to_string(), i);
                if !self.known_namespaces.contains(r.name()) {
                    self.known_namespaces.insert(r.name().to_string());
                }
            } else if !ns.is_empty() && !self.known_namespaces.contains(ns) {
                self.known_namespaces.insert(ns.to_string());
            }
            match &r.typed {
                Typed::Service(_) => {
                    let fqdn = format!("{}.{}.svc.{}", r.name(), ns, domain);
                    self.hosts.entry(fqdn).or_default().push(i);
                }
                Typed::ServiceEntry(se) => {
                    for h in &se.hosts {
                        let h = crate::queries::resolve_short(h, ns, &domain);
                        if let Some(suffix) = h.strip_prefix('*') {
                            self.wildcard_hosts.push((suffix.to_string(), i));
                            self.wildcard_by_suffix
                                .entry(suffix.to_string())
                                .or_default()
                                .push(i);
                        } else {
                            self.hosts.entry(h).or_default().push(i);
                        }
                    }
                    for p in &se.ports {
                        if crate::service_entries::matches_by_address(
                            &crate::service_entries::se_port_protocol(p),
                        ) {
                            let claims = self.host_blind_ports.entry(p.number).or_default();
                            if claims.last() != Some(&i) {
                                claims.push(i);
                            }
                        }
                    }
                }
                Typed::Workload(_) | Typed::WorkloadEntry(_) => {
                    // Looked up before inserting: an entry would copy the name each time.
                    match self.workloads_by_ns.get_mut(ns) {
                        Some(list) => list.push(i),
                        None => {
                            self.workloads_by_ns.insert(ns.to_string(), vec![i]);
                        }
                    }
                    let labels = match &r.typed {
                        Typed::Workload(w) => &w.labels,
                        Typed::WorkloadEntry(w) => &w.labels,
                        _ => unreachable!(),
                    };
                    for (k, v) in labels {
                        self.workloads_by_label
                            .entry((k.clone(), v.clone()))
                            .or_default()
                            .push(i);
                    }
                }
                Typed::Gateway(_) => {
                    self.gateways
                        .insert((ns.to_string(), r.name().to_string()), i);
                }
                // The first selector-less Sidecar of a namespace is its default.
                Typed::Sidecar(sc)
                    if sc.selector.as_ref().is_none_or(|s| s.is_empty())
                        && !self.default_sidecar.contains_key(ns) =>
                {
                    self.default_sidecar.insert(ns.to_string(), i);
                }
                _ => {}
            }
        }
    }

    fn node(&mut self, n: GraphNode) -> NodeIndex {
        let graph = &mut self.graph;
        *self
            .node_of
            .entry(n)
            .or_insert_with_key(|n| graph.add_node(n.clone()))
    }

    fn edge(&mut self, from: GraphNode, to: GraphNode, e: Edge) {
        let a = self.node(from);
        let b = self.node(to);
        self.graph.add_edge(a, b, e);
    }

    fn relate(&mut self) {
        // Each resource's relations are found in parallel (the queries only read the
        // indexes), then added in input order: the graph, its node and edge indexes
        // included, is the one a serial walk builds.
        let g: &MeshGraph = self;
        let edges: Vec<(usize, GraphNode, Edge)> = (0..g.resources.len())
            .into_par_iter()
            .flat_map_iter(|i| g.relations_of(i).into_iter().map(move |(to, e)| (i, to, e)))
            .collect();
        self.node_of.reserve(self.resources.len());
        self.graph.reserve_nodes(self.resources.len());
        self.graph.reserve_edges(edges.len());
        for (i, to, e) in edges {
            self.edge(GraphNode::Resource(i), to, e);
        }
    }

    /// The edges from resource `i`, in the order they are added.
    fn relations_of(&self, i: usize) -> Vec<(GraphNode, Edge)> {
        let domain = &self.mesh.dns_domain;
        let r = &self.resources[i];
        let ns = r.namespace();
        let mut out = Vec::new();
        if !ns.is_empty() {
            out.push((GraphNode::Namespace(ns.to_string()), Edge::InNamespace));
        }
        let selects = |ws: Vec<usize>| {
            ws.into_iter()
                .map(|w| (GraphNode::Resource(w), Edge::Selects))
                .collect::<Vec<_>>()
        };
        match &r.typed {
            Typed::Service(svc) => {
                let fqdn = format!("{}.{}.svc.{}", r.name(), ns, domain);
                out.push((GraphNode::Host(fqdn), Edge::Defines));
                if let Some(sel) = svc.selector.as_ref().filter(|s| !s.is_empty()) {
                    out.extend(selects(self.workloads_selected(ns, sel)));
                }
            }
            Typed::ServiceEntry(se) => {
                for h in &se.hosts {
                    let h = crate::queries::resolve_short(h, ns, domain);
                    out.push((GraphNode::Host(h), Edge::Defines));
                }
            }
            Typed::DestinationRule(dr) => {
                let h = crate::queries::resolve_short(&dr.host, ns, domain);
                out.push((GraphNode::Host(h), Edge::Configures));
            }
            Typed::VirtualService(vs) => {
                for h in &vs.hosts {
                    let h = crate::queries::resolve_short(h, ns, domain);
                    out.push((GraphNode::Host(h), Edge::Configures));
                }
                for d in &vs.destinations {
                    let h = crate::queries::resolve_short(&d.host, ns, domain);
                    out.push((GraphNode::Host(h), Edge::RoutesTo));
                }
                for gw in &vs.gateways {
                    if let Some(g) = self.gateway_ref(&gw.name, ns) {
                        out.push((GraphNode::Resource(g), Edge::Binds));
                    }
                }
            }
            Typed::Gateway(gw) => {
                out.extend(selects(self.gateway_workloads_for(&gw.selector, ns)));
            }
            Typed::Sidecar(sc) => {
                out.extend(selects(self.policy_targets(ns, sc.selector.as_ref())));
                for e in &sc.egress {
                    for (_, host) in &e.hosts {
                        if !host.contains('*') {
                            out.push((GraphNode::Host(host.clone()), Edge::Imports));
                        }
                    }
                }
            }
            Typed::PeerAuthentication(pa) if pa.selector.is_some() => {
                out.extend(selects(self.policy_targets(ns, pa.selector.as_ref())));
            }
            Typed::Selecting(s) if s.selector.is_some() => {
                out.extend(selects(self.policy_targets(ns, s.selector.as_ref())));
            }
            _ => {}
        }
        out
    }

    /// Resources of a kind, in input order.
    pub fn of_kind(&self, kind: Kind) -> &[usize] {
        self.by_kind.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Resources of a kind in a namespace.
    pub fn in_namespace(&self, ns: &str, kind: Kind) -> &[usize] {
        self.by_ns_kind
            .get(&(ns.to_string(), kind))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn find(&self, kind: Kind, ns: &str, name: &str) -> Option<usize> {
        self.by_identity
            .get(&(kind, ns.to_string(), name.to_string()))
            .copied()
    }

    /// The Namespace resource of a namespace, when the inputs contain it.
    pub fn namespace_resource(&self, ns: &str) -> Option<usize> {
        self.namespace_resources.get(ns).copied()
    }

    /// Whether the namespace exists: the inputs say something about it, or it is the
    /// mesh's root namespace (the control plane's, which every mesh has).
    pub fn namespace_known(&self, ns: &str) -> bool {
        self.known_namespaces.contains(ns) || ns == self.mesh.root_namespace
    }

    pub fn known_namespaces(&self) -> impl Iterator<Item = &str> {
        self.known_namespaces.iter().map(String::as_str)
    }

    /// Whether a workload gets a sidecar: an `istio-proxy` container, else the pod's
    /// `sidecar.istio.io/inject`, else its namespace's injection label.
    pub fn has_sidecar(&self, workload: usize) -> bool {
        let r = &self.resources[workload];
        match &r.typed {
            Typed::Workload(w) => {
                if w.has_proxy_container {
                    return true;
                }
                match w.inject {
                    Injection::Enabled => {
                        // Pod-level opt-in only works where the namespace is not disabled.
                        self.namespace_injection(r.namespace()) != Injection::Disabled
                    }
                    Injection::Disabled => false,
                    Injection::Unset => match self.namespace_injection(r.namespace()) {
                        Injection::Enabled => true,
                        // The revision webhook's object selector: a pod labelled
                        // `istio.io/rev` in a namespace without injection labels.
                        Injection::Unset => pod_revision(&w.labels).is_some(),
                        Injection::Disabled => false,
                    },
                }
            }
            // WorkloadEntries are VMs or external endpoints running their own proxy.
            Typed::WorkloadEntry(_) => true,
            _ => false,
        }
    }

    pub fn namespace_injection(&self, ns: &str) -> Injection {
        self.namespace_resource(ns)
            .map(|i| namespace_injection(&self.resources[i].labels))
            .unwrap_or(Injection::Unset)
    }
}

/// Objects written in more than one document → those documents, in input order. The
/// keys are borrowed while counting (most objects are written once, and owned keys cost
/// four strings per resource); only the repeated objects' keys are copied.
fn documents_of_one_object(
    resources: &[Resource],
) -> HashMap<crate::identity::ObjectKey, Vec<usize>> {
    let mut by_object: HashMap<(&str, &str, &str, &str), Vec<usize>> =
        HashMap::with_capacity_and_hasher(resources.len(), Default::default());
    for (i, r) in resources.iter().enumerate() {
        if !r.name().is_empty() {
            by_object
                .entry((&r.group, &r.id.kind, r.namespace(), r.name()))
                .or_default()
                .push(i);
        }
    }
    by_object
        .into_iter()
        .filter(|(_, docs)| docs.len() > 1)
        .map(|(_, docs)| (crate::identity::object_key(&resources[docs[0]]), docs))
        .collect()
}

/// The revision a pod asks to be injected by (`istio.io/rev` on the pod, not empty).
pub(crate) fn pod_revision(labels: &meshlint_model::typed::Labels) -> Option<&str> {
    labels
        .get("istio.io/rev")
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}
