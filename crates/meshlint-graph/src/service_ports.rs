//! Service ports as the sidecar of the workloads they select sees them (istioctl's
//! `ServiceAssociationAnalyzer`: one port number, two protocols), and TLS route SNI
//! hosts a VirtualService does not own.

use crate::build::MeshGraph;
use meshlint_load::Node;
use meshlint_model::typed::Typed;
use serde::Serialize;

/// A port number that the Services selecting one workload declare with different
/// protocols.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortProtocolClash {
    pub port: u32,
    /// Every declaration of that port: (Service, protocol as written or `TCP`, path of
    /// the port), in Service and port order.
    pub entries: Vec<(usize, String, String)>,
}

impl MeshGraph {
    /// Whether a pod template runs in the mesh as istioctl's analyzers judge it: an
    /// `istio-proxy` container with an image, else the template's
    /// `sidecar.istio.io/inject` (label before annotation) is `true`, else its Namespace
    /// is labelled `istio-injection: enabled`, or `istio.io/rev` without
    /// `istio-injection`.
    pub fn template_in_mesh(&self, workload: usize) -> bool {
        let r = &self.resources[workload];
        let Some(template) = r.spec().and_then(|s| s.get("template")) else {
            return false;
        };
        let proxy = template
            .get("spec")
            .and_then(|s| s.get("containers"))
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .any(|c| {
                c.str_at(&["name"]) == Some("istio-proxy")
                    && c.str_at(&["image"]).is_some_and(|i| !i.is_empty())
            });
        if proxy {
            return true;
        }
        let key = "sidecar.istio.io/inject";
        let meta = template.get("metadata");
        let written = ["labels", "annotations"]
            .into_iter()
            .find_map(|m| meta.and_then(|x| x.get(m)).and_then(|l| l.get(key)));
        if let Some(v) = written {
            return v.as_str() == Some("true");
        }
        self.namespace_resource(r.namespace()).is_some_and(|n| {
            let labels = &self.resources[n].labels;
            match labels.get("istio-injection") {
                Some(v) => v == "enabled",
                None => labels.contains_key("istio.io/rev"),
            }
        })
    }

    /// For a pod template in the mesh (see [`Self::template_in_mesh`]) selected by
    /// several Services: the port numbers they declare with different protocols
    /// (unset is TCP) from at least two different Services (one Service may serve
    /// 53/TCP and 53/UDP).
    pub fn port_protocol_clashes(&self, workload: usize) -> Vec<PortProtocolClash> {
        let services = self.services_selecting(workload);
        if services.len() < 2 || !self.template_in_mesh(workload) {
            return Vec::new();
        }
        // Port number → its declarations, in first-seen order.
        let mut clashes: Vec<PortProtocolClash> = Vec::new();
        let mut slot: std::collections::HashMap<u32, usize> = Default::default();
        for &s in &services {
            if let Typed::Service(svc) = &self.resources[s].typed {
                for p in &svc.ports {
                    let protocol = p.protocol.as_deref().unwrap_or("TCP").to_string();
                    let i = *slot.entry(p.port).or_insert_with(|| {
                        clashes.push(PortProtocolClash {
                            port: p.port,
                            entries: Vec::new(),
                        });
                        clashes.len() - 1
                    });
                    clashes[i].entries.push((s, protocol, p.path.to_string()));
                }
            }
        }
        fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> usize {
            let mut v: Vec<&str> = items.collect();
            v.sort_unstable();
            v.dedup();
            v.len()
        }
        clashes.retain(|c| {
            distinct(c.entries.iter().map(|e| e.1.as_str())) > 1
                && distinct(c.entries.iter().map(|e| self.resources[e.0].name())) > 1
        });
        clashes
    }

    /// `tls[].match[].sniHosts` entries of a VirtualService that none of its `hosts`
    /// covers (equal, `*`, or a `*.suffix` wildcard), compared as written, as Istio's
    /// validation does: `(sni host, path)`.
    pub fn sni_hosts_outside_hosts(&self, vs: usize) -> Vec<(String, String)> {
        let spec = self.resources[vs].spec();
        let list = |n: Option<&Node>, k: &str| -> Vec<Node> {
            n.and_then(|x| x.get(k))
                .map(Node::items)
                .unwrap_or(&[])
                .to_vec()
        };
        let hosts: Vec<String> = list(spec, "hosts")
            .iter()
            .filter_map(|h| h.as_str().map(str::to_string))
            .collect();
        let covered = |sni: &str| {
            hosts
                .iter()
                .any(|h| h == sni || h == "*" || (h.starts_with("*.") && sni.ends_with(&h[1..])))
        };
        let mut out = Vec::new();
        for (i, route) in list(spec, "tls").iter().enumerate() {
            for (j, m) in list(Some(route), "match").iter().enumerate() {
                for (k, sni) in list(Some(m), "sniHosts").iter().enumerate() {
                    let sni = sni.as_str().unwrap_or("");
                    if !covered(sni) {
                        out.push((
                            sni.to_string(),
                            format!("spec.tls[{i}].match[{j}].sniHosts[{k}]"),
                        ));
                    }
                }
            }
        }
        out
    }
}
