//! mTLS conflicts decided at namespace and mesh level, without workloads.

mod common;

use common::{dr, graph, graph_of, pa};
use meshlint_graph::MeshGraph;
use meshlint_model::{Kind, MeshConfig};

fn conflicts(
    g: &MeshGraph,
    f: fn(&MeshGraph, usize) -> Vec<meshlint_graph::LevelConflict>,
    kind: Kind,
    ns: &str,
    name: &str,
) -> Vec<(String, &'static str, String)> {
    let i = g.find(kind, ns, name).unwrap();
    f(g, i)
        .into_iter()
        .map(|c| {
            let r = &g.resources[c.other.0];
            (
                c.namespace,
                c.level,
                format!("{}/{} {}", r.namespace(), r.name(), c.other.1),
            )
        })
        .collect()
}

#[test]
fn wildcard_disable_meets_namespace_and_mesh_strict() {
    let yaml = pa("istio-system", "default", "STRICT")
        + &pa("shop", "default", "STRICT")
        + &pa("legacy", "default", "PERMISSIVE")
        + &pa("billing", "default", "UNSET")
        + &dr("istio-system", "plain", "*.local", "DISABLE")
        + &dr("web", "plain-shop", "*.shop.svc.cluster.local", "DISABLE")
        + &dr(
            "web",
            "plain-billing",
            "*.billing.svc.cluster.local",
            "DISABLE",
        )
        + &dr(
            "web",
            "plain-legacy",
            "*.legacy.svc.cluster.local",
            "DISABLE",
        )
        + &dr("web", "ext", "*.example.com", "DISABLE");
    let g = graph(&yaml);
    let f = MeshGraph::strict_namespaces_under_disable;
    assert_eq!(
        conflicts(&g, f, Kind::DestinationRule, "istio-system", "plain"),
        vec![
            (
                "shop".into(),
                "namespace",
                "shop/default spec.mtls.mode".into()
            ),
            (
                "".into(),
                "mesh",
                "istio-system/default spec.mtls.mode".into()
            ),
        ]
    );
    assert_eq!(
        conflicts(&g, f, Kind::DestinationRule, "web", "plain-shop"),
        vec![(
            "shop".into(),
            "namespace",
            "shop/default spec.mtls.mode".into()
        )]
    );
    // UNSET inherits the mesh-wide STRICT.
    assert_eq!(
        conflicts(&g, f, Kind::DestinationRule, "web", "plain-billing"),
        vec![(
            "billing".into(),
            "mesh",
            "istio-system/default spec.mtls.mode".into()
        )]
    );
    assert!(conflicts(&g, f, Kind::DestinationRule, "web", "plain-legacy").is_empty());
    assert!(conflicts(&g, f, Kind::DestinationRule, "web", "ext").is_empty());
}

#[test]
fn a_rule_in_the_service_namespace_overrides_the_root_rule() {
    let yaml = pa("shop", "default", "STRICT")
        + &dr("istio-system", "plain", "*.local", "DISABLE")
        + &dr("shop", "mtls", "*.shop.svc.cluster.local", "ISTIO_MUTUAL");
    let g = graph(&yaml);
    assert!(conflicts(
        &g,
        MeshGraph::strict_namespaces_under_disable,
        Kind::DestinationRule,
        "istio-system",
        "plain"
    )
    .is_empty());
    // In the rule's own namespace, a more specific rule takes over.
    let yaml = pa("shop", "default", "STRICT")
        + &dr("web", "plain", "*.local", "DISABLE")
        + &dr("web", "mtls", "*.shop.svc.cluster.local", "ISTIO_MUTUAL");
    let g = graph(&yaml);
    assert!(conflicts(
        &g,
        MeshGraph::strict_namespaces_under_disable,
        Kind::DestinationRule,
        "web",
        "plain"
    )
    .is_empty());
}

