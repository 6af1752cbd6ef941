//! The sidecar injector, its webhooks and where workload policies take effect
//! (`injector.rs`, `webhooks.rs`, `policy_scope.rs`, `service_ports.rs`).

mod common;
use common::*;
use meshlint_graph::MeshGraph;
use meshlint_model::{Kind, MeshConfig};

const INJECTOR: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data:
  values: '{"global":{"hub":"docker.io/istio","tag":"1.24.0","proxy":{"image":"proxyv2"}},"sidecarInjectorWebhook":{"enableNamespacesByDefault":true}}'
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector-canary, namespace: istio-system}
data:
  values: '{"global":{"proxy":{"image":"example.com/proxy:2.0"}}}'
"#;

fn pod(name: &str, ns: &str, labels: &str, image: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{{labels}}}}}\nspec:\n  containers:\n  - {{name: app, image: app:1}}\n  - {{name: istio-proxy, image: '{image}'}}\n"
    )
}

fn ns(name: &str, labels: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{{labels}}}}}\n"
    )
}

#[test]
fn injector_values_name_the_proxy_image_per_revision() {
    let g = graph(INJECTOR);
    let default = g.injector_values("default");
    assert_eq!(
        default[0].proxy_image.as_deref(),
        Some("docker.io/istio/proxyv2:1.24.0")
    );
    assert!(default[0].enable_namespaces_by_default);
    // A full reference is taken as it is.
    assert_eq!(
        g.injector_values("canary")[0].proxy_image.as_deref(),
        Some("example.com/proxy:2.0")
    );
    assert!(g.injector_values("other").is_empty());
}

#[test]
fn namespace_injection_labels_follow_the_analyzer() {
    let yaml = format!(
        "{INJECTOR}{}{}{}{}",
        ns("a", "istio-injection: enabled, istio.io/rev: canary"),
        ns("b", "istio-injection: disabled, istio.io/rev: canary"),
        ns("c", ""),
        ns("kube-system", "")
    );
    let g = graph(&yaml);
    let n = |name| g.namespace_injection_labels(idx(&g, Kind::Namespace, "", name));
    assert_eq!(n("a").labels, ["istio-injection", "istio.io/rev"]);
    assert_eq!(n("a").revision.as_deref(), Some("canary"));
    // An explicit opt-out wins: the revision label does not count with it.
    assert_eq!(n("b").labels, ["istio-injection"]);
    assert!(n("c").unlabelled && !n("c").system && n("c").revision.is_none());
    assert!(n("c").by_default.is_some());
    assert!(n("kube-system").system && n("kube-system").exempt);
}

#[test]
fn proxy_image_type_takes_the_most_specific_setting() {
    let yaml = format!(
        r#"{}
---
apiVersion: networking.istio.io/v1beta1
kind: ProxyConfig
metadata: {{name: mesh, namespace: istio-system}}
spec: {{image: {{imageType: debug}}}}
---
apiVersion: networking.istio.io/v1beta1
kind: ProxyConfig
metadata: {{name: ns, namespace: shop}}
spec: {{image: {{imageType: distroless}}}}
---
apiVersion: networking.istio.io/v1beta1
kind: ProxyConfig
metadata: {{name: pay, namespace: shop}}
spec: {{selector: {{matchLabels: {{app: pay}}}}, image: {{imageType: default}}}}
"#,
        pod("orders", "shop", "app: orders", "x") + &pod("pay", "shop", "app: pay", "x")
    );
    let g = graph(&yaml);
    let orders = g.proxy_image_type(idx(&g, Kind::Pod, "shop", "orders"));
    assert_eq!(orders.value, "distroless");
    let (at, path) = orders.source.unwrap();
    assert_eq!(
        (g.resources[at].name(), path.as_str()),
        ("ns", "spec.image.imageType")
    );
    // `default` selected for the pod means no suffix.
    assert_eq!(
        g.proxy_image_type(idx(&g, Kind::Pod, "shop", "pay")).value,
        ""
    );
}

