//! Queries the rule engine calls. Each answer names what decided it.

use crate::build::MeshGraph;
use crate::destination_rules::export_allows;
use meshlint_model::typed::{ClientTls, Labels, TrafficPolicy, Typed};
use meshlint_model::{Kind, Resource};
use serde::Serialize;
use std::collections::HashMap;

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
        if fqdn.starts_with('*') {
            for (suffix, r) in &self.wildcard_hosts {
                if host_matches(fqdn, &format!("*{suffix}")) {
                    out.push(HostTarget {
                        resource: *r,
                        host: format!("*{suffix}"),
                    });
                }
            }
        } else {
            // `*` covers everything (suffix ""); `*.b.c` covers `a.b.c` (suffix ".b.c").
            let suffixes =
                std::iter::once("").chain(fqdn.match_indices('.').map(|(i, _)| &fqdn[i..]));
            for suffix in suffixes {
                for &r in self
                    .wildcard_by_suffix
                    .get(suffix)
                    .map(Vec::as_slice)
                    .unwrap_or(&[])
                {
                    out.push(HostTarget {
                        resource: r,
                        host: format!("*{suffix}"),
                    });
                }
            }
        }
        out.sort_by_key(|t| t.resource);
        out.dedup();
        out
    }

    /// A host that does exist and looks like what was meant: the same short name in
    /// another namespace, or a near spelling.
    pub fn suggest_host(&self, fqdn: &str) -> Option<String> {
        let first = |h: &str| h.split('.').next().unwrap_or(h).to_string();
        let short = first(fqdn);
        let cluster = format!(".svc.{}", self.mesh.dns_domain);
        let mut candidates: Vec<&String> = self.hosts.keys().filter(|h| *h != fqdn).collect();
        candidates.sort();
        // The same Service name in another namespace (the short-host-in-the-wrong-
        // namespace mistake).
        if fqdn.ends_with(&cluster) {
            if let Some(same) = candidates
                .iter()
                .find(|h| h.ends_with(&cluster) && first(h) == short)
            {
                return Some((*same).clone());
            }
        }
        // A host that differs in one label, spelled nearly the same (`reveiws.ns…` →
        // `reviews.ns…`; `ratings.ns…` does not suggest `reviews.ns…`).
        let labels: Vec<&str> = fqdn.split('.').collect();
        let near = |h: &&String| {
            let other: Vec<&str> = h.split('.').collect();
            if other.len() != labels.len() {
                return false;
            }
            let diff: Vec<usize> = (0..labels.len())
                .filter(|&i| labels[i] != other[i])
                .collect();
            diff.len() == 1
                && meshlint_model::schema::did_you_mean(labels[diff[0]], [other[diff[0]]]).is_some()
        };
        meshlint_model::schema::did_you_mean(
            fqdn,
            candidates.iter().filter(|h| near(h)).map(|s| s.as_str()),
        )
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

    /// Workloads (Pods, pod templates, WorkloadEntries) in any namespace carrying every
    /// label of a non-empty selector, in input order: the selector label with the fewest
    /// workloads in the label index is the starting point.
    pub(crate) fn labelled(&self, selector: &Labels) -> Vec<usize> {
        let candidates = selector
            .iter()
            .map(|(k, v)| {
                self.workloads_by_label
                    .get(&(k.clone(), v.clone()))
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
        // Namespaces of the exported targets, borrowed (many namespaces may declare the
        // same external host, and this is asked once per namespace and host).
        let mut host_ns: Vec<&str> = Vec::new();
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
                host_ns.push(r.namespace());
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
                host_ns.push(parts[1]);
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
        if egress_admits(sc, effective_ns, fqdn, &host_ns) {
            return Visibility {
                visible: true,
                hidden_by: None,
                reason: String::new(),
            };
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

/// A host and port that two ServiceEntries declare with different protocols.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtocolConflict {
    pub host: String,
    pub port: u32,
    /// This entry's protocol, and the path of its `protocol` field (of the port when unset).
    pub protocol: String,
    pub path: String,
    /// The other entry, its protocol and the path of its `protocol` field (or port).
    pub other: usize,
    pub other_protocol: String,
    pub other_path: String,
}

/// Whether Istio tells services on a port apart by host name (HTTP `Host`/authority or
/// TLS SNI). For every other protocol it matches by destination address and port only.
pub fn routes_by_host(protocol: &str) -> bool {
    matches!(
        protocol,
        "HTTP" | "HTTP2" | "HTTPS" | "GRPC" | "GRPC-WEB" | "TLS"
    )
}

/// Whether a ServiceEntry port with this protocol is matched by address and port alone
/// (TCP, unset, MONGO, MYSQL, REDIS, …; UDP is not proxied at all).
pub fn matches_by_address(protocol: &str) -> bool {
    !routes_by_host(protocol) && protocol != "UDP"
}

/// The upper-case protocol of a ServiceEntry port (`UNKNOWN` when unset).
pub(crate) fn se_port_protocol(p: &meshlint_model::typed::SePort) -> String {
    p.protocol
        .as_deref()
        .map(normalise_protocol)
        .unwrap_or_else(|| "UNKNOWN".to_string())
}

/// Path of a ServiceEntry port's `protocol` field, or of the port when it has none.
fn protocol_path(p: &meshlint_model::typed::SePort) -> String {
    match p.protocol {
        Some(_) => format!("{}.protocol", p.path),
        None => p.path.clone(),
    }
}

/// The namespaces an `exportTo` list exports to (`None` = every namespace).
fn export_scope(export_to: Option<&Vec<String>>, owner_ns: &str) -> Option<Vec<String>> {
    let list = export_to.filter(|l| !l.is_empty())?;
    if list.iter().any(|e| e == "*") {
        return None;
    }
    let mut out: Vec<String> = list
        .iter()
        .filter(|e| e.as_str() != "~")
        .map(|e| {
            if e == "." {
                owner_ns.to_string()
            } else {
                e.clone()
            }
        })
        .collect();
    out.sort();
    out.dedup();
    Some(out)
}

fn scopes_overlap(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (None, Some(x)) | (Some(x), None) => !x.is_empty(),
        (Some(x), Some(y)) => x.iter().any(|n| y.contains(n)),
    }
}

/// An IP address or CIDR block as (bits, left-aligned in 128; prefix length; is IPv6).
pub(crate) fn parse_cidr(s: &str) -> Option<(u128, u32, bool)> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l.trim().parse::<u32>().ok()?)),
        None => (s, None),
    };
    match addr.trim().parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => {
            let len = len.unwrap_or(32).min(32);
            Some(((u32::from(v4) as u128) << 96, len, false))
        }
        std::net::IpAddr::V6(v6) => Some((u128::from(v6), len.unwrap_or(128).min(128), true)),
    }
}

