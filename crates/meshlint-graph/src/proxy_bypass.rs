//! Traffic the sidecar does not treat as the mesh's: application code running as the
//! proxy's own user (its iptables rules exempt UID 1337), and ExternalName Service ports
//! without a protocol Istio can route by host name (passed through as plain TCP).
//! Istio's own installation is left out, as istioctl's analyzers do.

use crate::build::MeshGraph;
use crate::validation::FieldIssue;
use meshlint_load::Node;
use meshlint_model::typed::Labels;
use meshlint_model::Kind;

/// The user the Istio proxy runs as; its traffic is exempt from redirection.
const PROXY_UID: i64 = 1337;

/// Containers of Istio's own that run as the proxy user by design.
const PROXY_CONTAINERS: &[&str] = &["istio-proxy", "istio-operator"];

/// Namespaces of the cluster's own system components.
const SYSTEM_NAMESPACES: &[&str] = &[
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "local-path-storage",
];

/// Values of `gateway.istio.io/managed` on Services Istio's gateway controllers create.
const ISTIO_MANAGED: &[&str] = &[
    "istio.io-gateway-controller",
    "istio.io-mesh-controller",
    "istio.io-eastwest-controller",
];

/// Protocol prefixes Istio recognises in a port name or `appProtocol`.
const PROTOCOL_PREFIXES: &[&str] = &[
    "http",
    "http2",
    "https",
    "http_proxy",
    "grpc",
    "tcp",
    "tls",
    "mongo",
    "mysql",
    "redis",
    "udp",
];

/// Whether a resource is part of an Istio installation (label `istio`, or the
/// `release: istio` of Istio's Helm charts).
pub(crate) fn part_of_istio(labels: &Labels) -> bool {
    labels.contains_key("istio") || labels.get("release").map(String::as_str) == Some("istio")
}

/// Whether a port name or `appProtocol` lets Istio route by host name: a recognised
/// protocol other than bare `tcp`.
fn names_routable_protocol(n: &str) -> bool {
    if n == "tcp" {
        return false;
    }
    let lower = n.to_ascii_lowercase();
    let prefix = lower.split('-').next().unwrap_or("");
    lower.starts_with("grpc-web") || PROTOCOL_PREFIXES.contains(&prefix)
}

/// A plain integer scalar equal to the proxy's UID.
fn is_proxy_uid(n: Option<&Node>) -> bool {
    n.and_then(Node::scalar).and_then(|s| s.as_i64()) == Some(PROXY_UID)
}

impl MeshGraph {
    /// The first place a Pod or Deployment (not Istio's own) runs application code as
    /// UID 1337: the pod's `securityContext.runAsUser`, else the first container's
    /// (other than Istio's); code `proxy-uid` at that field.
    pub fn proxy_uid_users(&self, workload: usize) -> Vec<FieldIssue> {
        let r = &self.resources[workload];
        if part_of_istio(&r.labels) {
            return Vec::new();
        }
        let (base, pod) = match r.kind {
            Kind::Pod => ("spec", r.node.get("spec")),
            _ => (
                "spec.template.spec",
                r.node
                    .get("spec")
                    .and_then(|s| s.get("template"))
                    .and_then(|t| t.get("spec")),
            ),
        };
        let Some(pod) = pod else {
            return Vec::new();
        };
        let path = if is_proxy_uid(pod.get("securityContext").and_then(|c| c.get("runAsUser"))) {
            Some("securityContext.runAsUser".to_string())
        } else {
            let containers = pod.items_at(&["containers"]);
            containers
                .iter()
                .position(|c| {
                    !c.str_at(&["name"])
                        .is_some_and(|n| PROXY_CONTAINERS.contains(&n))
                        && is_proxy_uid(c.get("securityContext").and_then(|s| s.get("runAsUser")))
                })
                .map(|i| format!("containers[{i}].securityContext.runAsUser"))
        };
        path.map(|p| vec![FieldIssue::at(format!("{base}.{p}"), "proxy-uid")])
            .unwrap_or_default()
    }

    /// The first port of an ExternalName Service (outside system namespaces, not Istio's
    /// own nor created by its gateway controllers) whose name or `appProtocol` declares
    /// no protocol Istio routes by host, or declares bare `tcp`; UDP ports are skipped.
    /// Code `no-protocol` at the port's `name` (the port when unnamed), `value` the name
    /// (`''` when unnamed), `numbers` the port number when written.
    pub fn external_name_port_without_protocol(&self, service: usize) -> Vec<FieldIssue> {
        let r = &self.resources[service];
        let Some(spec) = r.node.get("spec") else {
            return Vec::new();
        };
        let managed = r
            .labels
            .get("gateway.istio.io/managed")
            .is_some_and(|m| ISTIO_MANAGED.contains(&m.as_str()));
        if spec.str_at(&["type"]) != Some("ExternalName")
            || SYSTEM_NAMESPACES.contains(&r.namespace())
            || part_of_istio(&r.labels)
            || managed
        {
            return Vec::new();
        }
        let ports = spec.items_at(&["ports"]);
        for (i, p) in ports.iter().enumerate() {
            let udp = p
                .str_at(&["protocol"])
                .is_some_and(|x| x.eq_ignore_ascii_case("UDP"));
            if udp {
                continue;
            }
            let declared = p
                .str_at(&["appProtocol"])
                .filter(|a| !a.is_empty())
                .or_else(|| p.str_at(&["name"]))
                .unwrap_or("");
            if names_routable_protocol(declared) {
                continue;
            }
            let name = p.get("name").filter(|n| !n.is_null());
            let path = match name {
                Some(_) => format!("spec.ports[{i}].name"),
                None => format!("spec.ports[{i}]"),
            };
            let mut x = FieldIssue::at(path, "no-protocol");
            x.value = name.and_then(Node::as_str).unwrap_or("").to_string();
            x.numbers = p.get("port").and_then(Node::as_i64).into_iter().collect();
            return vec![x];
        }
        Vec::new()
    }
}
