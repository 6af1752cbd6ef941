//! Queries that answer from indexes (issue 17) give the answers of a plain scan: each
//! is compared, on a mesh mixing the cases the indexes split (exact hosts, `*`,
//! `*.suffix` and other wildcards, `exportTo` lists, namespace-wide, root-namespace and
//! selector Sidecars), with a reference written as the scan it replaces.

mod common;

use common::*;
use meshlint_graph::{host_matches, MeshGraph};
use meshlint_model::{Kind, MeshConfig, Typed};

fn ns(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{istio-injection: enabled}}}}\n---\n"
    )
}

fn app(ns: &str, name: &str, labels: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{selector: {{app: {name}}}, ports: [{{name: http, port: 80}}]}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}{labels}}}}}\n    spec: {{containers: [{{name: main}}]}}\n---\n"
    )
}

fn sidecar(ns: &str, name: &str, selector: &str, hosts: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{selector}  egress: [{{hosts: [{hosts}]}}]\n---\n"
    )
}

fn entry(ns: &str, name: &str, hosts: &str, export: &str, extra: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  hosts: [{hosts}]\n{export}  ports: [{{number: 3306, name: tcp, protocol: TCP}}]\n  resolution: DNS\n{extra}---\n"
    )
}

fn rule(ns: &str, name: &str, host: &str, extra: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  host: \"{host}\"\n{extra}---\n"
    )
}

/// Namespaces `a`…`f` and the root namespace, each importing in its own way, with
/// entries, Services and DestinationRules of every host shape.
fn mesh() -> String {
    let mut y = String::new();
    for n in ["a", "b", "c", "d", "e", "f", "istio-system"] {
        y += &ns(n);
        y += &app(n, "web", ", tier: front");
        y += &app(n, "db", "");
    }
    y += &sidecar("a", "default", "", "\"./*\"");
    y += &sidecar("b", "default", "", "\"*/*.example.com\"");
    y += &sidecar("c", "default", "", "\"*/*ample.com\", \"a/*\"");
    y += &sidecar("d", "default", "", "\"e/api.example.com\", \"~/*\"");
    y += &sidecar("d", "later-default", "", "\"*/*\"");
    y += &sidecar(
        "d",
        "front",
        "  workloadSelector: {labels: {tier: front}}\n",
        "\"*/*\"",
    );
    y += &sidecar(
        "d",
        "front-too",
        "  workloadSelector: {labels: {app: web}}\n",
        "\"./*\"",
    );
    // `e` has no Sidecar of its own: the root namespace's default applies (`.` = e).
    y += &sidecar("istio-system", "default", "", "\"./*\", \"b/*\"");
    // `f` imports everything.
    y += &entry("a", "api", "api.example.com", "", "");
    y += &entry("e", "api", "api.example.com", "  exportTo: [\".\"]\n", "");
    y += &entry("b", "wild", "\"*.example.com\"", "  exportTo: [a, c]\n", "");
    y += &entry(
        "c",
        "shop",
        "shop.sample.com",
        "  exportTo: [\".\", d]\n",
        "",
    );
    y += &entry(
        "d",
        "mysql",
        "mysql.d.internal",
        "  exportTo: [\".\"]\n",
        "",
    );
    y += &entry(
        "e",
        "mysql",
        "mysql.e.internal",
        "  exportTo: [\".\", d]\n",
        "",
    );
    y += &entry("f", "mysql", "mysql.f.internal", "", "");
    y += &entry(
        "f",
        "mysql-addressed",
        "mysql2.f.internal",
        "",
        "  addresses: [10.0.0.1]\n",
    );
    y += &rule("a", "exact", "api.example.com", "");
    y += &rule("a", "wild", "*.example.com", "");
    y += &rule("a", "star", "*", "");
    y += &rule("a", "odd", "*ample.com", "");
    y += &rule("a", "exact-too", "api.example.com", "  exportTo: [b]\n");
    y += &rule(
        "a",
        "selected",
        "api.example.com",
        "  workloadSelector: {matchLabels: {app: web}}\n",
    );
    y += &rule("b", "short", "web", "");
    y += &rule("b", "other-ns", "db.a.svc.cluster.local", "");
    y += &rule("istio-system", "mesh-wide", "*.cluster.local", "");
    y += &rule("c", "wild-shop", "*.sample.com", "");
    y
}

const HOSTS: [&str; 10] = [
    "api.example.com",
    "other.example.com",
    "shop.sample.com",
    "web.a.svc.cluster.local",
    "db.a.svc.cluster.local",
    "web.b.svc.cluster.local",
    "db.e.svc.cluster.local",
    "missing.f.svc.cluster.local",
    "mysql.e.internal",
    "*.example.com",
];

