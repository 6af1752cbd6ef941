//! Which clients a DestinationRule or VirtualService outside its service's namespace
//! reaches (issue 14, items 7 and 8).

mod common;

use common::{graph, graph_of, idx};
use meshlint_model::{Kind, MeshConfig};

const DRS: &str = r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: third, namespace: platform}
spec: {host: reviews.bookinfo.svc.cluster.local, exportTo: ["*"]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: own, namespace: bookinfo}
spec: {host: reviews, exportTo: ["*"]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: root, namespace: istio-system}
spec: {host: reviews.bookinfo.svc.cluster.local, exportTo: ["*"]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: local, namespace: web}
spec: {host: reviews.bookinfo.svc.cluster.local, exportTo: ["."]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: default-export, namespace: web}
spec: {host: reviews.bookinfo.svc.cluster.local}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: selected, namespace: web}
spec:
  host: reviews.bookinfo.svc.cluster.local
  exportTo: ["*"]
  workloadSelector: {matchLabels: {app: web}}
"#;

#[test]
fn a_destination_rule_in_a_third_namespace_reaches_its_own_clients_only() {
    let g = graph(DRS);
    let third = g
        .destination_rule_reach(idx(&g, Kind::DestinationRule, "platform", "third"))
        .unwrap();
    assert_eq!(third.host_namespace, "bookinfo");
    assert_eq!(third.reaches, vec!["platform".to_string()]);
    assert_eq!(third.path, "spec.host");
    for (ns, name) in [
        ("bookinfo", "own"),
        ("istio-system", "root"),
        ("web", "local"),
        ("web", "default-export"),
        ("web", "selected"),
    ] {
        assert_eq!(
            g.destination_rule_reach(idx(&g, Kind::DestinationRule, ns, name)),
            None,
            "{name}"
        );
    }
}

const VS: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cfg, namespace: mesh-config}
spec:
  hosts: [reviews.bookinfo.svc.cluster.local, other]
  exportTo: ["."]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-owner, namespace: mesh-config}
spec:
  hosts: [ratings.bookinfo.svc.cluster.local]
  exportTo: [".", bookinfo]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: client-side, namespace: web}
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]
  exportTo: ["."]
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: web}
spec:
  containers: [{name: web}]
"#;

#[test]
fn a_virtual_service_exported_only_where_no_client_runs() {
    let g = graph(VS);
    let cfg = g.virtual_service_audience(idx(&g, Kind::VirtualService, "mesh-config", "cfg"));
    assert_eq!(
        cfg.len(),
        1,
        "the short host is the VirtualService's own namespace"
    );
    assert_eq!(cfg[0].path, "spec.hosts[0]");
    assert_eq!(cfg[0].reaches, vec!["mesh-config".to_string()]);
    assert!(
        !cfg[0].certain,
        "open world: workloads may run in mesh-config elsewhere"
    );
    assert!(g
        .virtual_service_audience(idx(&g, Kind::VirtualService, "mesh-config", "to-owner"))
        .is_empty());
    assert!(g
        .virtual_service_audience(idx(&g, Kind::VirtualService, "web", "client-side"))
        .is_empty());
    let closed = graph_of(VS, MeshConfig::default(), true);
    let cfg =
        closed.virtual_service_audience(idx(&closed, Kind::VirtualService, "mesh-config", "cfg"));
    assert!(cfg[0].certain);
}
