//! The control plane's own configuration, as istioctl's external-control-plane and
//! multicluster analyzers read it: the webhooks through which the API server reaches
//! istiod, istiod's guard on the JWKS addresses it fetches, and the registries a
//! MeshNetworks file takes endpoints from.

use crate::build::MeshGraph;
use meshlint_load::Node;
use meshlint_model::Kind;
use regex_lite::Regex;
use std::collections::HashSet;
use std::sync::LazyLock;

/// `scheme://authority[/?#…]` with no blank in it.
static URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s]+([/?#]\S*)?$").expect("valid regex")
});

/// An IPv4 address or a bracketed IPv6 address, with an optional port.
static IP_AUTHORITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[[0-9A-Fa-f:.]+\])(:\d+)?$")
        .expect("valid regex")
});

/// Registries istiod knows without a remote secret (names are case-sensitive).
const BUILT_IN_REGISTRIES: &[&str] = &["Kubernetes", "External", "Mock"];

/// The environment variable that keeps istiod from fetching JWKS from some ranges.
const BLOCKED_CIDRS: &str = "BLOCKED_CIDRS_IN_JWKS_URIS";

/// One `fromRegistry` of a MeshNetworks network that names no registry istiod has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRegistry {
    /// `networks["name"].endpoints[j].fromRegistry`.
    pub path: String,
    pub network: String,
    pub registry: String,
}

/// A webhook of Istio's through which the API server cannot reach istiod, or reaches it
/// only by IP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookIssue {
    /// `webhooks[i].clientConfig` or its `url`.
    pub path: String,
    /// `invalid-url`, `no-target` or `ip-address`.
    pub code: &'static str,
    /// The webhook's `name` (`''` when it has none).
    pub webhook: String,
    /// The URL (`invalid-url`) or its authority (`ip-address`); `''` otherwise.
    pub value: String,
}

/// Whether a webhook configuration is one of Istio's by name (the validator or the
/// sidecar injector, as an istioctl install names them).
fn istio_webhook_configuration(kind: Kind, name: &str) -> bool {
    match kind {
        Kind::ValidatingWebhookConfiguration => {
            name == "istiod-default-validator" || name.starts_with("istio-validator")
        }
        Kind::MutatingWebhookConfiguration => name.starts_with("istio-sidecar-injector"),
        _ => false,
    }
}

impl MeshGraph {
    /// How Istio's validating or injecting webhooks reach an external istiod, when they
    /// cannot or only by IP address: `invalid-url` (at `clientConfig.url`, `value` the
    /// URL), `no-target` (no URL — or a blank one — and no `service`; at `clientConfig`,
    /// or its `url` when the key is written) and `ip-address` (`value` the URL's
    /// authority). Other webhook configurations give nothing.
    pub fn webhook_target_issues(&self, config: usize) -> Vec<WebhookIssue> {
        let r = &self.resources[config];
        if !istio_webhook_configuration(r.kind, r.name()) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let webhooks = r.node.items_at(&["webhooks"]);
        for (i, hook) in webhooks.iter().enumerate() {
            let Some(client) = hook.get("clientConfig").filter(|c| !c.is_null()) else {
                continue;
            };
            let base = format!("webhooks[{i}].clientConfig");
            let webhook = hook.str_at(&["name"]).unwrap_or("");
            let issue = |path: String, code, value: &str| WebhookIssue {
                path,
                code,
                webhook: webhook.to_string(),
                value: value.to_string(),
            };
            // A null `url` is no `url`: the API server drops null fields.
            let url_key = client.get("url").filter(|u| !u.is_null());
            let url = url_key.and_then(Node::as_str);
            match url.filter(|u| !u.is_empty()) {
                Some(u) if !URL.is_match(u) => {
                    out.push(issue(format!("{base}.url"), "invalid-url", u));
                }
                Some(_) => {}
                None if client.get("service").is_none_or(Node::is_null) => {
                    let path = if url_key.is_some() {
                        format!("{base}.url")
                    } else {
                        base.clone()
                    };
                    out.push(issue(path, "no-target", ""));
                }
                None => {}
            }
            if let Some((_, rest)) = url.and_then(|u| u.split_once("://")) {
                let authority = rest.split('/').next().unwrap_or("");
                if IP_AUTHORITY.is_match(authority.split('?').next().unwrap_or("")) {
                    out.push(issue(format!("{base}.url"), "ip-address", authority));
                }
            }
        }
        out
    }

    /// For an istiod Deployment (label `app: istiod`) none of whose containers sets
    /// `BLOCKED_CIDRS_IN_JWKS_URIS`: the first RequestAuthentication of the inputs, whose
    /// `jwksUri` istiod would fetch from anywhere. None otherwise.
    pub fn unrestricted_jwks_fetch(&self, deployment: usize) -> Option<usize> {
        let r = &self.resources[deployment];
        if r.labels.get("app") != Some("istiod") {
            return None;
        }
        let containers = r
            .node
            .get("spec")
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("spec"))
            .and_then(|s| s.get("containers"))
            .filter(|c| !c.is_null())?;
        let guarded = containers.items().iter().any(|c| {
            c.items_at(&["env"]).iter().any(|e| {
                e.str_at(&["name"]) == Some(BLOCKED_CIDRS)
                    && e.str_at(&["value"]).is_some_and(|v| !v.is_empty())
            })
        });
        if guarded {
            return None;
        }
        self.of_kind(Kind::RequestAuthentication).first().copied()
    }

    /// Endpoints of a MeshNetworks file taken from a registry that is neither built in
    /// nor the cluster name of a remote secret (a Secret labelled
    /// `istio/multiCluster: "true"`, whose data keys name clusters).
    pub fn unknown_registries(&self, mesh_networks: usize) -> Vec<UnknownRegistry> {
        let Some(networks) = self.resources[mesh_networks].node.get("networks") else {
            return Vec::new();
        };
        let mut known: HashSet<&str> = BUILT_IN_REGISTRIES.iter().copied().collect();
        for &s in self.of_kind(Kind::Secret) {
            let r = &self.resources[s];
            if r.labels.get("istio/multiCluster") != Some("true") {
                continue;
            }
            if let meshlint_model::Typed::Secret(sec) = &r.typed {
                known.extend(sec.data_keys.iter().map(String::as_str));
            }
        }
        let mut out = Vec::new();
        for (name, network) in networks.entries() {
            let name = name.as_str().unwrap_or("");
            let endpoints = network.items_at(&["endpoints"]);
            for (j, e) in endpoints.iter().enumerate() {
                let Some(registry) = e.get("fromRegistry").and_then(Node::as_str) else {
                    continue;
                };
                if known.contains(registry) {
                    continue;
                }
                out.push(UnknownRegistry {
                    path: format!("networks[\"{name}\"].endpoints[{j}].fromRegistry"),
                    network: name.to_string(),
                    registry: registry.to_string(),
                });
            }
        }
        out
    }
}