/// Whether a Sidecar's egress imports `fqdn` defined in `host_ns` (`.` meaning
/// `effective_ns`, the Sidecar's namespace, or the client's for a root-namespace one).
fn egress_admits(
    sc: &meshlint_model::typed::Sidecar,
    effective_ns: &str,
    fqdn: &str,
    host_ns: &[&str],
) -> bool {
    sc.egress.iter().any(|e| {
        e.hosts.iter().any(|(ns_part, host_part)| {
            let ns_ok = match ns_part.as_str() {
                "*" => true,
                "~" => false,
                "." => host_ns.contains(&effective_ns),
                other => host_ns.contains(&other),
            };
            ns_ok && host_matches(host_part, fqdn)
        })
    })
}

/// Whether two address lists (IPs or CIDR blocks) share any address.
pub fn addresses_overlap(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| {
        b.iter().any(|y| {
            if x == y {
                return true;
            }
            match (parse_cidr(x), parse_cidr(y)) {
                (Some((xa, xl, x6)), Some((ya, yl, y6))) if x6 == y6 => {
                    let len = xl.min(yl);
                    let mask = if len == 0 {
                        0
                    } else {
                        u128::MAX << (128 - len)
                    };
                    xa & mask == ya & mask
                }
                _ => false,
            }
        })
    })
}

impl MeshGraph {
    /// The addresses a ServiceEntry claims: `spec.addresses`, else the ones Istio
    /// allocated (`status.addresses[].value`).
    pub fn service_entry_addresses(&self, se: usize) -> Vec<String> {
        let r = &self.resources[se];
        let Typed::ServiceEntry(entry) = &r.typed else {
            return Vec::new();
        };
        if !entry.addresses.is_empty() {
            return entry.addresses.clone();
        }
        r.node
            .get("status")
            .and_then(|s| s.get("addresses"))
            .map(|a| a.items())
            .unwrap_or(&[])
            .iter()
            .filter_map(|a| {
                a.as_str()
                    .or_else(|| a.get("value").and_then(|v| v.as_str()))
            })
            .map(str::to_string)
            .collect()
    }

    /// The namespaces a VirtualService, DestinationRule, ServiceEntry or Service is
    /// exported to (`None` = all); other kinds are visible in their own namespace only.
    pub fn export_scope_of(&self, r: usize) -> Option<Vec<String>> {
        let res = &self.resources[r];
        let export = match &res.typed {
            Typed::Service(s) => s.export_to.as_ref(),
            Typed::ServiceEntry(se) => se.export_to.as_ref(),
            Typed::VirtualService(vs) => vs.export_to.as_ref(),
            Typed::DestinationRule(dr) => dr.export_to.as_ref(),
            _ => return Some(vec![res.namespace().to_string()]),
        };
        export_scope(export, res.namespace())
    }

