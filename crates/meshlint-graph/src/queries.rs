//! Queries the rule engine calls. Each answer names what decided it.

use crate::build::MeshGraph;
use meshlint_model::typed::{ClientTls, Labels, TrafficPolicy, Typed};
use meshlint_model::{Kind, Resource};
use serde::Serialize;

/// A setting and the resource field that decided it (`None` for defaults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub value: String,
    /// Index of the deciding resource and the path of the deciding field.
    pub source: Option<(usize, String)>,
}

impl Decision {
    fn default_value(v: &str) -> Decision {
        Decision {
            value: v.to_string(),
            source: None,
        }
    }
}

/// Whether a host is visible from a namespace, and if not, what hides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Visibility {
    pub visible: bool,
    pub hidden_by: Option<(usize, String)>,
    pub reason: String,
}

/// A resource that defines a host (Service or ServiceEntry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostTarget {
    pub resource: usize,
    pub host: String,
}

/// A port of a Service or ServiceEntry, with its protocol as Istio infers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortInfo {
    pub number: u32,
    pub name: String,
    /// Upper-case protocol: HTTP, HTTP2, HTTPS, GRPC, TLS, TCP, MONGO, MYSQL, REDIS, …, or
    /// `UNKNOWN` when nothing declares it (Istio sniffs, or treats it as TCP).
    pub protocol: String,
    pub target_port: Option<String>,
    pub path: String,
}

/// Expands a short host (no dots) in the namespace that wrote it.
pub fn resolve_short(host: &str, ns: &str, domain: &str) -> String {
    if host.contains('.') || host.contains('*') || host.is_empty() || ns.is_empty() {
        host.to_string()
    } else {
        format!("{host}.{ns}.svc.{domain}")
    }
}

/// Whether `pattern` (possibly a wildcard) covers `host` (possibly a wildcard).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    if pattern == "*" || pattern == host {
        return true;
    }
    match (pattern.strip_prefix('*'), host.strip_prefix('*')) {
        (Some(ps), Some(hs)) => hs.ends_with(ps),
        (Some(ps), None) => host.ends_with(ps),
        (None, Some(hs)) => pattern.ends_with(hs),
        (None, None) => false,
    }
}