#[test]
fn stale_proxies_are_the_pods_not_running_the_injected_image() {
    let yaml = format!(
        "{INJECTOR}{}{}{}{}{}",
        ns("shop", "istio-injection: enabled"),
        pod("old", "shop", "app: a", "docker.io/istio/proxyv2:1.23.2"),
        pod("new", "shop", "app: b", "docker.io/istio/proxyv2:1.24.0"),
        pod("pending", "shop", "app: c", "auto"),
        ns("canary", "istio.io/rev: canary"),
    ) + &pod("c1", "canary", "app: a", "example.com/proxy:2.0");
    let g = graph(&yaml);
    let s = g
        .stale_proxies(idx(&g, Kind::Namespace, "", "shop"))
        .expect("one stale pod");
    assert_eq!(s.image, "docker.io/istio/proxyv2:1.24.0");
    assert_eq!(s.pods.len(), 1);
    assert_eq!(g.resources[s.pods[0].pod].name(), "old");
    assert_eq!(s.pods[0].containers[0].0, "spec.containers[1].image");
    assert!(g
        .stale_proxies(idx(&g, Kind::Namespace, "", "canary"))
        .is_none());
}

#[test]
fn missing_proxy_needs_an_injected_namespace_and_no_opt_out() {
    let bare = |name: &str, extra: &str| {
        format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop{extra}}}\nspec:\n  containers: [{{name: app, image: app:1}}]\n")
    };
    let yaml = ns("shop", "istio-injection: enabled")
        + &bare("plain", "")
        + &bare("out", ", annotations: {sidecar.istio.io/inject: 'False'}")
        + &pod("in", "shop", "app: a", "docker.io/istio/proxyv2:1.24.0");
    // A pod manifest of a repository is injected when admitted: not judged.
    let g = graph(&yaml);
    assert_eq!(g.missing_proxy(idx(&g, Kind::Pod, "shop", "plain")), None);
    let g = closed(&yaml);
    let m = |n| g.missing_proxy(idx(&g, Kind::Pod, "shop", n));
    assert_eq!(m("plain"), Some(idx(&g, Kind::Namespace, "", "shop")));
    assert_eq!(m("out"), None);
    assert_eq!(m("in"), None);
}

const WEBHOOKS: &str = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: istio-sidecar-injector}
webhooks:
- name: namespace.sidecar-injector.istio.io
  clientConfig: {service: {name: istiod, namespace: istio-system}}
  namespaceSelector: {matchLabels: {istio-injection: enabled}}
- name: object.sidecar-injector.istio.io
  clientConfig: {service: {name: istiod, namespace: istio-system}}
  namespaceSelector:
    matchExpressions: [{key: istio-injection, operator: DoesNotExist}, {key: istio.io/rev, operator: DoesNotExist}]
  objectSelector: {matchLabels: {sidecar.istio.io/inject: "true"}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: istio-sidecar-injector-canary, labels: {istio.io/rev: canary}}
webhooks:
- name: rev.namespace.sidecar-injector.istio.io
  clientConfig: {service: {name: istiod-canary, namespace: istio-system}}
  namespaceSelector: {matchLabels: {istio.io/rev: canary}}
---
apiVersion: v1
kind: Service
metadata: {name: istiod, namespace: istio-system}
spec: {ports: [{port: 443}]}
"#;

#[test]
fn exclusive_webhooks_do_not_overlap() {
    let g = graph(WEBHOOKS);
    for name in ["istio-sidecar-injector", "istio-sidecar-injector-canary"] {
        let c = idx(&g, Kind::MutatingWebhookConfiguration, "", name);
        assert!(g.is_istio_webhook_configuration(c));
        assert!(g.webhook_overlaps(c).is_empty(), "{name}");
    }
}

#[test]
fn a_catch_all_webhook_overlaps_with_the_others() {
    let yaml = format!(
        "{WEBHOOKS}---\napiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {{name: stale}}\nwebhooks:\n- name: all.sidecar-injector.istio.io\n"
    );
    let g = graph(&yaml);
    let stale = idx(&g, Kind::MutatingWebhookConfiguration, "", "stale");
    let o = g.webhook_overlaps(stale);
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].name, "stale/all.sidecar-injector.istio.io");
    assert_eq!(o[0].others.len(), 3);
    // The first combination both match: a pod asking for injection, in an unlabelled
    // namespace.
    assert!(o[0].namespace_labels.is_empty());
    assert_eq!(o[0].pod_labels.get("sidecar.istio.io/inject"), Some("true"));
}

