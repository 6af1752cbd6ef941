//! Workloads and selection: which pods, pod templates and WorkloadEntries a selector,
//! a Service or a Gateway picks, their ports and labels.

use crate::build::{is_label, label_hash, MeshGraph};
use crate::queries::*;
use meshlint_model::typed::*;
use meshlint_model::Kind;
use serde::Serialize;

impl MeshGraph {
    /// Workloads in `ns` whose labels the selector matches.
    pub fn workloads_selected(&self, ns: &str, selector: &Labels) -> Vec<usize> {
        // Sizes are read without the counter's charge for walking a list (`Tally`
        // counts what a lookup hands out); the walk below is counted where it happens.
        let in_namespace = (*self.workloads_by_ns).get(ns).map(Vec::as_slice);
        let in_namespace = in_namespace.unwrap_or(&[]);
        // Start from whichever is shorter: the namespace's workloads, or the label index's
        // list for the selector's rarest label (which spans every namespace). Many small
        // namespaces sharing labels favour the first, one big namespace the second; either
        // way a selector costs what it could match, not the mesh.
        let rarest = selector
            .iter()
            .map(|(k, v)| {
                meshlint_diag::work::add(1);
                (*self.workloads_by_label)
                    .get_hashed(label_hash(k, v), is_label(k, v))
                    .map_or(0, Vec::len)
            })
            .min();
        match rarest {
            Some(n) if n < in_namespace.len() => self
                .labelled(selector)
                .into_iter()
                .filter(|&w| self.resources[w].namespace() == ns)
                .collect(),
            _ => in_namespace
                .iter()
                .inspect(|_| meshlint_diag::work::add(1))
                .copied()
                .filter(|&w| selector_matches(selector, self.workload_labels(w)))
                .collect(),
        }
    }

    /// Workloads (Pods, pod templates, WorkloadEntries) in any namespace carrying every
    /// label of a non-empty selector, in input order: the selector label with the fewest
    /// workloads in the label index is the starting point.
    pub(crate) fn labelled(&self, selector: &Labels) -> Vec<usize> {
        let candidates = selector
            .iter()
            .map(|(k, v)| {
                self.workloads_by_label
                    .get_hashed(label_hash(k, v), is_label(k, v))
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
            })
            .min_by_key(|c| c.len())
            .unwrap_or(&[]);
        candidates
            .iter()
            .copied()
            .filter(|&w| selector_matches(selector, self.workload_labels(w)))
            .collect()
    }

    pub fn workload_labels(&self, w: usize) -> &Labels {
        static EMPTY: std::sync::OnceLock<Labels> = std::sync::OnceLock::new();
        match &self.resources[w].typed {
            Typed::Workload(wl) => &wl.labels,
            Typed::WorkloadEntry(we) => &we.labels,
            _ => EMPTY.get_or_init(Labels::new),
        }
    }

    /// Workloads a policy-like resource applies to: selector-less ones cover the whole
    /// namespace (the whole mesh in the root namespace).
    pub fn policy_targets(&self, ns: &str, selector: Option<&Labels>) -> Vec<usize> {
        match selector {
            Some(sel) => self.workloads_selected(ns, sel),
            None if ns == self.mesh.root_namespace => {
                let mut all: Vec<usize> =
                    self.workloads_by_ns.values().flatten().copied().collect();
                all.sort_unstable();
                all
            }
            None => self.workloads_by_ns.get(ns).cloned().unwrap_or_default(),
        }
    }

    /// Gateway workloads a Gateway selector matches (in any namespace).
    pub fn gateway_workloads_for(&self, selector: &Labels, _gw_ns: &str) -> Vec<usize> {
        if selector.is_empty() {
            return Vec::new();
        }
        self.labelled(selector)
    }

    /// Resolves a VirtualService `gateways` entry (`name` or `ns/name`) written in `ns`.
    pub fn gateway_ref(&self, reference: &str, ns: &str) -> Option<usize> {
        let (gns, name) = match reference.split_once('/') {
            Some((gns, name)) => (gns, name),
            None => (ns, reference),
        };
        let name = name.split('.').next().unwrap_or(name);
        self.gateways
            .get(&(gns.to_string(), name.to_string()))
            .copied()
    }

