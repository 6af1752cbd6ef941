//! Graph functions for rule files, and the values rules see of the model.
//!
//! A rule's CEL condition asks the mesh graph questions through these functions (host
//! resolution and targets, ports and protocols, workloads, PeerAuthentication and client
//! TLS precedence, DestinationRule lookup, Sidecar and `exportTo` visibility, gateways,
//! ServiceEntry addressing, TLS settings, and the `istioctl analyze` parity functions:
//! pods and their Services, Gateway conflicts and shared certificates, mesh host
//! conflicts, destination lookup through export scopes, subsets, Secrets, resources by
//! name, label selectors with expressions, embedded YAML/JSON). Each is documented in
//! `docs/rule-language.md`. Each module below answers one family of questions and lists
//! its functions in a `FUNCTIONS` table; [`graph_table`] joins them (the compiler checks
//! calls against [`GRAPH_FUNCTIONS`], their names and arities) and [`GraphHost`] answers
//! them. `values` holds what they share: argument readers and the value shapes of
//! references, resources, workloads and ports; `messages` holds the helpers that keep
//! rule messages short (plural, quoted names, display names, suggestions).
//!
//! Values borrow from the graph wherever a string lives there (kinds, names, labels,
//! typed fields, the resources' YAML trees); only what a query computes is copied.
//! A map key or field name here is part of the rule language: `rules/*.yaml` reads them.

use meshlint_cel::{error, EvalError, Host, Val};
use meshlint_graph::MeshGraph;
use std::cell::RefCell;
use std::sync::LazyLock;

type R<'g> = Result<Val<'g>, EvalError>;

/// One graph function: called with exactly its arity's arguments.
pub(crate) type GraphFn = for<'g> fn(&GraphHost<'g>, &[Val<'g>]) -> Result<Val<'g>, EvalError>;

/// Answers graph-function calls of one evaluation (one thread's share of a rule run).
pub struct GraphHost<'g> {
    pub g: &'g MeshGraph,
    /// The last answers of [`PER_RESOURCE`] functions, by (function, resource): the
    /// rules of one resource run one after the other, and several of them ask the same
    /// question of it (values are `Rc`-shared, so a hit copies nothing). A few are kept,
    /// not every answer of the evaluation.
    recent: RefCell<Vec<(usize, usize, Val<'g>)>>,
    proxies: std::cell::OnceCell<Val<'g>>,
}

impl<'g> GraphHost<'g> {
    pub fn new(g: &'g MeshGraph) -> Self {
        GraphHost {
            g,
            recent: RefCell::new(Vec::with_capacity(RECENT_ANSWERS)),
            proxies: std::cell::OnceCell::new(),
        }
    }
}

/// Graph functions whose answer depends only on the resource their one argument refers
/// to, and which several rules ask of the resource under evaluation: five annotation
/// rules ask `annotationIssues`, three ask `waypointBinding` or `namespaceInjection`,
/// two ask `peerTargets` or `tlsSettings`.
const PER_RESOURCE: &[&str] = &[
    "annotationIssues",
    "competingSidecars",
    "copiesOf",
    "namespaceInjection",
    "peerTargets",
    "protocolConflicts",
    "shadowedMatches",
    "tlsSettings",
    "tlsWithoutCaCertificates",
    "uninjectedAutoImages",
    "waypointBinding",
];

/// How many answers a [`GraphHost`] keeps: enough for the questions of one resource.
const RECENT_ANSWERS: usize = 8;

/// For each graph function (by index), whether it is one of [`PER_RESOURCE`].
fn per_resource() -> &'static [bool] {
    static FLAGS: LazyLock<Vec<bool>> = LazyLock::new(|| {
        graph_table()
            .iter()
            .map(|(name, _, _)| PER_RESOURCE.contains(name))
            .collect()
    });
    &FLAGS
}

