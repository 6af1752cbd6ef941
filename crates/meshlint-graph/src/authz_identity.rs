//! AuthorizationPolicy conditions on the caller's identity where the selected workloads
//! accept plaintext, so that some callers carry no identity.
//!
//! Peer identity (`source.principals`, `namespaces`, `serviceAccounts`, their `not`
//! forms, and `when` on `source.principal` / `source.namespace`) exists only on mutual
//! TLS connections. Where the workloads a policy selects accept plaintext (PERMISSIVE or
//! DISABLE at the level that decides), a plaintext caller matches no positive identity
//! condition and every negative one.

use crate::build::MeshGraph;
use crate::validation::FieldIssue;
use meshlint_load::Node;
use meshlint_model::typed::{Labels, Typed};
use meshlint_model::Kind;
use serde::Serialize;

/// One identity condition a plaintext caller gets around or is refused by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdentityGap {
    /// The condition's field (`spec.rules[0].from[0].source.principals`, or a `when`
    /// entry's `values` / `notValues`).
    pub path: String,
    /// The field's name as written (`principals`, `notNamespaces`, `source.principal`).
    pub field: String,
    /// `deny-bypassed` (a DENY on a positive identity: plaintext callers are not
    /// denied), `exclusion-bypassed` (an ALLOW on a negative identity: plaintext callers
    /// from the excluded identities are allowed), `plaintext-denied` (an ALLOW on a
    /// positive identity: plaintext callers are denied).
    pub code: &'static str,
    /// The peer mode that accepts plaintext: `PERMISSIVE` or `DISABLE`.
    pub mode: String,
    /// The PeerAuthentication field that decides it; None for Istio's default
    /// (PERMISSIVE), which a policy outside the inputs may change.
    pub source: Option<(usize, String)>,
}

const POSITIVE: &[&str] = &["principals", "namespaces", "serviceAccounts"];
const NEGATIVE: &[&str] = &["notPrincipals", "notNamespaces", "notServiceAccounts"];

impl MeshGraph {
    /// The mode that lets plaintext reach the workloads an AuthorizationPolicy selects,
    /// with its deciding field: the first selected workload (of the inputs) whose mode is
    /// PERMISSIVE or DISABLE; without workloads, the namespace-level (or mesh-wide) mode.
    /// None when every such workload is STRICT, or when the policy has a selector, no
    /// workload of the inputs matches and workload-level policies could decide.
    fn plaintext_mode_for_policy(&self, ap: usize) -> Option<(String, Option<(usize, String)>)> {
        let r = &self.resources[ap];
        let ns = r.namespace();
        let selector: Option<Labels> =
            r.node.get("spec").and_then(|s| s.get("selector")).map(|s| {
                s.get("matchLabels")
                    .map(Node::entries)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
                    .collect()
            });
        let selector = selector.filter(|s| !s.is_empty());
        let workloads: Vec<usize> = self
            .policy_targets(ns, selector.as_ref())
            .into_iter()
            .filter(|&w| self.has_sidecar(w))
            .collect();
        if !workloads.is_empty() {
            return workloads.iter().find_map(|&w| {
                let d = self.peer_mode(w, None);
                matches!(d.value.as_str(), "PERMISSIVE" | "DISABLE")
                    .then(|| (d.value.clone(), d.source.clone()))
            });
        }
        if selector.is_some() {
            let workload_level = self.in_namespace(ns, Kind::PeerAuthentication).iter().any(|&p| {
                matches!(&self.resources[p].typed, Typed::PeerAuthentication(x) if x.selector.as_ref().is_some_and(|s| !s.is_empty()))
            });
            if workload_level {
                return None;
            }
        }
        match self.namespace_peer_mode(ns) {
            Some((_, p, _)) if !self.peer_mode_agreed(p) => None,
            Some((m, p, _)) if m == "PERMISSIVE" || m == "DISABLE" => {
                let path = if self.resources[p].has_path("spec.mtls.mode") {
                    "spec.mtls.mode"
                } else {
                    "spec"
                };
                Some((m, Some((p, path.to_string()))))
            }
            Some(_) => None,
            None => Some(("PERMISSIVE".to_string(), None)),
        }
    }

