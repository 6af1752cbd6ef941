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
    /// The relation graph (hosts, namespaces and every relation), built on first use:
    /// only `meshlint graph` draws it, and it took 8 MB on the 2,000-namespace
    /// gen-mesh corpus. Queries read the `Selects` relation from [`Selections`].
    relations: std::sync::OnceLock<DiGraph<GraphNode, Edge>>,
    /// The `Selects` edges, built with the graph: what each resource selects and what
    /// each workload is selected by.
    pub(crate) selections: Selections,
    pub(crate) by_kind: Tally<HashMap<Kind, Vec<usize>>>,
    by_ns_kind: crate::resource_index::ByNamespaceKind,
    /// Namespace name → its Namespace resource, when the inputs contain one.
    pub(crate) namespace_resources: Tally<HashMap<String, usize>>,
    /// Every namespace that appears anywhere in the inputs.
    pub(crate) known_namespaces: Tally<BTreeSet<String>>,
    /// Exact FQDN → Services and ServiceEntries defining it. Each host is an `Arc<str>`
    /// that the indexes keyed by host share (see [`MeshGraph::shared_host`]).
    pub(crate) hosts: Tally<crate::flat_map::FlatMap<std::sync::Arc<str>, crate::flat_map::Frozen>>,
    /// ServiceEntry wildcard hosts (`*.example.com`) → entries.
    pub(crate) wildcard_hosts: Tally<Vec<(String, usize)>>,
    /// The same entries keyed by suffix (`.example.com`), so a concrete host finds the
    /// wildcards covering it by looking up its own suffixes instead of scanning them all.
    pub(crate) wildcard_by_suffix: Tally<HashMap<String, Vec<usize>>>,
    /// Workload resources (pods, pod templates, WorkloadEntries) by namespace.
    pub(crate) workloads_by_ns: Tally<HashMap<String, Vec<usize>>>,
    /// Gateways by (namespace, name).
    pub(crate) gateways: Tally<HashMap<(String, String), usize>>,
    /// Resources by (kind, namespace, name): the first of each.
    by_identity: crate::resource_index::ByIdentity,
    /// Indexes for istioctl-analyze relations, built on first use (see `istio.rs`).
    pub(crate) istio_index: std::sync::OnceLock<crate::istio::IstioIndex>,
    /// Proxied namespaces, sorted, and how many of them run sidecars (not only gateways).
    pub(crate) proxies_by_ns:
        std::sync::OnceLock<(Tally<Vec<crate::injection::ProxyNamespace>>, usize)>,
    pub(crate) scale_index: std::sync::OnceLock<crate::scale::ScaleIndex>,
    /// Workloads that are gateway proxies, built on first use (`is_gateway_workload`).
    pub(crate) gateway_workloads: std::sync::OnceLock<Tally<std::collections::HashSet<usize>>>,
    /// Every resource's data-plane decision, built on first use (`data_plane`).
    pub(crate) data_planes: std::sync::OnceLock<crate::dataplane::DataPlanes>,
    /// Each workload's Services and ServiceEntries, built on first use (`services_for`).
    pub(crate) services_by_workload: std::sync::OnceLock<crate::workloads::ServicesByWorkload>,
    /// Route destinations by destination FQDN, built on first use (`routes_to`).
    pub(crate) routes_index: std::sync::OnceLock<crate::routing::RoutesIndex>,
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
    /// Looked up by borrowed `(&str, &str)` pairs (see [`label_hash`]), so neither
    /// building nor asking copies the label.
    pub(crate) workloads_by_label: Tally<crate::flat_map::FlatMap<(String, String), Vec<usize>>>,
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
            relations: std::sync::OnceLock::new(),
            selections: Selections::default(),
            by_kind: Tally::default(),
            by_ns_kind: Default::default(),
            namespace_resources: Tally::default(),
            known_namespaces: Tally::default(),
            hosts: Tally::default(),
            wildcard_hosts: Tally::default(),
            wildcard_by_suffix: Tally::default(),
            workloads_by_ns: Tally::default(),
            gateways: Tally::default(),
            by_identity: Default::default(),
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
        g.selections = g.select();
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
        self.by_identity = crate::resource_index::ByIdentity::new(&self.resources);
        self.by_ns_kind = crate::resource_index::ByNamespaceKind::new(&self.resources);
        // Every host a Service or ServiceEntry defines, an upper bound of the hosts.
        let defined_hosts = self
            .resources
            .iter()
            .map(|r| match &r.typed {
                Typed::Service(_) => 1,
                Typed::ServiceEntry(se) => se.hosts.len(),
                _ => 0,
            })
            .sum();
        let mut hosts = crate::flat_map::FlatMap::with_capacity(defined_hosts);
        for (i, r) in self.resources.iter().enumerate() {
            self.by_kind.entry(r.kind).or_default().push(i);
            let ns = r.namespace();
            if &*r.id.kind == "Node" && r.group().is_empty() {
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
                    hosts.list(fqdn.into()).push(i);
                }
                Typed::ServiceEntry(se) => {
                    for h in &se.hosts {
                        let h = crate::queries::resolve_short(h, ns, &domain);
                        if let Some(suffix) = h.strip_prefix('*') {
                            self.wildcard_hosts.push((suffix.to_string(), i));
                            self.wildcard_by_suffix
                                .entry(suffix.to_string())
                                .or_insert_with(crate::tally::new_list)
                                .push(i);
                        } else {
                            hosts.list(h.into()).push(i);
                        }
                    }
                    for p in &se.ports {
                        if crate::service_entries::matches_by_address(
                            &crate::service_entries::se_port_protocol(p),
                        ) {
                            let claims = self
                                .host_blind_ports
                                .entry(p.number)
                                .or_insert_with(crate::tally::new_list);
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
                            .entry_hashed(label_hash(k, v), is_label(k, v), || {
                                ((k.to_string(), v.to_string()), crate::tally::new_list())
                            })
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
        crate::tally::shrink_lists(&mut *self.by_kind);
        self.hosts = Tally::new(hosts.freeze());
        crate::tally::shrink_lists(&mut *self.wildcard_by_suffix);
        crate::tally::shrink_lists(&mut *self.workloads_by_ns);
        self.workloads_by_label.shrink_lists();
        crate::tally::shrink_lists(&mut *self.host_blind_ports);
    }

    /// The resources a resource selects (`Selects` edges), in the order
    /// [`MeshGraph::relations`] adds them.
    fn selected_by_resource(&self, i: usize) -> Vec<usize> {
        let r = &self.resources[i];
        let ns = r.namespace();
        match &r.typed {
            Typed::Service(svc) => match svc.selector.as_ref().filter(|s| !s.is_empty()) {
                Some(sel) => self.workloads_selected(ns, sel),
                None => Vec::new(),
            },
            Typed::Gateway(gw) => self.gateway_workloads_for(&gw.selector, ns),
            Typed::Sidecar(sc) => self.policy_targets(ns, sc.selector.as_ref()),
            Typed::PeerAuthentication(pa) if pa.selector.is_some() => {
                self.policy_targets(ns, pa.selector.as_ref())
            }
            Typed::Selecting(s) if s.selector.is_some() => {
                self.policy_targets(ns, s.selector.as_ref())
            }
            _ => Vec::new(),
        }
    }

    fn select(&self) -> Selections {
        // Each resource's selections are found in parallel (the queries only read the
        // indexes) and collected in input order: the edges a serial walk finds.
        let edges: Vec<(u32, u32)> = (0..self.resources.len())
            .into_par_iter()
            .flat_map_iter(|i| {
                self.selected_by_resource(i)
                    .into_iter()
                    .map(move |w| (i as u32, w as u32))
            })
            .collect();
        Selections::new(self.resources.len(), edges)
    }

    /// The relation graph: resources, hosts and namespaces as vertices, and every
    /// [`Edge`] between them. Built on first use (`meshlint graph`).
    pub fn relations(&self) -> &DiGraph<GraphNode, Edge> {
        self.relations.get_or_init(|| {
            let mut b = RelationBuilder::default();
            self.relate(&mut b);
            b.graph
        })
    }

    fn relate(&self, b: &mut RelationBuilder) {
        let domain = &self.mesh.dns_domain;
        for i in 0..self.resources.len() {
            let r = &self.resources[i];
            let ns = r.namespace().to_string();
            let me = GraphNode::Resource(i);
            if !ns.is_empty() {
                b.edge(
                    me.clone(),
                    GraphNode::Namespace(ns.clone()),
                    Edge::InNamespace,
                );
            }
            let selects = |b: &mut RelationBuilder| {
                for w in self.selected_by_resource(i) {
                    b.edge(me.clone(), GraphNode::Resource(w), Edge::Selects);
                }
            };
            match &r.typed {
                Typed::Service(_) => {
                    let fqdn = format!("{}.{}.svc.{}", r.name(), ns, domain);
                    b.edge(me.clone(), GraphNode::Host(fqdn), Edge::Defines);
                    selects(b);
                }
                Typed::ServiceEntry(se) => {
                    for h in &se.hosts {
                        let h = crate::queries::resolve_short(h, &ns, domain);
                        b.edge(me.clone(), GraphNode::Host(h), Edge::Defines);
                    }
                }
                Typed::DestinationRule(dr) => {
                    let h = crate::queries::resolve_short(&dr.host, &ns, domain);
                    b.edge(me.clone(), GraphNode::Host(h), Edge::Configures);
                }
                Typed::VirtualService(vs) => {
                    for h in &vs.hosts {
                        let h = crate::queries::resolve_short(h, &ns, domain);
                        b.edge(me.clone(), GraphNode::Host(h), Edge::Configures);
                    }
                    for d in &vs.destinations {
                        let h = crate::queries::resolve_short(&d.host, &ns, domain);
                        b.edge(me.clone(), GraphNode::Host(h), Edge::RoutesTo);
                    }
                    for gw in &vs.gateways {
                        if let Some(g) = self.gateway_ref(&gw.name, &ns) {
                            b.edge(me.clone(), GraphNode::Resource(g), Edge::Binds);
                        }
                    }
                }
                Typed::Gateway(_) => selects(b),
                Typed::Sidecar(sc) => {
                    selects(b);
                    for e in &sc.egress {
                        for (_, host) in &e.hosts {
                            if !host.contains('*') {
                                b.edge(
                                    me.clone(),
                                    GraphNode::Host(host.to_string()),
                                    Edge::Imports,
                                );
                            }
                        }
                    }
                }
                Typed::PeerAuthentication(_) | Typed::Selecting(_) => selects(b),
                _ => {}
            }
        }
    }

    /// Resources of a kind, in input order.
    pub fn of_kind(&self, kind: Kind) -> &[usize] {
        self.by_kind.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Resources of a kind in a namespace.
    pub fn in_namespace(&self, ns: &str, kind: Kind) -> &[usize] {
        let found = self.by_ns_kind.get(&self.resources, ns, kind);
        // Charged as the list it hands out, like the other indexes (`Tally`).
        meshlint_diag::work::add(found.len().max(1) as u64);
        found
    }

    /// `host` as an `Arc<str>`: the graph's own when a Service or ServiceEntry defines
    /// it, so an index keyed or labelled by the hosts of the mesh shares one copy of each
    /// (copies per index took 10 MB on the 20,000-namespace gen-mesh corpus).
    pub(crate) fn shared_host(&self, host: &str) -> std::sync::Arc<str> {
        match self.hosts.position_of(host) {
            Some(at) => self.hosts.key_at(at).clone(),
            None => host.into(),
        }
    }

    /// The first resource of a kind in a namespace, uncounted: its number stands for
    /// the namespace in the keys of an index of that kind's resources (`dr_index.rs`).
    pub(crate) fn first_in_namespace(&self, ns: &str, kind: Kind) -> Option<usize> {
        self.by_ns_kind
            .get(&self.resources, ns, kind)
            .first()
            .copied()
    }

    pub fn find(&self, kind: Kind, ns: &str, name: &str) -> Option<usize> {
        meshlint_diag::work::add(1);
        self.by_identity.get(&self.resources, kind, ns, name)
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

/// Objects written in more than one document → those documents, in input order.
/// Found with a table of `u32` positions of each object's first document, hashed by its
/// borrowed key: most objects are written once, and a map from keys to lists took a
/// list per resource and a 5.8 MB table (32,000 resources of the 2,000-namespace
/// gen-mesh corpus) for the run's peak to keep. Only repeated objects get a list.
fn documents_of_one_object(
    resources: &[Resource],
) -> HashMap<crate::identity::ObjectKey, Vec<usize>> {
    use crate::resource_index::{hash_of, Slots};
    fn key(r: &Resource) -> (&str, &str, &str, &str) {
        (r.group(), &*r.id.kind, r.namespace(), r.name())
    }
    let mut first = Slots::with_room_for(resources.len());
    // (first document, a later document of the same object), in input order.
    let mut repeats: Vec<(u32, u32)> = Vec::new();
    for (i, r) in resources.iter().enumerate() {
        if r.name().is_empty() {
            continue;
        }
        let hash = hash_of(key(r));
        match first.find(hash, |f| key(&resources[f as usize]) == key(r)) {
            Some(f) => repeats.push((f, i as u32)),
            None => first.insert(hash, i as u32),
        }
    }
    drop(first);
    let mut copies: HashMap<crate::identity::ObjectKey, Vec<usize>> = HashMap::default();
    for (f, i) in repeats {
        let docs = copies
            .entry(crate::identity::object_key(&resources[f as usize]))
            .or_insert_with(|| vec![f as usize]);
        docs.push(i as usize);
    }
    copies
}

/// The hash a `(String, String)` label key of [`MeshGraph::workloads_by_label`] has,
/// computed from borrowed parts.
pub(crate) fn label_hash(key: &str, value: &str) -> u64 {
    crate::resource_index::hash_of((key, value))
}

/// Whether a key of [`MeshGraph::workloads_by_label`] is the label `key: value`.
pub(crate) fn is_label<'a>(
    key: &'a str,
    value: &'a str,
) -> impl Fn(&(String, String)) -> bool + 'a {
    move |(k, v)| k == key && v == value
}

/// The revision a pod asks to be injected by (`istio.io/rev` on the pod, not empty).
pub(crate) fn pod_revision(labels: &meshlint_model::typed::Labels) -> Option<&str> {
    labels.get("istio.io/rev").filter(|v| !v.is_empty())
}

/// The relation graph under construction: one vertex per resource, host and namespace.
#[derive(Default)]
struct RelationBuilder {
    graph: DiGraph<GraphNode, Edge>,
    node_of: HashMap<GraphNode, NodeIndex>,
}

impl RelationBuilder {
    fn node(&mut self, n: GraphNode) -> NodeIndex {
        if let Some(&i) = self.node_of.get(&n) {
            return i;
        }
        let i = self.graph.add_node(n.clone());
        self.node_of.insert(n, i);
        i
    }

    fn edge(&mut self, from: GraphNode, to: GraphNode, e: Edge) {
        let a = self.node(from);
        let b = self.node(to);
        self.graph.add_edge(a, b, e);
    }
}

/// The `Selects` relation in both directions, as two compressed adjacency lists
/// (offsets into one array of resource indices): a few bytes per edge, where the
/// relation graph's vertices and edges took tens.
#[derive(Debug, Default)]
pub(crate) struct Selections {
    /// `out_start[i]..out_start[i + 1]` indexes `out` with what resource `i` selects.
    out_start: Vec<u32>,
    out: Vec<u32>,
    /// The same for the resources selecting workload `w`.
    in_start: Vec<u32>,
    incoming: Vec<u32>,
}

impl Selections {
    /// `edges` are (selecting resource, selected workload) pairs, in any order.
    fn new(resources: usize, mut edges: Vec<(u32, u32)>) -> Selections {
        let adjacency = |edges: &[(u32, u32)]| {
            let mut start = Vec::with_capacity(resources + 1);
            let mut to = Vec::with_capacity(edges.len());
            let mut next = 0;
            for i in 0..resources as u32 {
                start.push(to.len() as u32);
                while next < edges.len() && edges[next].0 == i {
                    to.push(edges[next].1);
                    next += 1;
                }
            }
            start.push(to.len() as u32);
            (start, to)
        };
        edges.sort_unstable();
        edges.dedup();
        let (out_start, out) = adjacency(&edges);
        for e in &mut edges {
            *e = (e.1, e.0);
        }
        edges.sort_unstable();
        let (in_start, incoming) = adjacency(&edges);
        Selections {
            out_start,
            out,
            in_start,
            incoming,
        }
    }

    /// What resource `r` selects, sorted.
    pub(crate) fn selected(&self, r: usize) -> &[u32] {
        match (self.out_start.get(r), self.out_start.get(r + 1)) {
            (Some(&a), Some(&b)) => &self.out[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The resources selecting workload `w`, sorted.
    pub(crate) fn selecting(&self, w: usize) -> &[u32] {
        match (self.in_start.get(w), self.in_start.get(w + 1)) {
            (Some(&a), Some(&b)) => &self.incoming[a as usize..b as usize],
            _ => &[],
        }
    }
}
