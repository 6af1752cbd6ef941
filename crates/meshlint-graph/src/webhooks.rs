//! Istio's sidecar injection webhooks (MutatingWebhookConfigurations): which
//! configurations are Istio's, which of their webhooks match a pod, webhooks that match
//! the same pods, webhooks whose Service is missing (istioctl's `webhook.Analyzer`), and
//! `image: auto` containers no webhook will fill in.

use crate::build::MeshGraph;
use crate::injector::string_labels;
use meshlint_load::{Node, Resolved};
use meshlint_model::typed::{Labels, Typed};
use meshlint_model::Kind;
use serde::Serialize;

/// A webhook of a configuration that matches the same pods as other Istio webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookOverlap {
    /// Index of the webhook in the configuration's `webhooks`.
    pub webhook: usize,
    /// `configuration/webhook` (the webhook's index when it has no name).
    pub name: String,
    /// The names of the webhooks it overlaps with, sorted.
    pub others: Vec<String>,
    /// The first combination of labels matched by both: the namespace's and the pod's.
    pub namespace_labels: Labels,
    pub pod_labels: Labels,
}

/// `image: auto` containers of a workload that no Istio injection webhook fills in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UninjectedAutoImages {
    /// Indexes in the pod spec's `containers`.
    pub containers: Vec<usize>,
    /// How many webhooks named `…istio.io` the inputs hold (none matches the pods).
    pub istio_webhooks: usize,
}

/// A webhook whose `clientConfig.service` is not among the inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingWebhookService {
    pub webhook: usize,
    pub namespace: String,
    pub name: String,
}

impl MeshGraph {
    fn webhooks_of(&self, config: usize) -> &[Node] {
        self.resources[config].node.items_at(&["webhooks"])
    }

    /// The revisions a webhook configuration names: its `istio.io/rev` label, and the
    /// values its webhooks' selectors give `istio.io/rev` (`matchLabels`, or
    /// `matchExpressions` with values).
    pub fn webhook_revisions(&self, config: usize) -> Vec<String> {
        let mut out: Vec<String> = self.resources[config]
            .labels
            .get("istio.io/rev")
            .map(str::to_string)
            .into_iter()
            .collect();
        for w in self.webhooks_of(config) {
            for field in ["namespaceSelector", "objectSelector"] {
                let Some(sel) = w.get(field).filter(|s| !s.is_null()) else {
                    continue;
                };
                if let Some(v) = sel
                    .get("matchLabels")
                    .and_then(|m| m.get("istio.io/rev"))
                    .and_then(Node::as_str)
                {
                    out.push(v.to_string());
                }
                for e in sel.items_at(&["matchExpressions"]) {
                    if e.str_at(&["key"]) == Some("istio.io/rev") {
                        let values = e.items_at(&["values"]);
                        out.extend(values.iter().filter_map(Node::as_str).map(str::to_string));
                    }
                }
            }
        }
        out
    }

    /// Whether Istio's webhook analyzer considers a configuration: it names a revision
    /// (see [`Self::webhook_revisions`]) or has a webhook named `…istio.io`.
    pub fn is_istio_webhook_configuration(&self, config: usize) -> bool {
        self.resources[config].kind == Kind::MutatingWebhookConfiguration
            && (!self.webhook_revisions(config).is_empty()
                || self.webhooks_of(config).iter().any(named_istio))
    }

    /// The configurations Istio's webhook analyzer considers, in input order, and the
    /// revisions they name (distinct, first seen first), found once.
    fn istio_webhook_group(&self) -> (&[usize], &[String]) {
        let (configs, revisions) = self.injector().webhook_group.get_or_init(|| {
            let configs: Vec<usize> = self
                .of_kind(Kind::MutatingWebhookConfiguration)
                .iter()
                .copied()
                .filter(|&c| self.is_istio_webhook_configuration(c))
                .collect();
            let mut revisions: Vec<String> = Vec::new();
            for &c in &configs {
                for r in self.webhook_revisions(c) {
                    if !revisions.contains(&r) {
                        revisions.push(r);
                    }
                }
            }
            (configs, revisions)
        });
        (configs, revisions)
    }