    /// Identity conditions of an ALLOW or DENY AuthorizationPolicy (without
    /// `targetRef`) that plaintext callers get around or are refused by, given the peer
    /// mode of the workloads it selects. Empty when those workloads only accept mutual
    /// TLS.
    pub fn identity_without_mtls(&self, ap: usize) -> Vec<IdentityGap> {
        let r = &self.resources[ap];
        let Some(spec) = r.node.get("spec") else {
            return Vec::new();
        };
        if spec.get("targetRef").is_some() || spec.get("targetRefs").is_some() {
            return Vec::new();
        }
        let action = spec.str_at(&["action"]).unwrap_or("ALLOW");
        let deny = match action {
            "ALLOW" => false,
            "DENY" => true,
            _ => return Vec::new(),
        };
        // (path, field, positive)
        let mut conditions: Vec<(String, String, bool)> = Vec::new();
        for (i, rule) in spec.items_at(&["rules"]).iter().enumerate() {
            for (j, from) in rule.items_at(&["from"]).iter().enumerate() {
                let Some(source) = from.get("source") else {
                    continue;
                };
                for (k, _) in source.entries() {
                    let Some(key) = k.as_str() else { continue };
                    let positive = POSITIVE.contains(&key);
                    if positive || NEGATIVE.contains(&key) {
                        let path = format!("spec.rules[{i}].from[{j}].source.{key}");
                        conditions.push((path, key.to_string(), positive));
                    }
                }
            }
            for (j, when) in rule.items_at(&["when"]).iter().enumerate() {
                let Some(key) = when.str_at(&["key"]) else {
                    continue;
                };
                if key != "source.principal" && key != "source.namespace" {
                    continue;
                }
                for (list, positive) in [("values", true), ("notValues", false)] {
                    if when.get(list).is_some_and(|v| !v.items().is_empty()) {
                        conditions.push((
                            format!("spec.rules[{i}].when[{j}].{list}"),
                            key.to_string(),
                            positive,
                        ));
                    }
                }
            }
        }
        if conditions.is_empty() || self.selects_nothing_known(ap) {
            return Vec::new();
        }
        let Some((mode, source)) = self.plaintext_mode_for_policy(ap) else {
            return Vec::new();
        };
        conditions
            .into_iter()
            .filter_map(|(path, field, positive)| {
                let code = match (deny, positive) {
                    (true, true) => "deny-bypassed",
                    (false, false) => "exclusion-bypassed",
                    (false, true) => "plaintext-denied",
                    (true, false) => return None,
                };
                Some(IdentityGap {
                    path,
                    field,
                    code,
                    mode: mode.clone(),
                    source: source.clone(),
                })
            })
            .collect()
    }

    /// Token conditions of an AuthorizationPolicy (no `targetRef`) — `source`
    /// `requestPrincipals` / `notRequestPrincipals`, `when` on `request.auth.*` — when no
    /// RequestAuthentication of the inputs selects its workloads, so no request carries a
    /// validated token. `code` is `positive` (matches no request) or `negative` (matches
    /// every request). A RequestAuthentication covers the policy when it has no selector
    /// (in the policy's namespace or the root namespace), when its selector is part of the
    /// policy's, or when it selects a selected workload of the inputs; one whose selector
    /// may overlap the policy's (not disagreeing on a label) without any workload of the
    /// inputs to tell leaves the question open and nothing is reported.
    pub fn token_conditions_without_authn(&self, ap: usize) -> Vec<FieldIssue> {
        let r = &self.resources[ap];
        let Some(spec) = r.node.get("spec") else {
            return Vec::new();
        };
        if spec.get("targetRef").is_some() || spec.get("targetRefs").is_some() {
            return Vec::new();
        }
        let mut conditions: Vec<FieldIssue> = Vec::new();
        let mut push = |path: String, field: &str, positive: bool| {
            let mut x = crate::validation::FieldIssue::at(
                path,
                if positive { "positive" } else { "negative" },
            );
            x.value = field.to_string();
            conditions.push(x);
        };
        for (i, rule) in spec.items_at(&["rules"]).iter().enumerate() {
            for (j, from) in rule.items_at(&["from"]).iter().enumerate() {
                for (key, positive) in
                    [("requestPrincipals", true), ("notRequestPrincipals", false)]
                {
                    if from.get("source").and_then(|s| s.get(key)).is_some() {
                        push(
                            format!("spec.rules[{i}].from[{j}].source.{key}"),
                            key,
                            positive,
                        );
                    }
                }
            }
            for (j, when) in rule.items_at(&["when"]).iter().enumerate() {
                let Some(key) = when
                    .str_at(&["key"])
                    .filter(|k| k.starts_with("request.auth."))
                else {
                    continue;
                };
                for (list, positive) in [("values", true), ("notValues", false)] {
                    if when.get(list).is_some_and(|v| !v.items().is_empty()) {
                        push(format!("spec.rules[{i}].when[{j}].{list}"), key, positive);
                    }
                }
            }
        }
        if conditions.is_empty() || self.request_authn_covers(ap) || self.selects_nothing_known(ap)
        {
            return Vec::new();
        }
        conditions
    }