#[test]
fn disabled_namespace_meets_istio_mutual() {
    let yaml = pa("istio-system", "default", "DISABLE")
        + &pa("shop", "default", "DISABLE")
        + &pa("web", "default", "STRICT")
        + &dr("web", "to-shop", "*.shop.svc.cluster.local", "ISTIO_MUTUAL")
        + &dr(
            "web",
            "to-reviews",
            "reviews.shop.svc.cluster.local",
            "ISTIO_MUTUAL",
        )
        + &dr("web", "to-web", "*.web.svc.cluster.local", "ISTIO_MUTUAL")
        + &dr(
            "web",
            "to-orders",
            "orders.orders.svc.cluster.local",
            "ISTIO_MUTUAL",
        )
        + &dr("web", "all", "*.local", "ISTIO_MUTUAL");
    let g = graph(&yaml);
    let f = MeshGraph::istio_mutual_to_disabled;
    assert_eq!(
        conflicts(&g, f, Kind::PeerAuthentication, "shop", "default"),
        vec![
            (
                "shop".into(),
                "namespace",
                "web/to-shop spec.trafficPolicy.tls.mode".into()
            ),
            (
                "shop".into(),
                "namespace",
                "web/to-reviews spec.trafficPolicy.tls.mode".into()
            ),
        ]
    );
    assert_eq!(
        conflicts(&g, f, Kind::PeerAuthentication, "istio-system", "default"),
        vec![
            (
                "orders".into(),
                "mesh",
                "web/to-orders spec.trafficPolicy.tls.mode".into()
            ),
            (
                "".into(),
                "mesh",
                "web/all spec.trafficPolicy.tls.mode".into()
            ),
        ]
    );
}

#[test]
fn the_destination_rule_side_names_the_policies() {
    let yaml = pa("istio-system", "default", "DISABLE")
        + &pa("shop", "default", "DISABLE")
        + &dr("web", "to-shop", "*.shop.svc.cluster.local", "ISTIO_MUTUAL")
        + &dr("web", "plain", "*.shop.svc.cluster.local", "DISABLE");
    let g = graph(&yaml);
    let f = MeshGraph::disabled_namespaces_under_istio_mutual;
    assert_eq!(
        conflicts(&g, f, Kind::DestinationRule, "web", "to-shop"),
        vec![(
            "shop".into(),
            "namespace",
            "shop/default spec.mtls.mode".into()
        )]
    );
    assert!(conflicts(&g, f, Kind::DestinationRule, "web", "plain").is_empty());
}

#[test]
fn identity_conditions_where_plaintext_is_accepted() {
    let ap = |ns: &str, name: &str, body: &str| {
        format!("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{body}---\n")
    };
    let yaml = pa("istio-system", "default", "STRICT")
        + &pa("legacy", "default", "DISABLE")
        + &ap("legacy", "deny", "  action: DENY\n  rules:\n  - from:\n    - source: {principals: [a], notNamespaces: [b]}\n")
        + &ap("legacy", "allow", "  rules:\n  - from:\n    - source: {notPrincipals: [a], namespaces: [b]}\n    when:\n    - {key: source.namespace, notValues: [c]}\n    - {key: \"request.headers[x]\", values: [d]}\n")
        + &ap("shop", "deny", "  action: DENY\n  rules:\n  - from:\n    - source: {principals: [a]}\n")
        + &ap("legacy", "audit", "  action: AUDIT\n  rules:\n  - from:\n    - source: {principals: [a]}\n");
    let g = graph(&yaml);
    let gaps = |name: &str, ns: &str| {
        let i = g.find(Kind::AuthorizationPolicy, ns, name).unwrap();
        g.identity_without_mtls(i)
            .into_iter()
            .map(|x| {
                (
                    x.path,
                    x.code,
                    x.mode,
                    x.source
                        .map(|(p, _)| g.resources[p].namespace().to_string()),
                )
            })
            .collect::<Vec<_>>()
    };
    let legacy = Some("legacy".to_string());
    assert_eq!(
        gaps("deny", "legacy"),
        vec![(
            "spec.rules[0].from[0].source.principals".into(),
            "deny-bypassed",
            "DISABLE".into(),
            legacy.clone()
        )]
    );
    assert_eq!(
        gaps("allow", "legacy"),
        vec![
            (
                "spec.rules[0].from[0].source.notPrincipals".into(),
                "exclusion-bypassed",
                "DISABLE".into(),
                legacy.clone()
            ),
            (
                "spec.rules[0].from[0].source.namespaces".into(),
                "plaintext-denied",
                "DISABLE".into(),
                legacy.clone()
            ),
            (
                "spec.rules[0].when[0].notValues".into(),
                "exclusion-bypassed",
                "DISABLE".into(),
                legacy
            ),
        ]
    );
    // shop inherits the mesh-wide STRICT; AUDIT is not judged.
    assert!(gaps("deny", "shop").is_empty());
    assert!(gaps("audit", "legacy").is_empty());
}

