//! Field validation queries: routes without an action, weights, route names, ports,
//! Gateway servers without TLS.

mod common;

use common::{graph, graph_of};
use meshlint_graph::FieldIssue;
use meshlint_load::{load_source, LoadLimits};
use meshlint_model::MeshConfig;

fn codes(xs: &[FieldIssue]) -> Vec<(&str, &str, &str)> {
    xs.iter()
        .map(|x| (x.path.as_str(), x.code, x.value.as_str()))
        .collect()
}

const VS: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: shop}
spec:
  hosts: [r]
  http:
  - name: a
    match: [{uri: {prefix: /x}}]
  - name: b
    route:
    - {destination: {host: r}, weight: 70}
    - {destination: {host: s}, weight: 20}
  - name: a
    route:
    - {destination: {host: r}, weight: -1}
    - {destination: {host: s}, weight: 101}
  - redirect: {uri: /y}
  - route:
    - {destination: {host: r}, weight: 0}
  - route:
    - {destination: {host: r}, weight: 0}
    - {destination: {host: s}}
  - route:
    - {destination: {host: r}}
    - {destination: {host: s}}
  - delegate: {name: d}
  - directResponse: {status: 204}
  tcp:
  - route:
    - {destination: {host: r}, weight: 60}
    - {destination: {host: s}, weight: 40}
"#;

#[test]
fn routes_without_action_point_at_the_match() {
    let g = graph(VS);
    assert_eq!(
        codes(&g.routes_without_action(0)),
        vec![("spec.http[0].match", "no-action", "a")]
    );
}

#[test]
fn weights_negative_zero_total_sum_and_single_zero() {
    let g = graph(VS);
    let w = g.weight_issues(0);
    assert_eq!(
        codes(&w),
        vec![
            ("spec.http[1].route", "sum", "90"),
            ("spec.http[2].route[0].weight", "negative", "-1"),
            ("spec.http[4].route[0].weight", "single-zero", "0"),
            ("spec.http[5].route", "zero-total", "0"),
        ]
    );
    assert_eq!(w[0].numbers, vec![70, 20]);
}

#[test]
fn duplicate_route_names_name_the_first() {
    let g = graph(VS);
    let d = g.duplicate_route_names(0);
    assert_eq!(
        codes(&d),
        vec![("spec.http[2].name", "duplicate-name", "a")]
    );
    assert_eq!(d[0].first, "spec.http[0].name");
}

#[test]
fn ports_range_and_duplicates_by_kind() {
    let g = graph(
        r#"
apiVersion: v1
kind: Service
metadata: {name: s, namespace: shop}
spec:
  ports:
  - {name: dns, port: 53, protocol: TCP, targetPort: dns}
  - {name: dns-udp, port: 53, protocol: UDP}
  - {name: dns, port: 53, targetPort: 65536}
  - {name: web, port: 80, nodePort: 0}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  servers:
  - port: {number: 443, name: a, protocol: HTTPS}
    tls: {mode: SIMPLE}
  - port: {number: 443, name: b, protocol: HTTPS}
  - port: {number: 80, name: a, protocol: http}
  - port: {number: 81, name: c, protocol: Tls}
    tls: null
  - port: {number: 0, name: d, protocol: HTTP}
"#,
    );
    let s = g.port_issues(0);
    // `targetPort: 65536` never reaches the graph: the model reports it as a schema
    // finding and drops the ill-typed value (one cause, one finding).
    assert_eq!(
        codes(&s),
        vec![
            ("spec.ports[2].port", "duplicate-number", "53"),
            ("spec.ports[2].name", "duplicate-name", "dns"),
        ]
    );
    assert_eq!(s[0].first, "spec.ports[0].port");
    assert_eq!(
        codes(&g.port_issues(1)),
        vec![("spec.servers[2].port.name", "duplicate-name", "a")]
    );
    assert_eq!(
        codes(&g.servers_without_tls(1)),
        vec![
            ("spec.servers[1].port.protocol", "no-tls", "HTTPS"),
            ("spec.servers[3].port.protocol", "no-tls", "Tls"),
        ]
    );
}

#[test]
fn delegates_missing_hosted_and_with_gateways() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: root, namespace: shop}
spec:
  hosts: [shop.example.com]
  http:
  - delegate: {name: cart, namespace: cart}
  - delegate: {name: gone}
  - delegate: {name: ok}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: cart}
spec:
  hosts: [cart]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ok, namespace: shop}
spec:
  gateways: [edge]
"#,
    );
    let root = g.delegate_issues(0);
    assert_eq!(
        codes(&root),
        vec![
            ("spec.http[0].delegate", "has-hosts", "cart/cart"),
            ("spec.http[1].delegate", "missing", "shop/gone"),
        ]
    );
    assert_eq!(root[0].other, Some((1, "spec.hosts".to_string())));
    assert!(g.delegate_issues(1).is_empty());
    assert_eq!(
        codes(&g.delegate_issues(2)),
        vec![("spec.gateways", "delegate-gateways", "")]
    );
}

