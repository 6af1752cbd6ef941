//! Gateway API routes: parents, backends, ReferenceGrants, managed gateways' Services.

mod common;
use common::*;
use meshlint_graph::{hostnames_intersect, MeshGraph};
use meshlint_model::{Kind, MeshConfig};

const GATEWAYS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: infra, labels: {shared-gateway: "true"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {shared-gateway: "true"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: infra}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: "*.example.com", allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {shared-gateway: "true"}}}}}
  - {name: tcp, port: 9000, protocol: TCP, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: local, namespace: shop}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: other}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ratings, namespace: other}
spec:
  selector: {matchLabels: {app: ratings}}
  template:
    metadata: {labels: {app: ratings}}
    spec: {containers: [{name: app, image: ratings}]}
"#;

fn route(ns: &str, kind: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: gateway.networking.k8s.io/v1\nkind: {kind}\nmetadata: {{name: r, namespace: {ns}}}\nspec:\n{spec}\n"
    )
}

fn parents(g: &MeshGraph, ns: &str, kind: Kind) -> Vec<(&'static str, Option<String>)> {
    let r = idx(g, kind, ns, "r");
    g.route_parents(r)
        .into_iter()
        .map(|p| (p.outcome, p.decided_by.map(|d| d.1)))
        .collect()
}

#[test]
fn hostname_intersection() {
    assert!(hostnames_intersect("*.example.com", "shop.example.com"));
    assert!(hostnames_intersect("shop.example.com", "*.example.com"));
    assert!(hostnames_intersect("*.example.com", "*.a.example.com"));
    assert!(!hostnames_intersect("*.example.com", "example.com"));
    assert!(!hostnames_intersect("a.example.com", "b.example.com"));
}

#[test]
fn gateway_parents_listeners_namespaces_kinds_hostnames() {
    let yaml = format!(
        "{GATEWAYS}{}",
        route(
            "shop",
            "HTTPRoute",
            "  parentRefs: [{name: public, namespace: infra}]\n  hostnames: [shop.example.com]"
        )
    );
    let g = graph(&yaml);
    assert_eq!(
        parents(&g, "shop", Kind::HTTPRoute),
        vec![("accepted", None)]
    );

    // Namespace `other` lacks the label the Selector asks for; the TCP listener admits
    // every namespace but not HTTPRoutes.
    let yaml = format!(
        "{GATEWAYS}{}",
        route(
            "other",
            "HTTPRoute",
            "  parentRefs: [{name: public, namespace: infra}]"
        )
    );
    let g = graph(&yaml);
    let p = parents(&g, "other", Kind::HTTPRoute);
    assert_eq!(p[0].0, "not-allowed-by-listeners");

    // Hostname outside the listener's.
    let yaml = format!(
        "{GATEWAYS}{}",
        route(
            "shop",
            "HTTPRoute",
            "  parentRefs: [{name: public, namespace: infra, sectionName: http}]\n  hostnames: [shop.example.org]"
        )
    );
    let g = graph(&yaml);
    assert_eq!(
        parents(&g, "shop", Kind::HTTPRoute),
        vec![(
            "no-matching-listener-hostname",
            Some("spec.listeners[0].hostname".into())
        )]
    );

    // sectionName and port that no listener has; a TCPRoute on the TCP listener.
    let yaml = format!(
        "{GATEWAYS}{}{}",
        route("shop", "HTTPRoute", "  parentRefs: [{name: public, namespace: infra, sectionName: https}, {name: public, namespace: infra, port: 8443}]"),
        route("other", "TCPRoute", "  parentRefs: [{name: public, namespace: infra, port: 9000}]")
    );
    let g = graph(&yaml);
    let p = parents(&g, "shop", Kind::HTTPRoute);
    assert_eq!(p[0].0, "no-matching-parent");
    assert_eq!(p[1].0, "no-matching-parent");
    assert_eq!(
        parents(&g, "other", Kind::TCPRoute),
        vec![("accepted", None)]
    );

    // `Same` (the default) refuses another namespace, pointing at the listener.
    let yaml = format!(
        "{GATEWAYS}{}",
        route(
            "other",
            "HTTPRoute",
            "  parentRefs: [{name: local, namespace: shop}]"
        )
    );
    let g = graph(&yaml);
    assert_eq!(
        parents(&g, "other", Kind::HTTPRoute),
        vec![("not-allowed-by-listeners", Some("spec.listeners[0]".into()))]
    );
}