    /// Ports of a Service or ServiceEntry, with inferred protocols.
    pub fn ports_of(&self, target: usize) -> Vec<PortInfo> {
        match &self.resources[target].typed {
            Typed::Service(s) => s
                .ports
                .iter()
                .map(|p| PortInfo {
                    number: p.port,
                    name: p.name.as_deref().unwrap_or_default().to_string(),
                    protocol: infer_protocol(
                        p.app_protocol.as_deref(),
                        p.name.as_deref(),
                        p.protocol.as_deref(),
                    ),
                    target_port: p.target_port.as_deref().map(str::to_string),
                    path: p.path.to_string(),
                })
                .collect(),
            Typed::ServiceEntry(se) => se
                .ports
                .iter()
                .map(|p| PortInfo {
                    number: p.number,
                    name: p.name.as_deref().unwrap_or_default().to_string(),
                    protocol: p
                        .protocol
                        .clone()
                        .map(|x| normalise_protocol(&x))
                        .unwrap_or_else(|| "UNKNOWN".to_string()),
                    target_port: p.target_port.map(|t| t.to_string()),
                    path: p.path.to_string(),
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Workloads behind a Service or ServiceEntry.
    pub fn workloads_of(&self, target: usize) -> Vec<usize> {
        let r = &self.resources[target];
        match &r.typed {
            Typed::Service(s) => match &s.selector {
                Some(sel) if !sel.is_empty() => self.workloads_selected(r.namespace(), sel),
                _ => Vec::new(),
            },
            Typed::ServiceEntry(se) => match &se.workload_selector {
                Some(sel) => self.workloads_selected(r.namespace(), sel),
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// Workloads behind a host (every Service/ServiceEntry defining it).
    pub fn workloads_for_host(&self, fqdn: &str) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .host_targets(fqdn)
            .iter()
            .flat_map(|t| self.workloads_of(t.resource))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The container port a service port reaches on a workload (`targetPort` by number
    /// or by name; defaults to the service port).
    pub fn target_port(&self, workload: usize, port: &PortInfo) -> u32 {
        match port.target_port.as_deref() {
            None => port.number,
            Some(t) => match t.parse::<u32>() {
                Ok(n) => n,
                Err(_) => match &self.resources[workload].typed {
                    Typed::Workload(w) => w
                        .ports
                        .iter()
                        .find(|p| p.name.as_deref() == Some(t))
                        .map(|p| p.port)
                        .unwrap_or(port.number),
                    Typed::WorkloadEntry(we) => we.ports.get(t).copied().unwrap_or(port.number),
                    _ => port.number,
                },
            },
        }
    }

    /// Resources of `kind` that select workload `w` (Sidecars, PeerAuthentications,
    /// AuthorizationPolicies, Services, Gateways, …), in input order.
    pub fn selected_by(&self, w: usize, kind: Kind) -> Vec<usize> {
        // Every entry walked is counted: the relation is an index like the others.
        meshlint_diag::work::Counted(self.selections.selecting(w).iter())
            .map(|&i| i as usize)
            .filter(|&i| self.resources[i].kind == kind)
            .collect()
    }

    /// The locality labels Istio adds to a pod's endpoints from the Node it runs on
    /// (`spec.nodeName`, when that Node is in the inputs): region, zone and subzone when
    /// present and non-empty, and `kubernetes.io/hostname` = the node name.
    pub fn topology_labels(&self, w: usize) -> Labels {
        let r = &self.resources[w];
        let Some(node_name) = r
            .node
            .get("spec")
            .and_then(|s| s.get("nodeName"))
            .and_then(|n| n.as_str())
        else {
            return Labels::new();
        };
        let Some(&node) = self.nodes.get(node_name) else {
            return Labels::new();
        };
        // Collected at once: `Labels` packs its entries into one buffer, which each
        // `insert` would pack again.
        let node_labels = &self.resources[node].labels;
        [
            "topology.kubernetes.io/region",
            "topology.kubernetes.io/zone",
            "topology.istio.io/subzone",
        ]
        .into_iter()
        .filter_map(|key| Some((key, node_labels.get(key).filter(|v| !v.is_empty())?)))
        .chain([("kubernetes.io/hostname", node_name)])
        .collect()
    }

    /// Namespaces of the proxies that run a Gateway's servers: those of the workloads
    /// its selector picks, or the Gateway's own namespace when none is in the inputs.
    pub fn gateway_proxy_namespaces(&self, gw: usize) -> Vec<String> {
        let mut out: Vec<String> = self
            .selected_workloads(gw)
            .into_iter()
            .map(|w| self.resources[w].namespace().to_string())
            .collect();
        if out.is_empty() {
            out.push(self.resources[gw].namespace().to_string());
        }
        out.sort();
        out.dedup();
        out
    }

    /// Workloads a resource selects (its outgoing `Selects` edges, built once with the
    /// graph): a Gateway's proxies, a Service's endpoints, a policy's targets. Sorted.
    pub fn selected_workloads(&self, r: usize) -> Vec<usize> {
        // Every entry walked is counted: the relation is an index like the others.
        meshlint_diag::work::Counted(self.selections.selected(r).iter())
            .map(|&i| i as usize)
            .collect()
    }

    /// Services and ServiceEntries (with a workload selector) that select a workload.
    pub fn services_for(&self, workload: usize) -> Vec<usize> {
        self.services_by_workload().of(workload).to_vec()
    }

    /// Every workload's Services and ServiceEntries (see [`Self::services_for`]).
    pub(crate) fn services_by_workload(&self) -> &ServicesByWorkload {
        self.services_by_workload
            .get_or_init(|| self.index_services_by_workload())
    }

    /// Each workload's Services and ServiceEntries (of its namespace, selecting it), in
    /// resource order: built once from every Service's selection, so asking for one
    /// workload's Services does not scan its namespace's Services each time.
    fn index_services_by_workload(&self) -> ServicesByWorkload {
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for t in 0..self.resources.len() {
            if !matches!(
                self.resources[t].typed,
                Typed::Service(_) | Typed::ServiceEntry(_)
            ) {
                continue;
            }
            let ns = self.resources[t].namespace();
            for w in self.workloads_of(t) {
                if self.resources[w].namespace() == ns {
                    pairs.push((w as u32, t as u32));
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut start = Vec::with_capacity(self.resources.len() + 1);
        let mut services = Vec::with_capacity(pairs.len());
        let mut next = 0;
        for w in 0..self.resources.len() as u32 {
            start.push(services.len() as u32);
            while next < pairs.len() && pairs[next].0 == w {
                services.push(pairs[next].1 as usize);
                next += 1;
            }
        }
        start.push(services.len() as u32);
        ServicesByWorkload { start, services }
    }
}

/// Each workload's Services and ServiceEntries, sorted: one list of resource numbers and
/// where each resource's part of it starts. A hash map of lists took four times the
/// room (a table twice the workloads, and a list allocation per workload): 4.8 MB on
/// the 20,000-namespace gen-mesh corpus.
#[derive(Debug, Default)]
pub(crate) struct ServicesByWorkload {
    /// `start[w]..start[w + 1]` indexes `services` with workload `w`'s.
    start: Vec<u32>,
    services: Vec<usize>,
}

impl ServicesByWorkload {
    /// The Services and ServiceEntries selecting workload `w`, counted as a lookup that
    /// hands out the list (see [`crate::tally::Tally`]).
    pub(crate) fn of(&self, w: usize) -> &[usize] {
        let found = match (self.start.get(w), self.start.get(w + 1)) {
            (Some(&a), Some(&b)) => &self.services[a as usize..b as usize],
            _ => &[],
        };
        meshlint_diag::work::add(found.len().max(1) as u64);
        found
    }
}

/// Service ports of the Services selecting one workload that lead to the same target port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetPortConflict {
    /// The target port as written (`targetPort`, else the port number).
    pub target: String,
    /// (Service, service port, path of that port), in Service and port order.
    pub ports: Vec<(usize, u32, String)>,
}

impl MeshGraph {
    /// For a workload with a sidecar: the target ports that several service ports of the
    /// Services selecting it lead to (Istio builds the pod's inbound listener once per
    /// target port and keeps one service port's name and protocol). Empty otherwise.
    pub fn target_port_conflicts(&self, workload: usize) -> Vec<TargetPortConflict> {
        if !self.has_sidecar(workload) {
            return Vec::new();
        }
        let mut by_target: Vec<TargetPortConflict> = Vec::new();
        // Target port → its entry in `by_target` (first-seen order is kept there).
        let mut slot: std::collections::HashMap<String, usize> = Default::default();
        for svc in self.services_selecting(workload) {
            for p in self.ports_of(svc) {
                let target = p
                    .target_port
                    .clone()
                    .filter(|t| !t.is_empty() && t != "0")
                    .unwrap_or_else(|| p.number.to_string());
                let entry = (svc, p.number, p.path.clone());
                match slot.get(&target) {
                    Some(&i) => by_target[i].ports.push(entry),
                    None => {
                        slot.insert(target.clone(), by_target.len());
                        by_target.push(TargetPortConflict {
                            target,
                            ports: vec![entry],
                        });
                    }
                }
            }
        }
        by_target.retain(|c| {
            let mut numbers: Vec<u32> = c.ports.iter().map(|p| p.1).collect();
            numbers.sort_unstable();
            numbers.dedup();
            numbers.len() > 1
        });
        by_target
    }
}

/// A policy selector that matches no workload of its namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelectorMiss {
    /// The selector's labels, sorted by key.
    pub labels: Vec<(String, String)>,
    /// The first key (in order) that no workload carries with that value alone, else the
    /// first key: where the finding points.
    pub key: String,
    /// Workloads labelled almost like the selector (each key present, the value a prefix
    /// of the other or equal ignoring case): likely what was meant.
    pub near: Vec<usize>,
    /// Whether the inputs hold any workload of the namespace (else the finding is only
    /// judged under `--closed-world`, as info).
    pub namespace_has_workloads: bool,
}

impl MeshGraph {
    /// For an AuthorizationPolicy, RequestAuthentication or PeerAuthentication whose
    /// `spec.selector.matchLabels` selects nothing in its namespace — judged only where
    /// the inputs hold the namespace's workloads ([`Self::namespace_workloads_known`]),
    /// or under `--closed-world`; root-namespace
    /// and `targetRef` policies and the installer's gateway labels are not judged.
    pub fn selector_miss(&self, policy: usize) -> Option<SelectorMiss> {
        let r = &self.resources[policy];
        let spec = r.spec()?;
        if spec.get("targetRef").is_some() || spec.get("targetRefs").is_some() {
            return None;
        }
        let selector = match &r.typed {
            Typed::PeerAuthentication(pa) => pa.selector.clone(),
            Typed::Selecting(sel) => sel.selector.clone(),
            _ => None,
        }
        .unwrap_or_default();
        let ns = r.namespace();
        if selector.is_empty()
            || ns == self.mesh.root_namespace
            || self.selects_installed_gateway(&selector)
            || !self.workloads_maybe_selected(ns, &selector).is_empty()
        {
            return None;
        }
        if !self.namespace_workloads_known(ns) {
            return None;
        }
        let everyone = self.workloads_maybe_selected(ns, &Labels::new());
        let mut sorted: Vec<(String, String)> = selector
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        sorted.sort();
        let key = sorted
            .iter()
            .find(|(k, v)| {
                let one: Labels = [(k.clone(), v.clone())].into_iter().collect();
                self.workloads_maybe_selected(ns, &one).is_empty()
            })
            .or(sorted.first())
            .map(|(k, _)| k.clone())
            .unwrap_or_default();
        let near = everyone
            .iter()
            .copied()
            .filter(|&w| {
                let have = self.workload_labels(w);
                sorted.iter().all(|(k, v)| {
                    have.get(k).is_some_and(|h| {
                        h.starts_with(v.as_str()) || v.starts_with(h) || h.eq_ignore_ascii_case(v)
                    })
                })
            })
            .collect();
        Some(SelectorMiss {
            labels: sorted,
            key,
            near,
            namespace_has_workloads: !everyone.is_empty(),
        })
    }
}
