//! Answers the mTLS rules ask, each naming what decided it: the service ports a STRICT
//! PeerAuthentication locks (from one index over every workload, so asking for every
//! policy or namespace stays linear), which clients of such a port get no client TLS
//! with auto mTLS off, which `tls` blocks of a DestinationRule conflict with the servers
//! they govern (plaintext to STRICT, Istio mTLS to a server that cannot answer it, Istio
//! mTLS or TLS origination onto a port where the application speaks TLS), whether a
//! DestinationRule is used by any proxy of the inputs, and which ports bypassing a
//! sidecar still get Istio mTLS from auto mTLS.

use crate::build::MeshGraph;
use crate::fast_map::HashMap;
use crate::mtls::{GovernedPort, GovernedWorkload, TlsSetting};
use crate::queries::*;
use crate::routing::RouteTo;
use crate::tally::Tally;
use meshlint_model::typed::*;
use meshlint_model::Kind;
use serde::Serialize;
use std::sync::Arc;

/// A service port whose workload only accepts mutual TLS there: the workload's sidecar
/// intercepts the port and the PeerAuthentication field `policy` decides STRICT.
///
/// The index holds one per (workload, service port) and lives to the end of the run, so
/// it keeps the port's number rather than a copy of its description (names, protocol,
/// path: [`MeshGraph::ports_of`] the target gives those), and shares the host and the
/// deciding field's path between the ports that have the same: whole copies took 3.5 MB
/// on the 2,000-namespace gen-mesh corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StrictPort {
    /// The Service's FQDN (a ServiceEntry's first host).
    pub host: Arc<str>,
    pub target: usize,
    /// The service port's number.
    pub port: u32,
    pub workload: usize,
    pub container_port: u32,
    /// The deciding PeerAuthentication and field.
    pub policy: (usize, Arc<str>),
}

impl StrictPort {
    /// `host:port`, as messages name the destination.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Built on first use: every STRICT service port, by deciding PeerAuthentication.
#[derive(Debug, Default)]
pub(crate) struct TlsAnswersIndex {
    strict_by_policy: Tally<HashMap<usize, Vec<StrictPort>>>,
}

/// Workloads of a namespace without sidecar injection that call STRICT ports elsewhere.
#[derive(Debug, Clone, Serialize)]
pub struct PlaintextCallers<'g> {
    /// Workloads of the namespace running without any proxy because the namespace has
    /// no injection label.
    pub workloads: Vec<usize>,
    /// STRICT ports of other namespaces, by policy in input order.
    pub strict: Vec<&'g StrictPort>,
}

/// A client namespace whose proxies find no client TLS setting for a STRICT port.
#[derive(Debug, Clone, Serialize)]
pub struct ClientWithoutMtls<'g> {
    pub client: String,
    pub port: &'g StrictPort,
}

/// Whether a DestinationRule reaches any proxy of the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DestinationRuleUse {
    /// Proxies exist in the inputs but none uses the rule.
    pub latent: bool,
    /// The rule applies to clients of its own namespace only (it is outside the lookup
    /// path: neither in the root namespace nor beside a definition of its host).
    pub own_namespace_only: bool,
}

/// Which conflict between a `tls` block and the servers it governs to look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TlsConflict {
    /// `DISABLE` toward a port whose sidecar demands mutual TLS (STRICT).
    PlaintextToStrict,
    /// `ISTIO_MUTUAL` toward a server that cannot terminate Istio mTLS.
    IstioMutualToNonMesh,
    /// `ISTIO_MUTUAL` toward an HTTPS/TLS port that reaches a sidecar.
    IstioMutualToAppTls,
    /// `SIMPLE`/`MUTUAL` origination onto an HTTPS/TLS port, no gateway route using it.
    OriginationOnTlsPort,
}

/// Why a destination cannot answer Istio mTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NonMeshReason {
    /// A MESH_EXTERNAL ServiceEntry host.
    External,
    /// A workload known to run without a sidecar.
    NoSidecar,
    /// A container port excluded from the sidecar.
    Bypass,
    /// A port whose PeerAuthentication is DISABLE.
    Disabled,
}

