//! Unit tests of the model queries the precision work added: object copies, merged
//! DestinationRules, host lookups with namespace presence, implicit cluster hosts.

mod common;

use common::{all, graph, graph_of};
use meshlint_graph::HostState;
use meshlint_model::{Kind, MeshConfig};

fn graph_world(yaml: &str, closed_world: bool) -> meshlint_graph::MeshGraph {
    graph_of(yaml, MeshConfig::default(), closed_world)
}

const COPIES: &str = r#"
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: staging}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: shop}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}
"#;

#[test]
fn documents_of_one_object_are_copies_whatever_their_api_version() {
    let g = graph(COPIES);
    let reviews = all(&g, Kind::VirtualService, "reviews");
    let (shop_a, shop_b, staging) = (reviews[0], reviews[1], reviews[2]);
    assert_eq!(g.copies_of(shop_a), &[shop_a, shop_b]);
    assert_eq!(g.copies_of(shop_b), &[shop_a, shop_b]);
    assert!(g.same_object(shop_a, shop_b));
    assert!(g.first_copy(shop_a) && !g.first_copy(shop_b));
    // Another namespace, another object.
    assert_eq!(g.copies_of(staging), &[staging]);
    assert!(!g.same_object(shop_a, staging));
}

#[test]
fn copies_never_conflict_but_other_objects_do() {
    let g = graph(COPIES);
    let reviews = all(&g, Kind::VirtualService, "reviews");
    let ratings = all(&g, Kind::VirtualService, "ratings")[0];
    let conflicts: Vec<usize> = g
        .mesh_host_conflicts(reviews[0])
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    // ratings claims the same host in the same scope; the second document of reviews
    // does not count.
    assert_eq!(conflicts, [ratings]);
}

const MERGE: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: shop}
spec:
  selector: {app: backend}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: subsets, namespace: shop}
spec:
  host: backend
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}, trafficPolicy: {tls: {mode: SIMPLE}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: tls, namespace: shop}
spec:
  host: backend.shop.svc.cluster.local
  trafficPolicy: {tls: {mode: DISABLE}}
  subsets:
  - {name: v2, labels: {version: two}}
  - {name: v3, labels: {version: v3}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: later-policy, namespace: shop}
spec:
  host: backend
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: selected, namespace: shop}
spec:
  host: backend
  workloadSelector: {matchLabels: {app: frontend}}
  trafficPolicy: {tls: {mode: MUTUAL}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: wildcard, namespace: shop}
spec:
  host: "*.shop.svc.cluster.local"
  trafficPolicy: {tls: {mode: SIMPLE}}
"#;

#[test]
fn destination_rules_for_one_host_are_merged_in_input_order() {
    let g = graph(MERGE);
    let subsets = all(&g, Kind::DestinationRule, "subsets")[0];
    let tls = all(&g, Kind::DestinationRule, "tls")[0];
    let later = all(&g, Kind::DestinationRule, "later-policy")[0];
    let fqdn = "backend.shop.svc.cluster.local";
    let m = g.merged_destination_rule("shop", fqdn).unwrap();
    // The selector-bound rule and the less specific wildcard are not merged in.
    assert_eq!(m.members, [subsets, tls, later]);
    // The first with a top-level traffic policy decides it.
    assert_eq!(m.policy_from, Some(tls));
    let names: Vec<(&str, usize)> = m
        .subsets
        .iter()
        .map(|s| (s.name.as_str(), s.member))
        .collect();
    // v2 is defined twice: the first document wins.
    assert_eq!(names, [("v1", subsets), ("v2", subsets), ("v3", tls)]);
    assert_eq!(g.destination_rule_for("shop", fqdn), Some(subsets));
    // Client TLS: top-level from `tls`, subset v2's own from `subsets`.
    let (top, _) = g.client_tls("shop", fqdn, Some(80), None);
    assert_eq!(top.value, "DISABLE");
    assert_eq!(
        top.source,
        Some((tls, "spec.trafficPolicy.tls.mode".to_string()))
    );
    let (v2, _) = g.client_tls("shop", fqdn, Some(80), Some("v2"));
    assert_eq!(v2.value, "SIMPLE");
    assert_eq!(v2.source.as_ref().map(|s| s.0), Some(subsets));
    // v3 has no policy of its own: the merged top-level applies.
    let (v3, _) = g.client_tls("shop", fqdn, Some(80), Some("v3"));
    assert_eq!(v3.value, "DISABLE");
    // Another host of the namespace falls to the wildcard rule.
    let w = g
        .merged_destination_rule("shop", "other.shop.svc.cluster.local")
        .unwrap();
    assert_eq!(w.members, all(&g, Kind::DestinationRule, "wildcard"));
    // An empty host asks nothing.
    assert!(g.merged_destination_rule("shop", "").is_none());
}

