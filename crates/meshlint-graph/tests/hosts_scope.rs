//! Hosts, visibility, ServiceEntry addressing and Sidecar scope: the queries behind the
//! ML20xx rules, each answering with the resource and field that decided.

mod common;

use common::*;
use meshlint_model::{Kind, MeshConfig};

const SHOP: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: web, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {ports: [{name: http, port: 9080}], selector: {app: reviews}}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec: {ports: [{name: http, port: 9080}], selector: {app: ratings}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  template:
    metadata: {labels: {app: reviews, version: v1}}
    spec: {containers: [{name: app}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app}]}
"#;

#[test]
fn suggestions_come_from_the_index_and_are_remembered() {
    let g = graph(SHOP);
    // Same Service name in another namespace.
    let wrong_ns = "reviews.web.svc.cluster.local";
    assert_eq!(
        g.suggest_host(wrong_ns).as_deref(),
        Some("reviews.shop.svc.cluster.local")
    );
    // A near spelling in one label; a different name is no suggestion.
    assert_eq!(
        g.suggest_host("reveiws.shop.svc.cluster.local").as_deref(),
        Some("reviews.shop.svc.cluster.local")
    );
    assert_eq!(g.suggest_host("details.shop.svc.cluster.local"), None);
    assert_eq!(g.suggest_host("api.example.com"), None);
    // Asked again, the remembered answer is the same.
    assert_eq!(
        g.suggest_host(wrong_ns).as_deref(),
        Some("reviews.shop.svc.cluster.local")
    );
    assert_eq!(g.suggest_namespace("shpo").as_deref(), Some("shop"));
    assert_eq!(g.suggest_namespace("shpo").as_deref(), Some("shop"));
    assert_eq!(g.suggest_namespace("shop"), None);
}

const ENTRIES: &str = r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: ext}
spec:
  hosts: [db.example.com]
  ports: [{number: 443, name: https, protocol: https}, {number: 5432, name: pg}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db2, namespace: ext}
spec:
  hosts: [db2.example.com]
  ports: [{number: 5432, name: pg, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: addressed, namespace: ext}
spec:
  hosts: [db3.example.com]
  addresses: [10.0.0.1]
  ports: [{number: 5432, name: pg, protocol: TCP}]
"#;

#[test]
fn address_matched_ports_capture_every_destination_without_addresses() {
    let g = graph(ENTRIES);
    let db = idx(&g, Kind::ServiceEntry, "ext", "db");
    // HTTPS (any case) is routed by SNI; the unset port is the capture.
    let c = g.address_capture(db).expect("captures");
    assert_eq!((c.index, c.number, c.protocol.as_str()), (1, 5432, ""));
    assert_eq!(c.path, "spec.ports[1]");
    let db2 = idx(&g, Kind::ServiceEntry, "ext", "db2");
    assert_eq!(
        g.address_capture(db2).map(|c| c.path),
        Some("spec.ports[0].protocol".to_string())
    );
    // Addresses, or a mesh that allocates them, mean no capture.
    assert_eq!(
        g.address_capture(idx(&g, Kind::ServiceEntry, "ext", "addressed")),
        None
    );
    let mesh = MeshConfig {
        dns_capture: true,
        dns_auto_allocate: true,
        ..MeshConfig::default()
    };
    let allocated = graph_of(ENTRIES, mesh, false);
    assert!(allocated.mesh_allocates_addresses());
    assert_eq!(allocated.address_capture(db), None);
}

#[test]
fn address_conflicts_name_the_other_entries_port() {
    let g = graph(ENTRIES);
    let db = idx(&g, Kind::ServiceEntry, "ext", "db");
    let db2 = idx(&g, Kind::ServiceEntry, "ext", "db2");
    let conflicts = g.address_conflicts(db);
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0];
    assert_eq!(
        (c.port.number, c.port.path.as_str()),
        (5432, "spec.ports[1].number")
    );
    assert!(!c.addressed);
    assert_eq!(c.others, vec![(db2, "spec.ports[0]".to_string())]);
    // The addressed entry does not collide with the unaddressed ones.
    assert!(g
        .address_conflicts(idx(&g, Kind::ServiceEntry, "ext", "addressed"))
        .is_empty());
}