/// One destination of a conflicting `tls` block.
#[derive(Debug, Clone, Serialize)]
pub struct TlsConflictHit {
    pub host: String,
    pub port: PortInfo,
    pub target: usize,
    /// The workload concerned (none for a ServiceEntry host or a port-level conflict).
    pub workload: Option<usize>,
    pub container_port: Option<u32>,
    /// What decided the conflict: the PeerAuthentication field, the injection decision,
    /// the exclusion annotation, the ServiceEntry or the port declaration.
    pub at: (usize, String),
    pub reason: Option<NonMeshReason>,
    /// Gateway routes reaching this port through this very block.
    pub gateway_routes: Vec<RouteTo>,
    /// Mesh HTTP routes moving plaintext to this port (port-rewrite origination).
    pub rewrites: Vec<RouteTo>,
}

/// A `tls` block of a DestinationRule in conflict with destinations it governs.
#[derive(Debug, Clone, Serialize)]
pub struct TlsBlockConflict {
    pub mode: String,
    /// The block's `mode` field (the block when it has none).
    pub at: String,
    pub subset: Option<String>,
    pub hits: Vec<TlsConflictHit>,
}

/// A workload port that bypasses the sidecar while auto mTLS sends clients Istio mTLS.
#[derive(Debug, Clone, Serialize)]
pub struct BypassedPort {
    pub host: String,
    pub port: u32,
    pub container_port: u32,
    /// Client namespaces that no DestinationRule gives a TLS mode for this port.
    pub clients: Vec<String>,
    /// Gateway routes (of those clients) sending traffic to the port.
    pub gateway_routes: Vec<RouteTo>,
}

impl MeshGraph {
    pub(crate) fn tls_answers(&self) -> &TlsAnswersIndex {
        self.tls_answers_index
            .get_or_init(|| self.build_tls_answers_index())
    }

    /// The FQDN a Service or ServiceEntry serves under (a ServiceEntry's first host).
    pub(crate) fn served_host(&self, t: usize) -> Option<String> {
        let r = &self.resources[t];
        match &r.typed {
            Typed::Service(_) => Some(format!(
                "{}.{}.svc.{}",
                r.name(),
                r.namespace(),
                self.mesh.dns_domain
            )),
            Typed::ServiceEntry(se) => Some(
                se.hosts
                    .first()
                    .map(|h| self.resolve_host(h, r.namespace()))
                    .unwrap_or_default(),
            ),
            _ => None,
        }
    }

    fn build_tls_answers_index(&self) -> TlsAnswersIndex {
        let mut ix = TlsAnswersIndex::default();
        let services = self.services_by_workload();
        let mut workloads: Vec<usize> = self.workloads_by_ns.values().flatten().copied().collect();
        workloads.sort_unstable();
        // The deciding fields met so far, so ports decided by one field share its path.
        let mut fields: HashMap<(usize, String), Arc<str>> = HashMap::default();
        for w in workloads {
            for &t in services.of(w) {
                let Some(host) = self.served_host(t) else {
                    continue;
                };
                let host: Arc<str> = self.shared_host(&host);
                for port in self.ports_of(t) {
                    let cp = self.target_port(w, &port);
                    let d = self.peer_mode(w, Some(cp));
                    let Some(policy) = d.source else { continue };
                    if d.value != "STRICT" || !self.inbound_captured(w, cp) {
                        continue;
                    }
                    let pa = policy.0;
                    let path = fields
                        .entry(policy)
                        .or_insert_with_key(|(_, path)| path.as_str().into())
                        .clone();
                    ix.strict_by_policy
                        .entry(pa)
                        .or_insert_with(crate::tally::new_list)
                        .push(StrictPort {
                            host: host.clone(),
                            target: t,
                            port: port.number,
                            workload: w,
                            container_port: cp,
                            policy: (pa, path),
                        });
                }
            }
        }
        crate::tally::shrink_lists(&mut ix.strict_by_policy);
        ix
    }

