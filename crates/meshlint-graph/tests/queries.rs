//! Unit tests of each graph query on small meshes.

mod common;

use common::{all, graph, idx};
use meshlint_model::{Kind, MeshConfig};

fn graph_with(yaml: &str, mesh: MeshConfig) -> meshlint_graph::MeshGraph {
    common::graph_of(yaml, mesh, false)
}

const APP: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports:
  - {name: http-web, port: 9080, targetPort: web}
  - {name: https-admin, port: 8443}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec:
  template:
    metadata: {labels: {app: reviews, version: v1}}
    spec:
      containers:
      - name: app
        ports: [{name: web, containerPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v2, namespace: shop}
spec:
  template:
    metadata:
      labels: {app: reviews, version: v2}
      annotations: {sidecar.istio.io/inject: "false"}
    spec:
      containers: [{name: app}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: old, namespace: legacy}
spec:
  template:
    metadata: {labels: {app: old}}
    spec:
      containers: [{name: app}, {name: istio-proxy}]
---
apiVersion: v1
kind: Pod
metadata: {name: bare, namespace: legacy, labels: {app: bare}}
spec:
  containers: [{name: app}]
"#;

#[test]
fn short_hosts_resolve_in_the_writers_namespace() {
    let g = graph(APP);
    assert_eq!(
        g.resolve_host("reviews", "istio-system"),
        "reviews.istio-system.svc.cluster.local"
    );
    assert_eq!(
        g.resolve_host("reviews.shop.svc.cluster.local", "x"),
        "reviews.shop.svc.cluster.local"
    );
    assert_eq!(g.resolve_host("*.example.com", "x"), "*.example.com");
    assert_eq!(g.host_targets("reviews.shop.svc.cluster.local").len(), 1);
    assert!(g
        .host_targets("reviews.istio-system.svc.cluster.local")
        .is_empty());
    assert_eq!(
        g.suggest_host("reviews.istio-system.svc.cluster.local")
            .as_deref(),
        Some("reviews.shop.svc.cluster.local")
    );
    assert_eq!(g.host_targets("*.shop.svc.cluster.local").len(), 1);
}

#[test]
fn sidecar_injection_detection() {
    let g = graph(APP);
    assert!(
        g.has_sidecar(idx(&g, Kind::Deployment, "shop", "reviews-v1")),
        "namespace label"
    );
    assert!(
        !g.has_sidecar(idx(&g, Kind::Deployment, "shop", "reviews-v2")),
        "pod opt-out"
    );
    assert!(
        g.has_sidecar(idx(&g, Kind::Deployment, "legacy", "old")),
        "istio-proxy container"
    );
    assert!(
        !g.has_sidecar(idx(&g, Kind::Pod, "legacy", "bare")),
        "not injected"
    );
}

#[test]
fn workloads_behind_hosts_and_target_ports() {
    let g = graph(APP);
    let ws = g.workloads_for_host("reviews.shop.svc.cluster.local");
    assert_eq!(ws.len(), 2);
    let svc = idx(&g, Kind::Service, "shop", "reviews");
    let ports = g.ports_of(svc);
    assert_eq!(ports[0].protocol, "HTTP");
    assert_eq!(ports[1].protocol, "HTTPS");
    assert_eq!(g.target_port(ws[0], &ports[0]), 8080, "named targetPort");
    assert_eq!(g.target_port(ws[0], &ports[1]), 8443);
}

const PAS: &str = r#"
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ns, namespace: shop}
spec: {mtls: {mode: UNSET}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: v1, namespace: shop}
spec:
  selector: {matchLabels: {version: v1}}
  mtls: {mode: PERMISSIVE}
  portLevelMtls:
    "8080": {mode: DISABLE}
    "9000": {mode: UNSET}
"#;

#[test]
fn peer_authentication_precedence() {
    let g = graph(&format!("{APP}{PAS}"));
    let v1 = idx(&g, Kind::Deployment, "shop", "reviews-v1");
    let v2 = idx(&g, Kind::Deployment, "shop", "reviews-v2");
    let old = idx(&g, Kind::Deployment, "legacy", "old");
    let pa_v1 = idx(&g, Kind::PeerAuthentication, "shop", "v1");
    let mesh = idx(&g, Kind::PeerAuthentication, "istio-system", "default");
    // Port-level beats the workload's mode.
    let d = g.peer_mode(v1, Some(8080));
    assert_eq!(d.value, "DISABLE");
    assert_eq!(d.source.as_ref().unwrap().0, pa_v1);
    // Port-level UNSET inherits the workload policy's mode.
    assert_eq!(g.peer_mode(v1, Some(9000)).value, "PERMISSIVE");
    assert_eq!(g.peer_mode(v1, None).value, "PERMISSIVE");
    // Namespace policy is UNSET: inherit mesh-wide STRICT.
    let d = g.peer_mode(v2, Some(8080));
    assert_eq!(d.value, "STRICT");
    assert_eq!(d.source.unwrap().0, mesh);
    assert_eq!(g.peer_mode(old, None).value, "STRICT");
    // No policies at all: PERMISSIVE by default.
    let g = graph(APP);
    let d = g.peer_mode(idx(&g, Kind::Deployment, "shop", "reviews-v1"), None);
    assert_eq!((d.value.as_str(), d.source), ("PERMISSIVE", None));
}

