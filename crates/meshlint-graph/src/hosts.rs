//! Which hosts exist, where they are exported, and how sure the inputs let us be.
//!
//! In open world (the default) the inputs are part of a mesh. A namespace is *described*
//! by the inputs only where they hold its Services or workloads: Istio configuration
//! sitting in a namespace says nothing about which Services live there. A host missing
//! from a described namespace is certainly missing; one missing from an undescribed
//! namespace may be defined outside the analyzed files. Hosts every Istio cluster has
//! (the API server, the control plane and the default gateways) exist unless
//! `--closed-world` says the inputs are everything.

use crate::build::MeshGraph;
use crate::queries::{host_matches, HostTarget};
use meshlint_model::typed::Labels;
use meshlint_model::{Kind, UNSET_NAMESPACE};
use serde::Serialize;

/// What a host lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HostState {
    /// A Service or ServiceEntry defines it and is exported to the lookup namespace.
    Exported,
    /// Defined, but exported to none of the lookup namespaces.
    Unexported,
    /// Not in the inputs, but every Istio cluster has it (open world only).
    Implicit,
    /// Not defined by anything the inputs hold.
    Missing,
}

/// The answer of [`MeshGraph::host_lookup`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostLookup {
    pub state: HostState,
    /// Services and ServiceEntries defining exactly this host (for `Unexported`, the
    /// ones whose `exportTo` hides it).
    pub definitions: Vec<HostTarget>,
    /// For a missing host: an existing host that looks meant (same Service name in
    /// another namespace, or a near spelling).
    pub suggestion: Option<String>,
    /// Whether the inputs are complete enough to be sure of a `Missing` answer:
    /// `--closed-world`, a cluster host in a namespace the inputs describe, or a
    /// suggestion. Always true for the other states.
    pub certain: bool,
}

impl MeshGraph {
    /// Whether the inputs describe a namespace's Services and workloads, so that a host
    /// missing there is missing: under `--closed-world` every namespace is; otherwise a
    /// namespace whose Namespace object is in the inputs together with at least one of
    /// its Services or workloads (the shape of a repository that owns the namespace).
    /// Istio configuration in a namespace, or a few Services of a namespace managed
    /// elsewhere, do not make its Services known.
    pub fn namespace_described(&self, ns: &str) -> bool {
        if self.closed_world {
            return true;
        }
        self.namespace_resource(ns).is_some()
            && (self.workloads_by_ns.contains_key(ns)
                || !self.in_namespace(ns, Kind::Service).is_empty())
    }

    /// Whether the inputs hold a namespace's workloads, so that a selector matching none
    /// of them selects nothing: under `--closed-world` always; otherwise the namespace is
    /// described by its Namespace object and workloads written in it. Workloads of other
    /// installs sharing the namespace (a component adding policies for pods another
    /// component deploys), or objects without a namespace that may or may not be its, do
    /// not make the list complete.
    pub fn namespace_workloads_known(&self, ns: &str) -> bool {
        self.closed_world
            || (self.namespace_resource(ns).is_some() && self.workloads_by_ns.contains_key(ns))
    }

    /// Whether the objects written without a namespace (no `-n` given) could be the ones
    /// of `ns`: they are applied to some namespace nobody named, so a lookup that fails
    /// in `ns` may succeed there. Absence checks consult them; nothing else does.
    pub fn could_be_unset(&self, ns: &str) -> bool {
        self.unset_in_play && !ns.is_empty() && ns != UNSET_NAMESPACE
    }

    /// `name.ns.svc.<domain>` moved to the unnamed namespace, when the objects without a
    /// namespace could be those of `ns` (see [`Self::could_be_unset`]).
    pub fn in_unset_namespace(&self, fqdn: &str) -> Option<String> {
        let ns = self.host_namespace(fqdn)?;
        if !self.could_be_unset(ns) {
            return None;
        }
        let name = fqdn.split('.').next()?;
        Some(format!(
            "{name}.{UNSET_NAMESPACE}.svc.{}",
            self.mesh.dns_domain
        ))
    }

    /// Workloads `selector` picks in `ns`, plus — when the objects without a namespace
    /// could be those of `ns` — the ones it picks among them. For "selects nothing"
    /// checks, which must not fire on an interpretation the inputs leave open.
    pub fn workloads_maybe_selected(&self, ns: &str, selector: &Labels) -> Vec<usize> {
        let mut out = self.workloads_selected(ns, selector);
        if self.could_be_unset(ns) {
            out.extend(self.workloads_selected(UNSET_NAMESPACE, selector));
        }
        out
    }