#[test]
fn regexes_refused_by_re2() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: shop}
spec:
  hosts: [r]
  http:
  - match:
    - uri: {regex: "/api/(?!internal).*"}
      headers:
        x-user.id: {regex: '(\w+)-\1'}
        ok: {regex: '^[a-z]+(?P<n>\d{1,3})$'}
      queryParams:
        q: {regex: "a++"}
    rewrite:
      uriRegexRewrite: {match: "x{2000}", rewrite: /y}
    corsPolicy:
      allowOrigins: [{regex: "https://[a-"}, {exact: "(?=no)"}]
    route:
    - destination: {host: r}
"#,
    );
    let x = g.invalid_regexes(0);
    assert_eq!(
        codes(&x),
        vec![
            (
                "spec.http[0].match[0].uri.regex",
                "lookaround",
                "/api/(?!internal).*"
            ),
            (
                "spec.http[0].match[0].headers[\"x-user.id\"].regex",
                "backreference",
                r"(\w+)-\1"
            ),
            (
                "spec.http[0].match[0].queryParams.q.regex",
                "nested-repetition",
                "a++"
            ),
            (
                "spec.http[0].rewrite.uriRegexRewrite.match",
                "repeat-count",
                "x{2000}"
            ),
            (
                "spec.http[0].corsPolicy.allowOrigins[0].regex",
                "syntax",
                "https://[a-"
            ),
        ]
    );
    assert_eq!(x[0].numbers, vec![6]);
    assert_eq!(x[1].numbers, vec![7]);
    assert_eq!(x[2].numbers, vec![3]);
}

#[test]
fn durations_below_a_millisecond_and_retry_conditions() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: shop}
spec:
  hosts: [r]
  http:
  - timeout: 0s
    retries: {attempts: 3, perTryTimeout: 500us, retryOn: "5xx, connect-failure,503,gateway-errors"}
    route:
    - destination: {host: r}
  - timeout: 1.5ms
    retries: {attempts: 2, perTryTimeout: 1h2m0.5s, retryOn: retriable-status-codes}
    route:
    - destination: {host: r}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: r, namespace: shop}
spec:
  host: r
  trafficPolicy:
    connectionPool:
      tcp: {connectTimeout: 100ns, tcpKeepalive: {time: 2h, interval: -1s}}
      http: {idleTimeout: 0}
    outlierDetection: {interval: 10s, baseEjectionTime: 30s}
"#,
    );
    assert_eq!(
        codes(&g.duration_issues(0)),
        vec![
            ("spec.http[0].retries.perTryTimeout", "below-1ms", "500us"),
            ("spec.http[1].timeout", "sub-ms", "1.5ms"),
        ]
    );
    assert_eq!(
        codes(&g.duration_issues(1)),
        vec![
            (
                "spec.trafficPolicy.connectionPool.tcp.connectTimeout",
                "below-1ms",
                "100ns"
            ),
            (
                "spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.interval",
                "below-1ms",
                "-1s"
            ),
        ]
    );
    assert_eq!(
        codes(&g.retry_on_issues(0)),
        vec![(
            "spec.http[0].retries.retryOn",
            "unknown-retry-on",
            "gateway-errors"
        )]
    );
}

#[test]
fn shadowed_routes_and_matches() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: shop}
spec:
  hosts: [r]
  http:
  - match:
    - {name: a, uri: {prefix: /p}}
    - {uri: {prefix: /p/q}, method: {exact: GET}}
    route: [{destination: {host: r}}]
  - match:
    - {name: b, uri: {prefix: /p}}
    route: [{destination: {host: r}}]
  - match:
    - {uri: {exact: /p}}
    route: [{destination: {host: r}}]
  - route: [{destination: {host: r}}]
  - route: [{destination: {host: r}}]
  tcp:
  - match: [{port: 1}]
    route: [{destination: {host: r}}]
  - match: [{port: 1}, {port: 2}]
    route: [{destination: {host: r}}]
"#,
    );
    let x = g.shadowed_matches(0);
    let got: Vec<(&str, &str, &str, &str)> = x
        .iter()
        .map(|i| (i.path.as_str(), i.code, i.detail.as_str(), i.first.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "spec.http[0].match[1]",
                "ineffective",
                "covered",
                "spec.http[0].match[0]"
            ),
            (
                "spec.http[1].match[0]",
                "ineffective",
                "duplicate",
                "spec.http[0].match[0]"
            ),
            (
                "spec.http[1]",
                "unreachable",
                "all matches used by prior rules",
                ""
            ),
            (
                "spec.http[4]",
                "unreachable",
                "only the last rule can have no matches",
                "spec.http[3]"
            ),
            (
                "spec.tcp[1].match[0]",
                "ineffective",
                "duplicate",
                "spec.tcp[0].match[0]"
            ),
        ]
    );
}

