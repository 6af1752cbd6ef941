//! Unit tests of the request queries: which VirtualService and route a request takes
//! (`request.rs`) and whether AuthorizationPolicies let it in (`authorization.rs`).

mod common;
use common::*;
use meshlint_graph::{AuthzRequest, MeshGraph, RequestAttrs, RouteOutcome};
use meshlint_model::Kind;

const MESH: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec:
  template:
    metadata: {labels: {app: reviews, version: v1}}
    spec:
      serviceAccountName: reviews
      containers: [{name: app, image: x}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [shop.example.com]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - name: admin-post
    match:
    - uri: {prefix: /admin}
      method: {exact: POST}
    route: [{destination: {host: reviews, subset: v2}}]
  - name: jason
    match:
    - headers: {end-user: {exact: jason}}
    - uri: {regex: "/v[0-9]+/.*"}
    route: [{destination: {host: reviews, subset: v2}, weight: 80}, {destination: {host: reviews, subset: v1}, weight: 20}]
    timeout: 3s
    retries: {attempts: 3}
  - route: [{destination: {host: reviews, subset: v1}}]
    fault: {abort: {httpStatus: 503, percentage: {value: 10}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: edge, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [gw]
  http:
  - match: [{uri: {exact: /reviews}}]
    route: [{destination: {host: reviews, port: {number: 9080}}}]
"#;

fn req(path: &str, method: &str, headers: &[(&str, &str)]) -> RequestAttrs {
    RequestAttrs {
        host: "reviews.shop.svc.cluster.local".into(),
        port: Some(9080),
        path: path.into(),
        method: method.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        source_namespace: Some("shop".into()),
        ..Default::default()
    }
}

fn route(g: &MeshGraph, r: &RequestAttrs) -> (usize, Option<usize>) {
    let vs = g
        .virtual_service_for("shop", None, &r.host)
        .expect("a VirtualService")
        .virtual_service;
    match g.route_for(vs, "http", r) {
        RouteOutcome::Matched(c) => (c.index, c.match_index),
        RouteOutcome::NoMatch { .. } => panic!("no route"),
    }
}

#[test]
fn first_matching_route_by_path_method_and_headers() {
    let g = graph(MESH);
    assert_eq!(route(&g, &req("/admin/x", "POST", &[])), (0, Some(0)));
    // Same path, wrong method: falls through to the catch-all.
    assert_eq!(route(&g, &req("/admin/x", "GET", &[])), (2, None));
    assert_eq!(
        route(&g, &req("/", "GET", &[("end-user", "jason")])),
        (1, Some(0))
    );
    // The regex must match the whole path.
    assert_eq!(route(&g, &req("/v2/books", "GET", &[])), (1, Some(1)));
    assert_eq!(route(&g, &req("/x/v2/books", "GET", &[])), (2, None));
}

#[test]
fn route_carries_weights_and_behaviour() {
    let g = graph(MESH);
    let vs = g.find(Kind::VirtualService, "shop", "reviews").unwrap();
    let RouteOutcome::Matched(c) = g.route_for(vs, "http", &req("/v1/x", "GET", &[])) else {
        panic!("no route");
    };
    let weights: Vec<(Option<&str>, u32)> = c
        .destinations
        .iter()
        .map(|d| (d.subset.as_deref(), d.weight))
        .collect();
    assert_eq!(weights, vec![(Some("v2"), 80), (Some("v1"), 20)]);
    assert_eq!(c.destinations[0].host, "reviews.shop.svc.cluster.local");
    let keys: Vec<&str> = c.behaviour.iter().map(|b| b.0.as_str()).collect();
    assert_eq!(keys, vec!["spec.http[1].timeout", "spec.http[1].retries"]);
}

#[test]
fn gateway_requests_use_the_virtual_service_bound_to_the_gateway() {
    let g = graph(MESH);
    let gw = g.find(Kind::Gateway, "shop", "gw").unwrap();
    // The mesh VirtualService is not bound to the gateway, and the gateway one is not
    // used by sidecars.
    assert!(g
        .virtual_service_for("shop", None, "shop.example.com")
        .is_none());
    let c = g
        .virtual_service_for("shop", Some(gw), "shop.example.com")
        .unwrap();
    assert_eq!(c.host_path, "spec.hosts[0]");
    let mut r = req("/nope", "GET", &[]);
    r.host = "shop.example.com".into();
    r.port = Some(80);
    r.gateway = Some(gw);
    assert_eq!(
        g.route_for(c.virtual_service, "http", &r),
        RouteOutcome::NoMatch { routes: 1 }
    );
    r.path = "/reviews".into();
    assert!(matches!(
        g.route_for(c.virtual_service, "http", &r),
        RouteOutcome::Matched(_)
    ));
}

const AUTHZ: &str = r#"
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  rules:
  - from: [{source: {requestPrincipals: ["*"]}}]
  - from: [{source: {principals: ["cluster.local/ns/shop/sa/productpage"]}}]
    to: [{operation: {methods: [GET], paths: ["/public*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: no-delete, namespace: shop}
spec:
  action: DENY
  rules: [{to: [{operation: {methods: [DELETE]}}]}]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  jwtRules: [{issuer: https://issuer.example}]
"#;

#[test]
fn authorization_deny_then_allow() {
    let g = graph(&format!("{MESH}---{AUTHZ}"));
    let w = g.find(Kind::Deployment, "shop", "reviews-v1").unwrap();
    let base = AuthzRequest {
        method: "GET".into(),
        path: "/".into(),
        port: 9080,
        ..Default::default()
    };
    let d = g.authorize(w, &base);
    assert!(!d.allowed);
    assert_eq!(d.request_authentications.len(), 1);
    assert_eq!(d.policies.len(), 2);
    let with_token = AuthzRequest {
        has_token: true,
        ..base.clone()
    };
    let d = g.authorize(w, &with_token);
    assert!(d.allowed);
    assert_eq!(d.decided_by[0].1, "spec.rules[0]");
    let from_productpage = AuthzRequest {
        principal: Some("cluster.local/ns/shop/sa/productpage".into()),
        path: "/public/x".into(),
        ..base.clone()
    };
    assert!(g.authorize(w, &from_productpage).allowed);
    let delete = AuthzRequest {
        method: "DELETE".into(),
        ..with_token
    };
    let d = g.authorize(w, &delete);
    assert!(!d.allowed);
    let p = d.decided_by[0].0;
    assert_eq!(g.resource(p).name(), "no-delete");
}

#[test]
fn no_policies_allow_everything() {
    let g = graph(MESH);
    let w = g.find(Kind::Deployment, "shop", "reviews-v1").unwrap();
    let d = g.authorize(w, &AuthzRequest::default());
    assert!(d.allowed);
    assert!(d.policies.is_empty());
}

#[test]
fn root_namespace_proxies_look_in_the_service_namespace_first() {
    // A gateway in istio-system (the root namespace) uses the service's own
    // DestinationRule, not the catch-all rule next to it; other clients fall back to the
    // root namespace only when neither their namespace nor the service's has one.
    let g = graph(&format!(
        "{MESH}---{}",
        r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: default, namespace: istio-system}
spec:
  host: "*.local"
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}]
"#
    ));
    let fqdn = "reviews.shop.svc.cluster.local";
    let own = g.find(Kind::DestinationRule, "shop", "reviews").unwrap();
    let root = g
        .find(Kind::DestinationRule, "istio-system", "default")
        .unwrap();
    assert_eq!(g.destination_rule_for("istio-system", fqdn), Some(own));
    assert_eq!(g.destination_rule_for("other", fqdn), Some(own));
    assert_eq!(
        g.destination_rule_for("other", "ratings.other.svc.cluster.local"),
        Some(root)
    );
}
