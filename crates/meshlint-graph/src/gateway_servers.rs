//! What an Istio Gateway's servers need from the proxies that run them, as istioctl's
//! gateway analyzers judge it: the pods its selector picks (in any namespace), the TLS
//! credentials those pods read from their own namespace, and the ports the Services in
//! front of them expose.
//!
//! Every answer is built from the pod-by-label index and the Service→pod `Selects`
//! edges, once per distinct selector (memoised), so a Gateway costs its servers plus,
//! for the first Gateway of its selector, the pods and Services that selector reaches.

use crate::build::MeshGraph;
use crate::validation::FieldIssue;
use meshlint_load::{Node, Resolved};
use meshlint_model::typed::{Labels, Typed};
use meshlint_model::Kind;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// What the pods a gateway selector matches offer: the first of them (whose namespace
/// the proxy reads credentials from) and the TCP ports of the Services selecting any of
/// them.
#[derive(Debug, Default)]
pub(crate) struct GatewayPods {
    first: Option<usize>,
    offered: BTreeSet<i64>,
}

/// [`GatewayPods`] by selector, computed once per distinct selector.
pub(crate) type GatewayPodsMemo = Mutex<crate::Tally<HashMap<Labels, Arc<GatewayPods>>>>;

/// One distinct `tls.credentialName` of a Gateway and what the gateway pods find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayCredential {
    /// Index of the first server naming this credential.
    pub server: usize,
    /// `spec.servers[i].tls.credentialName`.
    pub path: String,
    pub name: String,
    /// The gateway pods' namespace, where the proxy looks the Secret up.
    pub namespace: String,
    /// The Secret found there, if any.
    pub secret: Option<usize>,
    /// Why the proxy cannot load the Secret found, if it cannot.
    pub problem: Option<CredentialProblem>,
}

/// Why a gateway proxy refuses a TLS Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialProblem {
    /// Neither `tls.crt`/`tls.key` nor `cert`/`key` among the data keys (which are listed).
    MissingKeys(Vec<String>),
    /// The keys are there but no certificate could be found.
    NoCertificate,
    /// The certificate under `key` cannot be read (`error` says why).
    Unreadable {
        key: String,
        error: String,
    },
    Expired,
    NotYetValid,
}

impl CredentialProblem {
    /// The problem as the rest of a sentence starting with the Secret's name.
    pub fn describe(&self) -> String {
        match self {
            CredentialProblem::MissingKeys(keys) => {
                let have = if keys.is_empty() {
                    "no data".to_string()
                } else {
                    keys.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!("has neither `tls.crt`/`tls.key` nor `cert`/`key` (it has {have})")
            }
            CredentialProblem::NoCertificate => "holds no certificate".into(),
            CredentialProblem::Unreadable { key, error } => {
                format!("holds a `{key}` that is {error}")
            }
            CredentialProblem::Expired => "holds a certificate that has expired".into(),
            CredentialProblem::NotYetValid => "holds a certificate that is not valid yet".into(),
        }
    }
}

/// `spec.selector` as rules read it: entries whose key and value are strings.
fn selector(gateway: &Node) -> Labels {
    let as_string = |n: &Node| match n.scalar().map(|s| s.resolved()) {
        Some(Resolved::Str(s)) => Some(s.to_string()),
        _ => None,
    };
    gateway
        .get("spec")
        .and_then(|s| s.get("selector"))
        .map(Node::entries)
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, v)| Some((as_string(&k.to_node())?, as_string(v)?)))
        .collect()
}

fn servers(gateway: &Node) -> &[Node] {
    gateway
        .get("spec")
        .and_then(|s| s.get("servers"))
        .map(Node::items)
        .unwrap_or(&[])
}

/// A plain integer scalar (what a YAML `443` is; a quoted `"443"` is a string).
fn plain_int(n: Option<&Node>) -> Option<i64> {
    n?.scalar()?.as_i64()
}

impl MeshGraph {
    /// [`GatewayPods`] of a Gateway's selector — the pods it picks in any namespace (an
    /// empty or missing selector picks every pod), as istioctl's gateway analyzers find
    /// the proxies — from the memo when another Gateway with the same selector asked first.
    fn gateway_pod_facts(&self, gateway: usize) -> Arc<GatewayPods> {
        let sel = selector(&self.resources[gateway].node);
        let memo = |m: &GatewayPodsMemo| m.lock().ok()?.get(&sel).cloned();
        if let Some(facts) = memo(&self.gateway_pods) {
            return facts;
        }
        let pods = self.pods_matching(&sel);
        let services: BTreeSet<usize> = pods
            .iter()
            .flat_map(|&p| self.services_selecting(p))
            .collect();
        let facts = Arc::new(GatewayPods {
            first: pods.first().copied(),
            offered: services.iter().flat_map(|&s| self.tcp_ports(s)).collect(),
        });
        if let Ok(mut m) = self.gateway_pods.lock() {
            m.insert(sel, facts.clone());
        }
        facts
    }