const DRS: &str = r#"
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: root, namespace: istio-system}
spec:
  host: "*.local"
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: svc-ns, namespace: shop}
spec:
  host: reviews
  trafficPolicy:
    tls: {mode: ISTIO_MUTUAL}
    portLevelSettings:
    - port: {number: 8443}
      tls: {mode: SIMPLE}
  subsets:
  - name: v2
    labels: {version: v2}
    trafficPolicy: {tls: {mode: DISABLE}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: client-private, namespace: frontend}
spec:
  host: reviews.shop.svc.cluster.local
  exportTo: ["."]
  trafficPolicy: {tls: {mode: MUTUAL}}
"#;

#[test]
fn destination_rule_precedence_and_overrides() {
    let g = graph(&format!("{APP}{DRS}"));
    let h = "reviews.shop.svc.cluster.local";
    let svc_ns = idx(&g, Kind::DestinationRule, "shop", "svc-ns");
    let client = idx(&g, Kind::DestinationRule, "frontend", "client-private");
    let root = idx(&g, Kind::DestinationRule, "istio-system", "root");
    // Client namespace first.
    assert_eq!(g.destination_rule_for("frontend", h), Some(client));
    // exportTo "." keeps it private: other clients fall through to the service namespace.
    assert_eq!(g.destination_rule_for("other", h), Some(svc_ns));
    // Hosts without a rule in client or service namespace: root namespace.
    assert_eq!(
        g.destination_rule_for("other", "x.y.svc.cluster.local"),
        Some(root)
    );
    // Port-level overrides the top level; subset overrides both.
    assert_eq!(
        g.client_tls("other", h, Some(9080), None).0.value,
        "ISTIO_MUTUAL"
    );
    let (d, _) = g.client_tls("other", h, Some(8443), None);
    assert_eq!(d.value, "SIMPLE");
    assert_eq!(
        d.source.unwrap().1,
        "spec.trafficPolicy.portLevelSettings[0].tls.mode"
    );
    assert_eq!(
        g.client_tls("other", h, Some(8443), Some("v2")).0.value,
        "DISABLE"
    );
    // No rule anywhere: UNSET (auto mTLS decides).
    let g = graph(APP);
    assert_eq!(g.client_tls("shop", h, None, None).0.value, "UNSET");
}

#[test]
fn sidecar_egress_imports_and_export_to() {
    let yaml = format!(
        "{APP}{}",
        r#"
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: istio-system}
spec:
  egress:
  - hosts: ["./*", "istio-system/*"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: frontend}
spec:
  egress:
  - hosts: ["shop/reviews.shop.svc.cluster.local", "*/*.example.com"]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: private-api, namespace: shop}
spec:
  hosts: [api.internal.example.com]
  exportTo: ["."]
  ports: [{number: 443, name: https, protocol: HTTPS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: egress}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: https, protocol: HTTPS}]
"#
    );
    let g = graph(&yaml);
    let h = "reviews.shop.svc.cluster.local";
    assert!(g.host_visible("frontend", None, h).visible);
    assert!(g.host_visible("frontend", None, "api.example.com").visible);
    // Namespace without its own Sidecar uses the root default: only ./* and istio-system/*.
    let v = g.host_visible("billing", None, h);
    assert!(!v.visible);
    assert_eq!(
        v.hidden_by.unwrap().0,
        idx(&g, Kind::Sidecar, "istio-system", "default")
    );
    assert!(
        g.host_visible("shop", None, h).visible,
        "./* in its own namespace"
    );
    // exportTo: "." hides the entry from other namespaces.
    let v = g.host_visible("frontend", None, "api.internal.example.com");
    assert!(!v.visible);
    assert_eq!(
        v.hidden_by.unwrap(),
        (
            idx(&g, Kind::ServiceEntry, "shop", "private-api"),
            "spec.exportTo".to_string()
        )
    );
}

#[test]
fn gateway_references() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
"#;
    let g = graph(yaml);
    let gw = idx(&g, Kind::Gateway, "istio-system", "public");
    assert_eq!(g.gateway_ref("istio-system/public", "shop"), Some(gw));
    assert_eq!(g.gateway_ref("public", "istio-system"), Some(gw));
    assert_eq!(
        g.gateway_ref("public", "shop"),
        None,
        "needs the namespace prefix"
    );
}