#[test]
fn tls_settings_leave_out_what_the_merge_overrides() {
    let g = graph(MERGE);
    let later = all(&g, Kind::DestinationRule, "later-policy")[0];
    let tls = all(&g, Kind::DestinationRule, "tls")[0];
    // `later-policy`'s top level never applies (`tls` came first with one).
    assert!(g.tls_settings(later).is_empty());
    // `tls`'s subset v2 is shadowed by `subsets`' v2; its top level applies.
    let settings: Vec<(String, Option<String>)> = g
        .tls_settings(tls)
        .iter()
        .map(|s| (s.tls.mode.to_string(), s.subset.clone()))
        .collect();
    assert_eq!(settings, [("DISABLE".to_string(), None)]);
}

const HOSTS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: edge}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata:
  name: private
  namespace: shop
  annotations: {networking.istio.io/exportTo: "."}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: only-config, namespace: edge}
spec: {hosts: [a.example.com], http: [{route: [{destination: {host: reviews.shop.svc.cluster.local}}]}]}
"#;

#[test]
fn host_lookup_knows_how_sure_it_can_be() {
    let g = graph(HOSTS);
    let l = g.host_lookup("reviews.shop.svc.cluster.local", &["edge"]);
    assert_eq!(l.state, HostState::Exported);
    let l = g.host_lookup("private.shop.svc.cluster.local", &["edge"]);
    assert_eq!(l.state, HostState::Unexported);
    assert_eq!(l.definitions.len(), 1);
    // `shop` is described (its Namespace and Services): a missing host there is certain.
    let l = g.host_lookup("details.shop.svc.cluster.local", &["shop"]);
    assert_eq!((l.state, l.certain), (HostState::Missing, true));
    // `edge` only holds its Namespace and Istio configuration: not certain.
    assert!(!g.namespace_described("edge"));
    let l = g.host_lookup("web.edge.svc.cluster.local", &["edge"]);
    assert_eq!(
        (l.state, l.certain, l.suggestion.clone()),
        (HostState::Missing, false, None)
    );
    // The same Service name in another namespace is evidence (the short-host mistake).
    let l = g.host_lookup("reviews.edge.svc.cluster.local", &["edge"]);
    assert_eq!(l.state, HostState::Missing);
    assert_eq!(
        l.suggestion.as_deref(),
        Some("reviews.shop.svc.cluster.local")
    );
    assert!(l.certain);
    // External hosts without a ServiceEntry: not certain in open world.
    let l = g.host_lookup("api.example.com", &["edge"]);
    assert_eq!((l.state, l.certain), (HostState::Missing, false));
    // Hosts every cluster has.
    for h in [
        "kubernetes.default.svc.cluster.local",
        "istiod.istio-system.svc.cluster.local",
        "istio-ingressgateway.istio-system.svc.cluster.local",
    ] {
        assert_eq!(
            g.host_lookup(h, &["edge"]).state,
            HostState::Implicit,
            "{h}"
        );
    }
    // Services of a namespace whose Namespace object is elsewhere: it may have more.
    let partial = graph(&HOSTS.replacen(
        "kind: Namespace\nmetadata: {name: shop}",
        "kind: ConfigMap\nmetadata: {name: shop, namespace: x}",
        1,
    ));
    assert!(!partial.namespace_described("shop"));
    let l = partial.host_lookup("details.shop.svc.cluster.local", &["shop"]);
    assert_eq!((l.state, l.certain), (HostState::Missing, false));
    // Closed world: everything is described, nothing is implicit.
    let g = graph_world(HOSTS, true);
    assert!(g.namespace_described("edge"));
    let l = g.host_lookup("istiod.istio-system.svc.cluster.local", &["edge"]);
    assert_eq!((l.state, l.certain), (HostState::Missing, true));
}

