//! The sidecar injector as the inputs describe it: which revision injects a namespace,
//! what its ConfigMap (`istio-sidecar-injector[-<rev>]`) says (the proxy image,
//! `enableNamespacesByDefault`), which image type a pod's ProxyConfigs ask for, and the
//! pods whose `istio-proxy` is not what the injector injects today (istioctl's
//! `injection.ImageAnalyzer` and `injection.Analyzer`). The ConfigMaps' embedded
//! `values` are parsed once, on first use.

use crate::build::MeshGraph;
use crate::queries::{selector_matches, Decision};
use crate::tally::Tally;
use meshlint_load::{load_source, LoadLimits, Node, Resolved};
use meshlint_model::typed::Labels;
use meshlint_model::Kind;
use serde::Serialize;
use std::collections::HashMap;

/// Namespaces Istio's injection analyzers leave alone (the control plane's and
/// Kubernetes' own).
pub const SYSTEM_NAMESPACES: [&str; 5] = [
    "istio-system",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "local-path-storage",
];

/// What one injector ConfigMap's `data.values` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InjectorValues {
    /// The ConfigMap.
    pub config_map: usize,
    /// The proxy image it injects: `global.proxy.image` when it is a full reference (has
    /// a `/`), else `<global.hub>/<global.proxy.image>:<global.tag>`.
    pub proxy_image: Option<String>,
    /// `sidecarInjectorWebhook.enableNamespacesByDefault: true`.
    pub enable_namespaces_by_default: bool,
}

/// The injector ConfigMaps of the inputs, parsed once: ConfigMap name → its documents'
/// values, in input order.
#[derive(Default)]
pub(crate) struct InjectorIndex {
    by_name: Tally<HashMap<String, Vec<InjectorValues>>>,
    /// The webhook configurations Istio's webhook analyzer considers and the revisions
    /// they name (see `webhooks.rs`), found once.
    pub(crate) webhook_group: std::sync::OnceLock<(Vec<usize>, Vec<String>)>,
}

/// How a namespace asks for sidecars, as the injection analyzers read its labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamespaceInjection {
    /// One of [`SYSTEM_NAMESPACES`].
    pub system: bool,
    /// A system namespace or the mesh's root namespace: injection analyzers skip it.
    pub exempt: bool,
    /// The injection labels that count together (`istio-injection` always;
    /// `istio.io/rev` and `istio.io/dataplane-mode` unless `istio-injection` opts out
    /// with another value than `enabled`), in that order.
    pub labels: Vec<String>,
    /// Neither `istio-injection` nor `istio.io/rev`, and not `istio.io/dataplane-mode:
    /// ambient`: nothing on the namespace says whether its pods join the mesh.
    pub unlabelled: bool,
    /// The revision injecting it: `istio.io/rev` (when not empty), else `default` for
    /// `istio-injection: enabled`.
    pub revision: Option<String>,
    /// The `istio-sidecar-injector` ConfigMap that injects every namespace by default
    /// (`enableNamespacesByDefault: true`), if any.
    pub by_default: Option<usize>,
}

/// Pods of an injected namespace whose `istio-proxy` runs another image than the one
/// their injector injects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleProxies {
    /// The injector ConfigMap that decided the expected image.
    pub config_map: usize,
    /// The image it injects.
    pub image: String,
    pub pods: Vec<StalePod>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StalePod {
    pub pod: usize,
    /// `(path of the image field, image)` of each stale `istio-proxy` container.
    pub containers: Vec<(String, String)>,
    /// The image type (`distroless`, … or `''`) the pod may carry as a suffix, and what
    /// decided it.
    pub image_type: Decision,
}

impl MeshGraph {
    pub(crate) fn injector(&self) -> &InjectorIndex {
        self.injector_index.get_or_init(|| {
            let mut ix = InjectorIndex::default();
            for &c in self.of_kind(Kind::ConfigMap) {
                let r = &self.resources[c];
                if !r.name().starts_with("istio-sidecar-injector") {
                    continue;
                }
                let Some(values) = r.node.get("data").and_then(|d| d.get("values")) else {
                    continue;
                };
                let Some(doc) = values.as_str().and_then(parse_embedded) else {
                    continue;
                };
                ix.by_name
                    .entry(r.name().to_string())
                    .or_default()
                    .push(InjectorValues {
                        config_map: c,
                        proxy_image: proxy_image(&doc),
                        enable_namespaces_by_default: doc
                            .get("sidecarInjectorWebhook")
                            .and_then(|s| s.get("enableNamespacesByDefault"))
                            .is_some_and(|b| b.as_bool() == Some(true)),
                    });
            }
            ix
        })
    }