const TCP_ENTRIES: &str = r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db-a, namespace: ext}
spec:
  hosts: [a.db.example]
  ports: [{number: 5432, name: tcp, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db-b, namespace: ext}
spec:
  hosts: [b.db.example]
  ports: [{number: 5432, name: pg}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db-private, namespace: team}
spec:
  hosts: [c.db.example]
  exportTo: ["."]
  ports: [{number: 5432, name: tcp, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db-addr-1, namespace: ext}
spec:
  hosts: [d.db.example]
  addresses: [10.0.0.0/24]
  ports: [{number: 3306, name: tcp, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db-addr-2, namespace: ext}
spec:
  hosts: [e.db.example]
  addresses: [10.0.0.7]
  ports: [{number: 3306, name: tcp, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db-addr-3, namespace: ext}
spec:
  hosts: [f.db.example]
  addresses: [10.0.1.7]
  ports: [{number: 3306, name: tcp, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web, namespace: ext}
spec:
  hosts: [web.example]
  ports: [{number: 5432, name: https, protocol: HTTPS}]
"#;

#[test]
fn address_matched_ports_conflict_by_address_and_scope() {
    let g = graph(TCP_ENTRIES);
    let a = idx(&g, Kind::ServiceEntry, "ext", "db-a");
    let b = idx(&g, Kind::ServiceEntry, "ext", "db-b");
    let private = idx(&g, Kind::ServiceEntry, "team", "db-private");
    let web = idx(&g, Kind::ServiceEntry, "ext", "web");
    // Both without addresses, both exported everywhere: each takes 0.0.0.0:5432.
    // db-private is exported to `team` only, which db-a also reaches.
    assert_eq!(
        g.address_port_conflicts(a, 5432),
        vec![
            (b, "spec.ports[0]".to_string()),
            (private, "spec.ports[0]".to_string())
        ]
    );
    // HTTPS is matched by SNI: it claims nothing by address.
    assert!(g.address_port_conflicts(web, 5432).is_empty());
    assert!(g.address_port_conflicts(a, 80).is_empty());
    // Overlapping CIDR vs address conflict; disjoint ones do not.
    let d1 = idx(&g, Kind::ServiceEntry, "ext", "db-addr-1");
    let d2 = idx(&g, Kind::ServiceEntry, "ext", "db-addr-2");
    let d3 = idx(&g, Kind::ServiceEntry, "ext", "db-addr-3");
    assert_eq!(
        g.address_port_conflicts(d1, 3306),
        vec![(d2, "spec.ports[0]".to_string())]
    );
    assert!(g.address_port_conflicts(d3, 3306).is_empty());
    // With DNS auto-allocation, entries without addresses get their own VIPs.
    let mesh = MeshConfig {
        dns_auto_allocate: true,
        dns_capture: true,
        ..MeshConfig::default()
    };
    let g = graph_with(TCP_ENTRIES, mesh);
    assert!(g.address_port_conflicts(a, 5432).is_empty());
}

#[test]
fn addresses_overlap_handles_cidrs() {
    use meshlint_graph::addresses_overlap;
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(addresses_overlap(&v(&["10.0.0.0/8"]), &v(&["10.1.2.3"])));
    assert!(!addresses_overlap(
        &v(&["10.0.0.0/16"]),
        &v(&["10.1.2.3/32"])
    ));
    assert!(addresses_overlap(
        &v(&["2001:db8::/32"]),
        &v(&["2001:db8::1"])
    ));
    assert!(!addresses_overlap(
        &v(&["2001:db8::/32"]),
        &v(&["10.0.0.1"])
    ));
}

#[test]
fn client_namespaces_follow_export_and_lookup_path() {
    let g = graph(&format!(
        "{APP}{}",
        r#"
---
apiVersion: v1
kind: Namespace
metadata: {name: web, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: front, namespace: web}
spec:
  template:
    metadata: {labels: {app: front}}
    spec: {containers: [{name: app}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec: {host: reviews}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-from-web, namespace: web}
spec: {host: reviews.shop.svc.cluster.local}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-private, namespace: shop}
spec: {host: reviews, exportTo: ["."]}
"#
    ));
    // Proxied workloads: shop (injected), legacy (istio-proxy container), web.
    assert_eq!(
        g.proxy_namespaces().collect::<Vec<_>>(),
        vec!["legacy", "shop", "web"]
    );
    let dr = idx(&g, Kind::DestinationRule, "shop", "reviews");
    assert_eq!(g.client_namespaces(dr), vec!["legacy", "shop", "web"]);
    assert!(g.host_exported_to("reviews.shop.svc.cluster.local", "web"));
    // Outside the lookup path: only its own namespace's clients use it.
    let dr = idx(&g, Kind::DestinationRule, "web", "reviews-from-web");
    assert_eq!(g.client_namespaces(dr), vec!["web"]);
    let dr = idx(&g, Kind::DestinationRule, "shop", "reviews-private");
    assert_eq!(g.client_namespaces(dr), vec!["shop"]);
    // Visible from its own namespace: not hidden from all clients.
    let dr = idx(&g, Kind::DestinationRule, "shop", "reviews");
    assert!(g
        .hidden_from_all_clients(dr, "reviews.shop.svc.cluster.local")
        .is_empty());
}

#[test]
fn selected_by_and_namespace_suggestions() {
    let g = graph(&format!(
        "{APP}{}",
        r#"
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
"#
    ));
    let v1 = idx(&g, Kind::Deployment, "shop", "reviews-v1");
    let v2 = idx(&g, Kind::Deployment, "shop", "reviews-v2");
    let a = idx(&g, Kind::Sidecar, "shop", "by-app");
    let b = idx(&g, Kind::Sidecar, "shop", "by-version");
    assert_eq!(g.selected_by(v1, Kind::Sidecar), vec![a, b]);
    assert_eq!(g.selected_by(v2, Kind::Sidecar), vec![a]);
    assert!(g.selected_by(v1, Kind::PeerAuthentication).is_empty());
    assert_eq!(g.selected_workloads(a), vec![v1, v2]);
    assert_eq!(g.selected_workloads(b), vec![v1]);
    assert_eq!(g.suggest_namespace("shpo").as_deref(), Some("shop"));
    assert_eq!(g.suggest_namespace("shop"), None);
    assert_eq!(g.suggest_namespace("payments"), None);
}

#[test]
fn protocol_conflicts_need_same_host_port_and_scope() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se-http, namespace: a}
spec:
  hosts: [example.com]
  ports: [{number: 8443, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se-https, namespace: b}
spec:
  hosts: [example.com]
  ports: [{number: 80, name: web, protocol: http}, {number: 8443, name: https, protocol: HTTPS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se-local, namespace: c}
spec:
  hosts: [example.com]
  exportTo: ["."]
  ports: [{number: 8443, name: tls, protocol: TLS}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se-local2, namespace: d}
spec:
  hosts: [example.com]
  exportTo: ["."]
  ports: [{number: 8443, name: tcp, protocol: TCP}]
"#,
    );
    let http = idx(&g, Kind::ServiceEntry, "a", "se-http");
    let https = idx(&g, Kind::ServiceEntry, "b", "se-https");
    let local = idx(&g, Kind::ServiceEntry, "c", "se-local");
    let local2 = idx(&g, Kind::ServiceEntry, "d", "se-local2");
    let c = g.protocol_conflicts(http);
    assert_eq!(
        c.iter()
            .map(|c| (
                c.other,
                c.port,
                c.protocol.as_str(),
                c.other_protocol.as_str()
            ))
            .collect::<Vec<_>>(),
        vec![
            (https, 8443, "HTTP", "HTTPS"),
            (local, 8443, "HTTP", "TLS"),
            (local2, 8443, "HTTP", "TCP")
        ]
    );
    assert_eq!(c[0].path, "spec.ports[0].protocol");
    assert_eq!(c[0].other_path, "spec.ports[1].protocol");
    // Exported to their own namespaces only: c and d never meet.
    assert_eq!(
        g.protocol_conflicts(local)
            .iter()
            .map(|c| c.other)
            .collect::<Vec<_>>(),
        vec![http, https]
    );
}

#[test]
fn host_suggestions_prefer_the_same_name_and_near_spellings() {
    let g = graph(
        r#"
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments, namespace: ext}
spec:
  hosts: [api.payments.example, api.github.com]
"#,
    );
    assert_eq!(
        g.suggest_host("reviews.istio-system.svc.cluster.local")
            .as_deref(),
        Some("reviews.bookinfo.svc.cluster.local")
    );
    assert_eq!(
        g.suggest_host("reveiws.bookinfo.svc.cluster.local")
            .as_deref(),
        Some("reviews.bookinfo.svc.cluster.local")
    );
    assert_eq!(g.suggest_host("ratings.bookinfo.svc.cluster.local"), None);
    assert_eq!(
        g.suggest_host("api.paymnts.example").as_deref(),
        Some("api.payments.example")
    );
    assert_eq!(g.suggest_host("api.stripe.com"), None);
}

// --- TLS relations (ML1xxx rules) -------------------------------------------

const TLS_MESH: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports:
  - {name: http-web, port: 9080, targetPort: web}
  - {name: https-admin, port: 8443}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec:
  template:
    metadata:
      labels: {app: reviews, version: v1}
      annotations: {traffic.sidecar.istio.io/excludeInboundPorts: "8443"}
    spec:
      containers:
      - name: app
        ports: [{name: web, containerPort: 8080}, {containerPort: 8443}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v2, namespace: shop}
spec:
  template:
    metadata:
      labels: {app: reviews, version: v2}
      annotations: {sidecar.istio.io/inject: "false"}
    spec:
      containers: [{name: app, ports: [{name: web, containerPort: 8080}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: old, namespace: legacy}
spec:
  template:
    metadata: {labels: {app: old}}
    spec:
      containers: [{name: app}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: elsewhere, namespace: unknown-ns}
spec:
  template:
    metadata: {labels: {app: elsewhere}}
    spec:
      containers: [{name: app}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress, namespace: istio-system}
spec:
  template:
    metadata: {labels: {istio: ingressgateway}}
    spec:
      containers: [{name: istio-proxy}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: edge, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/public]
  http:
  - route:
    - destination: {host: reviews, port: {number: 8443}, subset: v1}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: STRICT}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: v1, namespace: shop}
spec:
  selector: {matchLabels: {version: v1}}
  portLevelMtls:
    "8080": {mode: PERMISSIVE}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  trafficPolicy:
    tls: {mode: DISABLE}
    portLevelSettings:
    - port: {number: 8443}
      tls: {mode: SIMPLE}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      tls: {mode: ISTIO_MUTUAL}
      portLevelSettings:
      - port: {number: 9080}
        tls: {mode: ISTIO_MUTUAL}
"#;

#[test]
fn sidecar_capture_injection_and_gateways() {
    let g = graph(TLS_MESH);
    let v1 = idx(&g, Kind::Deployment, "shop", "reviews-v1");
    let v2 = idx(&g, Kind::Deployment, "shop", "reviews-v2");
    let old = idx(&g, Kind::Deployment, "legacy", "old");
    let elsewhere = idx(&g, Kind::Deployment, "unknown-ns", "elsewhere");
    let ingress = idx(&g, Kind::Deployment, "istio-system", "ingress");
    assert!(g.inbound_captured(v1, 8080));
    assert!(!g.inbound_captured(v1, 8443), "excluded inbound port");
    assert!(!g.inbound_captured(v2, 8080), "no sidecar at all");
    assert_eq!(g.excluded_inbound_ports(v1), vec![8443]);
    assert_eq!(g.injection_decision(v1).value, "namespace-enabled");
    let d = g.injection_decision(v2);
    assert_eq!(d.value, "pod-disabled");
    assert_eq!(
        d.source.unwrap().1,
        "spec.template.metadata.annotations[\"sidecar.istio.io/inject\"]"
    );
    assert_eq!(g.injection_decision(old).value, "namespace-unlabelled");
    assert_eq!(g.injection_decision(ingress).value, "proxy-container");
    assert_eq!(g.injection_decision(elsewhere).value, "unknown");
    assert!(g.sidecar_known(old) && !g.sidecar_known(elsewhere));
    assert!(g.is_gateway_workload(ingress) && !g.is_gateway_workload(v1));
    let p = g.proxies_by_namespace();
    assert_eq!(
        p.iter()
            .map(|p| (p.namespace.as_str(), p.sidecars, p.gateways))
            .collect::<Vec<_>>(),
        vec![("istio-system", 0, 1), ("shop", 1, 0)]
    );
    assert_eq!(
        g.services_for(v1),
        vec![idx(&g, Kind::Service, "shop", "reviews")]
    );
}

#[test]
fn tls_settings_apply_subset_and_port_precedence() {
    let g = graph(TLS_MESH);
    let dr = idx(&g, Kind::DestinationRule, "shop", "reviews");
    let v1 = idx(&g, Kind::Deployment, "shop", "reviews-v1");
    let s = g.tls_settings(dr);
    type Summary = (String, Option<u32>, Option<String>, Vec<u32>);
    let summary: Vec<Summary> = s
        .iter()
        .map(|t| {
            (
                t.tls.mode.to_string(),
                t.port,
                t.subset.clone(),
                t.destinations.iter().map(|d| d.port.number).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            // Top level: every port without a port-level tls (8443 has one).
            ("DISABLE".into(), None, None, vec![9080]),
            ("SIMPLE".into(), Some(8443), None, vec![8443]),
            // Subset top level: every port the subset does not override itself.
            ("ISTIO_MUTUAL".into(), None, Some("v1".into()), vec![8443]),
            (
                "ISTIO_MUTUAL".into(),
                Some(9080),
                Some("v1".into()),
                vec![9080]
            ),
        ]
    );
    // The top level reaches both versions; the subset only v1.
    assert_eq!(s[0].destinations[0].workloads.len(), 2);
    let w = &s[3].destinations[0].workloads;
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].workload, v1);
    assert_eq!(w[0].container_port, 8080, "named targetPort");
    assert_eq!(
        w[0].peer.value, "PERMISSIVE",
        "port-level of the workload policy"
    );
    assert!(w[0].captured);
    let admin = &s[2].destinations[0].workloads[0];
    assert_eq!(
        (admin.peer.value.as_str(), admin.captured),
        ("STRICT", false)
    );
}

#[test]
fn routes_to_and_peer_targets() {
    let g = graph(TLS_MESH);
    let r = g.routes_to("reviews.shop.svc.cluster.local");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].path, "spec.http[0].route[0].destination");
    assert_eq!(
        (r[0].port, r[0].subset.as_deref(), r[0].protocol.as_str()),
        (Some(8443), Some("v1"), "http")
    );
    assert_eq!(r[0].gateways, vec!["istio-system/public".to_string()]);
    assert_eq!(r[0].gateway_namespaces, vec!["istio-system".to_string()]);
    // The namespace policy decides every port except v1's 8080 (its own policy makes that
    // PERMISSIVE); `captured` says whether a sidecar enforces the mode.
    let ns_pa = idx(&g, Kind::PeerAuthentication, "shop", "default");
    let t = g.peer_targets(ns_pa);
    let got: Vec<(String, u32, u32)> = t
        .iter()
        .map(|t| {
            (
                g.resource(t.workload).name().to_string(),
                t.port.number,
                t.container_port,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("reviews-v1".to_string(), 8443, 8443),
            ("reviews-v2".to_string(), 9080, 8080),
            ("reviews-v2".to_string(), 8443, 8443),
        ]
    );
    assert!(!t[0].captured, "8443 bypasses v1's sidecar");
}

#[test]
fn topology_labels_come_from_the_pods_node() {
    let g = graph(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  nodeName: node-1
  containers: [{name: app}]
---
apiVersion: v1
kind: Pod
metadata: {name: unscheduled, namespace: default}
spec:
  containers: [{name: app}]
---
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels:
    topology.kubernetes.io/region: us-west-1
    topology.kubernetes.io/zone: ""
"#,
    );
    let web = idx(&g, Kind::Pod, "default", "web");
    let t = g.topology_labels(web);
    assert_eq!(t.get("topology.kubernetes.io/region"), Some("us-west-1"));
    assert_eq!(t.get("kubernetes.io/hostname"), Some("node-1"));
    assert!(!t.contains_key("topology.kubernetes.io/zone"));
    let other = idx(&g, Kind::Pod, "default", "unscheduled");
    assert!(g.topology_labels(other).is_empty());
}

// ---- istioctl analyze parity relations (issue 6, `istio.rs`) ----

const GATEWAYS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: gw-1, namespace: istio-system, labels: {istio: ingressgateway, tier: edge}}
spec:
  containers: [{name: istio-proxy, image: proxyv2}]
