//! Mutual TLS conflicts decided at namespace and mesh level, without workloads.
//!
//! A platform repository often holds only the policies: a namespace-wide or mesh-wide
//! PeerAuthentication and DestinationRules for wildcard hosts. Those alone make some
//! conflicts certain. Here a namespace's services are the hosts `*.<ns>.svc.<domain>`;
//! the namespace-level mode is its selector-less PeerAuthentication's (unless `UNSET`),
//! else the mesh-wide one's (root namespace). DestinationRule precedence is applied: a
//! more specific rule of the same namespace, or (for a root-namespace rule) a rule in the
//! service's namespace covering all of its services, takes over and removes the conflict.

use crate::build::MeshGraph;
use meshlint_model::typed::Typed;
use meshlint_model::Kind;
use serde::Serialize;

/// Whether host pattern `p` covers every host `h` stands for (`h` may be a wildcard):
/// unlike an overlap, a concrete `p` never covers a wildcard `h`.
fn covers(p: &str, h: &str) -> bool {
    if p == "*" || p == h {
        return true;
    }
    match p.strip_prefix('*') {
        Some(suffix) => h.strip_prefix('*').unwrap_or(h).ends_with(suffix),
        None => false,
    }
}

/// One side of a namespace- or mesh-level mTLS conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelConflict {
    /// The service namespace concerned, or `''` for "every namespace without its own
    /// policy" (mesh level).
    pub namespace: String,
    /// `namespace` or `mesh`: the level of the PeerAuthentication that decides.
    pub level: &'static str,
    /// The other resource and the field that decides (a PeerAuthentication's mode, or a
    /// DestinationRule's `tls.mode`).
    pub other: (usize, String),
    /// The host concerned (the DestinationRule's host, resolved).
    pub host: String,
}

impl MeshGraph {
    /// The namespace-level PeerAuthentication mode of `ns` with what decided it: its
    /// selector-less policy unless `UNSET`, else the mesh-wide one (`level` `mesh`);
    /// None when neither sets a mode (PERMISSIVE by default).
    pub fn namespace_peer_mode(&self, ns: &str) -> Option<(String, usize, &'static str)> {
        let root = self.mesh.root_namespace.as_str();
        let chain = [
            (ns != root)
                .then(|| self.selectorless_pa(ns))
                .flatten()
                .map(|p| (p, "namespace")),
            self.selectorless_pa(root).map(|p| (p, "mesh")),
        ];
        chain
            .into_iter()
            .flatten()
            .find_map(|(p, level)| match &self.resources[p].typed {
                Typed::PeerAuthentication(pa) if pa.mode != "UNSET" => {
                    Some((pa.mode.to_string(), p, level))
                }
                _ => None,
            })
    }

    /// Whether a PeerAuthentication's mode is certain: every document of its object (see
    /// `identity.rs`) sets the same mode — a tutorial's `enable-mtls.yml` and
    /// `disable-mtls.yml` are alternatives of one object — and, for a selector-less one,
    /// no other selector-less policy of its namespace sets another (Istio keeps the
    /// oldest, which the files do not tell).
    pub fn peer_mode_agreed(&self, pa: usize) -> bool {
        let mode = |p: usize| match &self.resources[p].typed {
            Typed::PeerAuthentication(x) => Some(x.mode.clone()),
            _ => None,
        };
        let selectorless = |p: usize| matches!(&self.resources[p].typed, Typed::PeerAuthentication(x) if x.selector.as_ref().is_none_or(|s| s.is_empty()));
        let first = mode(pa);
        if !self.copies_of(pa).iter().all(|&c| mode(c) == first) {
            return false;
        }
        !selectorless(pa)
            || self
                .in_namespace(self.resources[pa].namespace(), Kind::PeerAuthentication)
                .iter()
                .all(|&o| !selectorless(o) || mode(o) == first)
    }

    /// The top-level TLS mode of a DestinationRule with its resolved host, when set.
    pub(crate) fn dr_top_mode(&self, dr: usize) -> Option<(String, String)> {
        let r = &self.resources[dr];
        let Typed::DestinationRule(d) = &r.typed else {
            return None;
        };
        let tls = d.traffic_policy.tls.as_ref()?;
        Some((
            tls.mode.to_string(),
            self.resolve_host(&d.host, r.namespace()),
        ))
    }

