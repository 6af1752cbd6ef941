//! Mutual TLS: the PeerAuthentication mode a workload enforces (with precedence), which
//! workloads and ports each DestinationRule TLS block governs, sidecar capture.

use crate::build::MeshGraph;
use crate::queries::*;
use meshlint_model::typed::*;
use meshlint_model::Kind;
use serde::Serialize;
use std::cell::RefCell;
use std::sync::Arc;

/// A thread's recent `tls_settings` answer: graph generation, DestinationRule, answer.
type RecentTlsSettings = (u64, usize, Arc<[TlsSetting]>);

/// A workload behind a governed port: the container port reached, the server-side
/// mTLS mode there and what decided it, and whether a sidecar intercepts that port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GovernedWorkload {
    pub workload: usize,
    pub container_port: u32,
    pub peer: Decision,
    pub captured: bool,
    /// Who enforces `peer` there: `sidecar` (captured), `ztunnel` (an ambient
    /// workload: STRICT is enforced, DISABLE is ignored) or `none`.
    pub enforced_by: &'static str,
}

/// A (host, service port) a client TLS setting applies to, with the workloads behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GovernedPort {
    pub host: String,
    pub target: usize,
    pub port: PortInfo,
    pub workloads: Vec<GovernedWorkload>,
    /// Ambient workloads behind the port, for a `tls` block of mode `ISTIO_MUTUAL` or
    /// `DISABLE`: toward HBONE-capable endpoints the client sends HBONE whatever the
    /// block says (Istio's `applyHBONETransportSocketMatches`), so the block does not
    /// govern them and they are not in `workloads`.
    pub hbone: Vec<GovernedWorkload>,
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

/// A `DISABLE` block of a DestinationRule that governs nothing on some service ports
/// because their endpoints are ambient: clients reach them over HBONE (mutual TLS on
/// 15008) whatever the block says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisableTowardAmbient {
    /// The `tls` block.
    pub path: String,
    /// `host:port` of each such service port, in order, without repeats.
    pub targets: Vec<String>,
    /// The ambient workloads behind them, without repeats.
    pub workloads: Vec<usize>,
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
    /// `sidecar`, `ztunnel` or `none`, as in [`GovernedWorkload`].
    pub enforced_by: &'static str,
}

pub(crate) fn port_list(v: Option<&str>) -> Option<Vec<String>> {
    v.map(|s| {
        s.split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    })
}

