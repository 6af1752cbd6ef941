//! EnvoyFilter patches whose effect depends on the order EnvoyFilters apply in.
//!
//! A relative patch (`INSERT_BEFORE`/`INSERT_AFTER`, `REPLACE` of a filter or virtual
//! host, `REMOVE` of anything but route configuration) acts on something that must
//! already be there. In an EnvoyFilter without `priority`, EnvoyFilters of equal priority
//! apply in creation order, so the outcome can depend on it — unless the anchor is a
//! filter Istio itself generates (the router, JWT, RBAC…) or the head of the chain. When
//! an earlier patch of the same EnvoyFilter installs the anchor only for some proxy
//! versions, the relative patch needs the same version match. `istioctl analyze` reports
//! the first such patch of each kind (IST0151, IST0155).

use crate::build::MeshGraph;
use meshlint_load::Node;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

use crate::validation::FieldIssue;

/// Filters Istio generates in every listener it builds: anchoring on them does not
/// depend on other EnvoyFilters.
const GENERATED_FILTERS: &[&str] = &[
    "",
    "envoy.filters.http.router",
    "envoy.router",
    "router",
    "envoy.filters.http.jwt_authn",
    "envoy.filters.http.rbac",
    "envoy.filters.http.cors",
    "envoy.cors",
    "envoy.filters.http.fault",
    "envoy.fault",
    "istio.metadata_exchange",
    "istio_authn",
    "envoy.filters.http.grpc_stats",
    "istio.alpn",
    "envoy.filters.http.ext_authz",
    "envoy.filters.network.http_connection_manager",
    "envoy.http_connection_manager",
    "istio.stats",
];

/// The first order-dependent patch of an EnvoyFilter, of each kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrderDependentPatches {
    /// A relative patch not covered by the next field (IST0151), with whether its anchor
    /// is a filter Istio generates (then the order cannot change the outcome).
    pub relative: Option<(usize, bool)>,
    /// A relative patch on a filter an earlier patch installs only for other proxy
    /// versions (IST0155).
    pub version_gated: Option<usize>,
}

struct Patch<'a> {
    has_patch: bool,
    operation: &'a str,
    apply_to: &'a str,
    /// The patch's own filter name, else the listener filter it matches.
    name: &'a str,
    anchor: &'a str,
    proxy_version: Option<&'a str>,
}

fn patch(p: &Node) -> Patch<'_> {
    let filter = p
        .get("match")
        .and_then(|m| m.get("listener"))
        .and_then(|l| l.get("filterChain"))
        .and_then(|c| c.get("filter"));
    let value_name = p.str_at(&["patch", "value", "name"]);
    Patch {
        has_patch: p.get("patch").is_some_and(|x| !x.is_null()),
        operation: p.str_at(&["patch", "operation"]).unwrap_or(""),
        apply_to: p.str_at(&["applyTo"]).unwrap_or(""),
        name: value_name
            .or_else(|| filter.and_then(|f| f.str_at(&["name"])))
            .unwrap_or(""),
        anchor: filter
            .and_then(|f| f.get("subFilter"))
            .and_then(|s| s.str_at(&["name"]))
            .unwrap_or(""),
        proxy_version: p
            .str_at(&["match", "proxy", "proxyVersion"])
            .filter(|v| !v.is_empty()),
    }
}

fn is_relative(p: &Patch) -> bool {
    match p.operation {
        "INSERT_BEFORE" | "INSERT_AFTER" => true,
        "REMOVE" => !matches!(p.apply_to, "ROUTE_CONFIGURATION" | "HTTP_ROUTE"),
        "REPLACE" => matches!(
            p.apply_to,
            "HTTP_FILTER" | "NETWORK_FILTER" | "VIRTUAL_HOST"
        ),
        _ => false,
    }
}

impl MeshGraph {
    /// The order-dependent patches of an EnvoyFilter (none when it sets a priority).
    pub fn order_dependent_patches(&self, envoy_filter: usize) -> OrderDependentPatches {
        let r = &self.resources[envoy_filter];
        let mut out = OrderDependentPatches::default();
        let prioritised = r
            .spec()
            .and_then(|s| s.get("priority"))
            .and_then(Node::as_i64)
            .is_some_and(|p| p != 0);
        if prioritised {
            return out;
        }
        let patches: Vec<Patch> = r
            .spec()
            .and_then(|s| s.get("configPatches"))
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .map(patch)
            .collect();
        // Proxy versions earlier version-matched patches install each filter name for.
        let mut installed_for: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for (i, p) in patches.iter().enumerate() {
            // Istio stops reading an EnvoyFilter's patches at the first without `patch`.
            if !p.has_patch {
                break;
            }
            let versions = installed_for.get(p.name);
            let gated = versions.is_some_and(|v| v.iter().any(|&x| Some(x) != p.proxy_version));
            let same_version_install = versions.is_some();
            if let Some(v) = p.proxy_version {
                installed_for.entry(p.name).or_default().insert(v);
            }
            if !is_relative(p) {
                continue;
            }
            if gated {
                out.version_gated.get_or_insert(i);
            } else if !same_version_install {
                out.relative
                    .get_or_insert((i, GENERATED_FILTERS.contains(&p.anchor)));
            }
        }
        out
    }
}

/// The code of a patch operation Istio does not apply to what it targets: `REPLACE` of
/// anything but an HTTP filter, network filter or virtual host; `ADD` or `REMOVE` of a
/// route configuration or HTTP route.
fn unsupported(p: &Patch) -> Option<&'static str> {
    let route_level = matches!(p.apply_to, "ROUTE_CONFIGURATION" | "HTTP_ROUTE");
    match p.operation {
        "REPLACE"
            if !matches!(
                p.apply_to,
                "HTTP_FILTER" | "NETWORK_FILTER" | "VIRTUAL_HOST"
            ) =>
        {
            Some("replace")
        }
        "ADD" if route_level => Some("add"),
        "REMOVE" if route_level => Some("remove"),
        _ => None,
    }
}

impl MeshGraph {
    /// The first patch of each unsupported operation (codes `replace`, `add`, `remove`,
    /// see [`unsupported`]) before the first patch without `patch`, where Istio stops:
    /// at `spec.configPatches[i].patch.operation`, `value` the `applyTo`, `numbers` the
    /// patch index.
    pub fn unsupported_patches(&self, envoy_filter: usize) -> Vec<FieldIssue> {
        let patches = self.resources[envoy_filter]
            .spec()
            .and_then(|s| s.get("configPatches"))
            .map(Node::items)
            .unwrap_or(&[]);
        let mut out: Vec<FieldIssue> = Vec::new();
        for (i, p) in patches.iter().map(patch).enumerate() {
            if !p.has_patch {
                break;
            }
            let Some(code) = unsupported(&p) else {
                continue;
            };
            if out.iter().any(|x| x.code == code) {
                continue;
            }
            let mut x = FieldIssue::at(format!("spec.configPatches[{i}].patch.operation"), code);
            x.value = p.apply_to.to_string();
            x.numbers = vec![i as i64];
            out.push(x);
        }
        out
    }
}
