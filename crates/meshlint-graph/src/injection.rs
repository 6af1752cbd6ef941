//! Sidecar injection and proxies: whether a workload gets a proxy and why, gateway
//! proxies, proxies per namespace.

use crate::build::MeshGraph;
use crate::queries::*;
use meshlint_model::typed::*;
use meshlint_model::Kind;
use serde::Serialize;

/// Proxies found in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyNamespace {
    pub namespace: String,
    /// Workloads with an injected sidecar (not gateways).
    pub sidecars: usize,
    /// Gateway proxies.
    pub gateways: usize,
}

impl MeshGraph {
    /// Namespaces with at least one workload that runs an Istio proxy, sorted.
    pub fn proxy_namespaces(&self) -> impl Iterator<Item = &str> {
        self.proxy_namespaces.iter().map(String::as_str)
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
    pub fn proxies_by_namespace(&self) -> &crate::Tally<Vec<ProxyNamespace>> {
        &self.proxy_census().0
    }

    fn proxy_census(&self) -> &(crate::Tally<Vec<ProxyNamespace>>, usize) {
        self.proxies_by_ns.get_or_init(|| {
            let all = self.count_proxies_by_namespace();
            let with_sidecars = all.iter().filter(|p| p.sidecars > 0).count();
            (crate::Tally::new(all), with_sidecars)
        })
    }

    /// The proxies of one namespace (`None` when it runs none), looked up in the sorted
    /// census rather than scanned.
    pub fn proxy_namespace(&self, ns: &str) -> Option<&ProxyNamespace> {
        meshlint_diag::work::add(1);
        let all = self.proxies_by_namespace();
        all.binary_search_by(|p| p.namespace.as_str().cmp(ns))
            .ok()
            .map(|i| &all[i])
    }

    /// How many namespaces run sidecar proxies (not only gateways).
    pub fn namespaces_with_sidecars(&self) -> usize {
        self.proxy_census().1
    }

    pub(crate) fn count_proxies_by_namespace(&self) -> Vec<ProxyNamespace> {
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
                (Some(_), Injection::Enabled) => decided("namespace-enabled", ns_source(ns_label)),
                (Some(_), Injection::Disabled) => {
                    decided("namespace-disabled", ns_source(ns_label))
                }
                (_, Injection::Unset) if crate::build::pod_revision(&w.labels).is_some() => {
                    decided(
                        "pod-revision",
                        Some((workload, format!("{meta}.labels[\"istio.io/rev\"]"))),
                    )
                }
                (None, _) => decided("unknown", None),
                (Some(_), Injection::Unset) => decided("namespace-unlabelled", ns_source(None)),
            },
        }
    }
}