    /// Each webhook of an Istio configuration that matches some pod another Istio
    /// webhook (of any configuration) matches too. The pods tried are Istio's: namespace
    /// labels `{}`, `istio-injection: enabled|disabled`, `istio.io/rev: <rev>`, and pod
    /// labels `{}`, `sidecar.istio.io/inject: true|false`, `istio.io/rev: <rev>` with and
    /// without `inject: true`, for every revision the configurations name.
    pub fn webhook_overlaps(&self, config: usize) -> Vec<WebhookOverlap> {
        let (configs, revisions) = self.istio_webhook_group();
        if !configs.contains(&config) {
            return Vec::new();
        }
        let labels = |pairs: &[(&str, &str)]| -> Labels {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let inject = "sidecar.istio.io/inject";
        let mut namespaces = vec![
            Labels::new(),
            labels(&[("istio-injection", "enabled")]),
            labels(&[("istio-injection", "disabled")]),
        ];
        let mut pods = vec![
            Labels::new(),
            labels(&[(inject, "true")]),
            labels(&[(inject, "false")]),
        ];
        for r in revisions {
            namespaces.push(labels(&[("istio.io/rev", r)]));
            pods.push(labels(&[("istio.io/rev", r)]));
            pods.push(labels(&[("istio.io/rev", r), (inject, "true")]));
        }
        // Every webhook of the group: (configuration, index, name, webhook).
        let all: Vec<(usize, usize, String, &Node)> = configs
            .iter()
            .flat_map(|&c| {
                self.webhooks_of(c).iter().enumerate().map(move |(i, w)| {
                    let name = match w.get("name").and_then(Node::as_str) {
                        Some(n) => n.to_string(),
                        None => i.to_string(),
                    };
                    (c, i, format!("{}/{name}", self.resources[c].name()), w)
                })
            })
            .collect();
        let matches = |w: &Node, ns: &Labels, pod: &Labels| {
            selector_node_matches(w.get("namespaceSelector"), ns)
                && selector_node_matches(w.get("objectSelector"), pod)
        };
        let mut out = Vec::new();
        for (c, i, name, w) in all.iter().filter(|(c, ..)| *c == config) {
            let mut others: Vec<String> = Vec::new();
            let mut first: Option<(Labels, Labels)> = None;
            for ns in &namespaces {
                for pod in &pods {
                    if !matches(w, ns, pod) {
                        continue;
                    }
                    // Another copy of this configuration (one object written in several
                    // documents, e.g. alternative installs in one folder) is not another
                    // webhook: the API server keeps one of them.
                    let overlapping: Vec<&String> = all
                        .iter()
                        .filter(|(oc, oi, _, ow)| {
                            let other = if oc == c {
                                oi != i
                            } else {
                                !self.same_object(*oc, *c)
                            };
                            other && matches(ow, ns, pod)
                        })
                        .map(|(_, _, n, _)| n)
                        .collect();
                    if overlapping.is_empty() {
                        continue;
                    }
                    first.get_or_insert_with(|| (ns.clone(), pod.clone()));
                    others.extend(overlapping.into_iter().cloned());
                }
            }
            if let Some((namespace_labels, pod_labels)) = first {
                others.sort();
                others.dedup();
                out.push(WebhookOverlap {
                    webhook: *i,
                    name: name.clone(),
                    others,
                    namespace_labels,
                    pod_labels,
                });
            }
        }
        out
    }

    /// The webhooks of an Istio configuration that call a Service the inputs do not hold.
    pub fn missing_webhook_services(&self, config: usize) -> Vec<MissingWebhookService> {
        if !self.is_istio_webhook_configuration(config) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (i, w) in self.webhooks_of(config).iter().enumerate() {
            let Some(svc) = w
                .get("clientConfig")
                .and_then(|c| c.get("service"))
                .filter(|s| !s.is_null())
            else {
                continue;
            };
            let field = |k: &str| svc.get(k).and_then(Node::as_str).unwrap_or("").to_string();
            let (namespace, name) = (field("namespace"), field("name"));
            if self.find(Kind::Service, &namespace, &name).is_none() {
                out.push(MissingWebhookService {
                    webhook: i,
                    namespace,
                    name,
                });
            }
        }
        out
    }

    /// Webhooks named `…istio.io` (the injector's) whose selectors match a workload's pods:
    /// `(configuration, webhook index)`, judged on the pod (template) labels and those of
    /// its Namespace (none when the Namespace is not in the inputs).
    pub fn injection_webhooks_for(&self, workload: usize) -> Vec<(usize, usize)> {
        let ns_labels = self
            .namespace_resource(self.resources[workload].namespace())
            .map(|n| self.resources[n].labels.clone())
            .unwrap_or_default();
        let pod_labels = self.workload_labels(workload);
        self.istio_named_webhooks()
            .filter(|&(_, _, w)| {
                selector_node_matches(w.get("namespaceSelector"), &ns_labels)
                    && selector_node_matches(w.get("objectSelector"), pod_labels)
            })
            .map(|(c, i, _)| (c, i))
            .collect()
    }

    fn istio_named_webhooks(&self) -> impl Iterator<Item = (usize, usize, &Node)> {
        self.of_kind(Kind::MutatingWebhookConfiguration)
            .iter()
            .flat_map(move |&c| {
                self.webhooks_of(c)
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| named_istio(w))
                    .map(move |(i, w)| (c, i, w))
            })
    }