#[test]
fn copies_of_one_configuration_do_not_overlap_with_each_other() {
    // Two renders of one install in a folder (say a kind and a CI variant): one
    // MutatingWebhookConfiguration written twice, which the API server stores once.
    let config = "---\napiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {name: istio-sidecar-injector}\nwebhooks:\n- name: namespace.sidecar-injector.istio.io\n  namespaceSelector: {matchLabels: {istio-injection: enabled}}\n- name: object.sidecar-injector.istio.io\n  objectSelector: {matchLabels: {sidecar.istio.io/inject: 'true'}}\n  namespaceSelector: {matchExpressions: [{key: istio-injection, operator: DoesNotExist}]}\n";
    let g = graph(&format!("{config}{config}"));
    for c in g.of_kind(Kind::MutatingWebhookConfiguration).to_vec() {
        assert!(g.is_istio_webhook_configuration(c));
        assert!(
            g.webhook_overlaps(c).is_empty(),
            "{:?}",
            g.webhook_overlaps(c)
        );
    }
    // A copy still overlaps with a distinct configuration that matches the same pods.
    let stale = "---\napiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {name: stale}\nwebhooks:\n- name: all.sidecar-injector.istio.io\n";
    let g = graph(&format!("{config}{config}{stale}"));
    let first = g.of_kind(Kind::MutatingWebhookConfiguration)[0];
    assert!(!g.webhook_overlaps(first).is_empty());
}

#[test]
fn webhook_services_must_be_in_the_inputs() {
    let g = graph(WEBHOOKS);
    let canary = idx(
        &g,
        Kind::MutatingWebhookConfiguration,
        "",
        "istio-sidecar-injector-canary",
    );
    let m = g.missing_webhook_services(canary);
    assert_eq!(
        (m[0].namespace.as_str(), m[0].name.as_str()),
        ("istio-system", "istiod-canary")
    );
    let default = idx(
        &g,
        Kind::MutatingWebhookConfiguration,
        "",
        "istio-sidecar-injector",
    );
    assert!(g.missing_webhook_services(default).is_empty());
}

#[test]
fn auto_images_are_filled_in_only_where_a_webhook_matches() {
    let auto = |name: &str, ns: &str, labels: &str| {
        format!("---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, labels: {{{labels}}}}}\nspec:\n  containers: [{{name: app, image: app:1}}, {{name: istio-proxy, image: auto}}]\n")
    };
    let yaml = format!(
        "{WEBHOOKS}{}{}{}{}",
        ns("on", "istio-injection: enabled"),
        ns("off", ""),
        auto("a", "on", ""),
        auto("b", "off", "app: b")
    ) + &auto("c", "off", "sidecar.istio.io/inject: 'true'");
    let g = graph(&yaml);
    let u = |p, n| g.uninjected_auto_images(idx(&g, Kind::Pod, n, p));
    assert_eq!(u("a", "on"), None);
    let b = u("b", "off").expect("no webhook matches");
    assert_eq!(
        (b.containers.as_slice(), b.istio_webhooks),
        (&[1usize][..], 3)
    );
    assert_eq!(u("c", "off"), None);
}

fn closed(yaml: &str) -> MeshGraph {
    graph_of(yaml, MeshConfig::default(), true)
}

#[test]
fn policy_reach_finds_mesh_workloads() {
    let policy = |name: &str, ns: &str, selector: &str| {
        format!("---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{{selector}}}\n")
    };
    let yaml = ns("shop", "istio-injection: enabled")
        + &pod("api", "shop", "app: api", "docker.io/istio/proxyv2:1.24.0")
        + &policy("hit", "shop", "selector: {matchLabels: {app: api}}")
        + &policy(
            "miss",
            "shop",
            "selector: {matchLabels: {app: web, tier: a}}",
        )
        + &policy(
            "root",
            "istio-system",
            "selector: {matchLabels: {app: api}}",
        )
        + &policy("mesh-wide", "istio-system", "")
        + &policy("ref", "shop", "targetRefs: [{kind: Gateway, name: g}]");
    let g = closed(&yaml);
    let reach = |n, name| g.policy_reach(idx(&g, Kind::AuthorizationPolicy, n, name));
    assert_eq!(
        reach("shop", "hit").unwrap().workload,
        Some(idx(&g, Kind::Pod, "shop", "api"))
    );
    let miss = reach("shop", "miss").unwrap();
    assert_eq!(
        (miss.workload, miss.selector.as_slice()),
        (None, &["app=web".to_string(), "tier=a".to_string()][..])
    );
    // A root-namespace policy looks in every namespace.
    assert!(reach("istio-system", "root").unwrap().workload.is_some());
    assert!(reach("istio-system", "mesh-wide").is_none());
    assert!(reach("shop", "ref").is_none());
}

