//! Istio's annotations on Kubernetes objects, judged against Istio's own catalogue
//! (`data/istio-annotations.tsv`, generated from istio/api by
//! `scripts/gen-annotations.py`): unknown names, annotations on a kind they do not belong
//! on, values Istio's injector refuses, deprecated and alpha annotations — what
//! istioctl's `annotations.K8sAnalyzer` and `maturity.AlphaAnalyzer` report.

use crate::{FieldIssue, MeshGraph};
use meshlint_load::Node;
use meshlint_model::{Kind, Resource, Typed};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::OnceLock;

/// One catalogue entry.
#[derive(Debug, Clone)]
pub struct AnnotationDef {
    pub name: &'static str,
    /// `Alpha`, `Beta` or `Stable`.
    pub status: &'static str,
    pub deprecated: bool,
    /// Kinds it belongs on; `Any` for every kind.
    pub resources: Vec<&'static str>,
}

const CATALOGUE: &str = include_str!("../data/istio-annotations.tsv");

/// The catalogue, parsed once.
pub fn annotation_catalogue() -> &'static HashMap<&'static str, AnnotationDef> {
    static CELL: OnceLock<HashMap<&'static str, AnnotationDef>> = OnceLock::new();
    CELL.get_or_init(|| {
        CATALOGUE
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut f = l.split('\t');
                let (name, status, deprecated, resources) =
                    (f.next()?, f.next()?, f.next()?, f.next()?);
                let def = AnnotationDef {
                    name,
                    status,
                    deprecated: deprecated == "yes",
                    resources: resources.split(',').collect(),
                };
                Some((name, def))
            })
            .collect()
    })
}

/// Annotations Istio's controllers write themselves; the analyzers never judge them.
const WRITTEN_BY_ISTIO: &[&str] = &[
    "sidecar.istio.io/status",
    "gateway.istio.io/controller-version",
    "istio.io/rev",
];

/// Alpha annotations the CNI plugin sets on every pod it handles: not reported as alpha
/// on pods without the `istio-init` container (those use CNI).
const SET_BY_CNI: &[&str] = &[
    "sidecar.istio.io/interceptionMode",
    "traffic.sidecar.istio.io/includeInboundPorts",
    "traffic.sidecar.istio.io/excludeInboundPorts",
    "traffic.sidecar.istio.io/includeOutboundIPRanges",
];

/// Whether an annotation is in Istio's namespace: a prefix ending in `istio.io`, or the
/// Kubernetes ingress-class annotation Istio documents.
pub fn is_istio_annotation(name: &str) -> bool {
    name == "kubernetes.io/ingress.class"
        || name
            .split('/')
            .next()
            .is_some_and(|p| p.ends_with("istio.io"))
}

/// One set of annotations to judge: where it is, and the kind it counts as.
struct AnnotatedMeta<'r> {
    /// Path of the `metadata` map (`metadata`, `spec.template.metadata`).
    path: String,
    node: Option<&'r Node>,
    kind: &'r str,
    /// Pods without an `istio-init` container (CNI sets some alpha annotations itself).
    uses_cni: bool,
}

/// The metadata maps of a resource whose annotations Istio reads: the object's own for
/// Namespaces, Services and workloads (judged as their kind), and a controller's pod
/// template (judged as a Pod, which it becomes).
fn annotated_metas(r: &Resource) -> Vec<AnnotatedMeta<'_>> {
    let judged = matches!(r.kind, Kind::Namespace | Kind::Service) || r.kind.is_workload();
    if !judged {
        return Vec::new();
    }
    let mut out = vec![AnnotatedMeta {
        path: "metadata".into(),
        node: r.node.get("metadata"),
        kind: &r.id.kind,
        uses_cni: r.kind == Kind::Pod && !has_istio_init(r.spec()),
    }];
    if let Typed::Workload(w) = &r.typed {
        if r.kind != Kind::Pod {
            let template = w
                .pod_spec_path
                .strip_suffix(".spec")
                .unwrap_or("spec.template");
            let node = node_at(&r.node, template);
            out.push(AnnotatedMeta {
                path: format!("{template}.metadata"),
                node: node.and_then(|t| t.get("metadata")),
                kind: "Pod",
                uses_cni: !has_istio_init(node.and_then(|t| t.get("spec"))),
            });
        }
    }
    out
}

fn node_at<'n>(root: &'n Node, dotted: &str) -> Option<&'n Node> {
    dotted.split('.').try_fold(root, |n, k| n.get(k))
}

fn has_istio_init(pod_spec: Option<&Node>) -> bool {
    pod_spec
        .and_then(|s| s.get("initContainers"))
        .map(|c| {
            c.items()
                .iter()
                .any(|c| c.str_at(&["name"]) == Some("istio-init"))
        })
        .unwrap_or(false)
}

