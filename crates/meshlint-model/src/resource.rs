//! Documents → resources with identity, kind and typed view.

use crate::kinds::Kind;
use crate::typed::Typed;
use crate::{codes, schema};
use meshlint_diag::{Finding, Location, ResourceId, Severity, Span};
use meshlint_load::{LoadedFile, Node, NodeValue, PathSegment};
use std::sync::Arc;

/// One Kubernetes object found in the inputs.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Identity as written (namespace `None` when the YAML has none).
    pub id: ResourceId,
    pub kind: Kind,
    pub file: Arc<str>,
    /// 0-based document index within the file (a `u32`: it shares a word with `kind`;
    /// a file within the size limit cannot hold more documents).
    pub doc_index: u32,
    /// The object's tree. Secrets have `data`/`stringData` removed.
    pub node: Node,
    pub labels: crate::typed::Labels,
    pub annotations: crate::typed::Labels,
    pub typed: Typed,
    /// The namespace a namespaced object without `metadata.namespace` is applied to:
    /// the `-n/--namespace` of the run, else [`UNSET_NAMESPACE`]. One shared string per
    /// run, behind a thin pointer (8 bytes, where an `Arc<str>` takes 16, in every
    /// resource).
    pub implied_namespace: Arc<String>,
}

/// The namespace of namespaced objects that do not name one when the run does not say
/// which namespace they are applied to (`-n`). All such objects share it — they are
/// applied together — but it is no real namespace: nothing is `default` by guess.
pub const UNSET_NAMESPACE: &str = "<namespace>";

/// One shared copy of a string that many resources write alike (API versions, kinds,
/// and the typed views' [`crate::Text`]s: paths, names, modes), per loading thread: a
/// few thousand distinct values among hundreds of thousands. Hashed with foldhash, as a
/// dozen short texts of every resource pass here.
pub(crate) fn interned(text: &str) -> Arc<str> {
    type Seen = std::collections::HashSet<Arc<str>, foldhash::fast::RandomState>;
    thread_local! {
        static SEEN: std::cell::RefCell<Seen> = std::cell::RefCell::new(Seen::default());
    }
    SEEN.with(|seen| {
        let mut seen = seen.borrow_mut();
        if let Some(known) = seen.get(text) {
            return known.clone();
        }
        // Bounded: an input of only distinct kinds must not grow a table per thread
        // beyond what it would have copied anyway.
        let fresh: Arc<str> = text.into();
        if seen.len() < 4096 {
            seen.insert(fresh.clone());
        }
        fresh
    })
}

/// [`UNSET_NAMESPACE`] as every resource holds it until `-n` says otherwise: one
/// shared allocation, not one per resource.
pub(crate) fn unset_namespace() -> Arc<String> {
    static UNSET: std::sync::OnceLock<Arc<String>> = std::sync::OnceLock::new();
    UNSET
        .get_or_init(|| Arc::new(UNSET_NAMESPACE.to_string()))
        .clone()
}

impl Resource {
    /// The namespace the object lives in: as written, else the namespace it is applied
    /// to (`-n`), else [`UNSET_NAMESPACE`]; empty for cluster-scoped kinds.
    pub fn namespace(&self) -> &str {
        if self.kind.is_cluster_scoped() {
            return "";
        }
        self.id
            .namespace
            .as_deref()
            .unwrap_or(&self.implied_namespace)
    }

    /// Whether the namespace comes from neither the object nor `-n`.
    pub fn namespace_unset(&self) -> bool {
        self.namespace() == UNSET_NAMESPACE
    }

    pub fn name(&self) -> &str {
        &self.id.name
    }

