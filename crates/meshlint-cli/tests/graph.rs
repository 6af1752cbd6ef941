//! `meshlint graph`: DOT and JSON renderings of the resource graph, narrowed to a
//! namespace or a host.

mod common;
use common::*;
use std::collections::BTreeSet;

fn graph_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["graph", "--format", "json"];
    all.extend_from_slice(args);
    all.push(".");
    let r = run(&integration().join("repo"), &all);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

/// `Kind/name` of resources and the host names of a JSON graph.
fn labels(v: &serde_json::Value) -> BTreeSet<String> {
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| match n["type"].as_str().unwrap() {
            "resource" => format!(
                "{}/{}",
                n["kind"].as_str().unwrap(),
                n["name"].as_str().unwrap()
            ),
            "host" => n["host"].as_str().unwrap().to_string(),
            _ => format!("ns:{}", n["name"].as_str().unwrap()),
        })
        .collect()
}

fn relations(v: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    let nodes = v["nodes"].as_array().unwrap();
    let label = |i: &serde_json::Value| {
        let n = &nodes[i.as_u64().unwrap() as usize];
        assert_eq!(&n["id"], i, "ids are positions");
        match n["type"].as_str().unwrap() {
            "resource" => format!(
                "{}/{}",
                n["kind"].as_str().unwrap(),
                n["name"].as_str().unwrap()
            ),
            "host" => n["host"].as_str().unwrap().to_string(),
            _ => format!("ns:{}", n["name"].as_str().unwrap()),
        }
    };
    v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                label(&e["from"]),
                e["relation"].as_str().unwrap().to_string(),
                label(&e["to"]),
            )
        })
        .collect()
}

#[test]
fn json_graph_has_resources_hosts_and_relations() {
    let v = graph_json(&[]);
    assert_eq!(v["version"], 1);
    let rel = relations(&v);
    let web = "web.shop.svc.cluster.local".to_string();
    for (a, r, b) in [
        ("Service/web", "defines", web.as_str()),
        ("Service/web", "selects", "Deployment/web"),
        ("VirtualService/web", "routes_to", web.as_str()),
        ("VirtualService/web", "configures", web.as_str()),
        ("DestinationRule/web", "configures", web.as_str()),
        (
            "DestinationRule/ledger",
            "configures",
            "ledger.payments.svc.cluster.local",
        ),
        ("Service/web", "in_namespace", "ns:shop"),
    ] {
        assert!(
            rel.contains(&(a.into(), r.into(), b.into())),
            "{a} {r} {b} missing: {rel:?}"
        );
    }
    let vs = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "VirtualService" && n["name"] == "web")
        .unwrap();
    assert_eq!(vs["file"], "shop/routing.yaml");
    assert_eq!(vs["line"], 4);
    assert_eq!(vs["namespace"], "shop");
}

#[test]
fn narrowed_to_a_namespace_or_a_host() {
    let shop = labels(&graph_json(&["--namespace", "shop"]));
    assert!(
        shop.contains("VirtualService/web") && shop.contains("Deployment/web"),
        "{shop:?}"
    );
    assert!(shop.contains("web.shop.svc.cluster.local") && shop.contains("ns:shop"));
    assert!(
        !shop
            .iter()
            .any(|l| l.contains("payments") || l.contains("ledger")),
        "{shop:?}"
    );

    let payments = labels(&graph_json(&["--host", "payments"]));
    assert_eq!(
        payments,
        [
            "Service/payments",
            "VirtualService/payments",
            "payments.payments.svc.cluster.local"
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        "the host and what is one hop from it"
    );
    let fqdn = labels(&graph_json(&[
        "--host",
        "ledger.payments.svc.cluster.local",
    ]));
    assert_eq!(fqdn.len(), 2, "{fqdn:?}");

    let r = run(
        &integration().join("repo"),
        &["graph", "--namespace", "nope", "."],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("payments, shop"), "{}", r.stderr);
    let r = run(
        &integration().join("repo"),
        &["graph", "--host", "nope.example.com", "."],
    );
    assert_eq!(r.code, 2);
}

#[test]
fn dot_output_is_a_digraph_with_namespace_clusters() {
    let r = run(&integration().join("repo"), &["graph", "."]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dot = r.stdout;
    assert!(dot.starts_with("digraph meshlint {\n") && dot.trim_end().ends_with('}'));
    assert!(dot.contains("subgraph cluster_0 {") && dot.contains("label=\"namespace payments\""));
    assert!(dot.contains("label=\"namespace shop\""));
    assert!(dot.contains("[label=\"VirtualService\\nweb\""), "{dot}");
    assert!(dot.contains("[label=\"routes to\"]"));
    assert!(
        !dot.contains("in namespace"),
        "namespaces are clusters, not edges"
    );
    // Every edge joins declared nodes.
    let edges: Vec<&str> = dot.lines().filter(|l| l.contains("->")).collect();
    assert!(!edges.is_empty());
    for l in edges {
        let mut parts = l.trim().split(' ');
        let a = parts.next().unwrap();
        parts.next();
        let b = parts.next().unwrap();
        assert!(
            dot.contains(&format!("{a} [")) && dot.contains(&format!("{b} [")),
            "{l}"
        );
    }
    // Narrowing works for DOT too; the picture in docs/graph.md comes from `examples/`.
    let r = run(
        &workspace(),
        &["graph", "--namespace", "istio-system", "examples"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Gateway\\nbookinfo-gateway"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("Deployment\\nratings-v1"));
}