    /// Other ServiceEntries that claim the same address-matched port (TCP, unset, …) as
    /// ServiceEntry `se`, where Envoy cannot tell them apart: neither has addresses (both
    /// take `0.0.0.0:port`) or their addresses overlap, and their `exportTo` scopes share
    /// a namespace. Each is returned with the path of its conflicting port. With DNS
    /// auto-allocation on, entries without addresses get distinct addresses and do not
    /// conflict.
    pub fn address_port_conflicts(&self, se: usize, port: u32) -> Vec<(usize, String)> {
        let Some(claims) = self.host_blind_ports.get(&port) else {
            return Vec::new();
        };
        // Claims are recorded in resource order, so this is a binary search.
        if claims.binary_search(&se).is_err() {
            return Vec::new();
        }
        let mine = self.service_entry_addresses(se);
        let my_scope = self.export_scope_of(se);
        let ix = self.scale();
        // Candidates instead of every claim on the port: same address as written, a
        // range on either side (compared exactly below), or both without addresses.
        let candidates: Vec<usize> = if mine.iter().any(|a| crate::scale::is_range(a)) {
            // A range overlaps too many ways to index; compare with every claim.
            claims.clone()
        } else {
            let mut c: Vec<usize> = if mine.is_empty() {
                ix.unaddressed_claims
                    .get(&port)
                    .cloned()
                    .unwrap_or_default()
            } else {
                mine.iter()
                    .filter_map(|a| {
                        ix.claims_by_address
                            .get(&(port, crate::scale::address_key(a)))
                    })
                    .flatten()
                    .copied()
                    .chain(ix.range_claims.get(&port).into_iter().flatten().copied())
                    .collect()
            };
            c.sort_unstable();
            c.dedup();
            c
        };
        let mut out = Vec::new();
        for other in candidates {
            if self.same_object(other, se) {
                continue;
            }
            let theirs = self.service_entry_addresses(other);
            let clash = match (mine.is_empty(), theirs.is_empty()) {
                (true, true) => !(self.mesh.dns_auto_allocate && self.mesh.dns_capture),
                (false, false) => addresses_overlap(&mine, &theirs),
                _ => false,
            };
            if !clash || !scopes_overlap(&my_scope, &self.export_scope_of(other)) {
                continue;
            }
            let path = match &self.resources[other].typed {
                Typed::ServiceEntry(e) => e
                    .ports
                    .iter()
                    .find(|p| p.number == port)
                    .map(|p| p.path.clone())
                    .unwrap_or_else(|| "spec.ports".to_string()),
                _ => "spec.ports".to_string(),
            };
            out.push((other, path));
        }
        out
    }

    /// Ports of other ServiceEntries that declare one of the hosts of ServiceEntry `se`
    /// (exactly, as an FQDN) with the same port number but another protocol, where the
    /// two entries' `exportTo` scopes share a namespace.
    pub fn protocol_conflicts(&self, se: usize) -> Vec<ProtocolConflict> {
        let r = &self.resources[se];
        let Typed::ServiceEntry(entry) = &r.typed else {
            return Vec::new();
        };
        let my_scope = self.export_scope_of(se);
        let mut out = Vec::new();
        let ix = self.scale();
        for h in &entry.hosts {
            let fqdn = self.resolve_host(h, r.namespace());
            // Only entries declaring this host with one of my ports under another
            // protocol can conflict; the index names them without a scan.
            let mut others: Vec<usize> = entry
                .ports
                .iter()
                .filter_map(|p| {
                    let mine = se_port_protocol(p);
                    ix.se_port_protocols
                        .get(&(fqdn.clone(), p.number))
                        .map(move |by| (mine, by))
                })
                .flat_map(|(mine, by)| {
                    by.iter()
                        .filter(move |(proto, _)| **proto != mine)
                        .flat_map(|(_, l)| l.iter().copied())
                })
                .collect();
            others.sort_unstable();
            others.dedup();
            for o in others {
                if self.same_object(o, se) || out.iter().any(|c: &ProtocolConflict| c.other == o) {
                    continue;
                }
                let Typed::ServiceEntry(other) = &self.resources[o].typed else {
                    continue;
                };
                if !scopes_overlap(&my_scope, &self.export_scope_of(o)) {
                    continue;
                }
                for p in &entry.ports {
                    let mine = se_port_protocol(p);
                    if let Some(q) = other
                        .ports
                        .iter()
                        .find(|q| q.number == p.number && se_port_protocol(q) != mine)
                    {
                        out.push(ProtocolConflict {
                            host: fqdn.clone(),
                            port: p.number,
                            protocol: mine,
                            path: protocol_path(p),
                            other: o,
                            other_protocol: se_port_protocol(q),
                            other_path: protocol_path(q),
                        });
                        break;
                    }
                }
            }
        }
        out
    }

    /// Namespaces with at least one workload that runs an Istio proxy, sorted.
    pub fn proxy_namespaces(&self) -> impl Iterator<Item = &str> {
        self.proxy_namespaces.iter().map(String::as_str)
    }