    /// The values of the injector ConfigMaps of a revision (`istio-sidecar-injector` for
    /// `default`, else `istio-sidecar-injector-<rev>`), in input order.
    pub fn injector_values(&self, revision: &str) -> &[InjectorValues] {
        let name = if revision == "default" {
            "istio-sidecar-injector".to_string()
        } else {
            format!("istio-sidecar-injector-{revision}")
        };
        self.injector()
            .by_name
            .get(&name)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// How a Namespace resource asks for injection (see [`NamespaceInjection`]).
    pub fn namespace_injection_labels(&self, namespace: usize) -> NamespaceInjection {
        let r = &self.resources[namespace];
        let labels = &r.labels;
        let opted_out = labels
            .get("istio-injection")
            .is_some_and(|v| v != "enabled");
        let counted = ["istio-injection", "istio.io/rev", "istio.io/dataplane-mode"]
            .into_iter()
            .filter(|k| labels.contains_key(k) && (*k == "istio-injection" || !opted_out))
            .map(str::to_string)
            .collect();
        let revision = match labels.get("istio.io/rev") {
            Some(rev) => Some(rev.to_string()).filter(|r| !r.is_empty()),
            None if labels.get("istio-injection") == Some("enabled") => Some("default".to_string()),
            None => None,
        };
        let system = SYSTEM_NAMESPACES.contains(&r.name());
        NamespaceInjection {
            system,
            exempt: system || r.name() == self.mesh.root_namespace,
            labels: counted,
            unlabelled: !labels.contains_key("istio-injection")
                && !labels.contains_key("istio.io/rev")
                && labels.get("istio.io/dataplane-mode") != Some("ambient"),
            revision,
            by_default: self
                .injector_values("default")
                .iter()
                .find(|v| v.enable_namespaces_by_default)
                .map(|v| v.config_map),
        }
    }

    /// The image type a pod's proxy is injected with, by Istio's precedence (each later
    /// one wins): the mesh config's `defaultConfig.image.imageType`, selector-less
    /// ProxyConfigs of the root namespace, those of the pod's namespace, ProxyConfigs of
    /// the pod's namespace selecting it, the pod's `proxy.istio.io/config` annotation.
    /// `default` reads as `''` (no suffix).
    pub fn proxy_image_type(&self, pod: usize) -> Decision {
        let r = &self.resources[pod];
        let mut decided = Decision::default_value("");
        let mut consider = |value: Option<&str>, source: Option<(usize, String)>| {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                decided = Decision {
                    value: v.to_string(),
                    source,
                };
            }
        };
        let mesh_type = self
            .mesh
            .raw
            .as_ref()
            .and_then(|m| m.get("defaultConfig"))
            .and_then(|d| d.get("image"))
            .and_then(|i| i.get("imageType"))
            .and_then(Node::as_str);
        consider(mesh_type, None);
        let labels = self.workload_labels(pod);
        let at = |pc: usize| Some((pc, "spec.image.imageType".to_string()));
        for (ns, selecting) in [
            (self.mesh.root_namespace.as_str(), false),
            (r.namespace(), false),
            (r.namespace(), true),
        ] {
            for &pc in self.in_namespace(ns, Kind::ProxyConfig) {
                let Some(spec) = self.resources[pc].spec() else {
                    continue;
                };
                let selector = spec.get("selector").filter(|s| !s.is_null());
                let applies = match (selecting, selector) {
                    (false, None) => true,
                    (true, Some(s)) => s
                        .get("matchLabels")
                        .filter(|m| !m.is_null())
                        .is_some_and(|m| selector_matches(&string_labels(m), labels)),
                    _ => false,
                };
                if applies {
                    consider(image_type(spec), at(pc));
                }
            }
        }
        let key = "proxy.istio.io/config";
        if let Some(doc) = r.annotations.get(key).and_then(parse_embedded) {
            consider(
                image_type(&doc),
                Some((pod, format!("metadata.annotations[\"{key}\"]"))),
            );
        }
        if decided.value == "default" {
            decided.value.clear();
        }
        decided
    }

    /// The `istio-proxy` containers (and native-sidecar init containers) of a pod that
    /// have an image: `(path of the image, image)`.
    pub fn proxy_containers(&self, pod: usize) -> Vec<(String, String)> {
        let Some(spec) = self.resources[pod].spec() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for list in ["containers", "initContainers"] {
            for (i, c) in spec.items_at(&[list]).iter().enumerate() {
                if c.str_at(&["name"]) != Some("istio-proxy") {
                    continue;
                }
                if let Some(image) = c.get("image").and_then(Node::as_str) {
                    out.push((format!("spec.{list}[{i}].image"), image.to_string()));
                }
            }
        }
        out
    }