    /// The API group: `apiVersion` before its `/`, empty for the core group. Read from
    /// the identity rather than kept beside it (two strings per resource).
    pub fn group(&self) -> &str {
        self.id.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// The API version: `apiVersion` after its `/`, or all of it for the core group.
    pub fn version(&self) -> &str {
        self.id
            .api_version
            .rsplit_once('/')
            .map_or(&self.id.api_version, |(_, v)| v)
    }

    /// Location of a field path (`spec.http[0].route`), falling back to the name.
    pub fn location_of(&self, path: &str) -> Location {
        self.location_at(PathSegment::parse_path(path).as_deref())
    }

    /// Location of an already parsed field path, falling back to the name.
    pub fn location_at(&self, path: Option<&[PathSegment]>) -> Location {
        let span = path
            .and_then(|p| self.node.span_of(p))
            .unwrap_or_else(|| self.name_span());
        Location {
            file: self.file.clone(),
            span,
        }
    }

    /// Whether a field path exists in this resource.
    pub fn has_path(&self, path: &str) -> bool {
        // Graph queries ask this of fixed dotted paths (`spec.mtls.mode`) for every
        // resource of a kind: those are walked without building a parsed path.
        if !path.contains('[') {
            let mut node = &self.node;
            for key in path.split('.').filter(|k| !k.is_empty()) {
                match node.get_entry(key) {
                    Some((_, value)) => node = value,
                    None => return false,
                }
            }
            return true;
        }
        PathSegment::parse_path(path).is_some_and(|p| self.node.lookup(&p).is_some())
    }

    pub fn name_span(&self) -> Span {
        self.node
            .get("metadata")
            .and_then(|m| m.get("name"))
            .map(|n| n.span())
            .unwrap_or_else(|| self.node.head_span())
    }

    pub fn name_location(&self) -> Location {
        Location {
            file: self.file.clone(),
            span: self.name_span(),
        }
    }

    pub fn spec(&self) -> Option<&Node> {
        self.node.get("spec")
    }
}

/// A document that is not a Kubernetes object (values file, kustomization, CI config).
#[derive(Debug, Clone)]
pub struct Skipped {
    pub file: Arc<str>,
    pub doc_index: usize,
    pub reason: &'static str,
}

/// The resources of one file plus what the model had to say about them.
#[derive(Debug, Default)]
pub struct ResourceSet {
    pub resources: Vec<Resource>,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
}

/// Builds the resources of one loaded file (documents, `List` items), validating Istio
/// kinds against their schemas. Clones the documents; see [`take_resources`].
pub fn build_resources(file: &LoadedFile) -> ResourceSet {
    build_from(
        &file.source.name,
        file.documents.clone(),
        schema::embedded(),
    )
}

/// Like [`build_resources`], validating against the schema of an Istio release line
/// (see [`schema::resolve_release`]).
pub fn build_resources_for(file: &LoadedFile, schema: &schema::Schema) -> ResourceSet {
    build_from(&file.source.name, file.documents.clone(), schema)
}

/// Like [`build_resources`], but moves the documents out of the file instead of
/// copying them (the pipeline's path: one tree per document, never two).
pub fn take_resources(file: &mut LoadedFile) -> ResourceSet {
    take_resources_for(file, schema::embedded())
}

/// [`take_resources`] against the schema of an Istio release line.
pub fn take_resources_for(file: &mut LoadedFile, schema: &schema::Schema) -> ResourceSet {
    let documents = std::mem::take(&mut file.documents);
    build_from(&file.source.name.clone(), documents, schema)
}

fn build_from(
    name: &Arc<str>,
    documents: Vec<meshlint_load::LoadedDocument>,
    schema: &schema::Schema,
) -> ResourceSet {
    let mut set = ResourceSet::default();
    for doc in documents {
        let mut root = doc.root;
        crate::secret::scrub_secret_copies(&mut root, &doc.aliases);
        if root.as_map().is_none() {
            set.skipped.push(Skipped {
                file: name.clone(),
                doc_index: doc.index,
                reason: "not a mapping",
            });
            continue;
        }
        let (Some(_), Some(kind)) = (root.str_at(&["apiVersion"]), root.str_at(&["kind"])) else {
            set.skipped.push(Skipped {
                file: name.clone(),
                doc_index: doc.index,
                reason: "no apiVersion/kind (not a Kubernetes object)",
            });
            continue;
        };
        if (kind == "List" || kind.ends_with("List")) && root.get("items").is_some() {
            let NodeValue::Map(entries) = root.value else {
                continue;
            };
            for (k, v) in entries {
                if k.as_str() != Some("items") {
                    continue;
                }
                if let NodeValue::Seq(items) = v.value {
                    for item in items {
                        if item.str_at(&["apiVersion"]).is_some()
                            && item.str_at(&["kind"]).is_some()
                        {
                            add_resource(&mut set, name, doc.index, item, schema);
                        }
                    }
                }
            }
            continue;
        }
        if let Some(reason) = not_an_api_object(&root) {
            set.skipped.push(Skipped {
                file: name.clone(),
                doc_index: doc.index,
                reason,
            });
            continue;
        }
        add_resource(&mut set, name, doc.index, root, schema);
    }
    set
}

/// Documents that carry `apiVersion` and `kind` but are read by a tool, never sent to
/// the API server: kustomize's own files, and configuration of other tools (kind, k3d,
/// skaffold, …) that has no `metadata` at all. The reason is listed under `--verbose`.
fn not_an_api_object(root: &Node) -> Option<&'static str> {
    let api_version = root.str_at(&["apiVersion"]).unwrap_or("");
    let kind = root.str_at(&["kind"]).unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    if group == "kustomize.config.k8s.io"
        || group == "config.kubernetes.io"
        || api_version == "builtin"
        || matches!(kind, "Kustomization" | "Component")
    {
        return Some("a kustomize file (read by kustomize, not an API object)");
    }
    let kind_known = Kind::classify(group, kind) != Kind::Other;
    if root.get("metadata").is_none() && !kind_known && !is_api_group(group) {
        return Some("a tool's configuration (apiVersion/kind but no metadata; not an API object)");
    }
    None
}