    /// Whether RequestAuthentications of the inputs validate tokens for every workload an
    /// AuthorizationPolicy selects, or might (see [`Self::token_conditions_without_authn`]).
    fn request_authn_covers(&self, ap: usize) -> bool {
        let r = &self.resources[ap];
        let ns = r.namespace();
        let root = self.mesh.root_namespace.as_str();
        let selector_of = |n: &Node| -> Option<Labels> {
            let sel: Labels = n
                .get("spec")?
                .get("selector")?
                .get("matchLabels")
                .map(Node::entries)
                .unwrap_or(&[])
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
                .collect();
            (!sel.is_empty()).then_some(sel)
        };
        let ap_selector = selector_of(&r.node);
        let targets = self.policy_targets(ns, ap_selector.as_ref());
        let mut authns: Vec<usize> = self.in_namespace(ns, Kind::RequestAuthentication).to_vec();
        if ns != root {
            authns.extend_from_slice(self.in_namespace(root, Kind::RequestAuthentication));
        }
        let mut partial = false;
        for ra in authns {
            let node = &self.resources[ra].node;
            if node
                .get("spec")
                .is_some_and(|s| s.get("targetRef").is_some() || s.get("targetRefs").is_some())
            {
                partial = true;
                continue;
            }
            let Some(sel) = selector_of(node) else {
                return true;
            };
            if ap_selector
                .as_ref()
                .is_some_and(|a| sel.iter().all(|(k, v)| a.get(k) == Some(v)))
            {
                return true;
            }
            // Selectors that disagree on a label select disjoint workloads.
            let disjoint = ap_selector
                .as_ref()
                .is_some_and(|a| sel.iter().any(|(k, v)| a.get(k).is_some_and(|x| x != v)));
            partial |= !disjoint;
        }
        if partial && !targets.is_empty() {
            let covered = |w: usize| {
                let labels = self.workload_labels(w);
                self.in_namespace(ns, Kind::RequestAuthentication)
                    .iter()
                    .chain(self.in_namespace(root, Kind::RequestAuthentication))
                    .any(|&ra| {
                        selector_of(&self.resources[ra].node)
                            .is_some_and(|s| s.iter().all(|(k, v)| labels.get(k) == Some(v)))
                    })
            };
            return targets.iter().any(|&w| covered(w));
        }
        partial
    }

    /// Whether a policy's selector matches none of the workloads the inputs hold for its
    /// namespace (some exist): the policy applies nowhere, which ML2015 reports; what its
    /// conditions would do is moot.
    fn selects_nothing_known(&self, ap: usize) -> bool {
        let r = &self.resources[ap];
        let ns = r.namespace();
        let selector: Labels = r
            .node
            .get("spec")
            .and_then(|s| s.get("selector"))
            .and_then(|s| s.get("matchLabels"))
            .map(Node::entries)
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
            .collect();
        // The namespace has workloads iff it has an entry in the index (never empty),
        // asked without listing them all for every policy of a busy namespace.
        !selector.is_empty()
            && ns != self.mesh.root_namespace
            && self.workloads_by_ns.contains_key(ns)
            && self.policy_targets(ns, Some(&selector)).is_empty()
    }
}
