//! Fields and kinds Istio deprecated or removed, and Gateway API CRDs older than Istio
//! reads, as istioctl's deprecation and CRD-version analyzers report them.

use crate::build::MeshGraph;
use crate::validation::FieldIssue;
use meshlint_model::Kind;

/// The `rbac.istio.io` kinds Istio removed.
const REMOVED_RBAC_KINDS: &[&str] = &[
    "ClusterRbacConfig",
    "RbacConfig",
    "ServiceRole",
    "ServiceRoleBinding",
];

/// The annotation a Gateway API CRD carries its release bundle version in.
pub const BUNDLE_VERSION: &str = "gateway.networking.k8s.io/bundle-version";

/// Gateway API CRDs and the oldest bundle version whose schema Istio reads.
const MIN_GATEWAY_API_BUNDLE: &[(&str, [i64; 3])] = &[
    ("grpcroutes.gateway.networking.k8s.io", [1, 1, 0]),
    ("backendtlspolicies.gateway.networking.k8s.io", [1, 4, 0]),
    ("tlsroutes.gateway.networking.k8s.io", [1, 5, 0]),
];

/// `vMAJOR.MINOR.PATCH` with an optional `-pre` or `+build` suffix, as numbers.
fn bundle_version(v: &str) -> Option<[i64; 3]> {
    let core = v.strip_prefix('v').unwrap_or(v);
    let end = core.find(['-', '+']).unwrap_or(core.len());
    let mut parts = core[..end].split('.');
    let mut out = [0; 3];
    for slot in &mut out {
        let p = parts.next()?;
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = p.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

impl MeshGraph {
    /// Deprecated or removed fields of a resource: `delay-percent` (each HTTP fault
    /// `delay.percent` above 0 of a VirtualService; `value` the percentage),
    /// `egress-proxy` (a Sidecar's `outboundTrafficPolicy.egressProxy`) and `rbac-kind`
    /// (a CustomResourceDefinition of a removed `rbac.istio.io` kind, at
    /// `spec.names.kind`; `value` the kind).
    pub fn deprecated_fields(&self, resource: usize) -> Vec<FieldIssue> {
        let r = &self.resources[resource];
        let Some(spec) = r.node.get("spec") else {
            return Vec::new();
        };
        let istio = r.group() == "networking.istio.io";
        let mut out = Vec::new();
        match r.kind {
            Kind::VirtualService if istio => {
                let http = spec.items_at(&["http"]);
                for (i, route) in http.iter().enumerate() {
                    let Some(percent) = route
                        .get("fault")
                        .and_then(|f| f.get("delay"))
                        .and_then(|d| d.get("percent"))
                    else {
                        continue;
                    };
                    let positive = percent
                        .scalar()
                        .filter(|s| s.plain())
                        .and_then(|s| s.as_f64())
                        .is_some_and(|p| p > 0.0);
                    if positive {
                        let mut x = FieldIssue::at(
                            format!("spec.http[{i}].fault.delay.percent"),
                            "delay-percent",
                        );
                        x.value = percent.as_str().unwrap_or("").to_string();
                        out.push(x);
                    }
                }
            }
            Kind::Sidecar if istio => {
                let egress_proxy = spec
                    .get("outboundTrafficPolicy")
                    .filter(|p| !p.is_null())
                    .and_then(|p| p.get("egressProxy"))
                    .filter(|p| !p.is_null());
                if egress_proxy.is_some() {
                    out.push(FieldIssue::at(
                        "spec.outboundTrafficPolicy.egressProxy".into(),
                        "egress-proxy",
                    ));
                }
            }
            Kind::CustomResourceDefinition if spec.str_at(&["group"]) == Some("rbac.istio.io") => {
                if let Some(kind) = spec
                    .str_at(&["names", "kind"])
                    .filter(|k| REMOVED_RBAC_KINDS.contains(k))
                {
                    let mut x = FieldIssue::at("spec.names.kind".into(), "rbac-kind");
                    x.value = kind.to_string();
                    out.push(x);
                }
            }
            _ => {}
        }
        out
    }

    /// A Gateway API CustomResourceDefinition whose bundle version annotation is older
    /// than the release Istio needs for that kind: code `old-bundle` at the annotation,
    /// `value` the version as written, `numbers` the minimum (major, minor, patch).
    pub fn outdated_gateway_api_crd(&self, crd: usize) -> Vec<FieldIssue> {
        let r = &self.resources[crd];
        let Some((_, min)) = MIN_GATEWAY_API_BUNDLE
            .iter()
            .find(|(name, _)| *name == r.name())
        else {
            return Vec::new();
        };
        let Some(written) = r.annotations.get(BUNDLE_VERSION) else {
            return Vec::new();
        };
        match bundle_version(written) {
            Some(v) if v < *min => {
                let mut x = FieldIssue::at(
                    format!("metadata.annotations[\"{BUNDLE_VERSION}\"]"),
                    "old-bundle",
                );
                x.value = written.to_string();
                x.numbers = min.to_vec();
                vec![x]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bundle_version;

    #[test]
    fn bundle_versions_parse_as_the_annotation_writes_them() {
        assert_eq!(bundle_version("v1.0.0"), Some([1, 0, 0]));
        assert_eq!(bundle_version("1.2.1-rc.1"), Some([1, 2, 1]));
        assert_eq!(bundle_version("v1.3.0+build"), Some([1, 3, 0]));
        assert_eq!(bundle_version("v1.3"), None);
        assert_eq!(bundle_version("latest"), None);
    }
}