/// API groups of Kubernetes, Istio and the Gateway API: objects there are API objects
/// even when they are malformed (and then reported). The `*.sigs.k8s.io` groups of
/// Kubernetes' subprojects also name tools' configuration files (controller-runtime's
/// `ControllerManagerConfig`), so they are not among them.
fn is_api_group(group: &str) -> bool {
    group.is_empty()
        || (group.ends_with(".k8s.io") && !group.ends_with(".sigs.k8s.io"))
        || group.ends_with(".istio.io")
        || group == "apps"
        || group == "batch"
        || group == "policy"
        || group == "autoscaling"
}

fn add_resource(
    set: &mut ResourceSet,
    file: &Arc<str>,
    doc_index: usize,
    mut node: Node,
    schema: &schema::Schema,
) {
    let api_version = node.str_at(&["apiVersion"]).unwrap_or("").to_string();
    let kind_name = node.str_at(&["kind"]).unwrap_or("").to_string();
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = Kind::classify(group, &kind_name);
    let metadata = node.get("metadata");
    let name = metadata
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .map(str::to_string);
    let namespace = metadata
        .and_then(|m| m.get("namespace"))
        .and_then(Node::as_str)
        .map(str::to_string);
    // IstioOperator files are usually overlays for `istioctl install -f`, which needs
    // no name; the operator's own objects are rare and the name is its business.
    let name_optional = group == "install.istio.io";
    if name.is_none() && !name_optional && metadata.and_then(|m| m.get("generateName")).is_none() {
        set.findings.push(
            Finding::new(
                codes::INVALID_RESOURCE,
                Severity::Error,
                format!("{kind_name} has no metadata.name; Kubernetes will refuse it"),
                Location {
                    file: file.clone(),
                    span: metadata
                        .map(|m| m.head_span())
                        .unwrap_or_else(|| node.head_span()),
                },
            )
            .with_help("add `metadata.name`"),
        );
    }
    let secret = (kind == Kind::Secret).then(|| crate::secret::secret_facts(&node));
    // Whatever its API group: a `kind: Secret` under a mistyped apiVersion holds the same
    // values (found by fuzz_loader, seed 123).
    if kind == Kind::Secret || kind_name == "Secret" {
        if let NodeValue::Map(entries) = &mut node.value {
            entries.retain(|(k, _)| !matches!(k.as_str(), Some("data" | "stringData")));
        }
    }
    let id = ResourceId {
        api_version: interned(&api_version),
        kind: interned(&kind_name),
        namespace,
        name: name.unwrap_or_default(),
    };
    let labels = crate::typed::labels(node.get("metadata").and_then(|m| m.get("labels")));
    let annotations = crate::typed::labels(node.get("metadata").and_then(|m| m.get("annotations")));
    let mut resource = Resource {
        id,
        kind,
        file: file.clone(),
        doc_index: u32::try_from(doc_index).unwrap_or(u32::MAX),
        node,
        labels,
        annotations,
        typed: Typed::None,
        implied_namespace: unset_namespace(),
    };
    set.findings
        .extend(schema::validate_with(schema, &resource));
    let cleaned = crate::k8s::validate_and_clean(&mut resource);
    if !cleaned.is_empty() {
        // Labels and annotations as the cleaned tree has them.
        let meta = resource.node.get("metadata");
        resource.labels = crate::typed::labels(meta.and_then(|m| m.get("labels")));
        resource.annotations = crate::typed::labels(meta.and_then(|m| m.get("annotations")));
        set.findings.extend(cleaned);
    }
    resource.typed = match secret {
        Some(facts) => Typed::Secret(Box::new(facts)),
        None => Typed::extract(&resource),
    };
    set.resources.push(resource);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_views_cost_resources_without_one_little() {
        // The resource vector lives to the end of the run: one word or two for the view.
        assert!(
            std::mem::size_of::<Typed>() <= 24,
            "{}",
            std::mem::size_of::<Typed>()
        );
    }
    use meshlint_load::{load_source, LoadLimits};

    pub(crate) fn resources(text: &str) -> ResourceSet {
        let f = load_source(
            "t.yaml".into(),
            text.as_bytes().to_vec(),
            &LoadLimits::default(),
        );
        build_resources(&f)
    }

    #[test]
    fn has_path_walks_dotted_and_indexed_paths() {
        let set = resources(
            "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: a}\nspec:\n  mtls: {mode: STRICT}\n  portLevelMtls: {8080: {mode: DISABLE}}\n",
        );
        let r = &set.resources[0];
        assert!(r.has_path("spec.mtls.mode"));
        assert!(r.has_path("spec.mtls"));
        assert!(!r.has_path("spec.mtls.nothing"));
        assert!(!r.has_path("spec.mtls.mode.deeper"));
        assert!(r.has_path("spec.portLevelMtls.8080.mode"));
        assert!(r.has_path("spec.portLevelMtls[\"8080\"].mode"));
        assert!(!r.has_path("spec.portLevelMtls[0]"));
    }

    #[test]
    fn lists_values_files_and_unknown_kinds() {
        let set = resources(
            "replicaCount: 3\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a, namespace: x}\n---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: c\n  labels: {team: a}\n",
        );
        assert_eq!(set.skipped.len(), 1);
        assert_eq!(set.resources.len(), 2);
        assert_eq!(set.resources[0].kind, Kind::Service);
        assert_eq!(set.resources[0].namespace(), "x");
        assert_eq!(set.resources[1].kind, Kind::Other);
        assert_eq!(set.resources[1].namespace(), UNSET_NAMESPACE);
        assert_eq!(set.resources[1].id.namespace, None);
        assert_eq!(set.resources[1].labels.get("team"), Some("a"));
        assert!(set.findings.is_empty(), "{:?}", set.findings);
    }

    #[test]
    fn secrets_never_keep_data() {
        let set = resources(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\ndata:\n  tls.key: c2VjcmV0\n",
        );
        let s = &set.resources[0];
        assert!(s.node.get("data").is_none());
        assert_eq!(s.node.str_at(&["type"]), Some("kubernetes.io/tls"));
    }

    #[test]
    fn locations_follow_paths() {
        let set = resources(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n  - port: 80\n",
        );
        let r = &set.resources[0];
        assert_eq!(r.location_of("spec.ports[0].port").span.start.line, 7);
        assert_eq!(r.location_of("spec.nope").span.start.line, 4);
    }
}

#[cfg(test)]
mod size {
    /// Every input object is one `Resource`, kept to the end of the run: its size is
    /// paid tens of thousands of times on a large mesh.
    #[test]
    fn a_resource_stays_small() {
        // 80 identity, 16 file, 16 + 16 labels and annotations, 16 view, 8 implied
        // namespace, 8 kind and document index, and the tree's root node (20 bytes,
        // so 4 bytes of padding).
        let node = std::mem::size_of::<meshlint_load::Node>();
        assert_eq!(
            std::mem::size_of::<super::Resource>(),
            (160 + node).next_multiple_of(8)
        );
        assert_eq!(std::mem::size_of::<crate::typed::Typed>(), 16);
    }
}
