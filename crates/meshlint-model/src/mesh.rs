//! The effective mesh configuration: from `--mesh-config`, from an `istio` ConfigMap
//! among the inputs, or Istio's defaults.

use crate::kinds::Kind;
use crate::resource::Resource;
use meshlint_diag::Location;
use meshlint_diag::ResourceId;
use meshlint_load::{load_source, LoadLimits, LoadedFile, Node};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OutboundPolicy {
    AllowAny,
    RegistryOnly,
}

/// The mesh-wide settings that change what rules conclude.
#[derive(Debug, Clone, Serialize)]
pub struct MeshConfig {
    pub root_namespace: String,
    pub enable_auto_mtls: bool,
    pub trust_domain: String,
    /// DNS suffix of service FQDNs (`cluster.local`).
    pub dns_domain: String,
    pub outbound_traffic_policy: OutboundPolicy,
    /// `ISTIO_META_DNS_AUTO_ALLOCATE` on the default proxy config: ServiceEntries
    /// without addresses get one allocated.
    pub dns_auto_allocate: bool,
    pub dns_capture: bool,
    /// Names of `extensionProviders`.
    pub extension_providers: Vec<String>,
    /// The whole MeshConfig tree, for rules (`mesh.raw` in CEL).
    #[serde(skip)]
    pub raw: Option<Node>,
    /// Where it came from, when it came from a file.
    #[serde(skip)]
    pub origin: Option<Location>,
}

impl Default for MeshConfig {
    fn default() -> Self {
        MeshConfig {
            root_namespace: "istio-system".to_string(),
            enable_auto_mtls: true,
            trust_domain: "cluster.local".to_string(),
            dns_domain: "cluster.local".to_string(),
            outbound_traffic_policy: OutboundPolicy::AllowAny,
            dns_auto_allocate: false,
            dns_capture: false,
            extension_providers: Vec::new(),
            raw: None,
            origin: None,
        }
    }
}

fn truthy(n: Option<&Node>) -> bool {
    n.and_then(|n| n.as_bool().or_else(|| n.as_str().map(|s| s == "true")))
        .unwrap_or(false)
}

impl MeshConfig {
    /// Reads a MeshConfig tree (the fields of `istio.mesh.v1alpha1.MeshConfig`).
    pub fn from_node(node: &Node) -> MeshConfig {
        let mut m = MeshConfig::default();
        if let Some(ns) = node.str_at(&["rootNamespace"]) {
            m.root_namespace = ns.to_string();
        }
        if let Some(b) = node.get("enableAutoMtls").and_then(Node::as_bool) {
            m.enable_auto_mtls = b;
        }
        if let Some(td) = node.str_at(&["trustDomain"]) {
            m.trust_domain = td.to_string();
        }
        if node.str_at(&["outboundTrafficPolicy", "mode"]) == Some("REGISTRY_ONLY") {
            m.outbound_traffic_policy = OutboundPolicy::RegistryOnly;
        }
        let meta = node
            .get("defaultConfig")
            .and_then(|d| d.get("proxyMetadata"));
        m.dns_auto_allocate = truthy(meta.and_then(|p| p.get("ISTIO_META_DNS_AUTO_ALLOCATE")));
        m.dns_capture = truthy(meta.and_then(|p| p.get("ISTIO_META_DNS_CAPTURE")));
        m.extension_providers = node
            .get("extensionProviders")
            .map(|p| p.items())
            .unwrap_or(&[])
            .iter()
            .filter_map(|p| p.str_at(&["name"]).map(str::to_string))
            .collect();
        m.raw = Some(node.clone());
        m
    }

    /// Reads `--mesh-config` content: a bare MeshConfig, an `istio` ConfigMap carrying
    /// one under `data.mesh`, or an IstioOperator-style `meshConfig` block.
    pub fn from_document(node: &Node) -> MeshConfig {
        if node.str_at(&["kind"]) == Some("ConfigMap") {
            if let Some(text) = node.str_at(&["data", "mesh"]) {
                return Self::from_embedded(text);
            }
        }
        if let Some(inner) = node.get("spec").and_then(|s| s.get("meshConfig")) {
            return Self::from_node(inner);
        }
        Self::from_node(node)
    }

    fn from_embedded(text: &str) -> MeshConfig {
        let loaded = load_source(
            "mesh".into(),
            text.as_bytes().to_vec(),
            &LoadLimits::default(),
        );
        loaded
            .documents
            .first()
            .map(|d| Self::from_node(&d.root))
            .unwrap_or_default()
    }

    /// The mesh config found among the inputs: the `istio` ConfigMap in any namespace
    /// (the root namespace's wins when several exist).
    pub fn discover(resources: &[Resource]) -> Option<MeshConfig> {
        let mut found: Option<(&Resource, MeshConfig)> = None;
        for r in resources {
            if r.kind == Kind::ConfigMap && r.name() == "istio" {
                if let Some(text) = r.node.str_at(&["data", "mesh"]) {
                    let mut m = Self::from_embedded(text);
                    m.origin = Some(r.location_of("data.mesh"));
                    let better = match &found {
                        None => true,
                        Some((prev, _)) => {
                            prev.namespace() != "istio-system" && r.namespace() == "istio-system"
                        }
                    };
                    if better {
                        found = Some((r, m));
                    }
                }
            }
        }
        found.map(|(_, m)| m)
    }
}

/// The `--mesh-networks` file as the pseudo-resource `MeshNetworks istio-system/meshnetworks`
/// (the identity `istioctl analyze` gives it), so rules can check it and findings point
/// into the file. `None` when the file holds no mapping.
pub fn mesh_networks_resource(file: &LoadedFile) -> Option<Resource> {
    let doc = file.documents.first()?;
    doc.root.as_map()?;
    Some(Resource {
        id: ResourceId {
            api_version: "".into(),
            kind: "MeshNetworks".into(),
            namespace: Some("istio-system".to_string()),
            name: "meshnetworks".to_string(),
        },
        kind: Kind::Other,
        file: file.source.name.clone(),
        doc_index: u32::try_from(doc.index).unwrap_or(u32::MAX),
        node: doc.root.clone(),
        labels: Default::default(),
        annotations: Default::default(),
        typed: crate::typed::Typed::None,
        implied_namespace: crate::resource::unset_namespace(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str) -> Node {
        load_source("m".into(), text.as_bytes().to_vec(), &LoadLimits::default())
            .documents
            .remove(0)
            .root
    }

    #[test]
    fn defaults_and_overrides() {
        let m = MeshConfig::default();
        assert!(m.enable_auto_mtls);
        assert_eq!(m.root_namespace, "istio-system");
        let m = MeshConfig::from_document(&node(
            "enableAutoMtls: false\nrootNamespace: mesh-root\noutboundTrafficPolicy: {mode: REGISTRY_ONLY}\ndefaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_AUTO_ALLOCATE: \"true\"\n",
        ));
        assert!(!m.enable_auto_mtls);
        assert_eq!(m.root_namespace, "mesh-root");
        assert_eq!(m.outbound_traffic_policy, OutboundPolicy::RegistryOnly);
        assert!(m.dns_auto_allocate);
    }

    #[test]
    fn configmap_carries_mesh() {
        let m = MeshConfig::from_document(&node(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    enableAutoMtls: false\n",
        ));
        assert!(!m.enable_auto_mtls);
    }
}
