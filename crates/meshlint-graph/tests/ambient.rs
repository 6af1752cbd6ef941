//! Ambient mode: each workload's data plane and what decided it, the mTLS queries
//! toward ambient workloads, waypoint bindings, and what ztunnel makes of an
//! AuthorizationPolicy.

mod common;
use common::*;
use meshlint_graph::{DataPlane, MeshGraph};
use meshlint_model::Kind;

fn deployment(ns: &str, name: &str, labels: &str, annotations: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  template:\n    metadata: {{labels: {{app: {name}{labels}}}, annotations: {{{annotations}}}}}\n    spec:\n      containers: [{{name: app, ports: [{{containerPort: 9080}}]}}]\n"
    )
}

const NAMESPACES: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: amb, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Namespace
metadata: {name: both, labels: {istio.io/dataplane-mode: ambient, istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: plain}
---
apiVersion: v1
kind: Namespace
metadata: {name: injected, labels: {istio-injection: enabled}}
"#;

fn plane(g: &MeshGraph, ns: &str, name: &str) -> (DataPlane, String, Option<String>) {
    let d = g.data_plane(idx(g, Kind::Deployment, ns, name));
    (d.plane, d.by, d.source.map(|s| s.1))
}

#[test]
fn data_plane_precedence_and_what_decided_it() {
    let mut y = NAMESPACES.to_string();
    y += &deployment("amb", "ns-ambient", "", "");
    y += &deployment("amb", "opted-out", ", istio.io/dataplane-mode: none", "");
    y += &deployment("amb", "injected-pod", "", "sidecar.istio.io/inject: 'true'");
    y += &deployment("both", "sidecar-wins", "", "");
    y += &deployment(
        "both",
        "not-injected",
        "",
        "sidecar.istio.io/inject: 'false'",
    );
    y += &deployment(
        "plain",
        "pod-ambient",
        ", istio.io/dataplane-mode: ambient",
        "",
    );
    y += &deployment("plain", "outside", "", "");
    y += &deployment("plain", "revision", ", istio.io/rev: canary", "");
    y += &deployment(
        "injected",
        "pod-says-ambient",
        ", istio.io/dataplane-mode: ambient",
        "",
    );
    y += &deployment("elsewhere", "unknown-ns", "", "");
    let g = graph(&y);
    let label = "metadata.labels[\"istio.io/dataplane-mode\"]".to_string();
    let pod_label = "spec.template.metadata.labels[\"istio.io/dataplane-mode\"]".to_string();

    assert_eq!(
        plane(&g, "amb", "ns-ambient"),
        (
            DataPlane::Ambient,
            "namespace-ambient".into(),
            Some(label.clone())
        )
    );
    // The pod label beats the namespace's; `none` opts out.
    assert_eq!(
        plane(&g, "amb", "opted-out"),
        (
            DataPlane::OutOfMesh,
            "pod-none".into(),
            Some(pod_label.clone())
        )
    );
    assert_eq!(
        plane(&g, "plain", "pod-ambient"),
        (
            DataPlane::Ambient,
            "pod-ambient".into(),
            Some(pod_label.clone())
        )
    );
    // Injection wins over ambient, and says that ambient was asked for in vain.
    let w = idx(&g, Kind::Deployment, "both", "sidecar-wins");
    let d = g.data_plane(w);
    assert_eq!(
        (d.plane, d.by.as_str()),
        (DataPlane::Sidecar, "namespace-enabled")
    );
    assert_eq!(d.ambient_ignored.map(|s| s.1), Some(label.clone()));
    let d = g.data_plane(idx(&g, Kind::Deployment, "injected", "pod-says-ambient"));
    assert_eq!(d.plane, DataPlane::Sidecar);
    assert_eq!(d.ambient_ignored.map(|s| s.1), Some(pod_label.clone()));
    assert_eq!(plane(&g, "amb", "injected-pod").0, DataPlane::Sidecar);
    // Opting out of injection in a namespace that asks for both leaves ambient.
    assert_eq!(
        plane(&g, "both", "not-injected"),
        (DataPlane::Ambient, "namespace-ambient".into(), Some(label))
    );
    // `istio.io/rev` on the pod injects it (the revision webhook's object selector).
    assert_eq!(
        plane(&g, "plain", "revision"),
        (
            DataPlane::Sidecar,
            "pod-revision".into(),
            Some("spec.template.metadata.labels[\"istio.io/rev\"]".into())
        )
    );
    assert_eq!(plane(&g, "plain", "outside").0, DataPlane::OutOfMesh);
    assert_eq!(plane(&g, "plain", "outside").1, "namespace-unlabelled");
    let d = g.data_plane(idx(&g, Kind::Deployment, "elsewhere", "unknown-ns"));
    assert_eq!((d.plane, d.known), (DataPlane::OutOfMesh, false));
    assert!(g.namespace_ambient("amb") && !g.namespace_ambient("both"));
}

#[test]
fn host_network_pods_are_not_enrolled() {
    let y = NAMESPACES.to_string()
        + "---\napiVersion: v1\nkind: Pod\nmetadata: {name: node-agent, namespace: amb}\nspec:\n  hostNetwork: true\n  containers: [{name: app}]\n";
    let g = graph(&y);
    let d = g.data_plane(idx(&g, Kind::Pod, "amb", "node-agent"));
    assert_eq!(
        (d.plane, d.by.as_str()),
        (DataPlane::OutOfMesh, "host-network")
    );
    assert_eq!(d.source.map(|s| s.1), Some("spec.hostNetwork".into()));
}

#[test]
fn mesh_infrastructure() {
    let y = r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ztunnel, namespace: istio-system}
spec:
  template:
    metadata: {labels: {app: ztunnel, istio.io/dataplane-mode: none}}
    spec: {containers: [{name: istio-proxy}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: waypoint, namespace: amb}
spec:
  template:
    metadata: {labels: {gateway.networking.k8s.io/gateway-name: waypoint, gateway.istio.io/managed: istio.io-mesh-controller}}
    spec: {containers: [{name: app}]}
"#;
    let g = graph(y);
    let z = g.data_plane(idx(&g, Kind::DaemonSet, "istio-system", "ztunnel"));
    assert_eq!(
        (z.plane, z.by.as_str()),
        (DataPlane::Infrastructure, "control-plane")
    );
    let w = g.data_plane(idx(&g, Kind::Deployment, "amb", "waypoint"));
    assert_eq!(
        (w.plane, w.by.as_str()),
        (DataPlane::Infrastructure, "waypoint")
    );
}

const AMBIENT_STRICT: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: DISABLE}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  subsets:
  - name: plain
    labels: {app: reviews}
    trafficPolicy: {tls: {mode: SIMPLE}}
