//! Which Sidecar configures which proxies, and where that choice is ambiguous or void.
//!
//! A workload gets exactly one Sidecar: the one of its namespace whose
//! `workloadSelector` selects it, else the namespace's selector-less Sidecar, else the
//! root namespace's. Two selector-less Sidecars in a namespace, or two selecting one
//! workload, leave the choice to creation order (Istio takes the oldest). Ambient
//! workloads run no sidecar proxy, so no Sidecar applies to them at all.

use crate::build::MeshGraph;
use crate::queries::selector_matches;
use meshlint_model::typed::Labels;
use meshlint_model::{Kind, Typed};
use serde::Serialize;

/// Why a Sidecar meets ambient workloads (see [`MeshGraph::sidecar_in_ambient`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SidecarInAmbient {
    /// Whether the Sidecar has a non-empty `workloadSelector` (else it is its
    /// namespace's default, and the namespace is ambient).
    pub selects: bool,
    /// The field to point at: `spec.workloadSelector` when written, else the name.
    pub path: String,
}

/// A workload that another selector-based Sidecar selects too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedWorkload {
    pub workload: usize,
    /// The other Sidecars selecting it.
    pub others: Vec<usize>,
}

/// The non-empty `workloadSelector` of a Sidecar, if it is one.
fn selector_of(g: &MeshGraph, s: usize) -> Option<&Labels> {
    match &g.resources[s].typed {
        Typed::Sidecar(sc) => sc.selector.as_ref().filter(|l| !l.is_empty()),
        _ => None,
    }
}

impl MeshGraph {
    /// The selector-less Sidecars of a namespace (those competing to be its default), in
    /// input order.
    pub fn default_sidecars(&self, ns: &str) -> Vec<usize> {
        self.in_namespace(ns, Kind::Sidecar)
            .iter()
            .copied()
            .filter(|&s| selector_of(self, s).is_none())
            .collect()
    }

    /// For a selector-less Sidecar in a namespace that runs sidecars (not ambient):
    /// every selector-less Sidecar of its namespace, itself included, when there are
    /// several; empty otherwise.
    pub fn competing_default_sidecars(&self, sidecar: usize) -> Vec<usize> {
        let ns = self.resources[sidecar].namespace();
        if selector_of(self, sidecar).is_some() || self.namespace_ambient(ns) {
            return Vec::new();
        }
        let all = self.default_sidecars(ns);
        if all.len() > 1 {
            all
        } else {
            Vec::new()
        }
    }

    /// For a Sidecar with a selector: each workload it selects that another Sidecar of
    /// the namespace (another name, non-empty selector) selects too.
    pub fn shared_workloads(&self, sidecar: usize) -> Vec<SharedWorkload> {
        let Some(mine) = selector_of(self, sidecar) else {
            return Vec::new();
        };
        let r = &self.resources[sidecar];
        let ns = r.namespace();
        // The other Sidecars selecting a workload are its incoming `Selects` edges (a
        // workload has few), not every Sidecar of a namespace that may hold many.
        self.workloads_selected(ns, mine)
            .into_iter()
            .filter_map(|w| {
                let labels = self.workload_labels(w);
                let others: Vec<usize> = self
                    .selected_by(w, Kind::Sidecar)
                    .into_iter()
                    .filter(|&s| {
                        self.resources[s].namespace() == ns
                            && self.resources[s].name() != r.name()
                            && selector_of(self, s).is_some_and(|sel| selector_matches(sel, labels))
                    })
                    .collect();
                (!others.is_empty()).then_some(SharedWorkload {
                    workload: w,
                    others,
                })
            })
            .collect()
    }

    /// When a Sidecar meets ambient workloads, which ignore it: its namespace is ambient
    /// (`istio.io/dataplane-mode: ambient` without sidecar injection), or its selector
    /// picks a pod that ztunnel redirects (`ambient.istio.io/redirection: enabled`) or a
    /// workload labelled `istio.io/dataplane-mode: ambient`.
    pub fn sidecar_in_ambient(&self, sidecar: usize) -> Option<SidecarInAmbient> {
        let r = &self.resources[sidecar];
        let ns = r.namespace();
        let selector = selector_of(self, sidecar);
        let ambient_pods = || {
            selector.is_some_and(|sel| {
                self.in_namespace(ns, Kind::Pod).iter().any(|&p| {
                    let pod = &self.resources[p];
                    pod.annotations
                        .get("ambient.istio.io/redirection")
                        .is_some_and(|v| v == "enabled")
                        && selector_matches(sel, &pod.labels)
                }) || self.workloads_selected(ns, sel).iter().any(|&w| {
                    self.workload_labels(w)
                        .get(crate::DATAPLANE_LABEL)
                        .is_some_and(|v| v == "ambient")
                })
            })
        };
        if !self.namespace_ambient(ns) && !ambient_pods() {
            return None;
        }
        let written = r.spec().and_then(|s| s.get("workloadSelector")).is_some();
        Some(SidecarInAmbient {
            selects: selector.is_some(),
            path: if written {
                "spec.workloadSelector"
            } else {
                "metadata.name"
            }
            .to_string(),
        })
    }
}