#[test]
fn alternative_documents_of_one_policy_decide_nothing() {
    let yaml = pa("tutorial", "default", "DISABLE")
        + &pa("tutorial", "default", "PERMISSIVE")
        + &dr(
            "tutorial",
            "default",
            "*.tutorial.svc.cluster.local",
            "ISTIO_MUTUAL",
        );
    let g = graph(&yaml);
    assert!(!g.peer_mode_agreed(0));
    assert!(conflicts(
        &g,
        MeshGraph::disabled_namespaces_under_istio_mutual,
        Kind::DestinationRule,
        "tutorial",
        "default"
    )
    .is_empty());
}

#[test]
fn two_namespace_wide_policies_with_different_modes_decide_nothing() {
    let yaml = pa("istio-system", "a-disable", "DISABLE")
        + &pa("istio-system", "b-strict", "STRICT")
        + &dr("web", "all", "*.local", "ISTIO_MUTUAL");
    let g = graph(&yaml);
    assert!(!g.peer_mode_agreed(0));
    assert!(conflicts(
        &g,
        MeshGraph::disabled_namespaces_under_istio_mutual,
        Kind::DestinationRule,
        "web",
        "all"
    )
    .is_empty());
}

#[test]
fn token_conditions_need_a_request_authentication() {
    let ra = |ns: &str, name: &str, sel: &str| {
        format!("apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{sel}  jwtRules: [{{issuer: x}}]\n---\n")
    };
    let ap = |ns: &str, name: &str, sel: &str| {
        format!("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{sel}  rules:\n  - from: [{{source: {{notRequestPrincipals: ['*']}}}}]\n    when: [{{key: 'request.auth.claims[iss]', values: [x]}}, {{key: source.ip, values: [1.2.3.4]}}]\n---\n")
    };
    let yaml = ra("shop", "api", "  selector: {matchLabels: {app: api}}\n")
        + &ap(
            "shop",
            "api-v2",
            "  selector: {matchLabels: {app: api, v: '2'}}\n",
        )
        + &ap("shop", "admin", "  selector: {matchLabels: {app: admin}}\n")
        + &ra("web", "all", "")
        + &ap("web", "any", "");
    let g = graph(&yaml);
    let issues = |ns: &str, name: &str| {
        let i = g.find(Kind::AuthorizationPolicy, ns, name).unwrap();
        g.token_conditions_without_authn(i)
            .into_iter()
            .map(|x| (x.path, x.code, x.value))
            .collect::<Vec<_>>()
    };
    assert!(issues("shop", "api-v2").is_empty());
    assert!(issues("web", "any").is_empty());
    assert_eq!(
        issues("shop", "admin"),
        vec![
            (
                "spec.rules[0].from[0].source.notRequestPrincipals".into(),
                "negative",
                "notRequestPrincipals".into()
            ),
            (
                "spec.rules[0].when[0].values".into(),
                "positive",
                "request.auth.claims[iss]".into()
            ),
        ]
    );
}