    /// The STRICT service ports a PeerAuthentication decides, workloads in input order.
    pub fn strict_ports(&self, pa: usize) -> &[StrictPort] {
        self.tls_answers()
            .strict_by_policy
            .get(&pa)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// For a namespace without an injection label whose workloads run without a proxy:
    /// those workloads and the STRICT ports of other namespaces they cannot call.
    pub fn plaintext_callers(&self, ns: &str) -> Option<PlaintextCallers<'_>> {
        let workloads: Vec<usize> = self
            .workloads_by_ns
            .get(ns)?
            .iter()
            .copied()
            .filter(|&w| {
                let d = self.data_plane(w);
                // `known`: no other document of the Namespace labels it for injection.
                d.plane == crate::DataPlane::OutOfMesh
                    && d.known
                    && self.injection_decision(w).value == "namespace-unlabelled"
            })
            .collect();
        if workloads.is_empty() {
            return None;
        }
        let strict: Vec<&StrictPort> = self
            .of_kind(Kind::PeerAuthentication)
            .iter()
            .flat_map(|&pa| self.strict_ports(pa))
            .filter(|p| self.resources[p.workload].namespace() != ns)
            .collect();
        (!strict.is_empty()).then_some(PlaintextCallers { workloads, strict })
    }

    /// With auto mTLS off: the (client namespace, STRICT port) pairs of a
    /// PeerAuthentication for which no DestinationRule the client uses sets a TLS mode.
    /// Clients are the namespaces of the inputs running proxies, else the workloads' own.
    pub fn clients_without_mtls(&self, pa: usize) -> Vec<ClientWithoutMtls<'_>> {
        if self.mesh.enable_auto_mtls {
            return Vec::new();
        }
        let ports = self.strict_ports(pa);
        let proxies = self.proxies_by_namespace();
        let mut out = Vec::new();
        let unset = |n: &str, p: &StrictPort| {
            self.client_tls(n, &p.host, Some(p.port), None).0.value == "UNSET"
        };
        if proxies.is_empty() {
            let mut own: Vec<String> = Vec::new();
            for p in ports {
                let ns = self.resources[p.workload].namespace().to_string();
                if !own.contains(&ns) {
                    own.push(ns);
                }
            }
            for p in ports {
                for n in own.iter().filter(|n| unset(n, p)) {
                    out.push(ClientWithoutMtls {
                        client: n.clone(),
                        port: p,
                    });
                }
            }
            return out;
        }
        for p in ports {
            for n in self.proxy_namespaces_without_tls(&p.host, p.port) {
                out.push(ClientWithoutMtls {
                    client: n.to_string(),
                    port: p,
                });
            }
        }
        out
    }

    /// The namespaces running proxies (sorted) whose merged DestinationRule for
    /// `host:port` sets no TLS mode (`client_tls` is UNSET). Clients outside
    /// `namespaces_resolving_apart` all get the answer of the first of them, so only
    /// those are asked one by one, and every client is walked only when that shared
    /// answer is "no TLS" (each of them is then in the answer).
    fn proxy_namespaces_without_tls(&self, host: &str, port: u32) -> Vec<&str> {
        let proxies = self.proxies_by_namespace();
        let unset = |n: &str| self.client_tls(n, host, Some(port), None).0.value == "UNSET";
        let Some(apart) = self.namespaces_resolving_apart(host) else {
            return proxies
                .iter()
                .map(|x| x.namespace.as_str())
                .filter(|n| unset(n))
                .collect();
        };
        let shared_unset = proxies
            .iter()
            .find(|x| !apart.contains(&x.namespace))
            .is_some_and(|x| unset(&x.namespace));
        if shared_unset {
            proxies
                .iter()
                .map(|x| x.namespace.as_str())
                .filter(|n| !apart.contains(*n) || unset(n))
                .collect()
        } else {
            apart
                .iter()
                .filter_map(|n| self.proxy_namespace(n))
                .map(|x| x.namespace.as_str())
                .filter(|n| unset(n))
                .collect()
        }
    }

    /// DestinationRules outside the root namespace that set ISTIO_MUTUAL for one of
    /// `hosts` written in another namespace: clients of that host's namespace never
    /// look there.
    pub fn misplaced_istio_mutual(&self, hosts: &[&str]) -> Vec<usize> {
        self.of_kind(Kind::DestinationRule)
            .iter()
            .copied()
            .filter(|&d| {
                let r = &self.resources[d];
                let Typed::DestinationRule(dr) = &r.typed else {
                    return false;
                };
                if dr.host.is_empty() || r.namespace() == self.mesh.root_namespace {
                    return false;
                }
                let pattern = self.resolve_host(&dr.host, r.namespace());
                hosts.iter().any(|h| {
                    host_matches(&pattern, h)
                        && h.split('.').nth(1).is_some_and(|hns| hns != r.namespace())
                }) && self
                    .tls_settings(d)
                    .iter()
                    .any(|s| s.tls.mode == "ISTIO_MUTUAL")
            })
            .collect()
    }

    /// Whether proxies of the inputs use a DestinationRule (see [`DestinationRuleUse`]).
    pub fn destination_rule_use(&self, dr: usize) -> DestinationRuleUse {
        let r = &self.resources[dr];
        let ns = r.namespace();
        let latent = !self.proxies_by_namespace().is_empty() && !self.has_client_namespace(dr);
        let own_namespace_only = latent
            && ns != self.mesh.root_namespace
            && match &r.typed {
                Typed::DestinationRule(d) => !self
                    .host_targets(&self.resolve_host(&d.host, ns))
                    .iter()
                    .any(|t| self.resources[t.resource].namespace() == ns),
                _ => false,
            };
        DestinationRuleUse {
            latent,
            own_namespace_only,
        }
    }

    /// The path a `tls` block is pointed at by: its `mode` field, else the block.
    fn tls_block_at(&self, dr: usize, setting: &TlsSetting) -> String {
        let mode_path = format!("{}.mode", setting.tls.path);
        if self.resources[dr].has_path(&mode_path) {
            mode_path
        } else {
            setting.tls.path.to_string()
        }
    }

    /// Gateway routes to a governed port whose gateway proxies take their client TLS
    /// from the block at `(dr, at)`; `http_only` keeps HTTP routes.
    fn gateway_routes_through(
        &self,
        d: &GovernedPort,
        dr: usize,
        at: &str,
        http_only: bool,
    ) -> Vec<RouteTo> {
        let single_port = self
            .host_targets(&d.host)
            .iter()
            .map(|t| self.ports_of(t.resource).len())
            .sum::<usize>()
            == 1;
        self.routes_to(&d.host)
            .into_iter()
            .filter(|r| {
                (!http_only || r.protocol == "http")
                    && !r.gateway_namespaces.is_empty()
                    && (r.port == Some(d.port.number) || (r.port.is_none() && single_port))
                    && r.gateway_namespaces.iter().any(|n| {
                        self.client_tls(n, &d.host, Some(d.port.number), r.subset.as_deref())
                            .0
                            .source
                            .is_some_and(|(i, p)| i == dr && p == at)
                    })
            })
            .collect()
    }

    /// The `tls` blocks of a DestinationRule in conflict of one kind with destinations
    /// they govern (blocks without any are left out).
    pub fn tls_conflicts(&self, dr: usize, kind: TlsConflict) -> Vec<TlsBlockConflict> {
        let mut out = Vec::new();
        for s in self.tls_settings(dr).iter() {
            let mode = s.tls.mode.as_str();
            let wanted = match kind {
                TlsConflict::PlaintextToStrict => mode == "DISABLE",
                TlsConflict::IstioMutualToNonMesh | TlsConflict::IstioMutualToAppTls => {
                    mode == "ISTIO_MUTUAL"
                }
                TlsConflict::OriginationOnTlsPort => matches!(mode, "SIMPLE" | "MUTUAL"),
            };
            if !wanted {
                continue;
            }
            let at = self.tls_block_at(dr, s);
            let mut hits = Vec::new();
            for d in &s.destinations {
                match kind {
                    TlsConflict::PlaintextToStrict => {
                        for w in d
                            .workloads
                            .iter()
                            .filter(|w| w.captured && w.peer.value == "STRICT")
                        {
                            hits.push(self.workload_hit(d, w, w.peer.source.clone(), None));
                        }
                    }
                    TlsConflict::IstioMutualToNonMesh => {
                        hits.extend(self.non_mesh_hits(d));
                    }
                    TlsConflict::IstioMutualToAppTls => {
                        if tls_port(d)
                            && !self.mesh_external(d.target)
                            && (d.workloads.is_empty() || d.workloads.iter().any(|w| w.captured))
                        {
                            let mut hit = self.port_hit(d);
                            hit.gateway_routes = self.gateway_routes_through(d, dr, &at, true);
                            hits.push(hit);
                        }
                    }
                    TlsConflict::OriginationOnTlsPort => {
                        if tls_port(d) && self.gateway_routes_through(d, dr, &at, false).is_empty()
                        {
                            let mut hit = self.port_hit(d);
                            hit.rewrites = self
                                .routes_to(&d.host)
                                .into_iter()
                                .filter(|r| {
                                    r.gateway_namespaces.is_empty()
                                        && r.protocol == "http"
                                        && r.port == Some(d.port.number)
                                })
                                .collect();
                            hits.push(hit);
                        }
                    }
                }
            }
            if hits.is_empty() {
                continue;
            }
            if kind == TlsConflict::OriginationOnTlsPort && self.only_gateways_use(dr) {
                continue;
            }
            out.push(TlsBlockConflict {
                mode: s.tls.mode.to_string(),
                at,
                subset: s.subset.clone(),
                hits,
            });
        }
        out
    }

    /// Every namespace a rule applies to runs only gateway proxies: gateways terminate
    /// the client's TLS and originate their own, so origination is what is meant.
    fn only_gateways_use(&self, dr: usize) -> bool {
        match self.clients_of(dr) {
            crate::visibility::Clients::Listed(list) => {
                let proxied: Vec<&crate::ProxyNamespace> = list
                    .iter()
                    .filter_map(|n| self.proxy_namespace(n))
                    .collect();
                !proxied.is_empty() && proxied.iter().all(|p| p.sidecars == 0)
            }
            crate::visibility::Clients::Every => {
                !self.proxies_by_namespace().is_empty() && self.namespaces_with_sidecars() == 0
            }
        }
    }

    fn mesh_external(&self, target: usize) -> bool {
        matches!(&self.resources[target].typed, Typed::ServiceEntry(se) if se.location == "MESH_EXTERNAL")
    }

    fn port_hit(&self, d: &GovernedPort) -> TlsConflictHit {
        TlsConflictHit {
            host: d.host.clone(),
            port: d.port.clone(),
            target: d.target,
            workload: None,
            container_port: None,
            at: (d.target, d.port.path.clone()),
            reason: None,
            gateway_routes: Vec::new(),
            rewrites: Vec::new(),
        }
    }

    fn workload_hit(
        &self,
        d: &GovernedPort,
        w: &GovernedWorkload,
        at: Option<(usize, String)>,
        reason: Option<NonMeshReason>,
    ) -> TlsConflictHit {
        TlsConflictHit {
            workload: Some(w.workload),
            container_port: Some(w.container_port),
            at: at.unwrap_or_else(|| (w.workload, "metadata.name".to_string())),
            reason,
            ..self.port_hit(d)
        }
    }

    /// Destinations of an ISTIO_MUTUAL block that cannot terminate Istio mTLS.
    fn non_mesh_hits(&self, d: &GovernedPort) -> Vec<TlsConflictHit> {
        if self.mesh_external(d.target) {
            return vec![TlsConflictHit {
                at: (d.target, "metadata.name".to_string()),
                reason: Some(NonMeshReason::External),
                ..self.port_hit(d)
            }];
        }
        let mut out = Vec::new();
        for w in &d.workloads {
            let sidecar = self.has_sidecar(w.workload);
            let (reason, at) = if !sidecar && self.sidecar_known(w.workload) {
                let at = self.injection_decision(w.workload).source;
                (NonMeshReason::NoSidecar, at)
            } else if sidecar && !w.captured {
                let at = format!(
                    "{}.annotations[\"traffic.sidecar.istio.io/excludeInboundPorts\"]",
                    self.pod_metadata_path(w.workload)
                );
                (NonMeshReason::Bypass, Some((w.workload, at)))
            } else if w.captured && w.peer.value == "DISABLE" {
                (NonMeshReason::Disabled, w.peer.source.clone())
            } else {
                continue;
            };
            out.push(self.workload_hit(d, w, at, Some(reason)));
        }
        out
    }

    /// For a workload whose pods exclude inbound ports from the sidecar, with auto mTLS
    /// on: the service ports reaching an excluded container port, with the client
    /// namespaces (those running proxies, else the workload's) that no DestinationRule
    /// gives a TLS mode for it, so auto mTLS sends them Istio mTLS (it decides per pod).
    pub fn auto_mtls_to_bypassed_ports(&self, w: usize) -> Vec<BypassedPort> {
        const EXCLUDE: &str = "traffic.sidecar.istio.io/excludeInboundPorts";
        let r = &self.resources[w];
        let annotated = r.annotations.contains_key(EXCLUDE)
            || matches!(&r.typed, Typed::Workload(t) if t.annotations.contains_key(EXCLUDE));
        if !self.mesh.enable_auto_mtls || !annotated {
            return Vec::new();
        }
        let proxies = self.proxies_by_namespace();
        let own = self.resources[w].namespace();
        let mut out = Vec::new();
        for svc in self.services_for(w) {
            let Some(host) = self.served_host(svc) else {
                continue;
            };
            let single_port = self
                .host_targets(&host)
                .iter()
                .map(|t| self.ports_of(t.resource).len())
                .sum::<usize>()
                == 1;
            for p in self.ports_of(svc) {
                for t in self.host_targets(&host) {
                    if !self.workloads_of(t.resource).contains(&w) {
                        continue;
                    }
                    let cp = self
                        .ports_of(t.resource)
                        .iter()
                        .find(|x| x.number == p.number)
                        .map(|x| self.target_port(w, x))
                        .unwrap_or(p.number);
                    if !self.has_sidecar(w) || self.inbound_captured(w, cp) {
                        continue;
                    }
                    // Clients are the namespaces running proxies, else the workload's own.
                    let missing: Vec<String> = if proxies.is_empty() {
                        let tls = self.client_tls(own, &host, Some(p.number), None);
                        (tls.0.value == "UNSET")
                            .then(|| own.to_string())
                            .into_iter()
                            .collect()
                    } else {
                        self.proxy_namespaces_without_tls(&host, p.number)
                            .into_iter()
                            .map(str::to_string)
                            .collect()
                    };
                    if missing.is_empty() {
                        continue;
                    }
                    let gateway_routes = self
                        .routes_to(&host)
                        .into_iter()
                        .filter(|r| {
                            r.gateway_namespaces.iter().any(|n| missing.contains(n))
                                && (r.port == Some(p.number) || (r.port.is_none() && single_port))
                        })
                        .collect();
                    // A host defined twice (copies of one Service, a ServiceEntry
                    // beside it) is one destination.
                    if out
                        .iter()
                        .any(|b: &BypassedPort| b.host == host && b.port == p.number)
                    {
                        continue;
                    }
                    out.push(BypassedPort {
                        host: host.clone(),
                        port: p.number,
                        container_port: cp,
                        clients: missing,
                        gateway_routes,
                    });
                }
            }
        }
        out
    }
}