---
apiVersion: v1
kind: Service
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  ports: [{name: http2, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: a, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [shop.example.com]
    tls: {mode: SIMPLE, credentialName: shared}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: b, namespace: blog}
spec:
  selector: {istio: ingressgateway, tier: edge}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [blog.example.com]
    tls: {mode: SIMPLE, credentialName: shared}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: other-pods, namespace: blog}
spec:
  selector: {istio: internal}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [shop.example.com]
"#;

#[test]
fn gateway_pods_services_conflicts_and_certificates() {
    let g = graph(GATEWAYS);
    let pod = idx(&g, Kind::Pod, "istio-system", "gw-1");
    let sel = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        g.pods_matching(&sel(&[("istio", "ingressgateway")])),
        vec![pod]
    );
    assert!(g.pods_matching(&sel(&[("istio", "internal")])).is_empty());
    assert_eq!(
        g.pods_matching(&sel(&[])),
        vec![pod],
        "empty selector = every pod"
    );
    assert_eq!(g.pods_in("shop", &sel(&[])), Vec::<usize>::new());
    assert_eq!(
        g.pods_in("istio-system", &sel(&[])),
        vec![pod],
        "by namespace"
    );
    // Namespace patterns of AuthorizationPolicy sources, against every namespace.
    assert!(g.namespace_pattern_matches("*"));
    assert!(g.namespace_pattern_matches("istio-*"));
    assert!(g.namespace_pattern_matches("*-system"));
    assert!(g.namespace_pattern_matches("SHOP"));
    assert!(!g.namespace_pattern_matches("*-bogus"));
    assert!(!g.namespace_pattern_matches("bogus-*"));
    assert!(!g.namespace_pattern_matches("sho"));
    let svc = idx(&g, Kind::Service, "istio-system", "gw");
    assert_eq!(g.services_selecting(pod), vec![svc]);

    let a = idx(&g, Kind::Gateway, "shop", "a");
    let b = idx(&g, Kind::Gateway, "blog", "b");
    // Port 80 / shop.example.com collides with `b` (its selector contains `a`'s and the
    // pod matches both); `other-pods` selects other pods and does not count.
    assert_eq!(g.gateway_conflicts(a), vec![(0, vec![(b, 0)])]);
    assert_eq!(g.gateway_conflicts(b), vec![(0, vec![(a, 0)])]);
    // `a`'s selector is included in `b`'s: only `a` is reported for the shared certificate.
    assert_eq!(g.gateways_sharing_certificate(a), vec![(1, b)]);
    assert!(g.gateways_sharing_certificate(b).is_empty());
}