    /// A Service's TCP `port`s and numeric `targetPort`s (protocol unset or `TCP`).
    fn tcp_ports(&self, service: usize) -> Vec<i64> {
        let ports = self.resources[service]
            .node
            .get("spec")
            .and_then(|s| s.get("ports"))
            .map(Node::items)
            .unwrap_or(&[]);
        let mut out = Vec::new();
        for p in ports {
            let tcp = match p.get("protocol") {
                None => true,
                Some(n) => n.is_null() || n.as_str() == Some("TCP"),
            };
            if !tcp {
                continue;
            }
            out.extend(plain_int(p.get("port")));
            let target = p
                .get("targetPort")
                .and_then(Node::as_str)
                .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|t| t.parse::<i64>().ok())
                .filter(|&t| t != 0);
            out.extend(target);
        }
        out
    }

    /// With `closedWorld`: a Gateway no pod runs — its selector matches no pod and no
    /// other workload (a Deployment whose pods are not in the inputs) of the Gateway its
    /// name resolves to. Code `no-pods`, at `spec.selector` (else `metadata.name`),
    /// `value` the selector as sorted `key=value` pairs (`none` without one).
    pub fn gateway_without_pods(&self, gateway: usize) -> Vec<FieldIssue> {
        let r = &self.resources[gateway];
        if self.gateway_pod_facts(gateway).first.is_some() {
            return Vec::new();
        }
        let sel = selector(&r.node);
        let runs_elsewhere = self.gateway_ref(r.name(), r.namespace()).is_some_and(|i| {
            self.selected_workloads(i)
                .into_iter()
                .any(|w| self.resources[w].kind != Kind::Pod)
        });
        if runs_elsewhere {
            return Vec::new();
        }
        let written = r
            .node
            .get("spec")
            .and_then(|s| s.get("selector"))
            .filter(|s| !s.is_null());
        let path = if written.is_some() {
            "spec.selector"
        } else {
            "metadata.name"
        };
        let shown = match written {
            Some(_) => {
                let mut pairs: Vec<String> = sel.iter().map(|(k, v)| format!("{k}={v}")).collect();
                pairs.sort();
                pairs.join(", ")
            }
            _ => "none".to_string(),
        };
        let mut x = FieldIssue::at(path.into(), "no-pods");
        x.value = shown;
        vec![x]
    }

    /// Each distinct TLS credential of a Gateway's servers with the Secret the gateway
    /// pods would load (from the first pod's namespace); empty when no pod runs it.
    pub fn gateway_credentials(&self, gateway: usize) -> Vec<GatewayCredential> {
        let Some(pod) = self.gateway_pod_facts(gateway).first else {
            return Vec::new();
        };
        let namespace = self.resources[pod].namespace().to_string();
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (i, server) in servers(&self.resources[gateway].node).iter().enumerate() {
            let Some(name) = server.get("tls").and_then(|t| t.get("credentialName")) else {
                continue;
            };
            let Some(name) = name.as_str().filter(|n| !n.is_empty()) else {
                continue;
            };
            if !seen.insert(name) {
                continue;
            }
            let secret = self.find(Kind::Secret, &namespace, name);
            out.push(GatewayCredential {
                server: i,
                path: format!("spec.servers[{i}].tls.credentialName"),
                name: name.to_string(),
                namespace: namespace.clone(),
                secret,
                problem: secret.and_then(|s| self.credential_problem(s)),
            });
        }
        out
    }

    /// Why a gateway proxy cannot load this Secret as a server certificate, if it cannot.
    fn credential_problem(&self, secret: usize) -> Option<CredentialProblem> {
        let Typed::Secret(s) = &self.resources[secret].typed else {
            return None;
        };
        let has = |k: &str| s.data_keys.iter().any(|d| d == k);
        if !((has("tls.crt") && has("tls.key")) || (has("cert") && has("key"))) {
            return Some(CredentialProblem::MissingKeys(s.data_keys.clone()));
        }
        let Some(c) = &s.certificate else {
            return Some(CredentialProblem::NoCertificate);
        };
        let now = self.now();
        if let Some(e) = &c.error {
            Some(CredentialProblem::Unreadable {
                key: c.key.clone(),
                error: e.clone(),
            })
        } else if c.not_after.is_some_and(|t| t < now) {
            Some(CredentialProblem::Expired)
        } else if c.not_before.is_some_and(|t| t > now) {
            Some(CredentialProblem::NotYetValid)
        } else {
            None
        }
    }

    /// Gateway server ports that no Service in front of the gateway pods exposes (as a
    /// TCP `port` or numeric `targetPort`), once per port number: code
    /// `port-not-exposed` at `spec.servers[i].port.number`, `value` the port, `numbers`
    /// the ports those Services offer (sorted, distinct). Empty when no pod runs it.
    pub fn gateway_ports_not_exposed(&self, gateway: usize) -> Vec<FieldIssue> {
        let facts = self.gateway_pod_facts(gateway);
        if facts.first.is_none() {
            return Vec::new();
        }
        let offered = &facts.offered;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (i, server) in servers(&self.resources[gateway].node).iter().enumerate() {
            let Some(port) = plain_int(server.get("port").and_then(|p| p.get("number"))) else {
                continue;
            };
            if !seen.insert(port) || offered.contains(&port) {
                continue;
            }
            let mut x =
                FieldIssue::at(format!("spec.servers[{i}].port.number"), "port-not-exposed");
            x.value = port.to_string();
            x.numbers = offered.iter().copied().collect();
            out.push(x);
        }
        out
    }
}