    /// The namespaces (among those with proxied workloads) whose proxies a resource's
    /// configuration is meant for: its `exportTo` scope; for a DestinationRule outside
    /// the lookup path (neither the root namespace nor a namespace defining its host) or
    /// with a `workloadSelector`, only its own namespace.
    pub fn client_namespaces(&self, r: usize) -> Vec<String> {
        let is_client = self.client_test(r);
        self.proxy_namespaces
            .iter()
            .filter(|n| is_client(n))
            .cloned()
            .collect()
    }

    /// Whether a namespace is a client of resource `r` (see [`Self::client_namespaces`]),
    /// leaving out the proxied-workloads condition.
    fn client_test(&self, r: usize) -> impl Fn(&str) -> bool + '_ {
        let res = &self.resources[r];
        let ns = res.namespace().to_string();
        let scope = self.export_scope_of(r);
        let mut only_own = false;
        if let Typed::DestinationRule(dr) = &res.typed {
            if dr.workload_selector.is_some() {
                only_own = true;
            } else if ns != self.mesh.root_namespace {
                let host = self.resolve_host(&dr.host, &ns);
                only_own = !self
                    .host_targets(&host)
                    .iter()
                    .any(|t| self.resources[t.resource].namespace() == ns);
            }
        }
        move |n: &str| {
            if only_own {
                n == ns
            } else {
                scope.as_ref().is_none_or(|s| s.iter().any(|x| x == n))
            }
        }
    }

    /// When none of the client namespaces of `r` can see `fqdn`: each of them with what
    /// hides the host from it. Empty when some client sees the host, or when `r` has no
    /// client namespace in the inputs. Only namespaces that could import the host are
    /// asked (the scale index knows them), so the usual answer (visible) costs a lookup or
    /// two; the full walk happens only when the host is hidden.
    pub fn hidden_from_all_clients(&self, r: usize, fqdn: &str) -> Vec<(String, Visibility)> {
        let is_client = self.client_test(r);
        let own = self.resources[r].namespace();
        let scope = self
            .export_scope_of(r)
            .filter(|s| !s.iter().any(|x| x == "*"));
        // The usual answer without listing the host's definitions (many namespaces may
        // declare the same external host): `r` defines the host, is exported to its own
        // namespace, and that namespace's Sidecar imports it.
        let defines = match &self.resources[r].typed {
            Typed::ServiceEntry(se) => se.hosts.iter().any(|h| self.resolve_host(h, own) == fqdn),
            _ => false,
        };
        if defines
            && self.proxy_namespaces.contains(own)
            && is_client(own)
            && scope.as_ref().is_none_or(|l| l.iter().any(|n| n == own))
        {
            let admitted = match self.sidecar_for(own, None).map(|s| &self.resources[s]) {
                None => true,
                Some(sr) => match &sr.typed {
                    Typed::Sidecar(sc) if !sc.egress.is_empty() => {
                        let sidecar_ns = sr.namespace();
                        let effective = if sidecar_ns == self.mesh.root_namespace {
                            own
                        } else {
                            sidecar_ns
                        };
                        egress_admits(sc, effective, fqdn, &[own])
                    }
                    _ => true,
                },
            };
            if admitted {
                return Vec::new();
            }
        }
        // Otherwise ask the only namespaces that can possibly see the host: those whose
        // Sidecar leaves egress open or imports from `*` or from a namespace defining the
        // host (or, when exportTo lists namespaces, just those). Any other namespace's
        // Sidecar names neither, so it cannot import the host.
        let ix = self.scale();
        let mut host_namespaces: Vec<&str> = self
            .host_targets(fqdn)
            .iter()
            .map(|t| self.resources[t.resource].namespace())
            .collect();
        let parts: Vec<&str> = fqdn.split('.').collect();
        if parts.len() >= 3 && parts[2] == "svc" {
            host_namespaces.push(parts[1]);
        }
        let candidates: Box<dyn Iterator<Item = &str>> = match &scope {
            Some(list) => Box::new(list.iter().map(String::as_str)),
            None => Box::new(
                ix.open_namespaces
                    .iter()
                    .chain(ix.importers.get("*").into_iter().flatten())
                    .chain(
                        host_namespaces
                            .iter()
                            .filter_map(|h| ix.importers.get(*h))
                            .flatten(),
                    )
                    .map(String::as_str),
            ),
        };
        for n in candidates {
            if self.proxy_namespaces.contains(n)
                && is_client(n)
                && self.host_visible(n, None, fqdn).visible
            {
                return Vec::new();
            }
        }
        // No candidate sees it. With an exportTo list only the listed namespaces are
        // clients, so walk those rather than every namespace.
        let pool: Vec<&String> = match &scope {
            Some(list) => {
                let mut l: Vec<&String> = list
                    .iter()
                    .filter(|n| self.proxy_namespaces.contains(*n))
                    .collect();
                l.sort();
                l.dedup();
                l
            }
            None => self.proxy_namespaces.iter().collect(),
        };
        let mut hidden = Vec::new();
        for n in pool {
            if !is_client(n) {
                continue;
            }
            let v = self.host_visible(n, None, fqdn);
            if v.visible {
                return Vec::new();
            }
            hidden.push((n.clone(), v));
        }
        hidden
    }

    /// Resources of `kind` that select workload `w` (Sidecars, PeerAuthentications,
    /// AuthorizationPolicies, Services, Gateways, …), in input order.
    pub fn selected_by(&self, w: usize, kind: Kind) -> Vec<usize> {
        let Some(&n) = self.node_of.get(&crate::build::GraphNode::Resource(w)) else {
            return Vec::new();
        };
        let mut out: Vec<usize> = self
            .graph
            .edges_directed(n, petgraph::Direction::Incoming)
            .filter(|e| *e.weight() == crate::build::Edge::Selects)
            .filter_map(
                |e| match &self.graph[petgraph::visit::EdgeRef::source(&e)] {
                    crate::build::GraphNode::Resource(i) if self.resources[*i].kind == kind => {
                        Some(*i)
                    }
                    _ => None,
                },
            )
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The locality labels Istio adds to a pod's endpoints from the Node it runs on
    /// (`spec.nodeName`, when that Node is in the inputs): region, zone and subzone when
    /// present and non-empty, and `kubernetes.io/hostname` = the node name.
    pub fn topology_labels(&self, w: usize) -> Labels {
        let mut out = Labels::new();
        let r = &self.resources[w];
        let Some(node_name) = r
            .node
            .get("spec")
            .and_then(|s| s.get("nodeName"))
            .and_then(|n| n.as_str())
        else {
            return out;
        };
        let Some(&node) = self.nodes.get(node_name) else {
            return out;
        };
        for key in [
            "topology.kubernetes.io/region",
            "topology.kubernetes.io/zone",
            "topology.istio.io/subzone",
        ] {
            if let Some(v) = self.resources[node]
                .labels
                .get(key)
                .filter(|v| !v.is_empty())
            {
                out.insert(key.to_string(), v.clone());
            }
        }
        out.insert("kubernetes.io/hostname".to_string(), node_name.to_string());
        out
    }

    /// Whether some Service or ServiceEntry defining `fqdn` is exported to namespace `ns`.
    pub fn host_exported_to(&self, fqdn: &str, ns: &str) -> bool {
        self.host_targets(fqdn).iter().any(|t| {
            self.export_scope_of(t.resource)
                .is_none_or(|scope| scope.iter().any(|n| n == ns))
        })
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
        let Some(&n) = self.node_of.get(&crate::build::GraphNode::Resource(r)) else {
            return Vec::new();
        };
        let mut out: Vec<usize> = self
            .graph
            .edges_directed(n, petgraph::Direction::Outgoing)
            .filter(|e| *e.weight() == crate::build::Edge::Selects)
            .filter_map(
                |e| match &self.graph[petgraph::visit::EdgeRef::target(&e)] {
                    crate::build::GraphNode::Resource(i) => Some(*i),
                    _ => None,
                },
            )
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// A namespace of the inputs spelled like `ns` (not `ns` itself), if any.
    pub fn suggest_namespace(&self, ns: &str) -> Option<String> {
        meshlint_model::schema::did_you_mean(
            ns,
            self.known_namespaces
                .iter()
                .map(String::as_str)
                .filter(|n| *n != ns),
        )
        .map(str::to_string)
    }
}

// ---------------------------------------------------------------------------
// TLS relations: what each client TLS setting governs, which proxies run where,
// which ports bypass the sidecar, which routes reach a host, and which service
// ports a PeerAuthentication decides.

/// A workload behind a governed port: the container port reached, the server-side
/// mTLS mode there and what decided it, and whether a sidecar intercepts that port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GovernedWorkload {
    pub workload: usize,
    pub container_port: u32,
    pub peer: Decision,
    pub captured: bool,
}