    /// A workload's `image: auto` containers when no Istio injection webhook of the
    /// inputs matches its pods (see [`Self::injection_webhooks_for`]); `None` when it has
    /// none or a webhook fills them in.
    pub fn uninjected_auto_images(&self, workload: usize) -> Option<UninjectedAutoImages> {
        let Typed::Workload(w) = &self.resources[workload].typed else {
            return None;
        };
        let spec = self.resources[workload]
            .node
            .lookup(&meshlint_load::PathSegment::parse_path(w.pod_spec_path).unwrap_or_default())?;
        let containers: Vec<usize> = spec
            .0
            .items_at(&["containers"])
            .iter()
            .enumerate()
            .filter(|(_, c)| c.str_at(&["image"]) == Some("auto"))
            .map(|(i, _)| i)
            .collect();
        if containers.is_empty() || !self.injection_webhooks_for(workload).is_empty() {
            return None;
        }
        Some(UninjectedAutoImages {
            containers,
            istio_webhooks: self.istio_named_webhooks().count(),
        })
    }
}

fn named_istio(w: &Node) -> bool {
    w.get("name")
        .and_then(Node::as_str)
        .is_some_and(|n| n.ends_with("istio.io"))
}

/// Kubernetes `LabelSelector` semantics on a selector as written (absent or null
/// matches everything): `matchLabels`, and `matchExpressions` with `In`, `NotIn`,
/// `Exists`, `DoesNotExist` (an unknown operator or a missing key matches nothing).
pub fn selector_node_matches(selector: Option<&Node>, labels: &Labels) -> bool {
    let Some(sel) = selector.filter(|s| !s.is_null()) else {
        return true;
    };
    if let Some(ml) = sel.get("matchLabels") {
        if !crate::queries::selector_matches(&string_labels(ml), labels) {
            return false;
        }
    }
    sel.items_at(&["matchExpressions"]).iter().all(|e| {
        let Some(key) = e.get("key").and_then(as_string) else {
            return false;
        };
        let values: Vec<&str> = e
            .items_at(&["values"])
            .iter()
            .filter_map(as_string)
            .collect();
        let have = labels.get(key);
        match e.get("operator").and_then(as_string).unwrap_or("") {
            "In" => have.is_some_and(|v| values.contains(&v)),
            "NotIn" => have.is_none_or(|v| !values.contains(&v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        }
    })
}

/// A scalar that reads as a CEL string (not a number, boolean or null).
fn as_string(n: &Node) -> Option<&str> {
    match n.scalar()?.resolved() {
        Resolved::Str(s) => Some(s),
        _ => None,
    }
}