/// The answer of `merged_destination_rule` by scanning every DestinationRule of each
/// namespace on the lookup path, as it did before its index.
fn merged_by_scan(g: &MeshGraph, client: &str, fqdn: &str) -> Option<Vec<usize>> {
    let root = g.mesh.root_namespace.clone();
    let mut order: Vec<String> = Vec::new();
    if client != root {
        order.push(client.to_string());
    }
    for t in g.host_targets(fqdn) {
        let n = g.resources[t.resource].namespace().to_string();
        if !order.contains(&n) {
            order.push(n);
        }
    }
    if !order.contains(&root) {
        order.push(root);
    }
    for n in order {
        let mut candidates: Vec<(String, usize, usize)> = Vec::new();
        for &d in g.in_namespace(&n, Kind::DestinationRule) {
            let Typed::DestinationRule(dr) = &g.resources[d].typed else {
                continue;
            };
            if dr.host.is_empty() || dr.workload_selector.is_some() {
                continue;
            }
            let allowed = g
                .export_scope_of(d)
                .is_none_or(|s| s.iter().any(|x| x == client));
            let host = g.resolve_host(&dr.host, &n);
            if !allowed || !host_matches(&host, fqdn) {
                continue;
            }
            let specificity = if host.starts_with('*') {
                host.len()
            } else {
                usize::MAX
            };
            candidates.push((host, specificity, d));
        }
        let Some(best) = candidates.iter().map(|c| c.1).max() else {
            continue;
        };
        let best_host = candidates.iter().find(|c| c.1 == best)?.0.clone();
        return Some(
            candidates
                .into_iter()
                .filter(|c| c.0 == best_host)
                .map(|c| c.2)
                .collect(),
        );
    }
    None
}

const NAMESPACES: [&str; 8] = ["a", "b", "c", "d", "e", "f", "istio-system", "none"];

#[test]
fn merged_destination_rules_match_a_scan() {
    let g = graph(&mesh());
    let mut found = 0;
    for client in NAMESPACES {
        for host in HOSTS {
            let indexed = g.merged_destination_rule(client, host).map(|m| m.members);
            assert_eq!(
                indexed,
                merged_by_scan(&g, client, host),
                "{client} -> {host}"
            );
            found += usize::from(indexed.is_some());
        }
    }
    assert!(found > 20, "the mesh exercises the lookup ({found})");
}

#[test]
fn hidden_from_all_clients_matches_a_walk_of_every_client() {
    let g = graph(&mesh());
    let kinds = [
        Kind::VirtualService,
        Kind::DestinationRule,
        Kind::ServiceEntry,
        Kind::Service,
    ];
    let mut hidden = 0;
    for r in 0..g.resources.len() {
        if !kinds.contains(&g.resources[r].kind) {
            continue;
        }
        let clients = g.client_namespaces(r);
        for host in HOSTS {
            let seen = clients
                .iter()
                .any(|n| g.host_visible(n, None, host).visible);
            let answer = g.hidden_from_all_clients(r, host);
            assert_eq!(
                answer.is_empty(),
                clients.is_empty() || seen,
                "{}/{} {host}",
                g.resources[r].namespace(),
                g.resources[r].name()
            );
            if !answer.is_empty() {
                let names: Vec<&str> = answer.iter().map(|(n, _)| n.as_str()).collect();
                assert_eq!(names, clients, "every client is listed when all are hidden");
                hidden += 1;
            }
        }
    }
    assert!(hidden > 5, "the mesh hides some hosts ({hidden})");
}

#[test]
fn sidecar_for_a_workload_matches_a_scan() {
    let g = graph(&mesh());
    for ns in NAMESPACES {
        for &w in g.of_kind(Kind::Deployment) {
            let labels = g.workload_labels(w);
            let by_selector = g
                .in_namespace(ns, Kind::Sidecar)
                .iter()
                .copied()
                .find(|&s| match &g.resources[s].typed {
                    Typed::Sidecar(sc) => sc.selector.as_ref().is_some_and(|sel| {
                        !sel.is_empty() && meshlint_graph::selector_matches(sel, labels)
                    }),
                    _ => false,
                });
            let default_in = |n: &str| {
                g.in_namespace(n, Kind::Sidecar).iter().copied().find(|&s| {
                    matches!(&g.resources[s].typed, Typed::Sidecar(sc) if sc.selector.as_ref().is_none_or(|x| x.is_empty()))
                })
            };
            let expected = by_selector
                .or_else(|| default_in(ns))
                .or_else(|| default_in("istio-system"));
            assert_eq!(g.sidecar_for(ns, Some(w)), expected, "{ns} {w}");
        }
        let expected = g
            .in_namespace(ns, Kind::Sidecar)
            .iter()
            .copied()
            .find(|&s| g.resources[s].name().contains("default"))
            .or_else(|| g.find(Kind::Sidecar, "istio-system", "default"));
        assert_eq!(g.sidecar_for(ns, None), expected, "{ns}");
    }
    // Two selector Sidecars pick the web workload of `d`: the first written wins.
    let web = idx(&g, Kind::Deployment, "d", "web");
    assert_eq!(
        g.sidecar_for("d", Some(web)),
        Some(idx(&g, Kind::Sidecar, "d", "front"))
    );
}