impl MeshGraph {
    /// Istio annotations of a Namespace, Service, Pod or workload (and its pod template)
    /// that Istio does not take as written, one issue per annotation and problem, in
    /// istioctl's order. Codes: `unknown` (not in the catalogue; `detail` a near name or
    /// empty), `deprecated`, `misplaced` (`detail` the kinds it belongs on), `invalid`
    /// (`detail` why the injector refuses the value), `alpha`. `value` is the annotation
    /// name, `path` its entry (`metadata.annotations["…"]`), `first` the kind it was
    /// judged as (`Pod` for a pod template).
    pub fn annotation_issues(&self, i: usize) -> Vec<FieldIssue> {
        let catalogue = annotation_catalogue();
        let r = &self.resources[i];
        let mut out = Vec::new();
        for meta in annotated_metas(r) {
            let Some(annotations) = meta.node.and_then(|m| m.get("annotations")) else {
                continue;
            };
            let labels = meta.node.and_then(|m| m.get("labels"));
            for (key, value) in annotations.entries() {
                let Some(name) = key.as_str() else { continue };
                if !is_istio_annotation(name) || WRITTEN_BY_ISTIO.contains(&name) {
                    continue;
                }
                let path = format!(
                    "{}.annotations[\"{}\"]",
                    meta.path,
                    name.replace('"', "\\\"")
                );
                let issue = |code: &'static str, detail: String| FieldIssue {
                    path: path.clone(),
                    code,
                    value: name.to_string(),
                    first: meta.kind.to_string(),
                    numbers: Vec::new(),
                    other: None,
                    detail,
                };
                let Some(def) = catalogue.get(name) else {
                    let near = meshlint_diag::did_you_mean(name, catalogue.keys().copied());
                    out.push(issue("unknown", near.unwrap_or_default().to_string()));
                    continue;
                };
                // The inject annotation next to the inject label is kept on purpose.
                let with_label = name == "sidecar.istio.io/inject"
                    && labels
                        .and_then(|l| l.get("sidecar.istio.io/inject"))
                        .is_some();
                if def.deprecated && !with_label {
                    out.push(issue("deprecated", String::new()));
                }
                if def.status == "Alpha" && !(meta.uses_cni && SET_BY_CNI.contains(&name)) {
                    out.push(issue("alpha", String::new()));
                }
                if def.resources.contains(&"Any") {
                    continue;
                }
                if !def.resources.contains(&meta.kind) {
                    out.push(issue("misplaced", def.resources.join(", ")));
                    continue;
                }
                if let Some(why) = value.as_str().and_then(|v| invalid_value(name, v)) {
                    out.push(issue("invalid", why));
                }
            }
        }
        out
    }
}

/// Why Istio's injector refuses `value` for annotation `name`, for the annotations it
/// validates; `None` when it accepts the value or does not check it.
pub fn invalid_value(name: &str, value: &str) -> Option<String> {
    match name {
        "sidecar.istio.io/interceptionMode" => (!matches!(value, "REDIRECT" | "TPROXY" | "NONE"))
            .then(|| "the interception mode must be REDIRECT, TPROXY or NONE".into()),
        "status.sidecar.istio.io/port" => port(value).err(),
        "readiness.status.sidecar.istio.io/initialDelaySeconds"
        | "readiness.status.sidecar.istio.io/periodSeconds"
        | "readiness.status.sidecar.istio.io/failureThreshold" => (value.is_empty()
            || !value.bytes().all(|b| b.is_ascii_digit())
            || value.parse::<u32>().is_err())
        .then(|| format!("`{value}` is not a whole number of at most 4294967295")),
        "traffic.sidecar.istio.io/includeOutboundIPRanges" if value == "*" => None,
        "traffic.sidecar.istio.io/includeOutboundIPRanges"
        | "traffic.sidecar.istio.io/excludeOutboundIPRanges" => cidr_list(value).err(),
        "traffic.sidecar.istio.io/includeInboundPorts" if value == "*" => None,
        "traffic.sidecar.istio.io/includeInboundPorts"
        | "traffic.sidecar.istio.io/excludeInboundPorts"
        | "traffic.sidecar.istio.io/excludeOutboundPorts" => port_list(value).err(),
        "prometheus.istio.io/merge-metrics" => (!matches!(
            value,
            "1" | "t"
                | "T"
                | "TRUE"
                | "true"
                | "True"
                | "0"
                | "f"
                | "F"
                | "FALSE"
                | "false"
                | "False"
        ))
        .then(|| format!("`{value}` is not a boolean")),
        _ => None,
    }
}

/// A port number (surrounding spaces allowed), as the injector parses one.
fn port(value: &str) -> Result<u16, String> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{value}` is not a port number"));
    }
    v.parse::<u16>()
        .map_err(|_| format!("`{value}` is not a port number of at most 65535"))
}

/// A comma-separated list of ports; empty (after trimming) is an empty list.
fn port_list(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Ok(());
    }
    value.trim().split(',').try_for_each(|p| port(p).map(drop))
}

/// A comma-separated list of CIDRs (`10.0.0.0/8`), no spaces; empty is an empty list.
fn cidr_list(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    value.split(',').try_for_each(|c| {
        let bad = || format!("`{c}` is not a CIDR range such as `10.0.0.0/8`");
        let (addr, bits) = c.split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let ok = !bits.is_empty()
            && bits.bytes().all(|b| b.is_ascii_digit())
            && !(bits.len() > 1 && bits.starts_with('0'))
            && bits.parse::<u32>().is_ok_and(|b| b <= max);
        ok.then_some(()).ok_or_else(bad)
    })
}