    fn pa_mode_path(&self, pa: usize) -> String {
        if self.resources[pa].has_path("spec.mtls.mode") {
            "spec.mtls.mode".to_string()
        } else {
            "spec".to_string()
        }
    }

    /// Whether another DestinationRule takes over from `dr` (host `host`) for every
    /// service of `ns`: a more specific one in `dr`'s namespace, or, for a root-namespace
    /// rule, one in `ns` itself.
    fn overridden_for(&self, dr: usize, host: &str, ns: &str) -> bool {
        let own_ns = self.resources[dr].namespace();
        let root = self.mesh.root_namespace.as_str();
        let services = format!("*.{ns}.svc.{}", self.mesh.dns_domain);
        let mut candidates: Vec<usize> = self.in_namespace(own_ns, Kind::DestinationRule).to_vec();
        if own_ns == root && ns != root {
            candidates.extend_from_slice(self.in_namespace(ns, Kind::DestinationRule));
        }
        candidates.into_iter().any(|o| {
            if self.same_object(o, dr) {
                return false;
            }
            let r = &self.resources[o];
            let Typed::DestinationRule(d) = &r.typed else {
                return false;
            };
            let h2 = self.resolve_host(&d.host, r.namespace());
            let covers_all = covers(&h2, &services);
            covers_all && (r.namespace() != own_ns || (h2 != host && covers(host, &h2)))
        })
    }

    /// For a DestinationRule for a wildcard host whose top-level TLS mode is `DISABLE`:
    /// the namespaces whose services it covers and whose namespace-level (or mesh-wide)
    /// PeerAuthentication is STRICT, with that policy's mode field. The mesh-wide policy
    /// is listed once (namespace `''`) when the host covers every namespace; namespaces
    /// with a policy of their own are listed by name.
    pub fn strict_namespaces_under_disable(&self, dr: usize) -> Vec<LevelConflict> {
        let Some((mode, host)) = self.dr_top_mode(dr) else {
            return Vec::new();
        };
        if mode != "DISABLE" || !host.starts_with('*') {
            return Vec::new();
        }
        let root = self.mesh.root_namespace.clone();
        let suffix = format!(".svc.{}", self.mesh.dns_domain);
        // `*.<ns>.svc.<domain>` names one namespace; other wildcards cover every
        // namespace whose services they match.
        let single = host
            .strip_prefix("*.")
            .and_then(|h| h.strip_suffix(&suffix))
            .filter(|n| !n.contains('.') && !n.contains('*'))
            .map(str::to_string);
        let mut namespaces: Vec<String> = match &single {
            Some(n) => vec![n.clone()],
            None => self
                .of_kind(Kind::PeerAuthentication)
                .iter()
                .map(|&p| self.resources[p].namespace().to_string())
                .filter(|n| *n != root)
                .collect(),
        };
        namespaces.sort();
        namespaces.dedup();
        let mut out = Vec::new();
        for ns in namespaces {
            let services = format!("*.{ns}.svc.{}", self.mesh.dns_domain);
            if !covers(&host, &services) || self.overridden_for(dr, &host, &ns) {
                continue;
            }
            match self.namespace_peer_mode(&ns) {
                Some((_, p, _)) if !self.peer_mode_agreed(p) => {}
                Some((m, p, "namespace")) if m == "STRICT" => out.push(LevelConflict {
                    namespace: ns,
                    level: "namespace",
                    other: (p, self.pa_mode_path(p)),
                    host: host.clone(),
                }),
                Some((m, p, _)) if m == "STRICT" && single.is_some() => out.push(LevelConflict {
                    namespace: ns,
                    level: "mesh",
                    other: (p, self.pa_mode_path(p)),
                    host: host.clone(),
                }),
                _ => {}
            }
        }
        if single.is_none() && covers(&host, &format!("*{suffix}")) {
            if let Some((m, p, "mesh")) = self.namespace_peer_mode(&root) {
                if m == "STRICT" && self.peer_mode_agreed(p) {
                    out.push(LevelConflict {
                        namespace: String::new(),
                        level: "mesh",
                        other: (p, self.pa_mode_path(p)),
                        host,
                    });
                }
            }
        }
        out
    }