/// A (host, service port) a client TLS setting applies to, with the workloads behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GovernedPort {
    pub host: String,
    pub target: usize,
    pub port: PortInfo,
    pub workloads: Vec<GovernedWorkload>,
}

/// One explicit `tls` block of a DestinationRule and what it governs once the
/// precedence (subset port-level, subset, top-level port-level, top level) and the
/// DestinationRule lookup of the rule's own namespace are applied.
#[derive(Debug, Clone, Serialize)]
pub struct TlsSetting {
    pub tls: ClientTls,
    pub port: Option<u32>,
    pub subset: Option<String>,
    pub destinations: Vec<GovernedPort>,
}

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

/// A service port whose server-side mTLS mode a PeerAuthentication decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerTarget {
    pub host: String,
    pub target: usize,
    pub port: PortInfo,
    pub workload: usize,
    pub container_port: u32,
    pub peer: Decision,
    pub captured: bool,
}

/// Proxies found in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyNamespace {
    pub namespace: String,
    /// Workloads with an injected sidecar (not gateways).
    pub sidecars: usize,
    /// Gateway proxies.
    pub gateways: usize,
}

fn port_list(v: Option<&String>) -> Option<Vec<String>> {
    v.map(|s| {
        s.split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    })
}

impl MeshGraph {
    /// Whether the inputs say for certain whether a workload has a sidecar: a proxy
    /// container, a pod-level `sidecar.istio.io/inject`, or its Namespace resource.
    pub fn sidecar_known(&self, workload: usize) -> bool {
        let r = &self.resources[workload];
        match &r.typed {
            Typed::Workload(w) => {
                w.has_proxy_container
                    || w.inject != meshlint_model::typed::Injection::Unset
                    || self.namespace_resource(r.namespace()).is_some()
            }
            Typed::WorkloadEntry(_) => true,
            _ => false,
        }
    }