"#;

#[test]
fn mtls_queries_answer_for_ambient() {
    let y = AMBIENT_STRICT.to_string() + &deployment("shop", "reviews", "", "");
    let g = graph(&y);
    let dr = idx(&g, Kind::DestinationRule, "shop", "reviews");
    let settings = g.tls_settings(dr);
    let mutual = settings
        .iter()
        .find(|s| s.tls.mode == "ISTIO_MUTUAL")
        .unwrap();
    // HBONE replaces ISTIO_MUTUAL toward ambient endpoints: the block governs no workload.
    assert!(mutual.destinations[0].workloads.is_empty());
    assert_eq!(mutual.destinations[0].hbone.len(), 1);
    assert_eq!(mutual.destinations[0].hbone[0].enforced_by, "ztunnel");
    // SIMPLE is originated inside HBONE: the application still gets TLS.
    let simple = settings.iter().find(|s| s.tls.mode == "SIMPLE").unwrap();
    assert_eq!(simple.destinations[0].workloads.len(), 1);
    assert!(simple.destinations[0].hbone.is_empty());
    // The PeerAuthentication decides, ztunnel enforces (and ignores DISABLE).
    let pa = idx(&g, Kind::PeerAuthentication, "shop", "default");
    let t = g.peer_targets(pa);
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].peer.value.as_str(), t[0].captured, t[0].enforced_by),
        ("DISABLE", false, "ztunnel")
    );
}

const WAYPOINTS: &str = r#"
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
metadata: {name: ingress, namespace: shop}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: inherits, namespace: shop}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: opted-out, namespace: shop, labels: {istio.io/use-waypoint: none}}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: typo, namespace: shop, labels: {istio.io/use-waypoint: waypont}}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: ingress-named, namespace: shop, labels: {istio.io/use-waypoint: ingress}}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata:
  name: shared
  namespace: shop
  labels: {istio.io/use-waypoint: egress, istio.io/use-waypoint-namespace: common}