#[test]
fn source_namespaces_must_match_some_namespace() {
    let yaml = ns("frontend", "")
        + "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: frontend}\nspec:\n  rules:\n  - from:\n    - source: {namespaces: [front-end, 'front*', front-end]}\n    - source: {notNamespaces: ['*-test']}\n";
    let g = closed(&yaml);
    let u = g.unmatched_source_namespaces(idx(&g, Kind::AuthorizationPolicy, "frontend", "p"));
    let got: Vec<(&str, &str)> = u
        .iter()
        .map(|s| (s.namespace.as_str(), s.path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("front-end", "spec.rules[0].from[0].source.namespaces[0]"),
            ("*-test", "spec.rules[0].from[1].source.notNamespaces[0]")
        ]
    );
}

#[test]
fn claim_routes_need_a_request_authentication_on_the_gateway() {
    let yaml = r#"
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: edge}
spec: {selector: {istio: ingress}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]}
---
apiVersion: v1
kind: Pod
metadata: {name: ingress-1, namespace: edge, labels: {istio: ingress}}
spec: {containers: [{name: istio-proxy, image: proxy}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: edge}
spec:
  hosts: [api.example.com]
  gateways: [public, mesh]
  http:
  - match: [{headers: {"@request.auth.claims.group": {exact: admin}}}]
    route: [{destination: {host: api}}]
"#;
    let g = graph(yaml);
    let vs = idx(&g, Kind::VirtualService, "edge", "api");
    let gaps = g.claim_routes_without_authn(vs);
    assert_eq!(gaps.len(), 1);
    assert_eq!(
        gaps[0].path,
        "spec.http[0].match[0].headers[\"@request.auth.claims.group\"]"
    );
    assert_eq!(gaps[0].workload, idx(&g, Kind::Pod, "edge", "ingress-1"));
    let with_authn = format!(
        "{yaml}---\napiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {{name: jwt, namespace: istio-system}}\nspec: {{selector: {{matchLabels: {{istio: ingress}}}}}}\n"
    );
    let g = graph(&with_authn);
    assert!(g
        .claim_routes_without_authn(idx(&g, Kind::VirtualService, "edge", "api"))
        .is_empty());
}

#[test]
fn telemetries_compete_for_namespaces_and_workloads() {
    let t = |name: &str, spec: &str| {
        format!("---\napiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {{name: {name}, namespace: shop}}\nspec: {{{spec}}}\n")
    };
    let yaml = pod("r1", "shop", "app: ratings", "proxy")
        + &t("a", "tracing: []")
        + &t("b", "accessLogging: []")
        + &t("c", "selector: {matchLabels: {app: ratings}}")
        + &t("d", "selector: {matchLabels: {app: ratings}}")
        + &t("e", "targetRefs: [{kind: Gateway, name: g}]");
    let g = graph(&yaml);
    let c = |n| g.telemetry_conflicts(idx(&g, Kind::Telemetry, "shop", n));
    assert_eq!(
        c("a").namespace_wide,
        [idx(&g, Kind::Telemetry, "shop", "b")]
    );
    assert!(c("e").namespace_wide.is_empty() && c("e").shared.is_empty());
    let shared = c("c").shared;
    assert_eq!(
        shared,
        [(
            idx(&g, Kind::Pod, "shop", "r1"),
            vec![idx(&g, Kind::Telemetry, "shop", "d")]
        )]
    );
}

#[test]
fn one_port_two_protocols_across_services() {
    let svc = |name: &str, ports: &str| {
        format!("---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: shop}}\nspec: {{selector: {{app: dns}}, ports: [{ports}]}}\n")
    };
    let deploy = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: dns, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: dns}, annotations: {sidecar.istio.io/inject: 'true'}}\n    spec: {containers: [{name: dns, image: dns}]}\n";
    // One Service may serve 53 over TCP and UDP; two Services may not.
    let g = graph(&(deploy.to_string() + &svc("a", "{port: 53, protocol: UDP}, {port: 53}")));
    let d = idx(&g, Kind::Deployment, "shop", "dns");
    assert!(g.port_protocol_clashes(d).is_empty());
    let g = graph(
        &(deploy.to_string() + &svc("a", "{port: 53, protocol: UDP}") + &svc("b", "{port: 53}")),
    );
    let clash = g.port_protocol_clashes(idx(&g, Kind::Deployment, "shop", "dns"));
    assert_eq!(clash[0].port, 53);
    let protocols: Vec<&str> = clash[0].entries.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(protocols, ["UDP", "TCP"]);
}