#[test]
fn documents_of_one_object_that_disagree_on_injection_leave_the_sidecar_open() {
    // A kustomize base and the patches that label its Namespace and one Deployment for
    // injection, read side by side: which documents are applied is not in the inputs.
    let deployment = |name: &str, labels: &str| {
        format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: serving}}\nspec:\n  template:\n    metadata: {{labels: {{{labels}}}}}\n    spec: {{containers: [{{name: app, image: app}}]}}\n")
    };
    let namespace = |labels: &str| {
        format!("---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: serving, labels: {{{labels}}}}}\n")
    };
    let yaml = namespace("istio-injection: enabled")
        + &namespace("app: serving")
        + &deployment("activator", "app: activator");
    let strict = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {istio-injection: enabled}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: orders, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: orders}}\n    spec: {containers: [{name: app, image: app, ports: [{containerPort: 8080}]}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: orders, namespace: shop}\nspec: {selector: {app: orders}, ports: [{name: http, port: 80, targetPort: 8080}]}\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: shop}\nspec: {mtls: {mode: STRICT}}\n";
    let g = graph(&(yaml.clone() + strict));
    let activator = idx(&g, Kind::Deployment, "serving", "activator");
    assert!(!g.sidecar_known(activator));
    assert!(!g.data_plane(activator).known);
    // Nor is it certain that its calls to STRICT services are plaintext.
    assert!(g.plaintext_callers("serving").is_none());
    let g =
        graph(&(namespace("app: serving") + &deployment("activator", "app: activator") + strict));
    assert!(g.plaintext_callers("serving").is_some());
    let yaml = namespace("app: serving")
        + &deployment("activator", "app: activator")
        + &deployment("activator", "sidecar.istio.io/inject: 'true'")
        + &deployment("webhook", "app: webhook");
    let g = graph(&yaml);
    let activator = all(&g, Kind::Deployment, "activator");
    assert!(activator.iter().all(|&a| !g.sidecar_known(a)));
    // Documents that agree (or a single one) still decide.
    assert!(g.sidecar_known(idx(&g, Kind::Deployment, "serving", "webhook")));
    // A pod that decides itself does not depend on its Namespace's documents.
    let yaml = namespace("istio-injection: enabled")
        + &namespace("app: serving")
        + &deployment("probe", "sidecar.istio.io/inject: 'false'");
    let g = graph(&yaml);
    assert!(g.sidecar_known(idx(&g, Kind::Deployment, "serving", "probe")));
}