impl MeshGraph {
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
                            value: pm.mode.to_string(),
                            source: Some((p, pm.path.to_string())),
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
                    value: pa.mode.to_string(),
                    source: Some((p, path.to_string())),
                };
            }
        }
        Decision::default_value("PERMISSIVE")
    }

    pub(crate) fn selectorless_pa(&self, ns: &str) -> Option<usize> {
        let mut v: Vec<usize> = self
            .in_namespace(ns, Kind::PeerAuthentication)
            .iter()
            .copied()
            .filter(|&p| matches!(&self.resources[p].typed, Typed::PeerAuthentication(pa) if pa.selector.as_ref().is_none_or(|s| s.is_empty())))
            .collect();
        v.sort_by(|a, b| self.resources[*a].name().cmp(self.resources[*b].name()));
        v.first().copied()
    }

    /// Whether the inputs say for certain whether a workload has a sidecar: a proxy
    /// container, a pod-level `sidecar.istio.io/inject`, or its Namespace resource — and
    /// every document of the workload and of its Namespace agrees.
    pub fn sidecar_known(&self, workload: usize) -> bool {
        let r = &self.resources[workload];
        let said = match &r.typed {
            Typed::Workload(w) => {
                w.has_proxy_container
                    || w.inject != meshlint_model::typed::Injection::Unset
                    || crate::build::pod_revision(&w.labels).is_some()
                    || self.namespace_resource(r.namespace()).is_some()
            }
            Typed::WorkloadEntry(_) => true,
            _ => false,
        };
        said && self.injection_copies_agree(workload)
    }

    /// Whether every document of a workload, and of its Namespace, says the same about
    /// injection. One object written several times — a kustomize base and the patch that
    /// labels it for injection, read side by side — leaves the answer open when they
    /// differ: which one is applied is not in the inputs.
    fn injection_copies_agree(&self, workload: usize) -> bool {
        let mine = self.has_sidecar(workload);
        if self
            .copies_of(workload)
            .iter()
            .any(|&c| self.has_sidecar(c) != mine)
        {
            return false;
        }
        // The Namespace decides only where the pod says nothing itself.
        let r = &self.resources[workload];
        let pod_decides = match &r.typed {
            Typed::Workload(w) => {
                w.has_proxy_container
                    || w.inject != meshlint_model::typed::Injection::Unset
                    || crate::build::pod_revision(&w.labels).is_some()
            }
            _ => true,
        };
        let Some(n) = self
            .namespace_resource(r.namespace())
            .filter(|_| !pod_decides)
        else {
            return true;
        };
        let injection_labels = |i: usize| {
            let labels = &self.resources[i].labels;
            (labels.get("istio-injection"), labels.get("istio.io/rev"))
        };
        let first = injection_labels(n);
        self.copies_of(n)
            .iter()
            .all(|&c| injection_labels(c) == first)
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

    /// Who enforces a workload's PeerAuthentication mode on a container port:
    /// `sidecar`, `ztunnel` (ambient) or `none`.
    pub fn mtls_enforced_by(&self, workload: usize, port: u32) -> &'static str {
        if self.inbound_captured(workload, port) {
            "sidecar"
        } else if self.is_ambient(workload) {
            "ztunnel"
        } else {
            "none"
        }
    }

    pub(crate) fn governed(
        &self,
        host: &str,
        target: usize,
        port: &PortInfo,
        labels: Option<&Labels>,
        hbone_replaces: bool,
    ) -> GovernedPort {
        let (hbone, workloads): (Vec<GovernedWorkload>, Vec<GovernedWorkload>) = self
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
                    enforced_by: self.mtls_enforced_by(w, cp),
                }
            })
            .partition(|g| hbone_replaces && g.enforced_by == "ztunnel");
        GovernedPort {
            host: host.to_string(),
            target,
            port: port.clone(),
            workloads,
            hbone,
        }
    }

    /// The `DISABLE` blocks of a DestinationRule with service ports whose endpoints are
    /// ambient (`hbone` in `tls_settings`), where the block changes nothing.
    pub fn disable_toward_ambient(&self, dr: usize) -> Vec<DisableTowardAmbient> {
        self.tls_settings(dr)
            .iter()
            .filter(|t| t.tls.mode == "DISABLE")
            .filter_map(|t| {
                let (mut targets, mut workloads) = (Vec::new(), Vec::new());
                for d in t.destinations.iter().filter(|d| !d.hbone.is_empty()) {
                    let target = format!("{}:{}", d.host, d.port.number);
                    if !targets.contains(&target) {
                        targets.push(target);
                    }
                    for w in &d.hbone {
                        if !workloads.contains(&w.workload) {
                            workloads.push(w.workload);
                        }
                    }
                }
                (!targets.is_empty()).then_some(DisableTowardAmbient {
                    path: t.tls.path.to_string(),
                    targets,
                    workloads,
                })
            })
            .collect()
    }

    /// Every explicit `tls` block of a DestinationRule with the (host, port, workloads)
    /// it decides for the clients that use the rule. Hosts for which a more specific
    /// DestinationRule of the same namespace wins are left out.
    ///
    /// The TLS rules ask this of the DestinationRule they are evaluated on several times
    /// (once per conflict kind, for ambient, for the rule language), all on one thread:
    /// the last few answers of each thread are kept (keeping every answer for the whole
    /// run cost 14 MB on the 2,000-namespace gen-mesh corpus).
    pub fn tls_settings(&self, dr: usize) -> Arc<[TlsSetting]> {
        thread_local! {
            static RECENT: RefCell<Vec<RecentTlsSettings>> = const { RefCell::new(Vec::new()) };
        }
        const KEPT: usize = 4;
        let key = (self.generation, dr);
        if let Some(hit) = RECENT.with_borrow(|recent| {
            recent
                .iter()
                .find(|(g, d, _)| (*g, *d) == key)
                .map(|(_, _, s)| s.clone())
        }) {
            return hit;
        }
        let settings: Arc<[TlsSetting]> = self.compute_tls_settings(dr).into();
        RECENT.with_borrow_mut(|recent| {
            if recent.len() == KEPT {
                recent.remove(0);
            }
            recent.push((key.0, key.1, settings.clone()));
        });
        settings
    }

    fn compute_tls_settings(&self, dr: usize) -> Vec<TlsSetting> {
        let r = &self.resources[dr];
        let Typed::DestinationRule(d) = &r.typed else {
            return Vec::new();
        };
        let ns = r.namespace();
        let fqdn = self.resolve_host(&d.host, ns);
        // The merged rule for `fqdn` is worked out once: the targets usually serve
        // `fqdn` itself, and it is needed below as well.
        let merged_here = (d.workload_selector.is_none())
            .then(|| self.merged_destination_rule(ns, &fqdn))
            .flatten();
        let targets: Vec<HostTarget> = self
            .host_targets(&fqdn)
            .into_iter()
            .filter(|t| {
                d.workload_selector.is_some()
                    || if t.host == fqdn {
                        merged_here
                            .as_ref()
                            .is_some_and(|m| m.members.contains(&dr))
                    } else {
                        self.merged_destination_rule(ns, &t.host)
                            .is_some_and(|m| m.members.contains(&dr))
                    }
            })
            .collect();
        // Merged with other DestinationRules for the host, this document's top-level
        // policy applies only if it is the first with one, and its subsets only where no
        // earlier document defines the same name.
        let merged = merged_here.filter(|m| m.members.contains(&dr));
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
            if let Some(t) = &s.traffic_policy().tls {
                blocks.push((t.clone(), None, Some(s)));
            }
            for p in &s.traffic_policy().port_level {
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
                        (None, Some(s)) => !port_tls(s.traffic_policy(), p.number),
                    };
                    if applies {
                        destinations.push(self.governed(
                            &t.host,
                            t.resource,
                            &p,
                            subset.map(|s| &s.labels),
                            matches!(tls.mode.as_str(), "ISTIO_MUTUAL" | "DISABLE"),
                        ));
                    }
                }
            }
            out.push(TlsSetting {
                tls,
                port,
                subset: subset.map(|s| s.name.to_string()),
                destinations,
            });
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
                let Some(host) = self.served_host(t) else {
                    continue;
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
                        enforced_by: self.mtls_enforced_by(w, cp),
                        peer: d,
                    });
                }
            }
        }
        out
    }
}