    /// Whether inbound traffic to a container port goes through the workload's sidecar:
    /// it has one, and the port is not excluded by
    /// `traffic.sidecar.istio.io/excludeInboundPorts` nor left out of
    /// `traffic.sidecar.istio.io/includeInboundPorts`.
    pub fn inbound_captured(&self, workload: usize, port: u32) -> bool {
        if !self.has_sidecar(workload) {
            return false;
        }
        let Typed::Workload(w) = &self.resources[workload].typed else {
            return true;
        };
        let p = port.to_string();
        if let Some(ex) = port_list(
            w.annotations
                .get("traffic.sidecar.istio.io/excludeInboundPorts"),
        ) {
            if ex.contains(&p) {
                return false;
            }
        }
        if let Some(inc) = port_list(
            w.annotations
                .get("traffic.sidecar.istio.io/includeInboundPorts"),
        ) {
            return inc.iter().any(|x| x == "*" || *x == p);
        }
        true
    }

    /// Container ports of a workload that bypass its sidecar (excluded inbound ports).
    pub fn excluded_inbound_ports(&self, workload: usize) -> Vec<u32> {
        let Typed::Workload(w) = &self.resources[workload].typed else {
            return Vec::new();
        };
        port_list(
            w.annotations
                .get("traffic.sidecar.istio.io/excludeInboundPorts"),
        )
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect()
    }

    /// Whether a workload is a gateway proxy: selected by a Gateway in the inputs, or
    /// injected with the `gateway` template.
    pub fn is_gateway_workload(&self, workload: usize) -> bool {
        let Typed::Workload(w) = &self.resources[workload].typed else {
            return false;
        };
        if w.annotations
            .get("inject.istio.io/templates")
            .is_some_and(|t| t.split(',').any(|x| x.trim() == "gateway"))
        {
            return true;
        }
        self.gateway_workloads
            .get_or_init(|| {
                // Each distinct Gateway selector is matched against the workloads once.
                let mut selectors: Vec<&Labels> = self
                    .of_kind(Kind::Gateway)
                    .iter()
                    .filter_map(|&g| match &self.resources[g].typed {
                        Typed::Gateway(gw) if !gw.selector.is_empty() => Some(&gw.selector),
                        _ => None,
                    })
                    .collect();
                selectors.sort();
                selectors.dedup();
                self.workloads_by_ns
                    .values()
                    .flatten()
                    .copied()
                    .filter(|&x| {
                        let labels = self.workload_labels(x);
                        selectors.iter().any(|s| selector_matches(s, labels))
                    })
                    .collect()
            })
            .contains(&workload)
    }

    /// Namespaces that contain proxied workloads, with how many are sidecars and how
    /// many gateways, sorted by namespace.
    /// Computed once: rules ask for it per finding, and it walks every workload.
    pub fn proxies_by_namespace(&self) -> &[ProxyNamespace] {
        self.proxies_by_ns
            .get_or_init(|| self.count_proxies_by_namespace())
    }

    fn count_proxies_by_namespace(&self) -> Vec<ProxyNamespace> {
        let mut out: Vec<ProxyNamespace> = Vec::new();
        let mut names: Vec<&String> = self.workloads_by_ns.keys().collect();
        names.sort();
        for ns in names {
            let (mut sidecars, mut gateways) = (0, 0);
            for &w in &self.workloads_by_ns[ns] {
                if !self.has_sidecar(w) {
                    continue;
                }
                if self.is_gateway_workload(w) {
                    gateways += 1;
                } else {
                    sidecars += 1;
                }
            }
            if sidecars + gateways > 0 {
                out.push(ProxyNamespace {
                    namespace: ns.clone(),
                    sidecars,
                    gateways,
                });
            }
        }
        out
    }