#[test]
fn a_gateway_without_namespace_may_be_the_namespaced_one_of_its_name() {
    // Two tutorials in one folder deploy the same Gateway, one naming its namespace and
    // one leaving it to `kubectl apply -n`: maybe one object, so no conflict is certain.
    // A Gateway of another name on the same pods still conflicts.
    let gateway = |name: &str, ns: &str| {
        format!("---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {{name: {name}{ns}}}\nspec:\n  selector: {{asm: ingressgateway}}\n  servers:\n  - port: {{number: 80, name: http, protocol: HTTP}}\n    hosts: ['*']\n")
    };
    let yaml = gateway("asm-ingressgateway", ", namespace: asm-ingress")
        + &gateway("asm-ingressgateway", "")
        + &gateway("other", ", namespace: web");
    let g = graph(&yaml);
    let named = idx(&g, Kind::Gateway, "asm-ingress", "asm-ingressgateway");
    let unset = all(&g, Kind::Gateway, "asm-ingressgateway")
        .into_iter()
        .find(|&i| i != named)
        .unwrap();
    let other = idx(&g, Kind::Gateway, "web", "other");
    assert!(g.same_object(named, unset) && !g.same_object(named, other));
    assert_eq!(g.gateway_conflicts(named), vec![(0, vec![(other, 0)])]);
    assert_eq!(g.gateway_conflicts(unset), vec![(0, vec![(other, 0)])]);
}