    /// For a selector-less PeerAuthentication with mode `DISABLE` (namespace-wide, or
    /// mesh-wide in the root namespace): DestinationRules whose top-level TLS mode is
    /// `ISTIO_MUTUAL` for hosts of the namespaces it decides (its own; for the mesh-wide
    /// one, every namespace without a namespace-level mode of its own), with their
    /// `tls.mode` field. Concrete hosts are left out when their namespace has
    /// workload-level PeerAuthentications (one may decide for that service instead).
    pub fn istio_mutual_to_disabled(&self, pa: usize) -> Vec<LevelConflict> {
        let r = &self.resources[pa];
        let Typed::PeerAuthentication(p) = &r.typed else {
            return Vec::new();
        };
        if p.mode != "DISABLE" || p.selector.as_ref().is_some_and(|s| !s.is_empty()) {
            return Vec::new();
        }
        let ns = r.namespace();
        if self.selectorless_pa(ns) != Some(pa) || !self.peer_mode_agreed(pa) {
            return Vec::new();
        }
        let root = self.mesh.root_namespace.as_str();
        let level = if ns == root { "mesh" } else { "namespace" };
        let suffix = format!(".svc.{}", self.mesh.dns_domain);
        let mut out = Vec::new();
        for &dr in self.of_kind(Kind::DestinationRule) {
            let Some((mode, host)) = self.dr_top_mode(dr) else {
                continue;
            };
            if mode != "ISTIO_MUTUAL" {
                continue;
            }
            // The namespace whose services the host names, or None for a wildcard
            // spanning namespaces.
            let host_ns: Option<&str> = host.strip_suffix(&suffix).and_then(|h| {
                let (_, n) = h.rsplit_once('.')?;
                (!n.contains('*')).then_some(n)
            });
            let decided: Vec<String> = match (host_ns, level) {
                (Some(n), "namespace") if n == ns => vec![n.to_string()],
                (Some(_), "namespace") => Vec::new(),
                (Some(n), _) => vec![n.to_string()],
                (None, "namespace") => vec![ns.to_string()],
                (None, _) => vec![String::new()],
            };
            for n in decided {
                let services = format!("*.{n}.svc.{}", self.mesh.dns_domain);
                let concrete = !host.starts_with('*');
                if !n.is_empty() {
                    if !covers(&host, &services) && !concrete {
                        continue;
                    }
                    if self.namespace_peer_mode(&n).map(|(_, p, _)| p) != Some(pa) {
                        continue;
                    }
                    if self.overridden_for(dr, &host, &n) {
                        continue;
                    }
                    let workload_level = self.in_namespace(&n, Kind::PeerAuthentication).iter().any(|&o| {
                        matches!(&self.resources[o].typed, Typed::PeerAuthentication(x) if x.selector.as_ref().is_some_and(|s| !s.is_empty()))
                    });
                    if concrete && workload_level {
                        continue;
                    }
                } else if !covers(&host, &format!("*{suffix}")) {
                    continue;
                }
                let path = match &self.resources[dr].typed {
                    Typed::DestinationRule(d) => d
                        .traffic_policy
                        .tls
                        .as_ref()
                        .map(|t| format!("{}.mode", t.path))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                out.push(LevelConflict {
                    namespace: n,
                    level,
                    other: (dr, path),
                    host: host.clone(),
                });
            }
        }
        out
    }

    /// The same conflicts seen from the DestinationRule (the side reported): for a rule
    /// sending `ISTIO_MUTUAL`, the namespace- or mesh-wide `DISABLE` PeerAuthentications
    /// of the namespaces its host reaches, with their mode field.
    pub fn disabled_namespaces_under_istio_mutual(&self, dr: usize) -> Vec<LevelConflict> {
        if !matches!(self.dr_top_mode(dr), Some((m, _)) if m == "ISTIO_MUTUAL") {
            return Vec::new();
        }
        // Asked for every DestinationRule: the conflicts of every PeerAuthentication are
        // computed once and kept by DestinationRule (issue 17).
        let by_dr = self.disabled_by_dr.get_or_init(|| {
            let mut by_dr: crate::fast_map::HashMap<usize, Vec<LevelConflict>> =
                crate::fast_map::HashMap::default();
            for &pa in self.of_kind(Kind::PeerAuthentication) {
                for c in self.istio_mutual_to_disabled(pa) {
                    by_dr
                        .entry(c.other.0)
                        .or_insert_with(crate::tally::new_list)
                        .push(LevelConflict {
                            other: (pa, self.pa_mode_path(pa)),
                            ..c
                        });
                }
            }
            crate::Tally::new(by_dr)
        });
        by_dr.get(&dr).cloned().unwrap_or_default()
    }

    /// With auto mTLS off (`enableAutoMtls: false`), clients send Istio mTLS only where a
    /// DestinationRule says `ISTIO_MUTUAL`. For a selector-less STRICT PeerAuthentication
    /// whose mode is certain: the namespace it decides (`''` for the mesh-wide one, for
    /// every namespace without a policy of its own) when no DestinationRule of the inputs,
    /// in any namespace, sets a top-level TLS mode for a host covering all of its services
    /// (`*.<ns>.svc.<domain>`; `*.svc.<domain>` for the mesh). `other` is the policy's
    /// mode field; `host` the services' wildcard.
    pub fn strict_without_client_mtls(&self, pa: usize) -> Vec<LevelConflict> {
        if self.mesh.enable_auto_mtls {
            return Vec::new();
        }
        let r = &self.resources[pa];
        let Typed::PeerAuthentication(p) = &r.typed else {
            return Vec::new();
        };
        let ns = r.namespace();
        if p.mode != "STRICT"
            || p.selector.as_ref().is_some_and(|s| !s.is_empty())
            || self.selectorless_pa(ns) != Some(pa)
            || !self.peer_mode_agreed(pa)
        {
            return Vec::new();
        }
        let root = self.mesh.root_namespace.as_str();
        let (namespace, level, services) = if ns == root {
            (
                String::new(),
                "mesh",
                format!("*.svc.{}", self.mesh.dns_domain),
            )
        } else {
            (
                ns.to_string(),
                "namespace",
                format!("*.{ns}.svc.{}", self.mesh.dns_domain),
            )
        };
        // `services` is a wildcard: only DestinationRules with wildcard hosts can cover
        // it, looked up by suffix rather than scanning every rule per policy.
        if self.tls_mode_covers_wildcard(&services) {
            return Vec::new();
        }
        vec![LevelConflict {
            namespace,
            level,
            other: (pa, self.pa_mode_path(pa)),
            host: services,
        }]
    }
}

impl MeshGraph {
    /// For a root-namespace DestinationRule without `workloadSelector` that tells every
    /// client to send Istio mTLS to every host of the mesh (`*`, `*.local`,
    /// `*.svc.<domain>` or `*.<domain>`) while the root namespace has no selector-less
    /// PeerAuthentication: the path of its `tls.mode`. Clients then encrypt, but servers
    /// stay PERMISSIVE, which the author of a mesh-wide ISTIO_MUTUAL rarely intends.
    pub fn mesh_mtls_without_peer_authentication(&self, dr: usize) -> Option<String> {
        let r = &self.resources[dr];
        let Typed::DestinationRule(d) = &r.typed else {
            return None;
        };
        let root = self.mesh.root_namespace.as_str();
        let domain = &self.mesh.dns_domain;
        let mesh_wide = ["*", "*.local"].contains(&d.host.as_str())
            || d.host == format!("*.svc.{domain}")
            || d.host == format!("*.{domain}");
        // Any `workloadSelector` written, even an empty one, narrows the rule's intent.
        let selected = r.spec().and_then(|s| s.get("workloadSelector")).is_some();
        let tls = d.traffic_policy.tls.as_ref()?;
        (r.namespace() == root
            && mesh_wide
            && !selected
            && tls.mode == "ISTIO_MUTUAL"
            && self.selectorless_pa(root).is_none())
        .then(|| format!("{}.mode", tls.path))
    }
}