    /// Services and ServiceEntries (with a workload selector) that select a workload.
    pub fn services_for(&self, workload: usize) -> Vec<usize> {
        let ns = self.resources[workload].namespace();
        let mut out: Vec<usize> = self
            .in_namespace(ns, Kind::Service)
            .iter()
            .chain(self.in_namespace(ns, Kind::ServiceEntry))
            .copied()
            .filter(|&t| self.workloads_of(t).contains(&workload))
            .collect();
        out.sort_unstable();
        out
    }

    fn governed(
        &self,
        host: &str,
        target: usize,
        port: &PortInfo,
        labels: Option<&Labels>,
    ) -> GovernedPort {
        let workloads = self
            .workloads_of(target)
            .into_iter()
            .filter(|&w| labels.is_none_or(|l| selector_matches(l, self.workload_labels(w))))
            .map(|w| {
                let cp = self.target_port(w, port);
                GovernedWorkload {
                    workload: w,
                    container_port: cp,
                    peer: self.peer_mode(w, Some(cp)),
                    captured: self.inbound_captured(w, cp),
                }
            })
            .collect();
        GovernedPort {
            host: host.to_string(),
            target,
            port: port.clone(),
            workloads,
        }
    }

    /// Every explicit `tls` block of a DestinationRule with the (host, port, workloads)
    /// it decides for the clients that use the rule. Hosts for which a more specific
    /// DestinationRule of the same namespace wins are left out.
    pub fn tls_settings(&self, dr: usize) -> Vec<TlsSetting> {
        let r = &self.resources[dr];
        let Typed::DestinationRule(d) = &r.typed else {
            return Vec::new();
        };
        let ns = r.namespace();
        let fqdn = self.resolve_host(&d.host, ns);
        let targets: Vec<HostTarget> = self
            .host_targets(&fqdn)
            .into_iter()
            .filter(|t| {
                d.workload_selector.is_some()
                    || self
                        .merged_destination_rule(ns, &t.host)
                        .is_some_and(|m| m.members.contains(&dr))
            })
            .collect();
        // Merged with other DestinationRules for the host, this document's top-level
        // policy applies only if it is the first with one, and its subsets only where no
        // earlier document defines the same name.
        let merged = (d.workload_selector.is_none())
            .then(|| self.merged_destination_rule(ns, &fqdn))
            .flatten()
            .filter(|m| m.members.contains(&dr));
        let top_level_applies = merged
            .as_ref()
            .is_none_or(|m| m.members.len() == 1 || m.policy_from == Some(dr));
        let subset_applies = |name: &str| {
            merged
                .as_ref()
                .is_none_or(|m| m.subset(name).is_none_or(|s| s.member == dr))
        };
        let port_tls = |tp: &TrafficPolicy, n: u32| {
            tp.port_level.iter().any(|p| p.port == n && p.tls.is_some())
        };
        let mut out = Vec::new();
        let mut blocks: Vec<(
            ClientTls,
            Option<u32>,
            Option<&meshlint_model::typed::Subset>,
        )> = Vec::new();
        if top_level_applies {
            if let Some(t) = &d.traffic_policy.tls {
                blocks.push((t.clone(), None, None));
            }
            for p in &d.traffic_policy.port_level {
                if let Some(t) = &p.tls {
                    blocks.push((t.clone(), Some(p.port), None));
                }
            }
        }
        for s in d.subsets.iter().filter(|s| subset_applies(&s.name)) {
            if let Some(t) = &s.traffic_policy.tls {
                blocks.push((t.clone(), None, Some(s)));
            }
            for p in &s.traffic_policy.port_level {
                if let Some(t) = &p.tls {
                    blocks.push((t.clone(), Some(p.port), Some(s)));
                }
            }
        }
        for (tls, port, subset) in blocks {
            let mut destinations = Vec::new();
            for t in &targets {
                for p in self.ports_of(t.resource) {
                    let applies = match (port, subset) {
                        (Some(n), _) => p.number == n,
                        (None, None) => !port_tls(&d.traffic_policy, p.number),
                        (None, Some(s)) => !port_tls(&s.traffic_policy, p.number),
                    };
                    if applies {
                        destinations.push(self.governed(
                            &t.host,
                            t.resource,
                            &p,
                            subset.map(|s| &s.labels),
                        ));
                    }
                }
            }
            out.push(TlsSetting {
                tls,
                port,
                subset: subset.map(|s| s.name.clone()),
                destinations,
            });
        }
        out
    }

    /// VirtualService route destinations that send traffic to `fqdn`, with the gateways
    /// executing them.
    pub fn routes_to(&self, fqdn: &str) -> Vec<RouteTo> {
        self.routes_index
            .get_or_init(|| self.build_routes_index())
            .get(fqdn)
            .cloned()
            .unwrap_or_default()
    }

    fn build_routes_index(&self) -> HashMap<String, Vec<RouteTo>> {
        let mut out: HashMap<String, Vec<RouteTo>> = HashMap::new();
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
        out
    }