const ROUTING: &str = r#"
apiVersion: v1
kind: Service
metadata:
  name: details
  namespace: default
  annotations: {networking.istio.io/exportTo: banana}
spec:
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: eu, namespace: other}
spec:
  hosts: ["*.eu.example.com"]
  ports: [{number: 443, name: https, protocol: HTTPS}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: details, namespace: banana}
spec:
  host: details.default.svc.cluster.local
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r1, namespace: foo}
spec:
  hosts: [ratings]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r2, namespace: bar}
spec:
  hosts: [ratings.foo.svc.cluster.local]
  gateways: [mesh, istio-system/public]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: scoped, namespace: team}
spec:
  hosts: ["*.productpage.d"]
  exportTo: ["."]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: wide, namespace: bar}
spec:
  hosts: ["*.d"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: edge-only, namespace: bar}
spec:
  hosts: [ratings.foo.svc.cluster.local]
  gateways: [istio-system/public]
"#;

#[test]
fn destination_lookup_subsets_and_mesh_host_conflicts() {
    let g = graph(ROUTING);
    let details = idx(&g, Kind::Service, "default", "details");
    let eu = idx(&g, Kind::ServiceEntry, "other", "eu");
    // The Service is exported to `banana` only.
    assert_eq!(
        g.destination_target("details.default.svc.cluster.local", "banana", None),
        Some(details)
    );
    assert_eq!(
        g.destination_target("details.default.svc.cluster.local", "istio-system", None),
        None
    );
    // ServiceEntry wildcard hosts resolve concrete names.
    assert_eq!(
        g.destination_target("shop.eu.example.com", "default", None),
        Some(eu)
    );
    // Short and fully qualified names are one host for subsets.
    assert!(g.subset_defined("details", "default", "v1"));
    assert!(!g.subset_defined("details.default.svc.cluster.local", "x", "v2"));

    let r1 = idx(&g, Kind::VirtualService, "foo", "r1");
    let r2 = idx(&g, Kind::VirtualService, "bar", "r2");
    let scoped = idx(&g, Kind::VirtualService, "team", "scoped");
    let wide = idx(&g, Kind::VirtualService, "bar", "wide");
    let others = |vs| -> Vec<usize> {
        g.mesh_host_conflicts(vs)
            .into_iter()
            .map(|(_, o)| o)
            .collect()
    };
    assert_eq!(others(r1), vec![r2]);
    assert_eq!(
        others(r2),
        vec![r1],
        "gateway-only VirtualServices do not count"
    );
    assert_eq!(
        others(scoped),
        vec![wide],
        "a `*`-exported wildcard overlaps a scoped host"
    );
    assert_eq!(others(wide), vec![scoped]);
}