#[test]
fn unaddressed_tcp_claims_conflict_only_where_their_scopes_meet() {
    let g = graph(&mesh());
    let entries: Vec<usize> = g.of_kind(Kind::ServiceEntry).to_vec();
    let unaddressed = |e: usize| g.service_entry_addresses(e).is_empty();
    let meet = |a: &Option<Vec<String>>, b: &Option<Vec<String>>| match (a, b) {
        (None, None) => true,
        (None, Some(x)) | (Some(x), None) => !x.is_empty(),
        (Some(x), Some(y)) => x.iter().any(|n| y.contains(n)),
    };
    for &e in &entries {
        let expected: Vec<usize> = entries
            .iter()
            .copied()
            .filter(|&o| o != e && unaddressed(e) && unaddressed(o))
            .filter(|&o| meet(&g.export_scope_of(e), &g.export_scope_of(o)))
            .collect();
        let found: Vec<usize> = g
            .address_port_conflicts(e, 3306)
            .into_iter()
            .map(|(o, _)| o)
            .collect();
        assert_eq!(found, expected, "{}", g.resources[e].name());
    }
    // `d`'s entry, seen in `d` only, meets the `*`-exported entries and those of `c`
    // and `e` exported to `d`, not the one `e` keeps to itself.
    let d = idx(&g, Kind::ServiceEntry, "d", "mysql");
    let names: Vec<String> = g
        .address_port_conflicts(d, 3306)
        .into_iter()
        .map(|(o, _)| format!("{}/{}", g.resources[o].namespace(), g.resources[o].name()))
        .collect();
    assert_eq!(names, ["a/api", "c/shop", "e/mysql", "f/mysql"]);
    // Addresses allocated by the mesh: no entry without addresses conflicts.
    let mesh_config = MeshConfig {
        dns_auto_allocate: true,
        dns_capture: true,
        ..MeshConfig::default()
    };
    let allocated = graph_of(&mesh(), mesh_config, false);
    assert!(allocated.address_port_conflicts(d, 3306).is_empty());
}

/// `mesh()` under STRICT mTLS in `a`, `b` and the root namespace, with DestinationRules
/// setting TLS modes from client namespaces, host namespaces and the root namespace, some
/// exported to lists.
fn strict_mesh() -> String {
    let tls =
        |mode: &str, export: &str| format!("{export}  trafficPolicy:\n    tls: {{mode: {mode}}}\n");
    let mut y = mesh();
    y += &pa("a", "default", "STRICT");
    y += &pa("b", "default", "STRICT");
    y += &pa("istio-system", "default", "STRICT");
    y += &rule(
        "a",
        "web-mtls",
        "web.a.svc.cluster.local",
        &tls("ISTIO_MUTUAL", "  exportTo: [\".\", c]\n"),
    );
    y += &rule(
        "c",
        "to-b",
        "*.b.svc.cluster.local",
        &tls("ISTIO_MUTUAL", ""),
    );
    y += &rule(
        "d",
        "everything",
        "*",
        &tls("ISTIO_MUTUAL", "  exportTo: [\".\"]\n"),
    );
    y += &rule(
        "b",
        "db-b",
        "db.b.svc.cluster.local",
        &tls("DISABLE", "  exportTo: [e]\n"),
    );
    y += &rule(
        "b",
        "web-b",
        "web.b.svc.cluster.local",
        &tls("ISTIO_MUTUAL", ""),
    );
    y += &rule(
        "e",
        "web-b-plain",
        "web.b.svc.cluster.local",
        "  subsets: [{name: v1, labels: {version: v1}}]\n",
    );
    y += &rule(
        "istio-system",
        "mesh-wide",
        "*.svc.cluster.local",
        &tls("ISTIO_MUTUAL", "  exportTo: [f]\n"),
    );
    y
}

