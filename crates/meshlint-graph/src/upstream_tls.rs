//! Client TLS a DestinationRule originates without naming the CA to trust: with
//! `SIMPLE` or `MUTUAL` and no `caCertificates`, current proxies verify the server
//! against the system roots, so any publicly trusted certificate for the name passes.

use crate::build::MeshGraph;
use crate::validation::FieldIssue;
use meshlint_load::Node;

/// Whether a `tls` block originates TLS without a CA: mode `SIMPLE` or `MUTUAL`,
/// `caCertificates` absent or the empty string, and no `credentialName` Secret (which
/// may carry `ca.crt`) together with a `workloadSelector`.
fn tls_without_ca(tls: &Node, selects_workloads: bool) -> Option<&str> {
    let mode = tls
        .str_at(&["mode"])
        .filter(|m| matches!(*m, "SIMPLE" | "MUTUAL"))?;
    let empty = |n: &Node| n.as_str() == Some("");
    // A key with a null value is absent, as the API server drops null fields.
    let field = |k: &str| tls.get(k).filter(|n| !n.is_null());
    let ca_missing = field("caCertificates").is_none_or(empty);
    let credential = field("credentialName").is_some_and(|c| !empty(c));
    (ca_missing && !(credential && selects_workloads)).then_some(mode)
}

impl MeshGraph {
    /// The `tls` blocks of a DestinationRule that originate TLS without a CA (see
    /// [`tls_without_ca`]): code `top-level` for `trafficPolicy.tls`, `port-level` for a
    /// `portLevelSettings` entry, at the `mode`; `value` the mode, `numbers` the port
    /// number when the entry gives one.
    pub fn tls_without_ca_certificates(&self, destination_rule: usize) -> Vec<FieldIssue> {
        let Some(spec) = self.resources[destination_rule].node.get("spec") else {
            return Vec::new();
        };
        let Some(policy) = spec.get("trafficPolicy") else {
            return Vec::new();
        };
        let selects = spec.get("workloadSelector").is_some_and(|s| !s.is_null());
        let mut out = Vec::new();
        if let Some(mode) = policy.get("tls").and_then(|t| tls_without_ca(t, selects)) {
            let mut x = FieldIssue::at("spec.trafficPolicy.tls.mode".into(), "top-level");
            x.value = mode.to_string();
            out.push(x);
        }
        let ports = policy.items_at(&["portLevelSettings"]);
        for (i, p) in ports.iter().enumerate() {
            let Some(mode) = p.get("tls").and_then(|t| tls_without_ca(t, selects)) else {
                continue;
            };
            let mut x = FieldIssue::at(
                format!("spec.trafficPolicy.portLevelSettings[{i}].tls.mode"),
                "port-level",
            );
            x.value = mode.to_string();
            x.numbers = p
                .get("port")
                .and_then(|n| n.get("number"))
                .and_then(Node::as_i64)
                .into_iter()
                .collect();
            out.push(x);
        }
        out
    }
}