const HIDDEN: &str = r#"
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: web}
spec:
  egress: [{hosts: [./*, istio-system/*]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: web}
spec:
  hosts: [web]
  http:
  - route: [{destination: {host: reviews.shop.svc.cluster.local}}]
  - route: [{destination: {host: reviews.shop.svc.cluster.local, subset: v1}}]
  - route: [{destination: {host: nowhere.shop.svc.cluster.local}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: web}
spec:
  host: reviews.shop.svc.cluster.local
  subsets: [{name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: shop}
spec:
  hosts: [api.example.com]
  exportTo: [web]
  ports: [{number: 443, name: https, protocol: HTTPS}]
"#;

#[test]
fn hidden_hosts_name_the_sidecar_or_export_that_hides_them() {
    let g = graph(&format!("{SHOP}---{HIDDEN}"));
    let sidecar = idx(&g, Kind::Sidecar, "web", "default");
    // The route's host, once, at its first destination; the missing host is not judged.
    let vs = g.hidden_hosts(idx(&g, Kind::VirtualService, "web", "web"));
    assert_eq!(vs.len(), 1);
    assert_eq!(vs[0].path, "spec.http[0].route[0].destination");
    assert_eq!(vs[0].hidden.len(), 1);
    assert_eq!(vs[0].hidden[0].namespace, "web");
    assert_eq!(vs[0].hidden[0].gateway, None);
    assert_eq!(
        vs[0].hidden[0].hidden_by,
        Some((sidecar, "spec.egress[0].hosts".to_string()))
    );
    // The DestinationRule's clients (its own namespace) cannot see the host either.
    let dr = g.hidden_hosts(idx(&g, Kind::DestinationRule, "web", "reviews"));
    assert_eq!(dr.len(), 1);
    assert_eq!(dr[0].path, "spec.host");
    // The ServiceEntry is exported only to `web`, whose Sidecar does not import `shop`.
    let se = g.hidden_hosts(idx(&g, Kind::ServiceEntry, "shop", "api"));
    assert_eq!(se.len(), 1);
    assert_eq!(se[0].path, "spec.hosts[0]");
    assert_eq!(se[0].hidden[0].namespace, "web");
}

#[test]
fn undefined_subsets_once_per_host_and_subset() {
    let g = graph(&format!("{SHOP}---{HIDDEN}"));
    let u = g.undefined_subsets(idx(&g, Kind::VirtualService, "web", "web"));
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].subset, "v1");
    assert_eq!(u[0].path, "spec.http[1].route[0].destination");
    let rule = u[0].rule.as_ref().expect("the web DestinationRule applies");
    assert_eq!(
        rule.primary(),
        idx(&g, Kind::DestinationRule, "web", "reviews")
    );
}

const SIDECARS: &str = r#"
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: a, namespace: shop}
spec: {egress: [{hosts: [./*]}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: b, namespace: shop}
spec: {egress: [{hosts: [./*]}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: by-app, namespace: shop}
spec: {workloadSelector: {labels: {app: reviews}}}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: by-version, namespace: shop}
spec: {workloadSelector: {labels: {version: v1}}}
---
apiVersion: v1
kind: Namespace
metadata: {name: mesh, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: a, namespace: mesh}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: b, namespace: mesh}
"#;

#[test]
fn sidecar_scope_ambiguities() {
    let g = graph(&format!("{SHOP}---{SIDECARS}"));
    let a = idx(&g, Kind::Sidecar, "shop", "a");
    let b = idx(&g, Kind::Sidecar, "shop", "b");
    let by_app = idx(&g, Kind::Sidecar, "shop", "by-app");
    let by_version = idx(&g, Kind::Sidecar, "shop", "by-version");
    assert_eq!(g.competing_default_sidecars(a), vec![a, b]);
    assert!(g.competing_default_sidecars(by_app).is_empty());
    // Sidecars do not apply in an ambient namespace: nothing competes there.
    assert!(g
        .competing_default_sidecars(idx(&g, Kind::Sidecar, "mesh", "a"))
        .is_empty());
    let shared = g.shared_workloads(by_app);
    assert_eq!(shared.len(), 1);
    assert_eq!(
        shared[0].workload,
        idx(&g, Kind::Deployment, "shop", "reviews-v1")
    );
    assert_eq!(shared[0].others, vec![by_version]);
    assert!(g.shared_workloads(a).is_empty());
    // Ambient: the namespace decides for a selector-less Sidecar.
    let ambient = g
        .sidecar_in_ambient(idx(&g, Kind::Sidecar, "mesh", "a"))
        .expect("ambient namespace");
    assert!(!ambient.selects);
    assert_eq!(ambient.path, "metadata.name");
    assert_eq!(g.sidecar_in_ambient(a), None);
}