#[test]
fn clients_without_mtls_match_asking_every_client() {
    let config = MeshConfig {
        enable_auto_mtls: false,
        ..MeshConfig::default()
    };
    let g = graph_of(&strict_mesh(), config, false);
    let mut pairs = 0;
    for &pa in g.of_kind(Kind::PeerAuthentication) {
        let mut expected: Vec<(String, String)> = Vec::new();
        for p in g.strict_ports(pa) {
            for x in g.proxies_by_namespace().iter() {
                let tls = g.client_tls(&x.namespace, &p.host, Some(p.port), None);
                if tls.0.value == "UNSET" {
                    expected.push((x.namespace.clone(), p.address()));
                }
            }
        }
        let found: Vec<(String, String)> = g
            .clients_without_mtls(pa)
            .into_iter()
            .map(|c| (c.client, c.port.address()))
            .collect();
        assert_eq!(found, expected, "{}", g.resources[pa].namespace());
        pairs += found.len();
    }
    assert!(pairs > 10, "the mesh has clients without mTLS ({pairs})");
}

#[test]
fn strict_namespaces_without_client_mtls_match_a_scan_of_every_rule() {
    let config = MeshConfig {
        enable_auto_mtls: false,
        ..MeshConfig::default()
    };
    let (mut covered_cases, mut open_cases) = (0, 0);
    let extras = [
        ("", "SIMPLE"),
        ("*.a.svc.cluster.local", "SIMPLE"),
        ("*.a.svc.cluster.local", "UNSET"),
        ("*b.svc.cluster.local", "DISABLE"),
        ("*c.cluster.local", "SIMPLE"),
        ("*", "ISTIO_MUTUAL"),
        ("*.local", "MUTUAL"),
        ("web.a.svc.cluster.local", "SIMPLE"),
    ];
    for (extra, mode) in extras {
        let mut y = mesh();
        y += &pa("a", "default", "STRICT");
        y += &pa("b", "default", "STRICT");
        y += &pa("istio-system", "default", "STRICT");
        if !extra.is_empty() {
            y += &rule(
                "f",
                "extra",
                extra,
                &format!("  trafficPolicy:\n    tls: {{mode: {mode}}}\n"),
            );
        }
        let g = graph_of(&y, config.clone(), false);
        for &pa in g.of_kind(Kind::PeerAuthentication) {
            let ns = g.resources[pa].namespace();
            let services = if ns == "istio-system" {
                "*.svc.cluster.local".to_string()
            } else {
                format!("*.{ns}.svc.cluster.local")
            };
            let covered = g.of_kind(Kind::DestinationRule).iter().any(|&d| {
                let Typed::DestinationRule(dr) = &g.resources[d].typed else {
                    return false;
                };
                let host = g.resolve_host(&dr.host, g.resources[d].namespace());
                dr.traffic_policy
                    .tls
                    .as_ref()
                    .is_some_and(|t| t.mode != "UNSET")
                    && host.strip_prefix('*').is_some_and(|s| {
                        services.strip_prefix('*').unwrap_or(&services).ends_with(s)
                    })
            });
            assert_eq!(
                g.strict_without_client_mtls(pa).is_empty(),
                covered,
                "{extra}: {ns}"
            );
            if covered {
                covered_cases += 1;
            } else {
                open_cases += 1;
            }
        }
    }
    assert!(
        covered_cases > 3 && open_cases > 3,
        "{covered_cases} {open_cases}"
    );
}

#[test]
fn bypassed_ports_list_every_client_without_tls() {
    let mut y = strict_mesh();
    y += "apiVersion: v1\nkind: Service\nmetadata: {name: legacy, namespace: b}\nspec: {selector: {app: legacy}, ports: [{name: http, port: 80, targetPort: 8080}]}\n---\n";
    y += "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: legacy, namespace: b}\nspec:\n  selector: {matchLabels: {app: legacy}}\n  template:\n    metadata:\n      labels: {app: legacy}\n      annotations: {traffic.sidecar.istio.io/excludeInboundPorts: \"8080\"}\n    spec: {containers: [{name: main, ports: [{containerPort: 8080}]}]}\n---\n";
    y += &rule(
        "c",
        "legacy-tls",
        "legacy.b.svc.cluster.local",
        "  trafficPolicy:\n    tls: {mode: DISABLE}\n",
    );
    let g = graph(&y);
    let legacy = idx(&g, Kind::Deployment, "b", "legacy");
    let bypassed = g.auto_mtls_to_bypassed_ports(legacy);
    assert_eq!(bypassed.len(), 1);
    for b in &bypassed {
        let expected: Vec<String> = g
            .proxies_by_namespace()
            .iter()
            .map(|x| x.namespace.clone())
            .filter(|n| g.client_tls(n, &b.host, Some(b.port), None).0.value == "UNSET")
            .collect();
        assert_eq!(b.clients, expected);
        assert!(!b.clients.contains(&"c".to_string()), "{:?}", b.clients);
    }
}