#[test]
fn hosts_hidden_from_every_client_namespace() {
    let g = graph(
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders, namespace: shop}
spec:
  template:
    metadata: {labels: {app: orders}}
    spec: {containers: [{name: app}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: istio-system}
spec:
  egress: [{hosts: ["./*", "istio-system/*"]}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: partner, namespace: external}
spec:
  hosts: [db.partner.example]
  ports: [{number: 5432, name: tcp, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: local, namespace: shop}
spec:
  hosts: [local.example]
  ports: [{number: 443, name: tls, protocol: TLS}]
"#,
    );
    assert!(g.host_exported_to("db.partner.example", "shop"));
    assert!(!g.host_exported_to("nothing.example", "shop"));
    let partner = idx(&g, Kind::ServiceEntry, "external", "partner");
    let hidden = g.hidden_from_all_clients(partner, "db.partner.example");
    assert_eq!(hidden.len(), 1);
    assert_eq!(hidden[0].0, "shop");
    let sidecar = idx(&g, Kind::Sidecar, "istio-system", "default");
    assert_eq!(hidden[0].1.hidden_by.as_ref().map(|h| h.0), Some(sidecar));
    let local = idx(&g, Kind::ServiceEntry, "shop", "local");
    assert!(g.hidden_from_all_clients(local, "local.example").is_empty());
}

#[test]
fn wildcard_hosts_resolved_by_dns_without_endpoints() {
    let se = |resolution: &str, endpoints: &str| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: se, namespace: a}}\nspec:\n  hosts: [api.example.com, 8, \"*.example.com\"]\n  resolution: {resolution}\n{endpoints}"
        )
    };
    let hosts = |yaml: &str| {
        let g = graph(yaml);
        g.wildcard_dns_hosts(idx(&g, Kind::ServiceEntry, "a", "se"))
    };
    // The path keeps its index past the non-string entry.
    assert_eq!(
        hosts(&se("DNS", "")),
        [("spec.hosts[2]".to_string(), "*.example.com".to_string())]
    );
    assert_eq!(hosts(&se("DNS_ROUND_ROBIN", "")).len(), 1);
    assert!(hosts(&se("NONE", "")).is_empty());
    assert!(hosts(&se("DNS", "  endpoints: [{address: cdn.example.net}]\n")).is_empty());
}
