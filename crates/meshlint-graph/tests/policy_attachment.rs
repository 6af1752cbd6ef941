//! Policy attachment in ambient mode: targetRefs, waypoint identities, the waypoint's
//! view of mesh routes, ingress through waypoints.

mod common;
use common::*;
use meshlint_model::{Kind, MeshConfig};

const MESH: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: shop}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
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
metadata: {name: ratings, namespace: shop, labels: {istio.io/use-waypoint: none}}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: app, image: reviews}]}
"#;

fn with(extra: &str) -> String {
    format!("{MESH}---\n{extra}")
}

#[test]
fn target_refs_attach_only_to_waypoint_bound_services_of_the_namespace() {
    let g = graph(&with(
        r#"apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: shop}
spec:
  targetRefs:
  - {kind: Service, group: "", name: reviews}
  - {kind: Service, group: "", name: ratings}
  - {kind: Service, group: "", name: details}
  - {kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}
  - {kind: GatewayClass, group: gateway.networking.k8s.io, name: istio-waypoint}
"#,
    ));
    let p = idx(&g, Kind::AuthorizationPolicy, "shop", "p");
    let got: Vec<_> = g
        .policy_target_refs(p)
        .into_iter()
        .map(|t| (t.outcome, t.certain))
        .collect();
    assert_eq!(
        got,
        vec![
            ("attached", false),
            ("not-bound", true),
            // `shop` is described (Namespace, Services, a workload): certain.
            ("missing", true),
            ("attached", false),
            ("class-outside-root", false),
        ]
    );
}

#[test]
fn unbound_targets_are_uncertain_without_the_namespace() {
    let g = graph(
        r#"apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: reviews}, {kind: Gateway, group: gateway.networking.k8s.io, name: edge}]
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
"#,
    );
    let p = idx(&g, Kind::AuthorizationPolicy, "shop", "p");
    let got: Vec<_> = g
        .policy_target_refs(p)
        .into_iter()
        .map(|t| (t.outcome, t.certain))
        .collect();
    assert_eq!(got, vec![("not-bound", false), ("missing", false)]);
}

#[test]
fn l4_allow_must_admit_the_waypoint_identity() {
    let policy = |from: &str| {
        with(&format!(
            "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: p, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: reviews}}}}\n  rules: [{{from: [{{source: {from}}}]}}]\n"
        ))
    };
    let refused = |from: &str| {
        let g = graph(&policy(from));
        g.waypoint_identity_refused(idx(&g, Kind::AuthorizationPolicy, "shop", "p"))
            .map(|x| x.principals)
    };
    assert_eq!(
        refused("{principals: [cluster.local/ns/shop/sa/productpage]}"),
        Some(vec!["cluster.local/ns/shop/sa/waypoint".to_string()])
    );
    assert_eq!(
        refused("{principals: [cluster.local/ns/shop/sa/waypoint]}"),
        None
    );
    assert_eq!(refused("{principals: [\"*/sa/waypoint\"]}"), None);
    assert_eq!(refused("{namespaces: [shop]}"), None);
    assert_eq!(
        refused("{namespaces: [frontend]}").map(|p| p.len()),
        Some(1)
    );
    assert_eq!(refused("{notNamespaces: [shop]}").map(|p| p.len()), Some(1));
    // IP blocks: meshlint cannot tell.
    assert_eq!(refused("{ipBlocks: [10.0.0.0/8]}"), None);
}