impl<'g> Host<'g> for GraphHost<'g> {
    fn call(&self, function: usize, args: &[Val<'g>]) -> Result<Val<'g>, EvalError> {
        let Some(&(name, arity, f)) = graph_table().get(function) else {
            return error(format!("no graph function #{function}"));
        };
        if args.len() != arity {
            return error(format!(
                "`{name}` takes {arity} argument(s), {} given",
                args.len()
            ));
        }
        // The resource a reference names directly (`resource.ref`): what the answer of
        // a per-resource function depends on.
        let resource = per_resource()[function]
            .then(|| values::direct_index(self.g, &args[0]))
            .flatten();
        let Some(resource) = resource else {
            return f(self, args);
        };
        let known = self
            .recent
            .borrow()
            .iter()
            .find(|(f, r, _)| (*f, *r) == (function, resource))
            .map(|(_, _, v)| v.clone());
        if let Some(v) = known {
            return Ok(v);
        }
        let v = f(self, args)?;
        let mut recent = self.recent.borrow_mut();
        if recent.len() == RECENT_ANSWERS {
            recent.remove(0);
        }
        recent.push((function, resource, v.clone()));
        Ok(v)
    }
}

mod ambient;
pub(crate) mod dependencies;
mod gateway_api;
mod gateways;
mod hosts;
mod injection;
mod messages;
mod mtls;
mod parity;
mod policies;
mod policy_scope;
mod reference_answers;
mod resources;
mod routing;
mod tls_answers;
mod validation;
mod values;
mod visibility;
mod workloads;

/// One graph function: its name, arity and implementation.
pub(crate) type GraphEntry = (&'static str, usize, GraphFn);

/// The modules' function lists, in the order that gives each function its index. Names
/// and arities are the contract of `docs/rule-language.md`.
const MODULES: &[&[GraphEntry]] = &[
    hosts::FUNCTIONS,
    mtls::FUNCTIONS,
    policies::FUNCTIONS,
    visibility::FUNCTIONS,
    routing::FUNCTIONS,
    gateways::FUNCTIONS,
    workloads::FUNCTIONS,
    resources::FUNCTIONS,
    ambient::FUNCTIONS,
    gateway_api::FUNCTIONS,
    validation::FUNCTIONS,
    messages::FUNCTIONS,
    tls_answers::FUNCTIONS,
    reference_answers::FUNCTIONS,
    parity::FUNCTIONS,
    injection::FUNCTIONS,
    policy_scope::FUNCTIONS,
];

/// Every graph function; a function's index here is the one the compiler records.
pub(crate) fn graph_table() -> &'static [GraphEntry] {
    static TABLE: LazyLock<Vec<GraphEntry>> =
        LazyLock::new(|| MODULES.iter().flat_map(|m| m.iter().copied()).collect());
    &TABLE
}

/// Graph functions and their arities (what the compiler checks calls against), in
/// [`graph_table`]'s order.
pub static GRAPH_FUNCTIONS: LazyLock<Vec<(&'static str, usize)>> =
    LazyLock::new(|| graph_table().iter().map(|&(n, a, _)| (n, a)).collect());

pub use values::{mesh_value, read_ref, resource_value};

#[cfg(test)]
mod tests {
    use super::values::*;
    use super::*;
    use meshlint_load::{load_source, LoadLimits, Node, NodeValue};
    use meshlint_model::typed::Labels;
    use meshlint_model::{build_resources, MeshConfig};

    fn graph(yaml: &str) -> MeshGraph {
        let f = load_source(
            "t.yaml".into(),
            yaml.as_bytes().to_vec(),
            &LoadLimits::default(),
        );
        assert!(f.findings.is_empty(), "{:?}", f.findings);
        MeshGraph::new(build_resources(&f).resources, MeshConfig::default(), false)
    }

    fn call<'g>(h: &GraphHost<'g>, name: &str, args: &[Val<'g>]) -> R<'g> {
        let i = graph_table()
            .iter()
            .position(|(n, _, _)| *n == name)
            .unwrap_or_else(|| panic!("no graph function {name}"));
        h.call(i, args)
    }

    #[test]
    fn table_and_names_agree() {
        assert_eq!(graph_table().len(), GRAPH_FUNCTIONS.len());
        for ((n, a, _), (m, b)) in graph_table().iter().zip(GRAPH_FUNCTIONS.iter()) {
            assert_eq!((n, a), (m, b));
        }
        let mut names: Vec<_> = GRAPH_FUNCTIONS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            GRAPH_FUNCTIONS.len(),
            "duplicate graph function"
        );
    }

    #[test]
    fn per_resource_functions_take_one_reference() {
        for name in PER_RESOURCE {
            let arity = graph_table()
                .iter()
                .find(|(n, _, _)| n == name)
                .map(|e| e.1);
            assert_eq!(arity, Some(1), "{name}");
        }
    }

    #[test]
    fn arguments_are_checked() {
        let g = graph("");
        let h = GraphHost::new(&g);
        assert_eq!(
            call(&h, "resolveHost", &[Val::Int(1), Val::str("shop")]),
            Err(EvalError::Error(
                "`resolveHost` expects a string as argument 1, got int".into()
            ))
        );
        assert_eq!(
            call(&h, "portProtocol", &[Val::str("x"), Val::str("80")]),
            Err(EvalError::Error(
                "`portProtocol` expects an int as argument 2, got string".into()
            ))
        );
        assert_eq!(
            call(&h, "portProtocol", &[Val::str("x"), Val::UInt(80)]),
            Ok(Val::str(""))
        );
        assert!(call(&h, "hostExists", &[]).is_err());
        assert!(h.call(graph_table().len(), &[]).is_err());
        assert_eq!(
            call(&h, "resolveHost", &[Val::str("reviews"), Val::str("shop")]),
            Ok(Val::str("reviews.shop.svc.cluster.local"))
        );
    }

    #[test]
    fn references_round_trip() {
        let g =
            graph("apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: shop}\n");
        let h = GraphHost::new(&g);
        let r = ref_value(&g, 0, "spec.ports[0]");
        assert_eq!(read_ref(&r), Some((0, "spec.ports[0]".to_string())));
        let res = resource_value(&g, 0);
        assert_eq!(read_ref(&res), None);
        assert_eq!(
            read_ref(&res.field("ref").unwrap()),
            Some((0, "metadata.name".to_string()))
        );
        // A reference is read directly or under `ref`, and must be in the graph.
        assert_eq!(resource_index(&g, &res), Some(0));
        assert_eq!(direct_index(&g, &res), None);
        assert_eq!(ref_index(&ref_value(&g, 0, "")), Some(0));
        let stray = Val::map([("_r", Val::Int(7))]);
        assert_eq!(resource_index(&g, &stray), None);
        assert_eq!(
            call(&h, "refAt", &[res.clone(), Val::str("spec")]),
            Ok(Val::Null)
        );
        let at = call(&h, "refAt", &[r, Val::str("spec")]).unwrap();
        assert_eq!(read_ref(&at), Some((0, "spec".to_string())));
        assert_eq!(at.field("kind"), Some(Val::str("Service")));
    }

    #[test]
    fn selectors_read_maps_and_yaml() {
        let g = graph("");
        let h = GraphHost::new(&g);
        let doc = call(
            &h,
            "parseYaml",
            &[Val::str(
                "matchLabels: {app: reviews, n: 1}\nmatchExpressions:\n- {key: tier, operator: In, values: [a, b]}\n",
            )],
        )
        .unwrap();
        assert_eq!(
            labels_from(&doc.field("matchLabels").unwrap()),
            Labels::from([("app".to_string(), "reviews".to_string())])
        );
        let labels = Val::map([("app", Val::str("reviews")), ("tier", Val::str("a"))]);
        let yes = call(&h, "labelSelectorMatches", &[doc.clone(), labels]).unwrap();
        assert_eq!(yes, Val::Bool(true));
        let other = Val::map([("app", Val::str("reviews")), ("tier", Val::str("c"))]);
        let no = call(&h, "labelSelectorMatches", &[doc, other]).unwrap();
        assert_eq!(no, Val::Bool(false));
        assert!(label_selector_matches(&Val::Null, &Labels::new()));

        // The same selector read in place from a resource's tree.
        let g = graph(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {app: reviews, n: 1}\n",
        );
        let object = Val::from_node(&g.resources[0].node);
        assert_eq!(
            labels_from(&object.field("data").unwrap()),
            Labels::from([("app".to_string(), "reviews".to_string())])
        );
    }

    #[test]
    fn parse_yaml_copies_the_document() {
        let g = graph("");
        let h = GraphHost::new(&g);
        let v = call(
            &h,
            "parseYaml",
            &[Val::str("a: '1'\nb: [x, 2.5, null, 3, true]\n")],
        )
        .unwrap();
        assert!(matches!(v, Val::Map(_)));
        assert_eq!(v.field("a"), Some(Val::str("1")));
        assert_eq!(
            v.field("b"),
            Some(Val::list(vec![
                Val::str("x"),
                Val::Double(2.5),
                Val::Null,
                Val::Int(3),
                Val::Bool(true)
            ]))
        );
        assert_eq!(call(&h, "parseYaml", &[Val::str("a: [")]), Ok(Val::Null));
    }

    #[test]
    fn owned_value_keeps_the_last_of_repeated_keys() {
        let span = meshlint_diag::Span::point(1, 1);
        let scalar =
            |t: &str| Node::new(span, NodeValue::Scalar(meshlint_load::Scalar::new(t, true)));
        let key = |t: &str| meshlint_load::Key::new(span, t, true);
        let node = Node::new(
            span,
            NodeValue::Map(meshlint_load::List::new(vec![
                (key("a"), scalar("1")),
                (key("b"), scalar("x")),
                (key("a"), scalar("two")),
            ])),
        );
        let v = owned_value(&node);
        assert_eq!(v.container_len(), Some(2));
        assert_eq!(v.field("a"), Some(Val::str("two")));
        assert_eq!(v.field("a"), Val::from_node(&node).field("a"));
    }
}
