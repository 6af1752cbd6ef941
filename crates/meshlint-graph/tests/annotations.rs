//! Istio annotations judged against Istio's catalogue (issue 14, item 12).

mod common;

use common::{graph, idx};
use meshlint_graph::{annotation_catalogue, invalid_value, is_istio_annotation};
use meshlint_model::Kind;

fn issues(yaml: &str, kind: Kind, name: &str) -> Vec<(String, &'static str, String, String)> {
    let g = graph(yaml);
    g.annotation_issues(idx(&g, kind, "shop", name))
        .into_iter()
        .map(|x| (x.value, x.code, x.first, x.detail))
        .collect()
}

#[test]
fn the_catalogue_is_istios_list() {
    let c = annotation_catalogue();
    assert!(c.len() > 60);
    let inject = &c["sidecar.istio.io/inject"];
    assert!(inject.deprecated);
    assert_eq!(inject.resources, ["Pod"]);
    // An entry without a feature status is alpha, as in Istio's generated code.
    assert_eq!(
        c["traffic.sidecar.istio.io/includeInboundPorts"].status,
        "Alpha"
    );
    assert!(is_istio_annotation("foo.istio.io/x"));
    assert!(is_istio_annotation("kubernetes.io/ingress.class"));
    assert!(!is_istio_annotation("example.com/istio.io"));
}

#[test]
fn unknown_misplaced_deprecated_and_alpha_in_istioctls_order() {
    let yaml = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  annotations:
    sidecar.istio.io/statsInclusionPrefixes: x
    sidecar.istio.io/proxyCpu: "1"
    istio.io/rev: canary
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations:
        sidecar.istio.io/interceptionMode: redirect
    spec:
      initContainers: [{name: istio-init}]
      containers: [{name: web}]
"#;
    let got = issues(yaml, Kind::Deployment, "web");
    let s = |v: &str| v.to_string();
    assert_eq!(
        got,
        vec![
            (
                s("sidecar.istio.io/statsInclusionPrefixes"),
                "deprecated",
                s("Deployment"),
                s("")
            ),
            (
                s("sidecar.istio.io/statsInclusionPrefixes"),
                "alpha",
                s("Deployment"),
                s("")
            ),
            (
                s("sidecar.istio.io/statsInclusionPrefixes"),
                "misplaced",
                s("Deployment"),
                s("Pod")
            ),
            (
                s("sidecar.istio.io/proxyCpu"),
                "unknown",
                s("Deployment"),
                s("sidecar.istio.io/proxyCPU")
            ),
            // The pod template is judged as a Pod; with istio-init it does not use CNI.
            (
                s("sidecar.istio.io/interceptionMode"),
                "alpha",
                s("Pod"),
                s("")
            ),
            (
                s("sidecar.istio.io/interceptionMode"),
                "invalid",
                s("Pod"),
                s("the interception mode must be REDIRECT, TPROXY or NONE")
            ),
        ]
    );
}

#[test]
fn cni_pods_and_the_inject_label_excuse_what_is_set_on_purpose() {
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
  labels: {sidecar.istio.io/inject: "true"}
  annotations:
    sidecar.istio.io/inject: "true"
    sidecar.istio.io/interceptionMode: REDIRECT
spec:
  containers: [{name: web}]
"#;
    assert!(issues(yaml, Kind::Pod, "web").is_empty());
}

#[test]
fn values_the_injector_refuses() {
    let bad = [
        ("traffic.sidecar.istio.io/excludeOutboundPorts", "1;2"),
        ("traffic.sidecar.istio.io/excludeInboundPorts", "70000"),
        (
            "traffic.sidecar.istio.io/excludeOutboundIPRanges",
            "10.0.0.0/8, 10.1.0.0/16",
        ),
        (
            "traffic.sidecar.istio.io/includeOutboundIPRanges",
            "10.0.0.0/33",
        ),
        (
            "readiness.status.sidecar.istio.io/initialDelaySeconds",
            "bar",
        ),
        ("status.sidecar.istio.io/port", "-1"),
        ("prometheus.istio.io/merge-metrics", "yes"),
    ];
    for (name, value) in bad {
        assert!(invalid_value(name, value).is_some(), "{name}: {value}");
    }
    let good = [
        ("traffic.sidecar.istio.io/excludeOutboundPorts", " 1, 2 "),
        ("traffic.sidecar.istio.io/excludeOutboundPorts", ""),
        ("traffic.sidecar.istio.io/includeInboundPorts", "*"),
        ("traffic.sidecar.istio.io/includeOutboundIPRanges", "*"),
        (
            "traffic.sidecar.istio.io/excludeOutboundIPRanges",
            "10.0.0.0/8,fd00::/8",
        ),
        ("readiness.status.sidecar.istio.io/periodSeconds", "10"),
        ("prometheus.istio.io/merge-metrics", "False"),
        ("sidecar.istio.io/proxyCPU", "anything"),
    ];
    for (name, value) in good {
        assert_eq!(invalid_value(name, value), None, "{name}: {value}");
    }
}
