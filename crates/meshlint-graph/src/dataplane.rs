//! Data plane of each workload: sidecar, ambient (ztunnel, HBONE), out of the mesh, or
//! mesh infrastructure — with Istio's precedence and the field that decided it.
//!
//! Istio's rules, as the istio-cni enablement selectors and the injection webhook
//! implement them (see `docs/rule-language.md`, `dataPlane`):
//! - the sidecar injector ignores `istio.io/dataplane-mode`; a pod it injects is skipped
//!   by the CNI ("Ztunnel and sidecar for a single pod is currently not supported"), so
//!   **injection wins over ambient** (`istio-injection`, `istio.io/rev`,
//!   `sidecar.istio.io/inject`);
//! - a pod enrolls when its own label `istio.io/dataplane-mode` is `ambient`, or when its
//!   namespace's is `ambient` and the pod's is not `none`: **the pod label beats the
//!   namespace label, `none` opts out**;
//! - Istio's own workloads (gateways, waypoints, ztunnel, istiod, the CNI) are
//!   infrastructure.

use crate::build::MeshGraph;
use meshlint_model::typed::Typed;
use serde::Serialize;

/// The data plane a workload runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataPlane {
    /// An injected `istio-proxy` sidecar (or a WorkloadEntry's own proxy).
    Sidecar,
    /// Enrolled in ambient mode: ztunnel carries its traffic over HBONE (mTLS).
    Ambient,
    /// No proxy: plaintext, outside the mesh.
    OutOfMesh,
    /// A gateway, waypoint, ztunnel, istiod or CNI pod.
    Infrastructure,
}

impl DataPlane {
    pub fn as_str(self) -> &'static str {
        match self {
            DataPlane::Sidecar => "sidecar",
            DataPlane::Ambient => "ambient",
            DataPlane::OutOfMesh => "none",
            DataPlane::Infrastructure => "infrastructure",
        }
    }
}

/// A workload's data plane, why, and the field that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct DataPlaneDecision {
    pub plane: DataPlane,
    /// What decided it: `proxy-container`, `pod-enabled`, `namespace-enabled` (sidecar,
    /// injection; also when ambient is asked for too), `pod-ambient`,
    /// `namespace-ambient`, `ambient-redirection` (ambient), `pod-none` (the pod opts
    /// out of an ambient namespace), `host-network` (istio-cni skips host-network pods),
    /// `pod-disabled`, `namespace-disabled`,
    /// `namespace-unlabelled`, `unknown` (out of mesh), `gateway`, `waypoint`,
    /// `control-plane` (infrastructure), `workload-entry`.
    pub by: String,
    /// Index of the deciding resource (the workload or its Namespace) and field path.
    pub source: Option<(usize, String)>,
    /// False when the answer is a guess: nothing on the pod decides and the namespace
    /// is not in the inputs.
    pub known: bool,
    /// The workload (or its namespace) also asks for ambient mode while injection
    /// gives it a sidecar: the label that asks, which has no effect.
    pub ambient_ignored: Option<(usize, String)>,
}

pub const DATAPLANE_LABEL: &str = "istio.io/dataplane-mode";

/// Ambient mode asked for where sidecar injection wins (the injector ignores
/// `istio.io/dataplane-mode` and istio-cni skips injected pods).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AmbientOverride {
    /// The `istio.io/dataplane-mode: ambient` label that has no effect.
    pub ambient_label: (usize, String),
    /// The field that decides injection (null when nothing in the inputs points at it).
    pub injection: Option<(usize, String)>,
    /// True for a workload's own label, false for a Namespace's.
    pub pod: bool,
}

/// Workloads Istio deploys for itself, by their `app` / `istio` label.
const CONTROL_PLANE_APPS: &[&str] = &["ztunnel", "istiod", "istio-cni-node", "pilot"];

impl MeshGraph {
    /// The value of `istio.io/dataplane-mode` on a namespace, when the Namespace is in
    /// the inputs and sets it.
    pub fn namespace_dataplane_label(&self, ns: &str) -> Option<(usize, &str)> {
        let n = self.namespace_resource(ns)?;
        self.resources[n]
            .labels
            .get(DATAPLANE_LABEL)
            .map(|v| (n, v))
    }