#[test]
fn server_first_ports_without_a_declared_protocol() {
    let g = graph(
        r#"
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  ports:
  - {port: 3306}
  - {port: 13306, targetPort: 3306}
  - {name: tcp-db, port: 23306, targetPort: 3306}
  - {name: db, port: 33306, targetPort: 3306, appProtocol: tcp}
  - {name: smtp, port: 2525}
  - {name: mail, port: 25}
  - {port: 5432}
  - {name: nats-client, port: 14222, protocol: UDP}
"#,
    );
    let found: Vec<_> = g
        .server_first_ports(0)
        .into_iter()
        .map(|x| (x.path, x.value, x.numbers))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "spec.ports[1].port".to_string(),
                "MySQL".to_string(),
                vec![13306, 3306]
            ),
            (
                "spec.ports[4].name".to_string(),
                "SMTP".to_string(),
                vec![2525]
            ),
        ]
    );
}

#[test]
fn outbound_policy_follows_the_namespace_then_root_sidecar_then_the_mesh() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: istio-system}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: web}
spec:
  egress: [{hosts: ["./*"]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: one, namespace: shop}
spec:
  workloadSelector: {labels: {app: x}}
  outboundTrafficPolicy: {mode: ALLOW_ANY}
"#,
    );
    // shop: only a workload Sidecar, so the root namespace's default decides.
    let shop = g.outbound_policy("shop");
    assert!(shop.registry_only);
    assert_eq!(
        shop.decided_by,
        Some((0, "spec.outboundTrafficPolicy.mode".to_string()))
    );
    // web: its own default Sidecar replaces the root one and sets no mode: the mesh's.
    let web = g.outbound_policy("web");
    assert!(!web.registry_only);
    assert_eq!(web.decided_by, None);
    assert!(g.is_external_host("api.stripe.com"));
    for local in [
        "reviews.shop.svc.cluster.local",
        "reviews",
        "*.example.com",
        "10.0.0.1",
        "db.mesh.local",
    ] {
        assert!(!g.is_external_host(local), "{local}");
    }
}

#[test]
fn external_host_without_a_service_entry_carries_the_outbound_policy() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: pay, namespace: shop}
spec: {host: api.pay.example.com}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: maps, namespace: shop}
spec: {hosts: [maps.example.com], ports: [{number: 443, name: tls, protocol: TLS}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: maps, namespace: shop}
spec: {host: maps.example.com}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: local, namespace: shop}
spec: {host: ratings.other.svc.cluster.local}
"#,
    );
    let gap = g.external_host_without_entry(1).unwrap();
    assert_eq!(gap.host, "api.pay.example.com");
    assert!(!gap.certain, "open world: a ServiceEntry may be elsewhere");
    assert!(gap.policy.registry_only);
    assert_eq!(gap.policy.decided_by.map(|(i, _)| i), Some(0));
    assert_eq!(g.external_host_without_entry(3), None);
    assert_eq!(g.external_host_without_entry(4), None);
}

#[test]
fn a_protocol_detection_timeout_turns_the_hang_into_a_delay() {
    let mesh_yaml = "protocolDetectionTimeout: 5s\n";
    let f = load_source(
        "m.yaml".into(),
        mesh_yaml.as_bytes().to_vec(),
        &LoadLimits::default(),
    );
    let mesh = MeshConfig {
        raw: Some(f.documents[0].root.clone()),
        ..MeshConfig::default()
    };
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\nspec:\n  ports: [{port: 13306, targetPort: 3306}]\n";
    let g = graph_of(svc, mesh, false);
    assert_eq!(g.server_first_ports(0)[0].detail, "5s");
    assert_eq!(graph(svc).server_first_ports(0)[0].detail, "");
}

#[test]
fn authorization_rule_shapes() {
    let g = graph(
        r#"
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-none, namespace: shop}
spec: {action: DENY}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-all, namespace: shop}
spec:
  rules:
  - from: [{source: {namespaces: [a]}}]
  - {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: shop}
spec: {action: CUSTOM, provider: {name: opa}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: fine, namespace: shop}
spec:
  rules: [{to: [{operation: {methods: [GET]}}]}]
"#,
    );
    assert_eq!(
        codes(&g.authorization_rule_shape(0)),
        vec![("metadata.name", "no-rules", "DENY")]
    );
    assert_eq!(
        codes(&g.authorization_rule_shape(1)),
        vec![("spec.rules[1]", "empty-rule", "ALLOW")]
    );
    assert!(g.authorization_rule_shape(2).is_empty());
    assert!(g.authorization_rule_shape(3).is_empty());
}
