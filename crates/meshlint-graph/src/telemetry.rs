//! A Telemetry's providers against the mesh config's: access logging with nowhere to
//! log to, tracing through a provider Istio has deprecated.

use crate::build::MeshGraph;
use crate::validation::FieldIssue;
use meshlint_load::Node;
use std::collections::HashSet;

/// A non-empty list, map or string (what CEL's `size(x) > 0` accepts).
fn non_empty(n: &Node) -> bool {
    !n.items().is_empty() || !n.entries().is_empty() || n.as_str().is_some_and(|s| !s.is_empty())
}

impl MeshGraph {
    /// Provider problems of a Telemetry: `no-access-log-provider` (the first enabled
    /// `accessLogging` entry without `providers` when the mesh config has no
    /// `defaultProviders.accessLogging`; at the entry, `numbers` its index) and
    /// `lightstep` (each tracing provider naming a Lightstep extension provider; at its
    /// `name`, `value` the name).
    pub fn telemetry_provider_issues(&self, telemetry: usize) -> Vec<FieldIssue> {
        let Some(spec) = self.resources[telemetry].node.get("spec") else {
            return Vec::new();
        };
        let raw = self.mesh.raw.as_ref();
        let mut out = Vec::new();
        let default_access_log = raw
            .and_then(|m| m.get("defaultProviders"))
            .and_then(|d| d.get("accessLogging"))
            .is_some_and(non_empty);
        if !default_access_log {
            let logs = spec.items_at(&["accessLogging"]);
            let silent = logs.iter().position(|l| {
                let disabled = l.get("disabled").and_then(Node::as_bool) == Some(true);
                let providers = l.get("providers").is_some_and(non_empty);
                !disabled && !providers
            });
            if let Some(i) = silent {
                let mut x =
                    FieldIssue::at(format!("spec.accessLogging[{i}]"), "no-access-log-provider");
                x.numbers = vec![i as i64];
                out.push(x);
            }
        }
        let lightstep: HashSet<&str> = raw
            .and_then(|m| m.get("extensionProviders"))
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter(|p| p.get("lightstep").is_some_and(|l| !l.is_null()))
            .filter_map(|p| p.str_at(&["name"]))
            .collect();
        if lightstep.is_empty() {
            return out;
        }
        let tracing = spec.items_at(&["tracing"]);
        for (t, entry) in tracing.iter().enumerate() {
            let providers = entry.items_at(&["providers"]);
            for (p, provider) in providers.iter().enumerate() {
                let Some(name) = provider.str_at(&["name"]) else {
                    continue;
                };
                if lightstep.contains(name) {
                    let mut x = FieldIssue::at(
                        format!("spec.tracing[{t}].providers[{p}].name"),
                        "lightstep",
                    );
                    x.value = name.to_string();
                    out.push(x);
                }
            }
        }
        out
    }
}