    /// Whether a namespace enrolls its pods in ambient mode (label `ambient`) and does
    /// not also ask for sidecar injection (which wins).
    pub fn namespace_ambient(&self, ns: &str) -> bool {
        self.namespace_dataplane_label(ns)
            .is_some_and(|(_, v)| v == "ambient")
            && self.namespace_injection(ns) != meshlint_model::typed::Injection::Enabled
    }

    /// For a Namespace labelled both ambient and injected, or a workload whose own
    /// ambient label a sidecar overrides: what asks for ambient mode and what wins. A
    /// workload that only inherits its namespace's label is left to the Namespace.
    pub fn ambient_overridden(&self, i: usize) -> Option<AmbientOverride> {
        let r = &self.resources[i];
        if r.kind == meshlint_model::Kind::Namespace {
            let n = self.namespace_resource(r.name())?;
            let labels = &self.resources[n].labels;
            if labels.get(DATAPLANE_LABEL) != Some("ambient")
                || self.namespace_injection(r.name()) != meshlint_model::typed::Injection::Enabled
            {
                return None;
            }
            let label = |k: &str| (n, format!("metadata.labels[\"{k}\"]"));
            let injection = ["istio-injection", "istio.io/rev"]
                .into_iter()
                .find(|k| labels.contains_key(k))
                .map(label);
            return Some(AmbientOverride {
                ambient_label: label(DATAPLANE_LABEL),
                injection,
                pod: false,
            });
        }
        if !matches!(r.typed, Typed::Workload(_) | Typed::WorkloadEntry(_)) {
            return None;
        }
        let d = self.data_plane(i);
        let ambient_label = d
            .ambient_ignored
            .filter(|(x, _)| self.resources[*x].kind != meshlint_model::Kind::Namespace)?;
        (d.plane == DataPlane::Sidecar).then_some(AmbientOverride {
            ambient_label,
            injection: d.source,
            pod: true,
        })
    }

    /// The data plane of a workload (Pod, controller pod template, WorkloadEntry).
    pub fn data_plane(&self, workload: usize) -> DataPlaneDecision {
        self.data_planes()[workload].clone()
    }

    /// Every resource's data-plane decision, decided once: many queries ask it for each
    /// workload they visit (mTLS enforcement, waypoints, policy attachment).
    pub(crate) fn data_planes(&self) -> &DataPlanes {
        self.data_planes.get_or_init(|| {
            // Each distinct decision numbered by a table of positions, so it is held
            // once while deciding (a hash map held a second copy of every one).
            let mut seen: crate::flat_map::FlatMap<DataPlaneDecision, ()> = Default::default();
            let of = (0..self.resources.len())
                .map(|w| seen.number(self.decide_data_plane(w)))
                .collect();
            DataPlanes {
                of,
                decisions: seen.into_keys(),
            }
        })
    }