spec: {ports: [{port: 80}]}
"#;

#[test]
fn waypoint_bindings() {
    let g = graph(WAYPOINTS);
    let b = |name: &str| {
        g.waypoint_binding(idx(&g, Kind::Service, "shop", name))
            .unwrap()
    };
    let ns = g
        .waypoint_binding(g.namespace_resource("shop").unwrap())
        .unwrap();
    assert_eq!((ns.source, ns.outcome), ("object", "bound"));
    let x = b("inherits");
    assert_eq!(
        (x.source, x.outcome, x.name.as_str()),
        ("namespace", "bound", "waypoint")
    );
    assert_eq!(x.label.1, "metadata.labels[\"istio.io/use-waypoint\"]");
    assert_eq!(b("opted-out").outcome, "opted-out");
    assert_eq!(b("typo").outcome, "missing");
    // istiod's waypoint collection does not look at the class.
    assert_eq!(b("ingress-named").outcome, "bound");
    let s = b("shared");
    assert_eq!((s.namespace.as_str(), s.outcome), ("common", "missing"));
    assert!(s.namespace_label.is_some());
}

const POLICIES: &str = r#"
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-get, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  rules: [{to: [{operation: {methods: [GET]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-mixed, namespace: shop}
spec:
  rules:
  - from: [{source: {namespaces: [web]}}]
  - to: [{operation: {paths: ["/admin"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-path, namespace: shop}
spec:
  action: DENY
  rules: [{from: [{source: {namespaces: [web]}}], to: [{operation: {paths: ["/admin"]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-broad, namespace: shop}
spec:
  action: DENY
  rules: [{to: [{operation: {ports: ["9080"], methods: [POST]}}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext, namespace: shop}
spec:
  action: CUSTOM
  provider: {name: opa}
  rules: [{}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: l4, namespace: shop}
spec:
  rules: [{from: [{source: {principals: ["cluster.local/ns/web/sa/web"]}}], when: [{key: source.ip, values: [10.0.0.0/8]}]}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: waypoint-policy, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: reviews}]
  rules: [{to: [{operation: {methods: [GET]}}]}]
"#;

#[test]
fn what_ztunnel_makes_of_authorization_policies() {
    let y = WAYPOINTS.to_string() + "---" + POLICIES + &deployment("shop", "reviews", "", "");
    let g = graph(&y);
    let z = |name: &str| g.ztunnel_authz(idx(&g, Kind::AuthorizationPolicy, "shop", name));
    let a = z("allow-get").unwrap();
    assert_eq!(
        (a.outcome, a.l7[0].path.as_str()),
        ("admits-nothing", "spec.rules[0].to[0].operation.methods")
    );
    assert_eq!(z("allow-mixed").unwrap().outcome, "rules-dropped");
    // The rule's `to` clause keeps no condition: the whole rule never matches.
    assert_eq!(z("deny-path").unwrap().outcome, "no-op");
    assert_eq!(z("deny-broad").unwrap().outcome, "broader");
    assert_eq!(z("ext").unwrap().outcome, "unsupported-action");
    assert_eq!(z("l4").unwrap().outcome, "ok");
    // targetRefs: for the waypoint, never sent to ztunnel.
    assert_eq!(z("waypoint-policy"), None);
}

#[test]
fn ztunnel_policies_need_ambient_workloads() {
    let y = POLICIES.replace("namespace: shop", "namespace: injected")
        + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: injected, labels: {istio-injection: enabled}}\n"
        + &deployment("injected", "reviews", "", "");
    let g = graph(&y);
    let p = idx(&g, Kind::AuthorizationPolicy, "injected", "allow-get");
    assert_eq!(g.ztunnel_authz(p), None);
}

const BINDINGS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient, team: a}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: same-only, namespace: mesh-gw}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: team-a, namespace: mesh-gw, labels: {istio.io/waypoint-for: all}}
spec:
  gatewayClassName: istio-waypoint
  listeners:
  - name: mesh
    port: 15008
    protocol: HBONE
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {team: a}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: pods-only, namespace: shop, labels: {istio.io/waypoint-for: workload}}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: services, namespace: shop}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
---
apiVersion: v1
kind: Service
metadata: {name: denied, namespace: shop, labels: {istio.io/use-waypoint: same-only, istio.io/use-waypoint-namespace: mesh-gw}}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: selected, namespace: shop, labels: {istio.io/use-waypoint: team-a, istio.io/use-waypoint-namespace: mesh-gw}}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: wrong-type, namespace: shop, labels: {istio.io/use-waypoint: pods-only}}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pod-wrong-type, namespace: shop, labels: {istio.io/use-waypoint: services}}
spec: {containers: [{name: app}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pod-right-type, namespace: shop, labels: {istio.io/use-waypoint: pods-only}}
spec: {containers: [{name: app}]}
"#;

#[test]
fn waypoint_attachment_and_traffic_type() {
    let g = graph(BINDINGS);
    let b = |kind, name: &str| g.waypoint_binding(idx(&g, kind, "shop", name)).unwrap();
    let d = b(Kind::Service, "denied");
    assert_eq!(d.outcome, "attachment-denied");
    assert_eq!(
        d.attachment_source.map(|s| s.1),
        Some("spec.listeners[0]".into())
    );
    assert_eq!(b(Kind::Service, "selected").outcome, "bound");
    assert_eq!(b(Kind::Service, "selected").traffic_type, "all");
    let w = b(Kind::Service, "wrong-type");
    assert_eq!(
        (w.outcome, w.traffic_type.as_str()),
        ("unsupported-traffic-type", "workload")
    );
    // The default traffic type is `service`: a pod's own label may not use it.
    let p = b(Kind::Pod, "pod-wrong-type");
    assert_eq!(
        (p.outcome, p.traffic_type.as_str()),
        ("unsupported-traffic-type", "service")
    );
    assert_eq!(b(Kind::Pod, "pod-right-type").outcome, "bound");
}

#[test]
fn where_istiod_refuses_a_binding() {
    // Namespace `east` binds to a waypoint that admits only its own namespace: istiod
    // refuses each of its Services, while its pods' inherited binding is simply unused.
    let g = graph(&format!(
        "{BINDINGS}---
apiVersion: v1
kind: Namespace
metadata: {{name: east, labels: {{istio.io/use-waypoint: same-only, istio.io/use-waypoint-namespace: mesh-gw}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: api, namespace: east}}
spec: {{ports: [{{port: 80}}]}}
---
apiVersion: v1
kind: Pod
metadata: {{name: api, namespace: east}}
spec: {{containers: [{{name: app}}]}}
"
    ));
    let b = |kind, ns: &str, name: &str| g.waypoint_binding(idx(&g, kind, ns, name)).unwrap();
    let ns = g
        .waypoint_binding(g.namespace_resource("east").unwrap())
        .unwrap();
    assert!(ns.refused);
    let svc = b(Kind::Service, "east", "api");
    assert_eq!(
        (svc.source, svc.outcome, svc.refused),
        ("namespace", "attachment-denied", true)
    );
    assert_eq!(svc.refused_by, svc.attachment_source);
    let pod = b(Kind::Pod, "east", "api");
    assert_eq!((pod.outcome, pod.refused), ("attachment-denied", false));
    // A traffic-type refusal names the label that set the type (none for the default).
    let w = b(Kind::Service, "shop", "wrong-type");
    assert!(w.refused && w.refused_by == w.traffic_type_source && w.refused_by.is_some());
    let p = b(Kind::Pod, "shop", "pod-wrong-type");
    assert!(p.refused && p.refused_by.is_none());
    assert!(!b(Kind::Service, "shop", "selected").refused);
}

#[test]
fn waypoint_listeners_istiod_flags() {
    let g = graph(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: good, namespace: shop}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: extra, namespace: shop}
spec:
  gatewayClassName: istio-waypoint
  listeners:
  - {name: mesh, port: 15008, protocol: HBONE}
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: wrong, namespace: shop}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: TCP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bare, namespace: shop}
spec: {gatewayClassName: istio-waypoint}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ingress, namespace: shop}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
"#,
    );
    let issues = |name: &str| {
        g.waypoint_listener_issues(idx(&g, Kind::K8sGateway, "shop", name))
            .into_iter()
            .map(|x| (x.path, x.no_hbone))
            .collect::<Vec<_>>()
    };
    assert!(issues("good").is_empty());
    assert!(issues("ingress").is_empty(), "only waypoints are judged");
    assert_eq!(issues("extra"), vec![("spec.listeners[1]".into(), false)]);
    assert_eq!(issues("wrong"), vec![("spec.listeners[0]".into(), true)]);
    assert_eq!(issues("bare"), vec![("spec.gatewayClassName".into(), true)]);
}