#[test]
fn strict_without_client_mtls_only_when_auto_mtls_is_off() {
    let yaml = pa("istio-system", "default", "STRICT")
        + &pa("shop", "default", "STRICT")
        + &pa("billing", "default", "STRICT")
        + &dr(
            "web",
            "billing",
            "*.billing.svc.cluster.local",
            "ISTIO_MUTUAL",
        );
    let g = graph(&yaml);
    assert!(g.strict_without_client_mtls(1).is_empty(), "auto mTLS on");
    let mesh = MeshConfig {
        enable_auto_mtls: false,
        ..MeshConfig::default()
    };
    let g = graph_of(&yaml, mesh, false);
    let f = MeshGraph::strict_without_client_mtls;
    assert_eq!(
        conflicts(&g, f, Kind::PeerAuthentication, "shop", "default"),
        vec![(
            "shop".into(),
            "namespace",
            "shop/default spec.mtls.mode".into()
        )]
    );
    assert_eq!(
        conflicts(&g, f, Kind::PeerAuthentication, "istio-system", "default"),
        vec![(
            "".into(),
            "mesh",
            "istio-system/default spec.mtls.mode".into()
        )]
    );
    assert!(conflicts(&g, f, Kind::PeerAuthentication, "billing", "default").is_empty());
}

#[test]
fn a_policy_selecting_none_of_the_known_workloads_is_left_to_ml2015() {
    let yaml = pa("shop", "default", "PERMISSIVE")
        + "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: customer, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: customer}}\n    spec: {containers: [{name: c, image: x}]}\n---\n"
        + "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: typo, namespace: shop}\nspec:\n  selector: {matchLabels: {app: customers}}\n  action: DENY\n  rules:\n  - from: [{source: {principals: [a], requestPrincipals: [b]}}]\n---\n";
    let g = graph(&yaml);
    let i = g.find(Kind::AuthorizationPolicy, "shop", "typo").unwrap();
    assert!(g.identity_without_mtls(i).is_empty());
    assert!(g.token_conditions_without_authn(i).is_empty());
}

fn mesh_mtls_gap(yaml: &str) -> Option<String> {
    let g = graph(yaml);
    let i = g
        .find(Kind::DestinationRule, "istio-system", "mesh")
        .unwrap();
    g.mesh_mtls_without_peer_authentication(i)
}

#[test]
fn mesh_wide_istio_mutual_without_mesh_wide_peer_authentication() {
    let rule = dr("istio-system", "mesh", "*.local", "ISTIO_MUTUAL");
    assert_eq!(
        mesh_mtls_gap(&rule).as_deref(),
        Some("spec.trafficPolicy.tls.mode")
    );
    // A mesh-wide PeerAuthentication (any mode) closes the gap.
    let with_pa = format!("{rule}{}", pa("istio-system", "default", "STRICT"));
    assert_eq!(mesh_mtls_gap(&with_pa), None);
    // A namespace-level one does not.
    let ns_pa = format!("{rule}{}", pa("shop", "default", "STRICT"));
    assert!(mesh_mtls_gap(&ns_pa).is_some());
    // Not every host of the mesh, or not Istio mTLS: nothing to say.
    assert_eq!(
        mesh_mtls_gap(&dr(
            "istio-system",
            "mesh",
            "*.shop.svc.cluster.local",
            "ISTIO_MUTUAL"
        )),
        None
    );
    assert_eq!(
        mesh_mtls_gap(&dr("istio-system", "mesh", "*", "SIMPLE")),
        None
    );
}

#[test]
fn a_selected_or_non_root_rule_is_not_mesh_wide() {
    let selected = dr("istio-system", "mesh", "*", "ISTIO_MUTUAL")
        .replace("spec:\n", "spec:\n  workloadSelector: {}\n");
    assert_eq!(mesh_mtls_gap(&selected), None);
    let g = graph(&dr("shop", "mesh", "*", "ISTIO_MUTUAL"));
    let i = g.find(Kind::DestinationRule, "shop", "mesh").unwrap();
    assert_eq!(g.mesh_mtls_without_peer_authentication(i), None);
}