/// Why a PeerAuthentication's `portLevelMtls` never applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PortLevelMtlsIssue {
    /// The policy has no workload selector: Istio ignores port-level settings there.
    NoSelector { ports: Vec<String> },
    /// No selected workload exposes this container port.
    NoPort {
        port: String,
        workloads: Vec<usize>,
        container_ports: Vec<String>,
        /// Services of those workloads whose service port is this number:
        /// (Service, its target port as written, else the number).
        service_ports: Vec<(usize, String)>,
    },
}

/// A Gateway server facing clients outside the mesh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalServer {
    /// Index in `spec.servers`.
    pub index: usize,
    pub port: i64,
    /// `tls.mode` as written (empty when none).
    pub mode: String,
    /// LoadBalancer and NodePort Services exposing the port on the gateway's pods
    /// (none when the selector alone names an ingress gateway).
    pub exposed_by: Vec<usize>,
}

impl MeshGraph {
    /// The container ports a workload declares (a WorkloadEntry's port map values).
    fn declared_ports(&self, w: usize) -> Vec<u32> {
        match &self.resources[w].typed {
            Typed::Workload(wl) => wl.ports.iter().map(|p| p.port).collect(),
            Typed::WorkloadEntry(we) => we.ports.values().copied().collect(),
            _ => Vec::new(),
        }
    }