#[test]
fn objects_without_a_namespace_share_one_that_is_not_default() {
    let g = graph(
        r#"
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec: {ports: [{name: http, port: 80}]}
"#,
    );
    let ns = g.resources[0].namespace().to_string();
    assert_eq!(ns, meshlint_model::UNSET_NAMESPACE);
    assert!(g.resources[0].namespace_unset());
    let own = g.resolve_host("reviews", &ns);
    assert_eq!(
        g.host_lookup(&own, &[ns.as_str()]).state,
        HostState::Exported
    );
    // Nothing is suggested on the strength of a namespace nobody named.
    let l = g.host_lookup(&g.resolve_host("ratings", &ns), &[ns.as_str()]);
    assert_eq!(l.suggestion, None);
    assert!(
        g.host_lookup("reviews.default.svc.cluster.local", &["default"])
            .suggestion
            .as_deref()
            != Some(own.as_str())
    );
    assert_eq!(g.host_namespace("a.b.svc.cluster.local"), Some("b"));
    assert_eq!(g.host_namespace("a.example.com"), None);
}

#[test]
fn sidecar_imports_that_import_nothing() {
    let yaml = r#"
apiVersion: v1
kind: Namespace
metadata: {name: api}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: api}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: web}
spec:
  egress:
  - hosts:
    - "./*"
    - "istio-system/*"
    - "istio-sytem/*"
    - "monitoring/*"
    - "api-v2/*"
    - "backend/api.backend.svc.cluster.local"
    - "api/api.api.svc.cluster.local"
    - "api/missing.api.svc.cluster.local"
    - "*/kubernetes.default.svc.cluster.local"
"#;
    let g = graph(yaml);
    let sc = all(&g, Kind::Sidecar, "default")[0];
    let got: Vec<(String, bool, bool)> = g
        .empty_sidecar_imports(sc)
        .into_iter()
        .map(|e| (e.entry, e.missing_namespace, e.certain))
        .collect();
    // The root namespace always exists; `monitoring/*` is not judged in open world
    // (nothing suggests a typo), nor `api-v2/*` (another namespace than `api`, not
    // a misspelling of it); `istio-sytem/*` is a typo of `istio-system`.
    assert_eq!(
        got,
        [
            ("istio-sytem/*".to_string(), true, true),
            (
                "backend/api.backend.svc.cluster.local".to_string(),
                false,
                true
            ),
            ("api/missing.api.svc.cluster.local".to_string(), false, true),
        ]
    );
    let e = &g.empty_sidecar_imports(sc)[0];
    assert_eq!(e.namespace_suggestion.as_deref(), Some("istio-system"));
    assert_eq!(e.suggested_entry.as_deref(), Some("istio-system/*"));
    assert_eq!(e.path, "spec.egress[0].hosts[2]");
    // The host lives in namespace `api`: write it with that namespace.
    let e = &g.empty_sidecar_imports(sc)[1];
    assert_eq!(
        e.suggested_entry.as_deref(),
        Some("api/api.api.svc.cluster.local")
    );
    // Closed world: the unknown namespace is judged too.
    let g = graph_world(yaml, true);
    let sc = all(&g, Kind::Sidecar, "default")[0];
    assert!(g
        .empty_sidecar_imports(sc)
        .iter()
        .any(|e| e.entry == "monitoring/*"));
}

#[test]
fn destination_problems_one_per_host() {
    let g = graph(
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, port: {number: 80}}
    - destination: {host: details}
    - destination: {host: details}
    - weight: 10
  tcp:
  - route:
    - destination: {host: kubernetes.default.svc.cluster.local}
"#,
    );
    use meshlint_graph::DestinationProblemKind::*;
    let vs = all(&g, Kind::VirtualService, "r")[0];
    let got: Vec<_> = g
        .destination_problems(vs)
        .into_iter()
        .map(|p| (p.kind, p.path, p.lookup.map(|l| l.certain)))
        .collect();
    assert_eq!(
        got,
        [
            (Port, "spec.http[0].route[0].destination".to_string(), None),
            (
                Missing,
                "spec.http[0].route[1].destination".to_string(),
                Some(true)
            ),
            (NoDestination, "spec.http[0].route[3]".to_string(), None),
        ]
    );
}