#[test]
fn disable_changes_nothing_toward_ambient_endpoints() {
    // One DISABLE block toward an ambient Deployment (HBONE wins), one toward a sidecar
    // namespace (the block governs it, so it is not listed).
    let g = graph(
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: shop}
spec:
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: app, image: reviews, ports: [{containerPort: 9080}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: ledger, namespace: legacy}
spec: {selector: {app: ledger}, ports: [{name: http, port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ledger, namespace: legacy}
spec:
  template:
    metadata: {labels: {app: ledger}}
    spec: {containers: [{name: app, image: ledger, ports: [{containerPort: 80}]}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  trafficPolicy: {tls: {mode: DISABLE}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ledger, namespace: legacy}
spec:
  host: ledger
  trafficPolicy: {tls: {mode: DISABLE}}
"#,
    );
    let reviews = g.disable_toward_ambient(idx(&g, Kind::DestinationRule, "shop", "reviews"));
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].path, "spec.trafficPolicy.tls");
    assert_eq!(
        reviews[0].targets,
        vec!["reviews.shop.svc.cluster.local:9080"]
    );
    let names: Vec<&str> = reviews[0]
        .workloads
        .iter()
        .map(|&w| g.resources[w].name())
        .collect();
    assert_eq!(names, vec!["reviews"]);
    assert!(g
        .disable_toward_ambient(idx(&g, Kind::DestinationRule, "legacy", "ledger"))
        .is_empty());
}

#[test]
fn ambient_asked_for_where_injection_wins() {
    let g = graph(
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: both, labels: {istio.io/dataplane-mode: ambient, istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Pod
metadata: {name: asks, namespace: shop, labels: {istio.io/dataplane-mode: ambient}}
spec: {containers: [{name: app}]}
---
apiVersion: v1
kind: Pod
metadata: {name: inherits, namespace: both}
spec: {containers: [{name: app}]}
"#,
    );
    let ns = g
        .ambient_overridden(g.namespace_resource("both").unwrap())
        .unwrap();
    assert!(!ns.pod);
    assert_eq!(
        ns.ambient_label.1,
        "metadata.labels[\"istio.io/dataplane-mode\"]"
    );
    assert_eq!(
        ns.injection.map(|x| x.1),
        Some("metadata.labels[\"istio-injection\"]".into())
    );
    let pod = g
        .ambient_overridden(idx(&g, Kind::Pod, "shop", "asks"))
        .unwrap();
    assert!(pod.pod);
    assert_eq!(pod.ambient_label.0, idx(&g, Kind::Pod, "shop", "asks"));
    // The namespace's label is reported on the Namespace, not on each pod.
    assert!(g
        .ambient_overridden(idx(&g, Kind::Pod, "both", "inherits"))
        .is_none());
    assert!(g
        .ambient_overridden(g.namespace_resource("shop").unwrap())
        .is_none());
}

#[test]
fn mesh_route_parents_without_a_waypoint() {
    let g = graph(
        r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop, labels: {istio.io/use-waypoint: none}}
spec: {selector: {app: ratings}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: details, namespace: shop, labels: {istio.io/use-waypoint: waypoint}}
spec: {selector: {app: details}, ports: [{name: http, port: 9080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: shop}
spec:
  parentRefs:
  - {group: "", kind: Service, name: reviews, port: 9080}
  - {group: "", kind: Service, name: ratings}
  - {group: "", kind: Service, name: details}
  - {group: "", kind: Service, name: missing}
  rules: [{backendRefs: [{name: reviews, port: 9080}]}]
"#,
    );
    let parents = g.parents_without_waypoint(idx(&g, Kind::HTTPRoute, "shop", "reviews"));
    let names: Vec<&str> = parents.iter().map(|p| p.name.as_str()).collect();
    // `details` has a waypoint (even one missing from the inputs: ML5004's case), and a
    // Service not in the inputs is not judged.
    assert_eq!(names, vec!["reviews", "ratings"]);
    assert_eq!(parents[0].path, "spec.parentRefs[0]");
}