    /// Why `portLevelMtls` entries of a PeerAuthentication never apply: the policy has
    /// no selector (one issue for all ports), or, when every selected workload declares
    /// its ports, a port key none of them exposes (one issue per key, sorted).
    pub fn port_level_mtls_ignored(&self, pa: usize) -> Vec<PortLevelMtlsIssue> {
        let r = &self.resources[pa];
        let Some(spec) = r.spec() else {
            return Vec::new();
        };
        let mut ports: Vec<String> = spec
            .get("portLevelMtls")
            .map(|m| m.entries())
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, _)| k.as_str().map(str::to_string))
            .collect();
        if ports.is_empty() {
            return Vec::new();
        }
        ports.sort();
        let selector = match &r.typed {
            Typed::PeerAuthentication(p) => p.selector.as_ref().filter(|s| !s.is_empty()),
            _ => None,
        };
        let Some(selector) = selector else {
            return vec![PortLevelMtlsIssue::NoSelector { ports }];
        };
        let workloads = self.workloads_selected(r.namespace(), selector);
        let declared: Vec<Vec<u32>> = workloads.iter().map(|&w| self.declared_ports(w)).collect();
        if workloads.is_empty() || declared.iter().any(Vec::is_empty) {
            return Vec::new();
        }
        let mut container_ports: Vec<String> = Vec::new();
        for p in declared.iter().flatten().map(u32::to_string) {
            if !container_ports.contains(&p) {
                container_ports.push(p);
            }
        }
        let mut out = Vec::new();
        for port in ports {
            if container_ports.contains(&port) {
                continue;
            }
            let mut service_ports: Vec<(usize, String)> = Vec::new();
            for &w in &workloads {
                for svc in self.services_for(w) {
                    for p in self
                        .ports_of(svc)
                        .into_iter()
                        .filter(|p| p.number.to_string() == port)
                    {
                        let target = p.target_port.clone().unwrap_or_else(|| port.clone());
                        let name = self.resources[svc].name();
                        if !service_ports
                            .iter()
                            .any(|(s, t)| self.resources[*s].name() == name && *t == target)
                        {
                            service_ports.push((svc, target));
                        }
                    }
                }
            }
            out.push(PortLevelMtlsIssue::NoPort {
                port,
                workloads: workloads.clone(),
                container_ports: container_ports.clone(),
                service_ports,
            });
        }
        out
    }

    /// The servers of a Gateway that face clients outside the mesh: a LoadBalancer or
    /// NodePort Service exposes the port on the gateway's pods, or, when no Service of
    /// the inputs selects those pods (or they are not in the inputs), the selector
    /// names the ingress gateway.
    pub fn externally_facing_servers(&self, gateway: usize) -> Vec<ExternalServer> {
        let r = &self.resources[gateway];
        let servers = r
            .spec()
            .and_then(|s| s.get("servers"))
            .map(|n| n.items())
            .unwrap_or(&[]);
        let services: Vec<usize> = self
            .gateway_ref(r.name(), r.namespace())
            .map(|g| self.selected_workloads(g))
            .unwrap_or_default()
            .into_iter()
            .flat_map(|w| self.services_for(w))
            .filter(|&s| matches!(self.resources[s].typed, Typed::Service(_)))
            .collect();
        let ingress_selector = match &r.typed {
            Typed::Gateway(g) => {
                g.selector.get("istio") == Some("ingressgateway")
                    || g.selector.get("app") == Some("istio-ingressgateway")
            }
            _ => false,
        };
        let mut out = Vec::new();
        for (index, s) in servers.iter().enumerate() {
            let port = s
                .get("port")
                .and_then(|p| p.get("number"))
                .and_then(|n| n.as_i64())
                .unwrap_or(0);
            let mut exposed_by: Vec<usize> = Vec::new();
            for &svc in &services {
                let Typed::Service(k) = &self.resources[svc].typed else {
                    continue;
                };
                let external =
                    matches!(k.service_type.as_deref(), Some("LoadBalancer" | "NodePort"));
                let reaches = k.ports.iter().any(|p| {
                    p.target_port
                        .as_deref()
                        .map(str::to_string)
                        .unwrap_or_else(|| p.port.to_string())
                        == port.to_string()
                        || i64::from(p.port) == port
                });
                if external && reaches && !exposed_by.contains(&svc) {
                    exposed_by.push(svc);
                }
            }
            if exposed_by.is_empty() && !(services.is_empty() && ingress_selector) {
                continue;
            }
            out.push(ExternalServer {
                index,
                port,
                mode: s
                    .get("tls")
                    .and_then(|t| t.str_at(&["mode"]))
                    .unwrap_or("")
                    .to_string(),
                exposed_by,
            });
        }
        out
    }
}