#[test]
fn mesh_routes_the_waypoint_does_not_read() {
    let g = graph(&with(
        r#"apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: istio-system}
spec:
  hosts: [reviews.shop.svc.cluster.local]
  http: [{route: [{destination: {host: reviews.shop.svc.cluster.local}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: shop}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews}}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: frontend}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, namespace: shop}]
"#,
    ));
    let issues = |kind, ns| {
        g.waypoint_route_issues(idx(
            &g,
            kind,
            ns,
            if kind == Kind::VirtualService {
                "vs"
            } else {
                "r"
            },
        ))
        .into_iter()
        .map(|x| (x.issue, x.path))
        .collect::<Vec<_>>()
    };
    assert_eq!(
        issues(Kind::VirtualService, "istio-system"),
        vec![("outside-scope", "spec.hosts[0]".to_string())]
    );
    assert_eq!(
        issues(Kind::VirtualService, "shop"),
        vec![("mixed-apis", "spec.hosts[0]".to_string())]
    );
    assert_eq!(issues(Kind::HTTPRoute, "shop"), vec![]);
    assert_eq!(
        issues(Kind::HTTPRoute, "frontend"),
        vec![("outside-scope", "spec.parentRefs[0]".to_string())]
    );
}

#[test]
fn ingress_routes_skip_waypoints_unless_the_service_asks() {
    let route = r#"apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: shop}
spec:
  parentRefs: [{name: public}]
  rules: [{backendRefs: [{name: reviews, port: 9080}, {name: ratings, port: 9080}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: l7, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: reviews}]
  rules: [{to: [{operation: {methods: [GET]}}]}]
"#;
    let g = graph(&with(route));
    let r = idx(&g, Kind::HTTPRoute, "shop", "r");
    let got = g.ingress_waypoint_bypass(r);
    // ratings opts out of the waypoint: only reviews.
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].service, idx(&g, Kind::Service, "shop", "reviews"));
    assert_eq!(
        got[0].policies,
        vec![idx(&g, Kind::AuthorizationPolicy, "shop", "l7")]
    );
    let asked = with(route).replace(
        "metadata: {name: reviews, namespace: shop}\nspec:\n  selector",
        "metadata: {name: reviews, namespace: shop, labels: {istio.io/ingress-use-waypoint: \"true\"}}\nspec:\n  selector",
    );
    let g = graph_of(&asked, MeshConfig::default(), false);
    assert!(g
        .ingress_waypoint_bypass(idx(&g, Kind::HTTPRoute, "shop", "r"))
        .is_empty());
    // Another implementation's gateway (its proxy may be an ambient workload): not judged.
    let other = with(route).replace("parentRefs: [{name: public}]", "parentRefs: [{name: agw}]")
        + "---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: agw, namespace: shop}\nspec:\n  gatewayClassName: agentgateway\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n";
    let g = graph(&other);
    assert!(g
        .ingress_waypoint_bypass(idx(&g, Kind::HTTPRoute, "shop", "r"))
        .is_empty());
}

#[test]
fn network_policies_in_front_of_ambient_pods() {
    let probe = MESH.replace(
        "spec: {containers: [{name: app, image: reviews}]}",
        "spec: {containers: [{name: app, image: reviews, readinessProbe: {httpGet: {path: /, port: 9080}}}]}",
    );
    let block = |ingress: &str| {
        let g = graph(&format!(
            "{probe}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np, namespace: shop}}\nspec:\n  podSelector: {{matchLabels: {{app: reviews}}}}\n  policyTypes: [Ingress]\n{ingress}"
        ));
        g.ambient_network_block(idx(&g, Kind::NetworkPolicy, "shop", "np"))
            .map(|b| (b.hbone_blocked, b.probes_blocked.len()))
    };
    // Only the application port, from pods: HBONE and probes refused.
    assert_eq!(
        block("  ingress: [{from: [{podSelector: {}}], ports: [{port: 9080}]}]\n"),
        Some((true, 1))
    );
    // 15008 admitted, and the probe source.
    assert_eq!(
        block("  ingress:\n  - {from: [{podSelector: {}}], ports: [{port: 9080}, {port: 15008}]}\n  - {from: [{ipBlock: {cidr: 169.254.7.127/32}}]}\n"),
        None
    );
    // A port range covering 15008; a rule without `from` admits the probes.
    assert_eq!(
        block("  ingress: [{ports: [{port: 9000, endPort: 16000}]}]\n"),
        None
    );
    // Deny-all: not an HBONE finding (everything is refused on purpose), probes are.
    assert_eq!(block(""), Some((false, 1)));
}