    /// The namespace of a cluster-local host (`name.ns.svc.<domain>`), if it is one.
    pub fn host_namespace<'h>(&self, fqdn: &'h str) -> Option<&'h str> {
        let rest = fqdn.strip_suffix(self.mesh.dns_domain.as_str())?;
        let rest = rest.strip_suffix(".svc.")?;
        let (_, ns) = rest.split_once('.')?;
        (!ns.contains('.')).then_some(ns)
    }

    /// Whether a host exists in every Istio cluster even when the inputs do not define
    /// it: `kubernetes.default` and `kube-dns.kube-system`, and in the root namespace the
    /// control plane and the default gateways. Never under `--closed-world`.
    pub fn implicit_host(&self, fqdn: &str) -> bool {
        if self.closed_world {
            return false;
        }
        let domain = &self.mesh.dns_domain;
        let root = &self.mesh.root_namespace;
        if fqdn == format!("kubernetes.default.svc.{domain}")
            || fqdn == format!("kube-dns.kube-system.svc.{domain}")
        {
            return true;
        }
        const CONTROL_PLANE: [&str; 4] = [
            "istiod",
            "istio-ingressgateway",
            "istio-egressgateway",
            "istio-eastwestgateway",
        ];
        CONTROL_PLANE
            .iter()
            .any(|name| fqdn == format!("{name}.{root}.svc.{domain}"))
    }

    /// The namespaces whose proxies resolve the hosts a resource names: those of its
    /// `exportTo` when it restricts them, else its own namespace.
    pub fn lookup_namespaces(&self, r: usize) -> Vec<String> {
        self.export_scope_of(r)
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| vec![self.resources[r].namespace().to_string()])
    }

    /// Whether a selector picks the pods of a gateway Istio's installer deploys (the
    /// default ingress, egress or east-west gateway, by the labels `istioctl install`
    /// and the gateway chart give them): in open world those pods exist though the
    /// inputs do not hold them. Never under `--closed-world`.
    pub fn selects_installed_gateway(&self, selector: &Labels) -> bool {
        const INSTALLED: [(&str, &str); 6] = [
            ("istio", "ingressgateway"),
            ("istio", "egressgateway"),
            ("istio", "eastwestgateway"),
            ("app", "istio-ingressgateway"),
            ("app", "istio-egressgateway"),
            ("app", "istio-eastwestgateway"),
        ];
        !self.closed_world
            && !selector.is_empty()
            && selector.iter().all(|(k, v)| INSTALLED.contains(&(k, v)))
    }

    /// Looks a host up from the namespaces a resource's proxies resolve it in
    /// (`lookup_namespaces`: the writer's namespace, or each of its `exportTo`
    /// namespaces). Wildcard hosts are always `Exported` (nothing to resolve).
    pub fn host_lookup(&self, fqdn: &str, lookup_namespaces: &[&str]) -> HostLookup {
        let found = |state| HostLookup {
            state,
            definitions: Vec::new(),
            suggestion: None,
            certain: true,
        };
        if fqdn.is_empty() || fqdn.starts_with('*') {
            return found(HostState::Exported);
        }
        // One index lookup answers both questions: exported to a lookup namespace, and
        // (if not) which definitions hide it.
        let targets = self.host_targets(fqdn);
        let exported = targets.iter().any(|t| {
            self.export_scope_of(t.resource).is_none_or(|scope| {
                lookup_namespaces
                    .iter()
                    .any(|ns| scope.iter().any(|n| n == ns))
            })
        });
        if exported {
            return found(HostState::Exported);
        }
        let definitions: Vec<HostTarget> = targets.into_iter().filter(|t| t.host == fqdn).collect();
        if !definitions.is_empty() {
            return HostLookup {
                definitions,
                ..found(HostState::Unexported)
            };
        }
        if self.implicit_host(fqdn) {
            return found(HostState::Implicit);
        }
        // The objects without a namespace may be this namespace's: if they define the
        // host, the lookup is satisfied by that reading.
        if self
            .in_unset_namespace(fqdn)
            .is_some_and(|h| !self.host_targets(&h).is_empty())
        {
            return found(HostState::Exported);
        }
        let host_ns = self.host_namespace(fqdn);
        // Suggestions must not rest on a namespace nobody named.
        let suggestion = if host_ns == Some(UNSET_NAMESPACE) {
            None
        } else {
            self.suggest_host(fqdn)
                .filter(|s| self.host_namespace(s) != Some(UNSET_NAMESPACE))
        };
        // A near spelling, or the same Service name in another namespace (the short
        // host written in the wrong namespace), is evidence enough.
        let certain = self.closed_world
            || suggestion.is_some()
            || host_ns.is_some_and(|ns| self.namespace_described(ns));
        HostLookup {
            state: HostState::Missing,
            definitions,
            suggestion,
            certain,
        }
    }

    /// Services and ServiceEntries defining a host (wildcards on either side match).
    pub fn host_targets(&self, fqdn: &str) -> Vec<HostTarget> {
        let mut out: Vec<HostTarget> = Vec::new();
        // `*.b.c`: what it covers comes from an index (the scans below give the same).
        let covered = self.covered_by_wildcard(fqdn);
        if let Some((hosts, _)) = &covered {
            for &h in hosts {
                let rs = self.hosts.get(h).map_or(&[][..], |l| &**l);
                out.extend(rs.iter().map(|&r| HostTarget {
                    resource: r,
                    host: h.to_string(),
                }));
            }
        } else if fqdn.starts_with('*') {
            for (h, rs) in &self.hosts {
                if host_matches(fqdn, h) {
                    out.extend(rs.iter().map(|&r| HostTarget {
                        resource: r,
                        host: h.to_string(),
                    }));
                }
            }
        } else if let Some(rs) = self.hosts.get(fqdn) {
            out.extend(rs.iter().map(|&r| HostTarget {
                resource: r,
                host: fqdn.to_string(),
            }));
        }
        if let Some((_, wildcards)) = &covered {
            for &i in wildcards {
                let (suffix, r) = &self.wildcard_hosts[i];
                out.push(HostTarget {
                    resource: *r,
                    host: format!("*{suffix}"),
                });
            }
        } else if fqdn.starts_with('*') {
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

    /// Whether some Service or ServiceEntry defining `fqdn` is exported to namespace `ns`.
    pub fn host_exported_to(&self, fqdn: &str, ns: &str) -> bool {
        self.host_targets(fqdn).iter().any(|t| {
            self.export_scope_of(t.resource)
                .is_none_or(|scope| scope.iter().any(|n| n == ns))
        })
    }
}