    fn decide_data_plane(&self, workload: usize) -> DataPlaneDecision {
        let r = &self.resources[workload];
        let decided = |plane, by: &str, source: Option<(usize, String)>, known| DataPlaneDecision {
            plane,
            by: by.to_string(),
            source,
            known,
            ambient_ignored: None,
        };
        let w = match &r.typed {
            Typed::Workload(w) => w,
            Typed::WorkloadEntry(_) => {
                return decided(DataPlane::Sidecar, "workload-entry", None, true);
            }
            _ => return decided(DataPlane::OutOfMesh, "unknown", None, false),
        };
        let meta = self.pod_metadata_path(workload);
        let label_path = |k: &str| format!("{meta}.labels[\"{k}\"]");
        // Infrastructure first: gateways (also when injected), waypoints, control plane.
        if w.labels.get("gateway.istio.io/managed") == Some("istio.io-mesh-controller")
            || w.labels.get("istio.io/gateway-class") == Some("istio-waypoint")
        {
            return decided(
                DataPlane::Infrastructure,
                "waypoint",
                Some((workload, format!("{meta}.labels"))),
                true,
            );
        }
        if self.is_gateway_workload(workload) {
            return decided(
                DataPlane::Infrastructure,
                "gateway",
                Some((workload, format!("{meta}.labels"))),
                true,
            );
        }
        if ["app", "istio", "k8s-app", "app.kubernetes.io/name"]
            .iter()
            .any(|k| {
                w.labels
                    .get(k)
                    .is_some_and(|v| CONTROL_PLANE_APPS.contains(&v))
            })
            && r.namespace() == self.mesh.root_namespace
        {
            return decided(
                DataPlane::Infrastructure,
                "control-plane",
                Some((workload, format!("{meta}.labels"))),
                true,
            );
        }
        let pod_label = w.labels.get(DATAPLANE_LABEL);
        let ns_label = self.namespace_dataplane_label(r.namespace());
        let ambient_asked = match pod_label {
            Some("ambient") => Some((workload, label_path(DATAPLANE_LABEL))),
            Some(_) => None,
            None => ns_label
                .filter(|(_, v)| *v == "ambient")
                .map(|(n, _)| (n, format!("metadata.labels[\"{DATAPLANE_LABEL}\"]"))),
        };
        if self.has_sidecar(workload) {
            let inj = self.injection_decision(workload);
            let mut d = decided(DataPlane::Sidecar, &inj.value, inj.source, true);
            d.ambient_ignored = ambient_asked;
            return d;
        }
        // istio-cni never enrolls host-network pods.
        let host_network =
            meshlint_load::PathSegment::parse_path(&format!("{}.hostNetwork", w.pod_spec_path))
                .and_then(|p| r.node.lookup(&p))
                .and_then(|(n, _)| n.as_bool())
                == Some(true);
        if host_network && (pod_label == Some("ambient") || ambient_asked.is_some()) {
            let path = format!("{}.hostNetwork", w.pod_spec_path);
            return decided(
                DataPlane::OutOfMesh,
                "host-network",
                Some((workload, path)),
                true,
            );
        }
        if w.annotations.get("ambient.istio.io/redirection") == Some("enabled") {
            let path = format!("{meta}.annotations[\"ambient.istio.io/redirection\"]");
            return decided(
                DataPlane::Ambient,
                "ambient-redirection",
                Some((workload, path)),
                true,
            );
        }
        match pod_label {
            Some("ambient") => {
                return decided(
                    DataPlane::Ambient,
                    "pod-ambient",
                    Some((workload, label_path(DATAPLANE_LABEL))),
                    true,
                );
            }
            Some("none") if ns_label.is_some_and(|(_, v)| v == "ambient") => {
                return decided(
                    DataPlane::OutOfMesh,
                    "pod-none",
                    Some((workload, label_path(DATAPLANE_LABEL))),
                    true,
                );
            }
            _ => {}
        }
        if let Some(src) = ambient_asked {
            return decided(DataPlane::Ambient, "namespace-ambient", Some(src), true);
        }
        let inj = self.injection_decision(workload);
        let known = self.sidecar_known(workload) && inj.value != "unknown";
        decided(DataPlane::OutOfMesh, &inj.value, inj.source, known)
    }

    /// Whether a workload is enrolled in ambient mode.
    pub fn is_ambient(&self, workload: usize) -> bool {
        self.data_planes()[workload].plane == DataPlane::Ambient
    }
}

/// Every resource's data-plane decision, each distinct decision kept once: the
/// workloads of a namespace decided by its label share one, and so do all resources
/// that are no workload (a decision per resource took 3 MB on 2,000 namespaces).
#[derive(Debug, Default)]
pub(crate) struct DataPlanes {
    /// Resource → its decision in `decisions`.
    of: Vec<u32>,
    decisions: Vec<DataPlaneDecision>,
}

impl std::ops::Index<usize> for DataPlanes {
    type Output = DataPlaneDecision;
    fn index(&self, resource: usize) -> &DataPlaneDecision {
        &self.decisions[self.of[resource] as usize]
    }
}