#[test]
fn sni_hosts_must_be_within_hosts() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tls, namespace: edge}
spec:
  hosts: [api.example.com, "*.internal.example.com"]
  tls:
  - match: [{sniHosts: [api.example.com, a.internal.example.com, admin.example.com], port: 443}]
    route: [{destination: {host: api}}]
"#,
    );
    let out = g.sni_hosts_outside_hosts(idx(&g, Kind::VirtualService, "edge", "tls"));
    assert_eq!(
        out,
        [(
            "admin.example.com".to_string(),
            "spec.tls[0].match[0].sniHosts[2]".to_string()
        )]
    );
}

#[test]
fn unmatched_selectors_are_judged_where_workloads_are_known() {
    let t = |name: &str, ns: &str, labels: &str| {
        format!("---\napiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{selector: {{matchLabels: {{{labels}}}}}}}\n")
    };
    let yaml = ns("shop", "")
        + &pod("r1", "shop", "app: ratings", "proxy")
        + &t("hit", "shop", "app: ratings")
        + &t("miss", "shop", "version: v2, app: ratings")
        + &t("elsewhere", "empty", "app: x")
        // Workloads of a namespace whose Namespace another install creates (net-istio's
        // pods in Knative's namespace), and workloads without a namespace that may be
        // anyone's: neither is the whole list of the namespace's workloads.
        + &pod("controller", "shared", "app: net-controller", "proxy")
        + &t("for-other-install", "shared", "app: webhook")
        + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: sleep}\nspec: {containers: [{name: sleep, image: curl}]}\n"
        + &t("written-for-elsewhere", "tutorial", "app: webapp")
        // The installer's gateway pods exist in open world.
        + &ns("istio-system", "")
        + &pod("istiod", "istio-system", "app: istiod", "pilot")
        + &t("gateway-logs", "istio-system", "app: istio-ingressgateway");
    let g = graph(&yaml);
    let u = |n, name| g.unmatched_selector(idx(&g, Kind::Telemetry, n, name));
    assert_eq!(u("shop", "hit"), None);
    assert_eq!(
        u("shop", "miss"),
        Some(vec!["app=ratings".to_string(), "version=v2".to_string()])
    );
    // Nothing is known of the namespace's workloads: judged only in closed world.
    assert_eq!(u("empty", "elsewhere"), None);
    assert_eq!(u("shared", "for-other-install"), None);
    assert_eq!(u("tutorial", "written-for-elsewhere"), None);
    assert_eq!(u("istio-system", "gateway-logs"), None);
    let g = closed(&yaml);
    assert!(g
        .unmatched_selector(idx(&g, Kind::Telemetry, "empty", "elsewhere"))
        .is_some());
}

#[test]
fn selectors_picking_gateway_api_pods() {
    let yaml = pod(
        "gw-1",
        "edge",
        "gateway.networking.k8s.io/gateway-name: public, app: gw",
        "proxy",
    ) + &pod("gw-2", "edge", "gateway.networking.k8s.io/gateway-name: public, app: gw", "proxy")
        + "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: edge}\nspec: {selector: {matchLabels: {app: gw}}}\n";
    let g = graph(&yaml);
    let p = idx(&g, Kind::AuthorizationPolicy, "edge", "p");
    assert_eq!(g.gateway_api_pods_selected(p), ["public"]);
}

#[test]
fn gateway_routes_that_bypass_mesh_subsets() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ingress, namespace: shop}
spec:
  hosts: [shop.example.com]
  gateways: [edge/public]
  http:
  - route: [{destination: {host: reviews}}]
    mirror: {host: reviews}
  - route: [{destination: {host: reviews}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews, subset: v1}}]
"#,
    );
    let out = g.subset_bypasses(idx(&g, Kind::VirtualService, "shop", "ingress"));
    assert_eq!(
        out,
        [(
            "spec.http[0].route[0].destination".to_string(),
            "reviews".to_string(),
            idx(&g, Kind::VirtualService, "shop", "reviews")
        )]
    );
    // The mesh VirtualService itself is not bound to a gateway.
    assert!(g
        .subset_bypasses(idx(&g, Kind::VirtualService, "shop", "reviews"))
        .is_empty());
}