/// Whether every selector label is present with the same value.
pub fn selector_matches(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Protocol from `appProtocol`, else the port-name prefix.
pub fn infer_protocol(
    app_protocol: Option<&str>,
    name: Option<&str>,
    declared: Option<&str>,
) -> String {
    if let Some(p) = app_protocol {
        let p = p.rsplit('/').next().unwrap_or(p);
        return normalise_protocol(p);
    }
    if let Some(n) = name {
        let prefix = n.split('-').next().unwrap_or(n);
        let p = normalise_protocol(prefix);
        if p != "UNKNOWN" {
            return p;
        }
    }
    match declared {
        Some(d) if d.eq_ignore_ascii_case("UDP") => "UDP".to_string(),
        Some(d) if d.eq_ignore_ascii_case("SCTP") => "SCTP".to_string(),
        _ => "UNKNOWN".to_string(),
    }
}

fn normalise_protocol(p: &str) -> String {
    let up = p.to_ascii_uppercase();
    match up.as_str() {
        "HTTP" | "HTTP2" | "HTTPS" | "GRPC" | "GRPC-WEB" | "TLS" | "TCP" | "MONGO" | "MYSQL"
        | "REDIS" | "UDP" => up,
        "H2C" | "KUBERNETES.IO/H2C" => "HTTP2".to_string(),
        "WS" | "WSS" | "KUBERNETES.IO/WS" | "KUBERNETES.IO/WSS" => "HTTP".to_string(),
        _ => "UNKNOWN".to_string(),
    }
}

fn export_allows(export_to: Option<&Vec<String>>, owner_ns: &str, from_ns: &str) -> bool {
    match export_to {
        None => true,
        Some(list) if list.is_empty() => true,
        Some(list) => list
            .iter()
            .any(|e| e == "*" || e == from_ns || (e == "." && owner_ns == from_ns)),
    }
}

impl MeshGraph {
    /// `reviews` written in `ns` → `reviews.ns.svc.cluster.local`.
    pub fn resolve_host(&self, host: &str, ns: &str) -> String {
        resolve_short(host, ns, &self.mesh.dns_domain)
    }

    /// Services and ServiceEntries defining a host (wildcards on either side match).
    pub fn host_targets(&self, fqdn: &str) -> Vec<HostTarget> {
        let mut out: Vec<HostTarget> = Vec::new();
        if fqdn.starts_with('*') {
            for (h, rs) in &self.hosts {
                if host_matches(fqdn, h) {
                    out.extend(rs.iter().map(|&r| HostTarget {
                        resource: r,
                        host: h.clone(),
                    }));
                }
            }
        } else if let Some(rs) = self.hosts.get(fqdn) {
            out.extend(rs.iter().map(|&r| HostTarget {
                resource: r,
                host: fqdn.to_string(),
            }));
        }
        for (suffix, r) in &self.wildcard_hosts {
            if fqdn.ends_with(suffix.as_str())
                || (fqdn.starts_with('*') && host_matches(fqdn, &format!("*{suffix}")))
            {
                out.push(HostTarget {
                    resource: *r,
                    host: format!("*{suffix}"),
                });
            }
        }
        out.sort_by(|a, b| a.resource.cmp(&b.resource));
        out.dedup();
        out
    }

    /// A host that does exist and looks like what was meant: the same short name in
    /// another namespace, or a near spelling.
    pub fn suggest_host(&self, fqdn: &str) -> Option<String> {
        let short = fqdn.split('.').next().unwrap_or(fqdn);
        let mut candidates: Vec<&String> = self.hosts.keys().collect();
        candidates.sort();
        if let Some(same) = candidates
            .iter()
            .find(|h| h.split('.').next() == Some(short) && h.as_str() != fqdn)
        {
            return Some((*same).clone());
        }
        meshlint_model::schema::did_you_mean(fqdn, candidates.iter().map(|s| s.as_str()))
            .map(str::to_string)
    }

    /// Workloads in `ns` whose labels the selector matches.
    pub fn workloads_selected(&self, ns: &str, selector: &Labels) -> Vec<usize> {
        self.workloads_by_ns
            .get(ns)
            .map(|ws| {
                ws.iter()
                    .copied()
                    .filter(|&w| selector_matches(selector, self.workload_labels(w)))
                    .collect()
            })
            .unwrap_or_default()
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
        let mut out: Vec<usize> = self
            .workloads_by_ns
            .values()
            .flatten()
            .copied()
            .filter(|&w| selector_matches(selector, self.workload_labels(w)))
            .collect();
        out.sort_unstable();
        out
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
                    name: p.name.clone().unwrap_or_default(),
                    protocol: infer_protocol(
                        p.app_protocol.as_deref(),
                        p.name.as_deref(),
                        p.protocol.as_deref(),
                    ),
                    target_port: p.target_port.clone(),
                    path: p.path.clone(),
                })
                .collect(),
            Typed::ServiceEntry(se) => se
                .ports
                .iter()
                .map(|p| PortInfo {
                    number: p.number,
                    name: p.name.clone().unwrap_or_default(),
                    protocol: p
                        .protocol
                        .clone()
                        .map(|x| normalise_protocol(&x))
                        .unwrap_or_else(|| "UNKNOWN".to_string()),
                    target_port: p.target_port.map(|t| t.to_string()),
                    path: p.path.clone(),
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

    /// Effective PeerAuthentication mode of a workload on a container port:
    /// port-level of the workload's policy, then that policy, then the namespace's, then
    /// the mesh-wide one; UNSET inherits; default PERMISSIVE.
    pub fn peer_mode(&self, workload: usize, port: Option<u32>) -> Decision {
        let ns = self.resources[workload].namespace();
        let labels = self.workload_labels(workload);
        let mut selected: Vec<usize> = self
            .in_namespace(ns, Kind::PeerAuthentication)
            .iter()
            .copied()
            .filter(|&p| match &self.resources[p].typed {
                Typed::PeerAuthentication(pa) => pa
                    .selector
                    .as_ref()
                    .is_some_and(|s| !s.is_empty() && selector_matches(s, labels)),
                _ => false,
            })
            .collect();
        selected.sort_by(|a, b| self.resources[*a].name().cmp(self.resources[*b].name()));
        let namespace_wide = self.selectorless_pa(ns);
        let mesh_wide = self.selectorless_pa(&self.mesh.root_namespace.clone());
        let chain = selected
            .first()
            .copied()
            .into_iter()
            .chain(namespace_wide)
            .chain(mesh_wide);
        for (level, p) in chain.enumerate() {
            let Typed::PeerAuthentication(pa) = &self.resources[p].typed else {
                continue;
            };
            if level == 0 && pa.selector.is_some() {
                if let Some(pm) =
                    port.and_then(|port| pa.port_level.iter().find(|pm| pm.port == port))
                {
                    if pm.mode != "UNSET" {
                        return Decision {
                            value: pm.mode.clone(),
                            source: Some((p, pm.path.clone())),
                        };
                    }
                }
            }
            if pa.mode != "UNSET" {
                let path = if self.resources[p].has_path("spec.mtls.mode") {
                    "spec.mtls.mode"
                } else {
                    "spec"
                };
                return Decision {
                    value: pa.mode.clone(),
                    source: Some((p, path.to_string())),
                };
            }
        }
        Decision::default_value("PERMISSIVE")
    }

    fn selectorless_pa(&self, ns: &str) -> Option<usize> {
        let mut v: Vec<usize> = self
            .in_namespace(ns, Kind::PeerAuthentication)
            .iter()
            .copied()
            .filter(|&p| matches!(&self.resources[p].typed, Typed::PeerAuthentication(pa) if pa.selector.as_ref().is_none_or(|s| s.is_empty())))
            .collect();
        v.sort_by(|a, b| self.resources[*a].name().cmp(self.resources[*b].name()));
        v.first().copied()
    }

    /// The DestinationRule a client in `client_ns` uses for `fqdn`: the client's
    /// namespace first, then the namespace of the service, then the root namespace,
    /// honouring `exportTo`; within a namespace an exact host beats a wildcard.
    pub fn destination_rule_for(&self, client_ns: &str, fqdn: &str) -> Option<usize> {
        let mut order: Vec<String> = vec![client_ns.to_string()];
        for t in self.host_targets(fqdn) {
            let ns = self.resources[t.resource].namespace().to_string();
            if !order.contains(&ns) {
                order.push(ns);
            }
        }
        if !order.contains(&self.mesh.root_namespace) {
            order.push(self.mesh.root_namespace.clone());
        }
        for ns in &order {
            let mut best: Option<(usize, usize)> = None;
            for &d in self.in_namespace(ns, Kind::DestinationRule) {
                let Typed::DestinationRule(dr) = &self.resources[d].typed else {
                    continue;
                };
                if dr.workload_selector.is_some() {
                    continue;
                }
                if !export_allows(dr.export_to.as_ref(), ns, client_ns) {
                    continue;
                }
                let host = self.resolve_host(&dr.host, ns);
                if !host_matches(&host, fqdn) {
                    continue;
                }
                // Longer (more specific) host patterns win.
                let specificity = if host.starts_with('*') {
                    host.len()
                } else {
                    usize::MAX
                };
                if best.is_none_or(|(_, s)| specificity > s) {
                    best = Some((d, specificity));
                }
            }
            if let Some((d, _)) = best {
                return Some(d);
            }
        }
        None
    }

    /// The client TLS setting for (client namespace, host, port, subset): subset
    /// port-level, subset, top-level port-level, top-level. `value` is the mode or
    /// `UNSET` when no DestinationRule sets one (auto mTLS decides then).
    pub fn client_tls(
        &self,
        client_ns: &str,
        fqdn: &str,
        port: Option<u32>,
        subset: Option<&str>,
    ) -> (Decision, Option<ClientTls>) {
        let Some(d) = self.destination_rule_for(client_ns, fqdn) else {
            return (Decision::default_value("UNSET"), None);
        };
        let Typed::DestinationRule(dr) = &self.resources[d].typed else {
            return (Decision::default_value("UNSET"), None);
        };
        let pick = |tp: &TrafficPolicy| -> Option<ClientTls> {
            if let Some(port) = port {
                if let Some(pt) = tp.port_level.iter().find(|p| p.port == port) {
                    if let Some(tls) = &pt.tls {
                        return Some(tls.clone());
                    }
                }
            }
            tp.tls.clone()
        };
        let subset_tp = subset.and_then(|s| dr.subsets.iter().find(|x| x.name == s));
        let chosen = subset_tp
            .and_then(|s| pick(&s.traffic_policy))
            .or_else(|| pick(&dr.traffic_policy));
        match chosen {
            Some(tls) => (
                Decision {
                    value: tls.mode.clone(),
                    source: Some((d, format!("{}.mode", tls.path))),
                },
                Some(tls),
            ),
            None => (
                Decision {
                    value: "UNSET".to_string(),
                    source: Some((d, "spec.host".to_string())),
                },
                None,
            ),
        }
    }

    /// The Sidecar that scopes a workload (its own by selector, else its namespace's
    /// default, else the root namespace's default) or a namespace (`workload = None`).
    pub fn sidecar_for(&self, ns: &str, workload: Option<usize>) -> Option<usize> {
        if let Some(w) = workload {
            let labels = self.workload_labels(w);
            for &s in self.in_namespace(ns, Kind::Sidecar) {
                if let Typed::Sidecar(sc) = &self.resources[s].typed {
                    if sc
                        .selector
                        .as_ref()
                        .is_some_and(|sel| !sel.is_empty() && selector_matches(sel, labels))
                    {
                        return Some(s);
                    }
                }
            }
        }
        let default_in = |n: &str| {
            self.in_namespace(n, Kind::Sidecar).iter().copied().find(|&s| {
                matches!(&self.resources[s].typed, Typed::Sidecar(sc) if sc.selector.as_ref().is_none_or(|x| x.is_empty()))
            })
        };
        default_in(ns).or_else(|| default_in(&self.mesh.root_namespace.clone()))
    }

    /// Whether `fqdn` is visible to proxies in `from_ns` (optionally a given workload):
    /// `exportTo` of the defining resources, then the egress imports of the Sidecar.
    pub fn host_visible(&self, from_ns: &str, workload: Option<usize>, fqdn: &str) -> Visibility {
        let targets = self.host_targets(fqdn);
        let mut host_ns: Vec<String> = Vec::new();
        let mut hidden: Option<(usize, String)> = None;
        let mut any_exported = targets.is_empty();
        for t in &targets {
            let r = &self.resources[t.resource];
            let export = match &r.typed {
                Typed::Service(s) => s.export_to.as_ref(),
                Typed::ServiceEntry(se) => se.export_to.as_ref(),
                _ => None,
            };
            if export_allows(export, r.namespace(), from_ns) {
                any_exported = true;
                host_ns.push(r.namespace().to_string());
            } else if hidden.is_none() {
                let path = if r.has_path("spec.exportTo") {
                    "spec.exportTo"
                } else {
                    "metadata.annotations[\"networking.istio.io/exportTo\"]"
                };
                hidden = Some((t.resource, path.to_string()));
            }
        }
        if !any_exported {
            return Visibility {
                visible: false,
                hidden_by: hidden,
                reason: format!("exportTo does not include namespace `{from_ns}`"),
            };
        }
        if host_ns.is_empty() {
            // Unknown host: judge the Sidecar by the namespace the name suggests.
            let parts: Vec<&str> = fqdn.split('.').collect();
            if parts.len() >= 3 && parts.get(2) == Some(&"svc") {
                host_ns.push(parts[1].to_string());
            }
        }
        let Some(s) = self.sidecar_for(from_ns, workload) else {
            return Visibility {
                visible: true,
                hidden_by: None,
                reason: String::new(),
            };
        };
        let Typed::Sidecar(sc) = &self.resources[s].typed else {
            return Visibility {
                visible: true,
                hidden_by: None,
                reason: String::new(),
            };
        };
        if sc.egress.is_empty() {
            return Visibility {
                visible: true,
                hidden_by: None,
                reason: String::new(),
            };
        }
        let sidecar_ns = self.resources[s].namespace();
        let effective_ns = if sidecar_ns == self.mesh.root_namespace {
            from_ns
        } else {
            sidecar_ns
        };
        for e in &sc.egress {
            for (ns_part, host_part) in &e.hosts {
                let ns_ok = match ns_part.as_str() {
                    "*" => true,
                    "~" => false,
                    "." => host_ns.iter().any(|h| h == effective_ns),
                    other => host_ns.iter().any(|h| h == other),
                };
                if ns_ok && host_matches(host_part, fqdn) {
                    return Visibility {
                        visible: true,
                        hidden_by: None,
                        reason: String::new(),
                    };
                }
            }
        }
        let path = sc
            .egress
            .first()
            .map(|e| format!("{}.hosts", e.path))
            .unwrap_or_else(|| "spec".to_string());
        Visibility {
            visible: false,
            hidden_by: Some((s, path)),
            reason: format!(
                "Sidecar {}/{} does not import it",
                self.resources[s].namespace(),
                self.resources[s].name()
            ),
        }
    }

    /// Whether a resource is a Service/ServiceEntry the given namespace can see by exportTo.
    pub fn resource(&self, i: usize) -> &Resource {
        &self.resources[i]
    }
}