#[test]
fn missing_parents_are_certain_only_with_evidence() {
    let yaml = format!(
        "{GATEWAYS}{}",
        route("shop", "HTTPRoute", "  parentRefs: [{name: publc, namespace: infra}, {name: public}, {name: edge, namespace: platform}]")
    );
    let g = graph(&yaml);
    let p = g.route_parents(idx(&g, Kind::HTTPRoute, "shop", "r"));
    let got: Vec<_> = p
        .iter()
        .map(|p| (p.outcome, p.certain, p.suggestion.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("missing", true, Some("public".into())),
            ("missing", true, Some("infra/public".into())),
            ("missing", false, None),
        ]
    );
    // Closed world: certain.
    let g = graph_of(&yaml, MeshConfig::default(), true);
    let p = g.route_parents(idx(&g, Kind::HTTPRoute, "shop", "r"));
    assert!(p[2].certain);
}

#[test]
fn service_parents_and_their_ports() {
    let yaml = format!(
        "{GATEWAYS}{}",
        route(
            "shop",
            "HTTPRoute",
            "  parentRefs: [{group: \"\", kind: Service, name: reviews, port: 9080}, {group: \"\", kind: Service, name: reviews, port: 8080}, {group: \"\", kind: Service, name: reveiws}]"
        )
    );
    let g = graph(&yaml);
    let p = g.route_parents(idx(&g, Kind::HTTPRoute, "shop", "r"));
    assert_eq!(p[0].outcome, "accepted");
    assert_eq!(p[1].outcome, "port-missing");
    assert_eq!(p[1].decided_by.as_ref().unwrap().1, "spec.ports");
    assert_eq!((p[2].outcome, p[2].certain), ("missing", true));
}

#[test]
fn backends_kinds_ports_and_reference_grants() {
    let spec = r#"  parentRefs: [{name: local}]
  rules:
  - backendRefs:
    - {name: reviews, port: 9080}
    - {name: reviews, port: 8080}
    - {name: reviews}
    - {name: ratings, namespace: other, port: 9080}
    - {name: reveiws, port: 9080}
    - {group: apps, kind: Deployment, name: reviews, port: 9080}
    - {group: networking.istio.io, kind: Hostname, name: api.example.com, port: 443}"#;
    let yaml = format!("{GATEWAYS}{}", route("shop", "HTTPRoute", spec));
    let g = graph(&yaml);
    let b = g.route_backends(idx(&g, Kind::HTTPRoute, "shop", "r"));
    let got: Vec<_> = b.iter().map(|b| (b.outcome, b.certain)).collect();
    assert_eq!(
        got,
        vec![
            ("resolved", false),
            ("port-missing", false),
            ("port-unset", false),
            // `other` is described (Namespace + Service + Deployment): certain.
            ("not-permitted", true),
            ("missing", true),
            ("invalid-kind", false),
            ("missing", false),
        ]
    );
    assert_eq!(b[4].suggestion.as_deref(), Some("reviews"));

    let grant = r#"---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-shop, namespace: other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
  to: [{group: "", kind: Service}]
"#;
    let g = graph(&format!("{yaml}{grant}"));
    let b = g.route_backends(idx(&g, Kind::HTTPRoute, "shop", "r"));
    assert_eq!(b[3].outcome, "resolved");
    assert_eq!(
        b[3].grant,
        Some(idx(&g, Kind::ReferenceGrant, "other", "from-shop"))
    );
    // The grant names the route kind: a GRPCRoute is not admitted by it.
    let g = graph(&format!(
        "{GATEWAYS}{}{grant}",
        route("shop", "GRPCRoute", spec)
    ));
    let b = g.route_backends(idx(&g, Kind::GRPCRoute, "shop", "r"));
    assert_eq!(b[3].outcome, "not-permitted");
}