    /// The service ports (and workloads behind them) whose effective server-side mTLS
    /// mode a PeerAuthentication decides.
    pub fn peer_targets(&self, pa: usize) -> Vec<PeerTarget> {
        let r = &self.resources[pa];
        let Typed::PeerAuthentication(p) = &r.typed else {
            return Vec::new();
        };
        let selector = p.selector.as_ref().filter(|s| !s.is_empty());
        let mut out = Vec::new();
        for w in self.policy_targets(r.namespace(), selector) {
            for t in self.services_for(w) {
                let host = match &self.resources[t].typed {
                    Typed::Service(_) => format!(
                        "{}.{}.svc.{}",
                        self.resources[t].name(),
                        self.resources[t].namespace(),
                        self.mesh.dns_domain
                    ),
                    Typed::ServiceEntry(se) => se
                        .hosts
                        .first()
                        .map(|h| self.resolve_host(h, self.resources[t].namespace()))
                        .unwrap_or_default(),
                    _ => continue,
                };
                for port in self.ports_of(t) {
                    let cp = self.target_port(w, &port);
                    let d = self.peer_mode(w, Some(cp));
                    if d.source.as_ref().map(|s| s.0) != Some(pa) {
                        continue;
                    }
                    out.push(PeerTarget {
                        host: host.clone(),
                        target: t,
                        port,
                        workload: w,
                        container_port: cp,
                        captured: self.inbound_captured(w, cp),
                        peer: d,
                    });
                }
            }
        }
        out
    }
}

impl MeshGraph {
    /// The path of a workload's pod metadata (`metadata` for Pods,
    /// `spec.template.metadata` for controllers, …).
    pub fn pod_metadata_path(&self, workload: usize) -> String {
        match &self.resources[workload].typed {
            Typed::Workload(w) => match w.pod_spec_path.strip_suffix(".spec") {
                Some(prefix) => format!("{prefix}.metadata"),
                None => "metadata".to_string(),
            },
            _ => "metadata".to_string(),
        }
    }

    /// Why a workload has (or lacks) a sidecar, and the field that decides it:
    /// `proxy-container`, `pod-enabled`, `pod-disabled`, `namespace-enabled`,
    /// `namespace-disabled` (also when a pod opts in inside a disabled namespace),
    /// `namespace-unlabelled`, `workload-entry`, or `unknown` (the namespace is not in
    /// the inputs).
    pub fn injection_decision(&self, workload: usize) -> Decision {
        use meshlint_model::typed::Injection;
        let r = &self.resources[workload];
        let decided = |v: &str, source: Option<(usize, String)>| Decision {
            value: v.to_string(),
            source,
        };
        let w = match &r.typed {
            Typed::Workload(w) => w,
            Typed::WorkloadEntry(_) => return decided("workload-entry", None),
            _ => return decided("unknown", None),
        };
        if w.has_proxy_container {
            return decided(
                "proxy-container",
                Some((workload, format!("{}.containers", w.pod_spec_path))),
            );
        }
        let ns = r.namespace();
        let ns_res = self.namespace_resource(ns);
        let ns_source = |label: Option<&str>| {
            ns_res.map(|i| {
                let path = match label {
                    Some(l) if self.resources[i].labels.contains_key(l) => {
                        format!("metadata.labels[\"{l}\"]")
                    }
                    _ => "metadata.name".to_string(),
                };
                (i, path)
            })
        };
        let ns_label = ns_res.and_then(|i| {
            let labels = &self.resources[i].labels;
            if labels.contains_key("istio-injection") {
                Some("istio-injection")
            } else if labels.contains_key("istio.io/rev") {
                Some("istio.io/rev")
            } else {
                None
            }
        });
        let meta = self.pod_metadata_path(workload);
        let key = "sidecar.istio.io/inject";
        let pod_path = if w.labels.contains_key(key) {
            format!("{meta}.labels[\"{key}\"]")
        } else {
            format!("{meta}.annotations[\"{key}\"]")
        };
        match w.inject {
            Injection::Disabled => decided("pod-disabled", Some((workload, pod_path))),
            Injection::Enabled => {
                if self.namespace_injection(ns) == Injection::Disabled {
                    decided("namespace-disabled", ns_source(ns_label))
                } else {
                    decided("pod-enabled", Some((workload, pod_path)))
                }
            }
            Injection::Unset => match (ns_res, self.namespace_injection(ns)) {
                (None, _) => decided("unknown", None),
                (Some(_), Injection::Enabled) => decided("namespace-enabled", ns_source(ns_label)),
                (Some(_), Injection::Disabled) => {
                    decided("namespace-disabled", ns_source(ns_label))
                }
                (Some(_), Injection::Unset) => decided("namespace-unlabelled", ns_source(None)),
            },
        }
    }
}