    /// For a Namespace injected by a revision whose injector ConfigMap is in the inputs
    /// (the first of that name that names a proxy image): its Pods whose `istio-proxy`
    /// runs neither that image nor that image with the `-<imageType>` suffix their
    /// ProxyConfigs ask for. Pods choosing their own image (`sidecar.istio.io/proxyImage`)
    /// and proxies not injected yet (`image: auto`) are not judged.
    pub fn stale_proxies(&self, namespace: usize) -> Option<StaleProxies> {
        let revision = self.namespace_injection_labels(namespace).revision?;
        let injector = self
            .injector_values(&revision)
            .iter()
            .find(|v| v.proxy_image.is_some())?;
        let image = injector.proxy_image.clone()?;
        let ns = self.resources[namespace].name();
        let mut pods = Vec::new();
        for pod in self.pods_in(ns, &Labels::new()) {
            let r = &self.resources[pod];
            if r.annotations
                .get("sidecar.istio.io/proxyImage")
                .is_some_and(|v| !v.is_empty())
            {
                continue;
            }
            let proxies: Vec<(String, String)> = self
                .proxy_containers(pod)
                .into_iter()
                .filter(|(_, img)| !img.is_empty() && img != "auto")
                .collect();
            if proxies.is_empty() {
                continue;
            }
            let image_type = self.proxy_image_type(pod);
            let with_type = format!("{image}-{}", image_type.value);
            let stale: Vec<(String, String)> = proxies
                .into_iter()
                .filter(|(_, img)| {
                    *img != image && (image_type.value.is_empty() || *img != with_type)
                })
                .collect();
            if !stale.is_empty() {
                pods.push(StalePod {
                    pod,
                    containers: stale,
                    image_type,
                });
            }
        }
        (!pods.is_empty()).then_some(StaleProxies {
            config_map: injector.config_map,
            image,
            pods,
        })
    }

    /// For a Pod of a namespace labelled `istio-injection: enabled` (not a system
    /// namespace) that does not opt out (`sidecar.istio.io/inject: false`, label before
    /// annotation, any case), is not on the host network and has no `istio-proxy`
    /// container with an image: the Namespace that asks for the proxy it lacks. Pod
    /// manifests kept in a repository are injected when they are admitted, so only pods
    /// read from a cluster (with `status`, a `uid` or a `nodeName`) are judged, or every
    /// pod in closed world.
    pub fn missing_proxy(&self, pod: usize) -> Option<usize> {
        let r = &self.resources[pod];
        let set = |n: Option<&Node>| n.is_some_and(|n| !n.is_null());
        let live = set(r.node.get("status"))
            || set(r.node.get("metadata").and_then(|m| m.get("uid")))
            || set(r.spec().and_then(|s| s.get("nodeName")));
        if !(self.closed_world || live) {
            return None;
        }
        let ns = r.namespace();
        let ns_res = self.namespace_resource(ns)?;
        if self.resources[ns_res].labels.get("istio-injection") != Some("enabled")
            || SYSTEM_NAMESPACES.contains(&ns)
        {
            return None;
        }
        let key = "sidecar.istio.io/inject";
        let inject = r.labels.get(key).or_else(|| r.annotations.get(key));
        let host_network = r
            .spec()
            .and_then(|s| s.get("hostNetwork"))
            .is_some_and(|h| h.as_bool() == Some(true));
        let has_proxy = self
            .proxy_containers(pod)
            .iter()
            .any(|(_, img)| !img.is_empty());
        // Point at the Namespace document lookups by identity give (one of its copies).
        (!inject.is_some_and(|v| v.eq_ignore_ascii_case("false")) && !host_network && !has_proxy)
            .then(|| self.find(Kind::Namespace, "", ns).unwrap_or(ns_res))
    }
}

/// `global.proxy.image` as a full reference, or completed with `global.hub` and
/// `global.tag` (each `''` when absent).
fn proxy_image(values: &Node) -> Option<String> {
    let global = values.get("global")?;
    let image = global.get("proxy")?.get("image")?.as_str()?;
    if image.contains('/') {
        return Some(image.to_string());
    }
    let part = |k: &str| global.get(k).and_then(Node::as_str).unwrap_or("");
    Some(format!("{}/{image}:{}", part("hub"), part("tag")))
}

fn image_type(config: &Node) -> Option<&str> {
    config.get("image")?.get("imageType")?.as_str()
}

/// The first document of YAML or JSON embedded in a string, or `None` when it does not
/// load cleanly.
pub(crate) fn parse_embedded(text: &str) -> Option<Node> {
    let mut loaded = load_source(
        "embedded".into(),
        text.as_bytes().to_vec(),
        &LoadLimits::default(),
    );
    if !loaded.findings.is_empty() || loaded.documents.is_empty() {
        return None;
    }
    Some(loaded.documents.swap_remove(0).root)
}

/// A YAML map of string keys to string values (labels, `matchLabels`); other entries
/// are left out, as rule files read selectors.
pub(crate) fn string_labels(n: &Node) -> Labels {
    n.entries()
        .iter()
        .filter_map(|(k, v)| match v.scalar()?.resolved() {
            Resolved::Str(s) => Some((k.as_str()?.to_string(), s.to_string())),
            _ => None,
        })
        .collect()
}