#[test]
fn managed_gateway_service_names() {
    let yaml = format!(
        "{GATEWAYS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: waypoint, namespace: shop}}\nspec:\n  gatewayClassName: istio-waypoint\n  listeners: [{{name: mesh, port: 15008, protocol: HBONE}}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: manual, namespace: shop}}\nspec:\n  gatewayClassName: istio\n  addresses: [{{type: Hostname, value: ingress.istio-system.svc.cluster.local}}]\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n"
    );
    let g = graph(&yaml);
    let name = |n: &str| g.gateway_service_name(idx(&g, Kind::K8sGateway, "shop", n));
    assert_eq!(name("local").as_deref(), Some("local-istio"));
    assert_eq!(name("waypoint").as_deref(), Some("waypoint"));
    assert_eq!(name("manual"), None);
}

#[test]
fn backend_kinds_are_judged_only_for_istio_gateways() {
    let other = r#"---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: agentgateway
  listeners: [{name: http, port: 80, protocol: HTTP}]
"#;
    let spec = "  parentRefs: [{name: edge}]\n  rules: [{backendRefs: [{group: example.dev, kind: Backend, name: llm}]}]";
    let g = graph(&format!(
        "{GATEWAYS}{other}{}",
        route("shop", "HTTPRoute", spec)
    ));
    let r = idx(&g, Kind::HTTPRoute, "shop", "r");
    assert!(!g.is_istio_gateway(idx(&g, Kind::K8sGateway, "shop", "edge")));
    assert_eq!(g.route_backends(r)[0].outcome, "unknown");
    let spec = "  parentRefs: [{name: local}]\n  rules: [{backendRefs: [{group: example.dev, kind: Backend, name: llm}]}]";
    let g = graph(&format!("{GATEWAYS}{}", route("shop", "HTTPRoute", spec)));
    let r = idx(&g, Kind::HTTPRoute, "shop", "r");
    assert_eq!(g.route_backends(r)[0].outcome, "invalid-kind");
}

#[test]
fn route_kinds_by_protocol_are_istio_defaults() {
    let other = r#"---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: envoy
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: grpc, port: 81, protocol: HTTP, allowedRoutes: {kinds: [{kind: GRPCRoute}]}}
"#;
    let yaml = format!(
        "{GATEWAYS}{other}{}{}",
        route(
            "shop",
            "TCPRoute",
            "  parentRefs: [{name: edge, sectionName: http}]"
        ),
        route(
            "shop",
            "HTTPRoute",
            "  parentRefs: [{name: edge, sectionName: grpc}]"
        )
    );
    let g = graph(&yaml);
    // Another implementation's defaults are its own; an explicit kinds list is not.
    assert_eq!(parents(&g, "shop", Kind::TCPRoute)[0].0, "unknown");
    assert_eq!(
        parents(&g, "shop", Kind::HTTPRoute)[0].0,
        "not-allowed-by-listeners"
    );
}

#[test]
fn routes_without_a_namespace_may_be_applied_to_the_gateway_namespace() {
    let yaml = format!(
        "{GATEWAYS}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r}}\nspec:\n  parentRefs: [{{name: local, namespace: shop}}]\n"
    );
    let g = graph(&yaml);
    let r = (0..g.resources.len())
        .find(|&i| g.resources[i].kind == Kind::HTTPRoute)
        .unwrap();
    assert_eq!(g.route_parents(r)[0].outcome, "unknown");
}