/// A Gateway server that terminates TLS without naming a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UncertifiedServer {
    /// Index in `spec.servers`.
    pub index: usize,
    /// The port number as written (`?` when absent).
    pub port: String,
    /// `SIMPLE`, `MUTUAL` or `OPTIONAL_MUTUAL`.
    pub mode: String,
}

impl MeshGraph {
    /// The servers of a Gateway that terminate TLS (SIMPLE, MUTUAL, OPTIONAL_MUTUAL)
    /// but name no certificate: no `credentialName(s)`, `tlsCertificates` or
    /// `serverCertificate` (Istio's validation refuses them).
    pub fn servers_without_certificate(&self, gateway: usize) -> Vec<UncertifiedServer> {
        let servers = self.resources[gateway]
            .spec()
            .and_then(|s| s.get("servers"))
            .map(|n| n.items())
            .unwrap_or(&[]);
        let mut out = Vec::new();
        for (index, s) in servers.iter().enumerate() {
            let Some(tls) = s.get("tls") else { continue };
            let mode = tls.str_at(&["mode"]).unwrap_or("");
            if !matches!(mode, "SIMPLE" | "MUTUAL" | "OPTIONAL_MUTUAL") {
                continue;
            }
            let text = |k: &str| tls.str_at(&[k]).is_some_and(|v| !v.is_empty());
            let list = |k: &str| tls.get(k).is_some_and(|v| !v.items().is_empty());
            if text("credentialName")
                || list("credentialNames")
                || list("tlsCertificates")
                || text("serverCertificate")
            {
                continue;
            }
            let port = s
                .get("port")
                .and_then(|p| p.get("number"))
                .and_then(|n| n.as_str());
            out.push(UncertifiedServer {
                index,
                port: port.unwrap_or("?").to_string(),
                mode: mode.to_string(),
            });
        }
        out
    }
}

/// A port where the application speaks TLS itself.
fn tls_port(d: &GovernedPort) -> bool {
    matches!(d.port.protocol.as_str(), "HTTPS" | "TLS")
}