#[test]
fn envoy_filter_patches_that_depend_on_order() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: lua, namespace: shop}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      proxy: {proxyVersion: '1\.20.*'}
      listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager, subFilter: {name: envoy.filters.http.router}}}}
    patch: {operation: INSERT_BEFORE, value: {name: envoy.lua}}
  - applyTo: HTTP_FILTER
    match:
      listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager, subFilter: {name: envoy.lua}}}}
    patch: {operation: INSERT_AFTER, value: {name: envoy.lua}}
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: ordered, namespace: shop}
spec:
  priority: 10
  configPatches:
  - applyTo: HTTP_FILTER
    patch: {operation: INSERT_BEFORE, value: {name: x}}
"#,
    );
    let lua = all(&g, Kind::EnvoyFilter, "lua")[0];
    let p = g.order_dependent_patches(lua);
    // The first patch anchors on the router Istio generates; the second on a filter the
    // first installs only for proxy 1.20.
    assert_eq!(p.relative, Some((0, true)));
    assert_eq!(p.version_gated, Some(1));
    let ordered = all(&g, Kind::EnvoyFilter, "ordered")[0];
    assert_eq!(g.order_dependent_patches(ordered), Default::default());
}

#[test]
fn service_ports_sharing_a_target_port_of_a_mesh_workload() {
    let yaml = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: app}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: grpc, port: 9090, targetPort: 9090}]
---
apiVersion: v1
kind: Service
metadata: {name: api-legacy, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: tcp, port: 8000, targetPort: 8080}]
"#;
    let g = graph(yaml);
    let w = all(&g, Kind::Deployment, "api")[0];
    let c = g.target_port_conflicts(w);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].target, "8080");
    let ports: Vec<u32> = c[0].ports.iter().map(|p| p.1).collect();
    assert_eq!(ports, [80, 8000]);
    // Without a sidecar the ports do not clash in a proxy.
    let g = graph(&yaml.replace("istio-injection: enabled", "istio-injection: disabled"));
    let w = all(&g, Kind::Deployment, "api")[0];
    assert!(g.target_port_conflicts(w).is_empty());
}

#[test]
fn policy_selectors_that_match_nothing() {
    let yaml = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec:
  template:
    metadata: {labels: {app: reviews, version: v1}}
    spec: {containers: [{name: app}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: typo, namespace: shop}
spec:
  selector: {matchLabels: {app: Reviews, version: v1}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: fine, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: ingress, namespace: shop}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: elsewhere, namespace: payments}
spec:
  selector: {matchLabels: {app: ledger}}
"#;
    let g = graph(yaml);
    let typo = all(&g, Kind::AuthorizationPolicy, "typo")[0];
    let m = g.selector_miss(typo).expect("matches nothing");
    assert_eq!(m.key, "app");
    assert_eq!(m.near, all(&g, Kind::Deployment, "reviews-v1"));
    assert!(m.namespace_has_workloads);
    assert!(g
        .selector_miss(all(&g, Kind::AuthorizationPolicy, "fine")[0])
        .is_none());
    // The installer's gateway pods exist in open world.
    assert!(g
        .selector_miss(all(&g, Kind::RequestAuthentication, "ingress")[0])
        .is_none());
    // No workloads of `payments` in the inputs: judged only under --closed-world.
    let pa = all(&g, Kind::PeerAuthentication, "elsewhere")[0];
    assert!(g.selector_miss(pa).is_none());
    let closed = graph_world(yaml, true);
    let m = closed.selector_miss(pa).expect("closed world judges it");
    assert!(!m.namespace_has_workloads);
    // Without its Namespace object, `shop` may hold workloads deployed from elsewhere.
    let g = graph(&yaml.replacen("kind: Namespace", "kind: ConfigMap", 1));
    assert!(g
        .selector_miss(all(&g, Kind::AuthorizationPolicy, "typo")[0])
        .is_none());
    // Workloads written without a namespace may or may not be `payments`'s: they do not
    // make its list complete.
    let unset = format!("{yaml}---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: payments}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: sleep}}\nspec: {{containers: [{{name: sleep, image: curl}}]}}\n");
    let g = graph(&unset);
    assert!(g
        .selector_miss(all(&g, Kind::PeerAuthentication, "elsewhere")[0])
        .is_none());
}
