//! Field schemas of Istio kinds, one per release line, generated from Istio's own CRDs
//! (`schema/istio-<line>.schema`, written by `crdgen` through the `gen-schema` binary;
//! format in `schema/README.md`). A resource's `spec` is checked against the schema of
//! the target release: unknown fields (warning), wrong types, enum values and the CRDs'
//! structural constraints (errors, as the API server refuses them). A field, enum value,
//! kind or API version the target lacks but another release has is reported with the
//! release that has it.

use crate::codes;
use crate::resource::Resource;
use meshlint_diag::{Finding, Location, Severity, Span};
use meshlint_load::Scalar;
use meshlint_load::{Node, NodeValue};
use serde::Deserialize;
use std::cmp::Ordering;
use std::sync::OnceLock;

/// The release line checked when none is given.
pub const DEFAULT_RELEASE: &str = "1.30";

const RELEASE_COUNT: usize = 10;

/// The embedded schemas, oldest release line first: (line, compact text).
pub const RELEASES: [(&str, &str); RELEASE_COUNT] = [
    ("1.22", include_str!("../schema/istio-1.22.schema")),
    ("1.23", include_str!("../schema/istio-1.23.schema")),
    ("1.24", include_str!("../schema/istio-1.24.schema")),
    ("1.25", include_str!("../schema/istio-1.25.schema")),
    ("1.26", include_str!("../schema/istio-1.26.schema")),
    ("1.27", include_str!("../schema/istio-1.27.schema")),
    ("1.28", include_str!("../schema/istio-1.28.schema")),
    ("1.29", include_str!("../schema/istio-1.29.schema")),
    ("1.30", include_str!("../schema/istio-1.30.schema")),
    ("1.31-dev", include_str!("../schema/istio-1.31-dev.schema")),
];

/// `(major, minor, is_dev)` of a release line such as `1.29` or `1.31-dev`.
fn line_key(line: &str) -> (u32, u32, bool) {
    let (num, dev) = match line.strip_suffix("-dev") {
        Some(n) => (n, true),
        None => (line, false),
    };
    let mut parts = num.split('.');
    let major = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (major, minor, dev)
}

/// Orders release lines (`1.9` < `1.22` < `1.31-dev`).
pub fn compare_lines(a: &str, b: &str) -> Ordering {
    line_key(a).cmp(&line_key(b))
}

/// The release line meshlint checks for a version as a user writes it (`1.29`,
/// `1.29.3`, `v1.29`, `1.31` for the `1.31-dev` line). `None` for the default.
pub fn resolve_release(version: Option<&str>) -> Result<&'static str, String> {
    let Some(v) = version else {
        return Ok(DEFAULT_RELEASE);
    };
    let v = v.trim().trim_start_matches('v');
    let mut parts = v.split(['.', '-']);
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    if let (Some(major), Some(minor)) = (major, minor) {
        for (line, _) in RELEASES {
            let (ma, mi, _) = line_key(line);
            if (ma, mi) == (major, minor) {
                return Ok(line);
            }
        }
    }
    Err(format!(
        "meshlint has the schemas of Istio {} to {}, not of `{v}`",
        RELEASES[0].0,
        RELEASES[RELEASE_COUNT - 1].0
    ))
}

/// The JSON type of a schema node (`type`, or int-or-string, or anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Object,
    Str,
    Int,
    Number,
    Bool,
    Array,
    IntOrString,
    Any,
}

/// One `x-kubernetes-validations` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    pub rule: String,
    pub message: Option<String>,
    pub message_expression: Option<String>,
    pub reason: Option<String>,
    pub field_path: Option<String>,
}

/// A schema node's constraints, as the generator writes them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Attrs {
    pub req: Vec<String>,
    #[serde(rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub excl_min: bool,
    pub excl_max: bool,
    pub min_len: Option<u64>,
    pub max_len: Option<u64>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub min_props: Option<u64>,
    pub max_props: Option<u64>,
    pub pattern: Option<String>,
    pub format: Option<String>,
    pub list_type: Option<String>,
    pub list_keys: Vec<String>,
    pub nullable: bool,
    pub preserve: bool,
    pub one_of: Vec<Vec<String>>,
    pub rules: Vec<Rule>,
}

/// A node of a kind's schema tree. An embedded release's nodes are parsed lazily: a
/// node keeps the text of its constraints and of its subtree, and parses them when they
/// are first asked for, so validating a resource parses only the fields it has (and
/// their siblings), not the whole kind (DestinationRule alone is 350 lines).
#[derive(Debug)]
pub struct SNode {
    pub ty: Ty,
    /// The constraints' JSON, when not parsed yet ("" for none).
    attrs_text: &'static str,
    attrs: OnceLock<Attrs>,
    /// The lines of the subtree below this node, when its children are not parsed yet.
    body: &'static str,
    children: OnceLock<Children>,
}

/// A schema node's children.
#[derive(Debug, Default)]
struct Children {
    /// Named properties, in schema order.
    props: Vec<(String, SNode)>,
    /// `items` of an array.
    items: Option<Box<SNode>>,
    /// `additionalProperties` of a map.
    values: Option<Box<SNode>>,
}

/// Constraints of a node that has none.
static NO_ATTRS: Attrs = Attrs {
    req: Vec::new(),
    enum_values: None,
    min: None,
    max: None,
    excl_min: false,
    excl_max: false,
    min_len: None,
    max_len: None,
    min_items: None,
    max_items: None,
    min_props: None,
    max_props: None,
    pattern: None,
    format: None,
    list_type: None,
    list_keys: Vec::new(),
    nullable: false,
    preserve: false,
    one_of: Vec::new(),
    rules: Vec::new(),
};

/// One line of the schema tree: `<indent><name> <type>[ <constraints JSON>]`, as its
/// depth, name, type and JSON text; `None` for a line that is not one.
fn node_line(l: &str) -> Option<(usize, &str, Option<Ty>, Option<&str>)> {
    let depth = l.len() - l.trim_start_matches(' ').len();
    let mut parts = l[depth..].splitn(3, ' ');
    let name = parts.next()?;
    let ty = match parts.next() {
        Some("o") => Some(Ty::Object),
        Some("s") => Some(Ty::Str),
        Some("i") => Some(Ty::Int),
        Some("n") => Some(Ty::Number),
        Some("b") => Some(Ty::Bool),
        Some("a") => Some(Ty::Array),
        Some("x") => Some(Ty::IntOrString),
        Some("*") => Some(Ty::Any),
        _ => None,
    };
    Some((depth, name, ty, parts.next()))
}

impl SNode {
    /// A node parsed whole.
    #[cfg(test)]
    fn parsed(ty: Ty, attrs: Attrs) -> SNode {
        SNode {
            ty,
            attrs_text: "",
            attrs: OnceLock::from(attrs),
            body: "",
            children: OnceLock::from(Children::default()),
        }
    }

    /// A node of an embedded text, its constraints and subtree parsed on first use.
    fn lazy(ty: Ty, attrs_text: &'static str, body: &'static str) -> SNode {
        SNode {
            ty,
            attrs_text,
            attrs: OnceLock::new(),
            body,
            children: OnceLock::new(),
        }
    }

    #[cfg(test)]
    fn children_mut(&mut self) -> &mut Children {
        self.children.get_or_init(Children::default);
        self.children.get_mut().expect("just set")
    }

    /// The node's constraints. Those of an embedded text that do not parse (the tests
    /// parse every embedded text whole) count as none.
    pub fn attrs(&self) -> &Attrs {
        if self.attrs_text.is_empty() && self.attrs.get().is_none() {
            return &NO_ATTRS;
        }
        self.attrs
            .get_or_init(|| serde_json::from_str(self.attrs_text).unwrap_or_default())
    }

    fn children(&self) -> &Children {
        self.children.get_or_init(|| lazy_children(self.body))
    }

    /// Named properties, in schema order.
    pub fn props(&self) -> &[(String, SNode)] {
        &self.children().props
    }

    /// `items` of an array.
    pub fn items(&self) -> Option<&SNode> {
        self.children().items.as_deref()
    }

    /// `additionalProperties` of a map.
    pub fn values(&self) -> Option<&SNode> {
        self.children().values.as_deref()
    }

    pub fn prop(&self, name: &str) -> Option<&SNode> {
        self.props().iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    fn count(&self) -> usize {
        1 + self.props().iter().map(|(_, s)| s.count()).sum::<usize>()
            + self.items().map_or(0, |s| s.count())
            + self.values().map_or(0, |s| s.count())
    }
}

/// The children of a lazily parsed node, from the lines of its subtree: its first line
/// is a child, and so is every later line as shallow; the deeper lines after a child
/// are that child's subtree.
fn lazy_children(body: &'static str) -> Children {
    let mut children = Children::default();
    let mut push = |name: &str, node: SNode| match name {
        "[]" => children.items = Some(Box::new(node)),
        "{}" => children.values = Some(Box::new(node)),
        _ => children.props.push((name.to_string(), node)),
    };
    // The child being read: name, type, constraints, where its subtree starts.
    let mut open: Option<(&'static str, Ty, &'static str, usize)> = None;
    let mut top = None;
    let bytes = body.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let next = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |i| at + i + 1);
        // Only the children's own lines are parsed; deeper lines are skipped by their
        // indentation (this walks a subtree once per level above it, not per node).
        let depth = bytes[at..next].iter().take_while(|&&b| b == b' ').count();
        if depth > 0 && *top.get_or_insert(depth) == depth {
            if let Some((_, name, Some(ty), json)) =
                node_line(body[at..next].trim_end_matches(['\n', '\r']))
            {
                if let Some((name, ty, json, start)) = open.take() {
                    push(name, SNode::lazy(ty, json, &body[start..at]));
                }
                open = Some((name, ty, json.unwrap_or(""), next));
            }
        }
        at = next;
    }
    if let Some((name, ty, json, start)) = open {
        push(name, SNode::lazy(ty, json, &body[start..]));
    }
    children
}

/// The header of a kind's section after `kind `: `<group> <Kind> <version,version…>`.
fn kind_header(rest: &str) -> Result<(String, String, Vec<String>), &'static str> {
    let mut parts = rest.split(' ');
    let group = parts.next().ok_or("no group")?;
    let kind = parts.next().ok_or("no kind")?;
    let versions = parts
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect();
    Ok((group.to_string(), kind.to_string(), versions))
}

/// A kind's section of an embedded text (`kind <group> <Kind> <versions>` and its tree),
/// its tree left to parse on first use.
fn lazy_kind(section: &'static str) -> Option<KindSchema> {
    let (header, tree) = section.split_once('\n').unwrap_or((section, ""));
    let (group, kind, versions) = kind_header(header.strip_prefix("kind ")?).ok()?;
    // The tree's first node is `self`, the whole object.
    let (_, root) = lazy_children(tree).props.into_iter().next()?;
    Some(KindSchema {
        group,
        kind,
        versions,
        root,
    })
}

/// One kind's schema in a release.
#[derive(Debug)]
pub struct KindSchema {
    pub group: String,
    pub kind: String,
    /// Served API versions, preferred first.
    pub versions: Vec<String>,
    /// The whole object (`self` of its root rules); only `spec` is described.
    pub root: SNode,
}

/// One kind's section of a release's schema, parsed on first use: a check parses only
/// the kinds its resources have (parsing a whole release was a seventh of the
/// instructions of checking one small file; issue 17).
#[derive(Debug)]
struct KindSlot {
    group: String,
    kind: String,
    /// The section's text (`kind …` header and tree) when not parsed yet.
    text: &'static str,
    parsed: OnceLock<Option<KindSchema>>,
}

/// All kinds of one release line.
#[derive(Debug, Default)]
pub struct Schema {
    pub line: String,
    slots: Vec<KindSlot>,
}

/// Parses a compact schema text (see `schema/README.md`) into its kinds.
#[cfg(test)]
fn parse_kinds(line: &str, text: &str) -> Result<Vec<KindSchema>, String> {
    let mut kinds = Vec::new();
    // The open nodes: (depth, name, node).
    let mut stack: Vec<(usize, String, SNode)> = Vec::new();
    let mut kind: Option<(String, String, Vec<String>)> = None;
    fn close(stack: &mut Vec<(usize, String, SNode)>, depth: usize) -> Option<SNode> {
        while let Some((d, _, _)) = stack.last() {
            if *d < depth {
                break;
            }
            let (_, name, node) = stack.pop()?;
            match stack.last_mut() {
                Some((_, _, parent)) => match name.as_str() {
                    "[]" => parent.children_mut().items = Some(Box::new(node)),
                    "{}" => parent.children_mut().values = Some(Box::new(node)),
                    _ => parent.children_mut().props.push((name, node)),
                },
                None => return Some(node),
            }
        }
        None
    }
    let mut finish = |stack: &mut Vec<(usize, String, SNode)>,
                      kind: &mut Option<(String, String, Vec<String>)>|
     -> Result<(), String> {
        let root = close(stack, 0);
        if let Some((group, k, versions)) = kind.take() {
            let root = root.ok_or(format!("{line}: {k} without a schema"))?;
            kinds.push(KindSchema {
                group,
                kind: k,
                versions,
                root,
            });
        }
        Ok(())
    };
    for (no, l) in text.lines().enumerate() {
        if l.starts_with('#') || l.trim().is_empty() {
            continue;
        }
        let err = |m: &str| format!("{line} schema line {}: {m}", no + 1);
        if let Some(rest) = l.strip_prefix("kind ") {
            finish(&mut stack, &mut kind)?;
            kind = Some(kind_header(rest).map_err(err)?);
            continue;
        }
        let depth = l.len() - l.trim_start_matches(' ').len();
        let mut parts = l[depth..].splitn(3, ' ');
        let name = parts.next().ok_or_else(|| err("no name"))?;
        let ty = match parts.next() {
            Some("o") => Ty::Object,
            Some("s") => Ty::Str,
            Some("i") => Ty::Int,
            Some("n") => Ty::Number,
            Some("b") => Ty::Bool,
            Some("a") => Ty::Array,
            Some("x") => Ty::IntOrString,
            Some("*") => Ty::Any,
            _ => return Err(err("unknown type")),
        };
        let attrs = match parts.next() {
            Some(json) => serde_json::from_str(json).map_err(|e| err(&e.to_string()))?,
            None => Attrs::default(),
        };
        if depth == 0 || kind.is_none() {
            return Err(err("node outside a kind"));
        }
        close(&mut stack, depth);
        stack.push((depth, name.to_string(), SNode::parsed(ty, attrs)));
    }
    finish(&mut stack, &mut kind)?;
    Ok(kinds)
}

impl Schema {
    #[cfg(test)]
    /// Parses a compact schema text (see `schema/README.md`), every kind now.
    pub fn parse(line: &str, text: &str) -> Result<Schema, String> {
        let slots = parse_kinds(line, text)?
            .into_iter()
            .map(|k| KindSlot {
                group: k.group.clone(),
                kind: k.kind.clone(),
                text: "",
                parsed: OnceLock::from(Some(k)),
            })
            .collect();
        Ok(Schema {
            line: line.to_string(),
            slots,
        })
    }

    /// An embedded release: its kinds' sections located at build time, each parsed on
    /// first use. A section that does not parse (the tests parse every one) is a kind
    /// this release does not describe.
    fn embedded_release(line: &'static str, text: &'static str) -> Schema {
        let sections = section_index(line).unwrap_or(&[]);
        Schema {
            line: line.to_string(),
            slots: sections
                .iter()
                .map(|&(group, kind, start, end)| KindSlot {
                    group: group.to_string(),
                    kind: kind.to_string(),
                    text: text.get(start..end).unwrap_or(""),
                    parsed: OnceLock::new(),
                })
                .collect(),
        }
    }

    pub fn kind(&self, group: &str, kind: &str) -> Option<&KindSchema> {
        let slot = self
            .slots
            .iter()
            .find(|s| s.kind == kind && s.group == group)?;
        self.parsed(slot)
    }

    fn parsed<'s>(&'s self, slot: &'s KindSlot) -> Option<&'s KindSchema> {
        slot.parsed.get_or_init(|| lazy_kind(slot.text)).as_ref()
    }

    /// Every kind of this release (parsing those not parsed yet), in schema order.
    pub fn kinds(&self) -> impl Iterator<Item = &KindSchema> {
        self.slots.iter().filter_map(|slot| self.parsed(slot))
    }

    /// Schema nodes in this release (a size measure for tests and notes).
    pub fn node_count(&self) -> usize {
        self.kinds().map(|k| k.root.count()).sum()
    }
}

/// Where a kind's section lies in a release's text: group, kind, start, end.
type KindSection = (&'static str, &'static str, usize, usize);

mod sections {
    include!(concat!(env!("OUT_DIR"), "/schema_sections.rs"));
}

/// Where each kind's section lies in a release's text (`build.rs`).
fn section_index(line: &str) -> Option<&'static [KindSection]> {
    sections::KIND_SECTIONS
        .iter()
        .find(|(l, _)| *l == line)
        .map(|(_, s)| *s)
}

/// Whether any embedded release describes this kind: most resources (Services,
/// Deployments) are of kinds none does, and they need not ask every release.
fn kind_in_any_release(group: &str, kind: &str) -> bool {
    sections::KIND_SECTIONS.iter().any(|(_, sections)| {
        sections
            .iter()
            .any(|(g, k, _, _)| *k == kind && *g == group)
    })
}

/// The schema of a release line, its kinds parsed on first use.
pub fn release(line: &str) -> Option<&'static Schema> {
    static CACHE: [OnceLock<Schema>; RELEASE_COUNT] = [const { OnceLock::new() }; RELEASE_COUNT];
    let i = RELEASES.iter().position(|(l, _)| *l == line)?;
    Some(CACHE[i].get_or_init(|| Schema::embedded_release(RELEASES[i].0, RELEASES[i].1)))
}

/// The default release's schema.
pub fn embedded() -> &'static Schema {
    release(DEFAULT_RELEASE).expect("the default release is embedded")
}

pub use meshlint_diag::did_you_mean;

/// One step from a schema node to a child.
#[derive(Debug, Clone, Copy)]
enum Step<'k> {
    Prop(&'k str),
    Item,
    Value,
}

/// Where the validator is in a resource: the field as messages name it
/// (`spec.http[0].route`) and the schema steps that lead there. It lives on the stack,
/// one link per level, and is rendered only for a finding (formatting the name of every
/// field visited was a tenth of the validator's time).
#[derive(Debug, Clone, Copy)]
enum At<'p> {
    /// The resource itself (its root rules), named by its kind.
    Root(&'p str),
    /// A named property of the node above.
    Prop(&'p At<'p>, &'p str),
    /// A value of the map above (`additionalProperties`), under its key.
    Value(&'p At<'p>, &'p str),
    /// An item of the list above.
    Item(&'p At<'p>, usize),
}

impl<'p> At<'p> {
    /// The schema steps from the kind's root.
    fn steps(&self) -> Vec<Step<'p>> {
        let mut steps = match self {
            At::Root(_) => return Vec::new(),
            At::Prop(up, _) | At::Value(up, _) | At::Item(up, _) => up.steps(),
        };
        steps.push(match *self {
            At::Prop(_, key) => Step::Prop(key),
            At::Value(..) => Step::Value,
            _ => Step::Item,
        });
        steps
    }
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Root(kind) => f.write_str(kind),
            // Fields of the object itself (`spec`) are named without the kind.
            At::Prop(At::Root(_), key) | At::Value(At::Root(_), key) => f.write_str(key),
            At::Prop(up, key) | At::Value(up, key) => write!(f, "{up}.{key}"),
            At::Item(up, i) => write!(f, "{up}[{i}]"),
        }
    }
}

fn descend<'s>(root: &'s SNode, path: &[Step]) -> Option<&'s SNode> {
    let mut node = root;
    for step in path {
        node = match step {
            Step::Prop(name) => node.prop(name)?,
            Step::Item => node.items()?,
            Step::Value => node.values()?,
        };
    }
    Some(node)
}

/// Where else a thing exists: the oldest newer release, else the newest older one.
enum Elsewhere {
    Newer(&'static str),
    Older(&'static str),
}

fn elsewhere(
    target: &str,
    group: &str,
    kind: &str,
    has: impl Fn(&KindSchema) -> bool,
) -> Option<Elsewhere> {
    if !kind_in_any_release(group, kind) {
        return None;
    }
    let has = |line: &str| release_kind(line, group, kind).is_some_and(&has);
    for (line, _) in RELEASES {
        if compare_lines(line, target) == Ordering::Greater && has(line) {
            return Some(Elsewhere::Newer(line));
        }
    }
    for (line, _) in RELEASES.iter().rev() {
        if compare_lines(line, target) == Ordering::Less && has(line) {
            return Some(Elsewhere::Older(line));
        }
    }
    None
}

/// One kind of a release line (parsed on first use, without the rest of that release).
fn release_kind(line: &str, group: &str, kind: &str) -> Option<&'static KindSchema> {
    release(line)?.kind(group, kind)
}

fn release_message(what: &str, target: &str, e: &Elsewhere) -> String {
    match e {
        Elsewhere::Newer(line) => match line.strip_suffix("-dev") {
            Some(l) => {
                format!("{what} needs Istio {l} or later (in development); the target is {target}")
            }
            None => format!("{what} needs Istio {line} or later; the target is {target}"),
        },
        Elsewhere::Older(line) => {
            format!("{what} was removed after Istio {line}; the target is {target}")
        }
    }
}

struct Validator<'a> {
    schema: &'a Schema,
    kind: &'a KindSchema,
    resource: &'a Resource,
    findings: Vec<Finding>,
}

/// Whether a node has the JSON type of its schema (rules only run on values that do).
fn type_fits(node: &Node, ty: Ty) -> bool {
    match ty {
        Ty::Any => true,
        Ty::Object => node.as_map().is_some(),
        Ty::Array => node.as_seq().is_some(),
        Ty::IntOrString => node.scalar().is_some(),
        Ty::Str => node.scalar().is_some_and(|sc| {
            !sc.plain() || matches!(sc.resolved(), meshlint_load::Resolved::Str(_))
        }),
        Ty::Int => node.scalar().is_some_and(|sc| sc.as_i64().is_some()),
        Ty::Number => node.scalar().is_some_and(|sc| sc.as_f64().is_some()),
        Ty::Bool => node.as_bool().is_some(),
    }
}

/// A CRD rule compiled once per thread; `None` when meshlint's CEL refuses it.
fn compiled_rule(source: &str) -> Option<std::rc::Rc<meshlint_cel::Program>> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static RULES: RefCell<HashMap<String, Option<std::rc::Rc<meshlint_cel::Program>>>> =
            RefCell::new(HashMap::new());
    }
    RULES.with(|cache| {
        cache
            .borrow_mut()
            .entry(source.to_string())
            .or_insert_with(|| {
                meshlint_cel::compile(source, &[])
                    .ok()
                    .map(std::rc::Rc::new)
            })
            .clone()
    })
}

fn pattern_matches(pattern: &str, text: &str) -> Option<bool> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().ok()?;
    let re = cache
        .entry(pattern.to_string())
        .or_insert_with(|| regex::Regex::new(pattern).ok());
    re.as_ref().map(|re| re.is_match(text))
}

impl Validator<'_> {
    fn report(
        &mut self,
        code: &'static str,
        severity: Severity,
        span: Span,
        message: String,
        help: Option<String>,
    ) {
        let mut f = Finding::new(
            code,
            severity,
            message,
            Location {
                file: self.resource.file.clone(),
                span,
            },
        )
        .with_resource(Some(self.resource.id.clone()));
        if code != codes::SCHEMA_UNKNOWN_FIELD && code != codes::SCHEMA_RELEASE {
            f.istio_code = Some("IST0106".into());
        }
        f.help = help;
        self.findings.push(f);
    }

    fn type_error(&mut self, node: &Node, what: &At, expected: &str) {
        let found = match &node.value {
            NodeValue::Map(_) => "a mapping".to_string(),
            NodeValue::Seq(_) => "a list".to_string(),
            NodeValue::Scalar(s) => describe_scalar(s),
        };
        self.report(
            codes::SCHEMA_TYPE,
            Severity::Error,
            node.head_span(),
            format!(
                "`{what}` must be {expected}, found {found}; the API server rejects this resource"
            ),
            None,
        );
    }

    fn constraint(&mut self, node: &Node, message: String) {
        self.report(
            codes::SCHEMA_CONSTRAINT,
            Severity::Error,
            node.head_span(),
            format!("{message}; the API server rejects this resource"),
            None,
        );
    }

    /// The same schema path in other releases.
    fn elsewhere_at(&self, at: &At, test: impl Fn(&SNode) -> bool) -> Option<Elsewhere> {
        let (group, kind) = (&self.kind.group, &self.kind.kind);
        let path = at.steps();
        elsewhere(&self.schema.line, group, kind, |k| {
            descend(&k.root, &path).is_some_and(&test)
        })
    }

    fn check_number(&mut self, node: &Node, s: &SNode, v: f64, what: &At) {
        let a = s.attrs();
        if let Some(min) = a.min {
            if v < min || (a.excl_min && v == min) {
                let op = if a.excl_min {
                    "greater than"
                } else {
                    "at least"
                };
                return self.constraint(node, format!("`{what}` must be {op} {min}, not {v}"));
            }
        }
        if let Some(max) = a.max {
            if v > max || (a.excl_max && v == max) {
                let op = if a.excl_max { "less than" } else { "at most" };
                self.constraint(node, format!("`{what}` must be {op} {max}, not {v}"));
            }
        }
    }

    fn check_string(&mut self, node: &Node, s: &SNode, text: &str, what: &At) {
        let a = s.attrs();
        if let Some(values) = &a.enum_values {
            if !values.iter().any(|v| v == text) {
                return self.bad_enum(node, values, text, what);
            }
        }
        let len = text.chars().count() as u64;
        if let Some(min) = a.min_len {
            if len < min {
                return self.constraint(
                    node,
                    format!("`{what}` must be at least {min} characters long"),
                );
            }
        }
        if let Some(max) = a.max_len {
            if len > max {
                return self.constraint(
                    node,
                    format!("`{what}` may be at most {max} characters long"),
                );
            }
        }
        if let Some(p) = &a.pattern {
            if pattern_matches(p, text) == Some(false) {
                let p = p.clone();
                self.constraint(node, format!("`{what}` must match the pattern `{p}`"));
            }
        }
    }

    fn bad_enum(&mut self, node: &Node, values: &[String], text: &str, what: &At) {
        let has = |s: &SNode| {
            s.attrs()
                .enum_values
                .as_ref()
                .is_some_and(|v| v.iter().any(|v| v == text))
        };
        let (group, kind) = (self.kind.group.clone(), self.kind.kind.clone());
        let path = what.steps();
        let found = elsewhere(&self.schema.line, &group, &kind, |k| {
            descend(&k.root, &path).is_some_and(has)
        });
        if let Some(e) = found {
            let message = release_message(
                &format!("`{text}` as a value of `{what}`"),
                &self.schema.line,
                &e,
            );
            return self.report(
                codes::SCHEMA_RELEASE,
                Severity::Error,
                node.span(),
                format!("{message}: the API server of the target rejects it"),
                Some(format!("valid values: {}", values.join(", "))),
            );
        }
        let suggestion = did_you_mean(text, values.iter().map(String::as_str));
        let mut message = format!("`{text}` is not a valid value for `{what}`");
        if let Some(sug) = suggestion {
            message.push_str(&format!("; did you mean `{sug}`?"));
        }
        message.push_str(" The API server rejects the resource.");
        self.report(
            codes::SCHEMA_ENUM,
            Severity::Error,
            node.span(),
            message,
            Some(format!("valid values: {}", values.join(", "))),
        );
    }

    fn check(&mut self, node: &Node, s: &SNode, what: &At) {
        if node.is_null() {
            return;
        }
        self.check_value(node, s, what);
        if !s.attrs().rules.is_empty() && type_fits(node, s.ty) {
            self.check_rules(node, s, what);
        }
    }

    /// Evaluates the node's `x-kubernetes-validations` as the API server does on create:
    /// `self` is the value, there is no `oldSelf`. A rule that is false or fails to
    /// evaluate is an error at the node with the CRD's message (Istio's CRDs declare no
    /// defaults, so the object meshlint sees is the one the server checks); a rule
    /// meshlint cannot compile decides nothing.
    fn check_rules(&mut self, node: &Node, s: &SNode, what: &At) {
        for rule in &s.attrs().rules {
            let Some(program) = compiled_rule(&rule.rule) else {
                continue;
            };
            let mut scope = meshlint_cel::Scope::new();
            scope.push("self", meshlint_cel::Val::from_node(node));
            let verdict = program.eval(&mut scope, &meshlint_cel::NoHost);
            // The API server refuses the object when a rule is false and when it fails
            // to evaluate (`url()` of something that is no URL); a spent budget decides
            // nothing.
            let failure = match verdict {
                Ok(meshlint_cel::Val::Bool(false)) => Some(None),
                Ok(_) | Err(meshlint_cel::EvalError::Budget(_)) => None,
                Err(e) => Some(Some(e.to_string())),
            };
            if let Some(why) = failure {
                let mut message = rule
                    .message
                    .clone()
                    .unwrap_or_else(|| format!("failed rule: {}", rule.rule));
                if let Some(why) = why {
                    message.push_str(&format!(" (the rule fails to evaluate: {why})"));
                }
                let span = if node.as_map().is_some() || node.as_seq().is_some() {
                    node.head_span()
                } else {
                    node.span()
                };
                self.report(
                    codes::SCHEMA_VALIDATION,
                    Severity::Error,
                    span,
                    format!("`{what}`: {message}; the API server refuses the resource"),
                    Some(format!("the CRD's validation rule: {}", rule.rule)),
                );
            }
        }
    }

    fn check_value(&mut self, node: &Node, s: &SNode, what: &At) {
        match s.ty {
            Ty::Any => {}
            Ty::Str => match node.scalar() {
                Some(sc)
                    if matches!(sc.resolved(), meshlint_load::Resolved::Str(_)) || !sc.plain() =>
                {
                    self.check_string(node, s, sc.text(), what)
                }
                Some(sc) if sc.as_f64().is_some() || sc.as_bool().is_some() => {
                    self.type_error(node, what, "a string (quote the value)")
                }
                Some(sc) => self.check_string(node, s, sc.text(), what),
                None => self.type_error(node, what, "a string"),
            },
            Ty::Bool => {
                if node.as_bool().is_none() {
                    self.type_error(node, what, "true or false")
                }
            }
            Ty::Int => {
                let v = node
                    .scalar()
                    .and_then(|sc| sc.as_i64().or_else(|| sc.text().trim().parse().ok()));
                match v {
                    Some(v) => self.check_number(node, s, v as f64, what),
                    None => self.type_error(node, what, "an integer"),
                }
            }
            Ty::Number => {
                match node
                    .scalar()
                    .and_then(|sc| sc.as_f64().or_else(|| sc.text().trim().parse().ok()))
                {
                    Some(v) => self.check_number(node, s, v, what),
                    None => self.type_error(node, what, "a number"),
                }
            }
            Ty::IntOrString => {
                if node.scalar().is_none() {
                    self.type_error(node, what, "an integer or a string")
                }
            }
            Ty::Array => match node.as_seq() {
                Some(items) => {
                    let n = items.len() as u64;
                    if let Some(max) = s.attrs().max_items {
                        if n > max {
                            self.constraint(
                                node,
                                format!("`{what}` may have at most {max} items, it has {n}"),
                            );
                        }
                    }
                    if let Some(min) = s.attrs().min_items {
                        if n < min {
                            self.constraint(
                                node,
                                format!("`{what}` needs at least {min} items, it has {n}"),
                            );
                        }
                    }
                    if let Some(inner) = s.items() {
                        for (i, item) in items.iter().enumerate() {
                            self.check(item, inner, &At::Item(what, i));
                        }
                    }
                }
                None => self.type_error(node, what, "a list"),
            },
            Ty::Object => self.check_object(node, s, what),
        }
    }

    fn check_object(&mut self, node: &Node, s: &SNode, what: &At) {
        let Some(entries) = node.as_map() else {
            return self.type_error(node, what, "a mapping");
        };
        for (k, v) in entries {
            let Some(key) = k.as_str() else { continue };
            if let Some(field) = s.prop(key) {
                self.check(v, field, &At::Prop(what, key));
            } else if let Some(values) = s.values() {
                self.check(v, values, &At::Value(what, key));
            } else if s.attrs().preserve || s.ty == Ty::Any {
            } else if let Some(e) = self.elsewhere_at(&At::Prop(what, key), |_| true) {
                let message = release_message(&format!("`{key}`"), &self.schema.line, &e);
                self.report(
                    codes::SCHEMA_RELEASE,
                    Severity::Warning,
                    k.span(),
                    format!("{message}: its API server drops or refuses the field"),
                    None,
                );
            } else {
                let sug = did_you_mean(key, s.props().iter().map(|(n, _)| n.as_str()));
                let mut message = format!("unknown field `{key}` in `{what}`");
                match sug {
                    Some(sg) => message.push_str(&format!("; did you mean `{sg}`?")),
                    None => message.push_str("; Istio ignores or rejects it"),
                }
                self.report(
                    codes::SCHEMA_UNKNOWN_FIELD,
                    Severity::Warning,
                    k.span(),
                    message,
                    None,
                );
            }
        }
        for fname in &s.attrs().req {
            if node.get(fname).is_none_or(Node::is_null) {
                self.report(
                    codes::SCHEMA_REQUIRED,
                    Severity::Error,
                    node.head_span(),
                    format!("`{what}` is missing its required field `{fname}`"),
                    None,
                );
            }
        }
        for group in &s.attrs().one_of {
            let set: Vec<&str> = group
                .iter()
                .filter(|f| node.get(f).is_some_and(|n| !n.is_null()))
                .map(String::as_str)
                .collect();
            if set.len() > 1 {
                self.constraint(
                    node,
                    format!(
                        "`{what}` may set only one of `{}`, it sets `{}`",
                        group.join("`, `"),
                        set.join("` and `")
                    ),
                );
            }
        }
        let n = entries.len() as u64;
        if let Some(max) = s.attrs().max_props {
            if n > max {
                self.constraint(node, format!("`{what}` may have at most {max} entries"));
            }
        }
    }
}

fn describe_scalar(s: &Scalar) -> String {
    match s.resolved() {
        meshlint_load::Resolved::Null => "null".into(),
        meshlint_load::Resolved::Bool(b) => format!("the boolean `{b}`"),
        meshlint_load::Resolved::Int(i) => format!("the number `{i}`"),
        meshlint_load::Resolved::Float(f) => format!("the number `{f}`"),
        meshlint_load::Resolved::Str(t) => format!("the string `{t}`"),
    }
}

/// Go-style durations (`1h2m`, `0.5s`, `250ms`).
pub fn is_duration(s: &str) -> bool {
    let mut rest = s.trim();
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return false;
        }
        rest = &rest[num_len..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .into_iter()
            .find(|u| rest.starts_with(u) && !(*u == "m" && rest.starts_with("ms")));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

/// Validates a resource's `spec` against the default release's schema.
pub fn validate(resource: &Resource) -> Vec<Finding> {
    validate_with(embedded(), resource)
}

/// Validates a resource against one release's schema.
pub fn validate_with(schema: &Schema, resource: &Resource) -> Vec<Finding> {
    let head = |resource: &Resource| {
        resource
            .node
            .get("apiVersion")
            .map(|n| n.span())
            .unwrap_or_else(|| resource.name_span())
    };
    let finding = |severity, code, message: String, help: Option<String>| {
        let mut f = Finding::new(
            code,
            severity,
            message,
            Location {
                file: resource.file.clone(),
                span: head(resource),
            },
        )
        .with_resource(Some(resource.id.clone()));
        f.help = help;
        f
    };
    let (group, kind_name) = (resource.group(), &resource.id.kind);
    let Some(kind) = schema.kind(group, kind_name) else {
        let found = elsewhere(&schema.line, group, kind_name, |_| true);
        return match found {
            Some(e) => vec![finding(
                Severity::Error,
                codes::SCHEMA_RELEASE,
                format!(
                    "{}: the API server of the target has no such kind",
                    release_message(&format!("the kind {kind_name}"), &schema.line, &e)
                ),
                None,
            )],
            None => Vec::new(),
        };
    };
    let mut v = Validator {
        schema,
        kind,
        resource,
        findings: Vec::new(),
    };
    let version = resource.version();
    if !kind.versions.is_empty() && !kind.versions.iter().any(|v| v == version) {
        let help = Some(format!(
            "use one of: {}",
            kind.versions
                .iter()
                .map(|ver| format!("{group}/{ver}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let found = elsewhere(&schema.line, group, kind_name, |k| {
            k.versions.iter().any(|v| v == version)
        });
        let f = match found {
            Some(e) => finding(
                Severity::Error,
                codes::SCHEMA_RELEASE,
                format!(
                    "{}: the API server of the target refuses it",
                    release_message(
                        &format!("{kind_name} as `{}`", resource.id.api_version),
                        &schema.line,
                        &e
                    )
                ),
                help,
            ),
            None => {
                let mut f = finding(
                    Severity::Error,
                    codes::SCHEMA_TYPE,
                    format!(
                        "{kind_name} is not served as `{}`; the API server refuses it",
                        resource.id.api_version
                    ),
                    help,
                );
                f.istio_code = Some("IST0106".into());
                f
            }
        };
        v.findings.push(f);
    }
    let root = At::Root(kind_name);
    if let (Some(spec), Some(spec_schema)) = (resource.node.get("spec"), kind.root.prop("spec")) {
        v.check(spec, spec_schema, &At::Prop(&root, "spec"));
    }
    if !kind.root.attrs().rules.is_empty() {
        v.check_rules(&resource.node, &kind.root, &root);
    }
    v.findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::build_resources;
    use meshlint_load::{load_source, LoadLimits};

    const TEST_SCHEMA: &str = "kind networking.istio.io DestinationRule v1,v1beta1,v1alpha3\n self o\n  spec o {\"req\":[\"host\"]}\n   host s\n   exportTo a\n    [] s\n   trafficPolicy o\n    connectTimeout s\n    tls o\n     mode s {\"enum\":[\"DISABLE\",\"SIMPLE\",\"MUTUAL\",\"ISTIO_MUTUAL\"]}\n     insecureSkipVerify b\n";

    fn findings(yaml: &str) -> Vec<(String, u32, u32, String)> {
        let schema = Schema::parse("9.9", TEST_SCHEMA).unwrap();
        let f = load_source(
            "r.yaml".into(),
            yaml.as_bytes().to_vec(),
            &LoadLimits::default(),
        );
        let set = build_resources(&f);
        validate_with(&schema, &set.resources[0])
            .into_iter()
            .map(|f| {
                (
                    f.rule.to_string(),
                    f.location.span.start.line,
                    f.location.span.start.column,
                    f.message,
                )
            })
            .collect()
    }

    #[test]
    fn enum_typo_gets_a_suggestion_at_its_value() {
        let got = findings("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  host: a\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTAL\n");
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].0.as_str(), got[0].1, got[0].2),
            ("schema-enum", 8, 13)
        );
        assert!(
            got[0].3.contains("did you mean `ISTIO_MUTUAL`"),
            "{}",
            got[0].3
        );
    }

    #[test]
    fn unknown_fields_types_required_and_versions() {
        let got = findings("apiVersion: networking.istio.io/v2\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  trafficPolcy:\n    tls: {}\n  exportTo: .\n");
        let rules: Vec<_> = got.iter().map(|g| (g.0.as_str(), g.1)).collect();
        assert_eq!(
            rules,
            vec![
                ("schema-type", 1),
                ("schema-unknown-field", 5),
                ("schema-type", 7),
                ("schema-required", 5)
            ]
        );
        assert!(got[1].3.contains("did you mean `trafficPolicy`"));
    }

    #[test]
    fn valid_resources_are_quiet() {
        let got = findings("apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  host: a\n  trafficPolicy:\n    connectTimeout: 1.5s\n    tls: {mode: SIMPLE, insecureSkipVerify: true}\n");
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn durations() {
        for ok in ["5s", "0.25s", "1h30m", "250ms"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "5", "s", "5x", "1.5"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    /// A lazily parsed tree is the tree parsed whole: types, constraints, children.
    fn same_tree(lazy: &SNode, whole: &SNode, at: &str) {
        assert_eq!(lazy.ty, whole.ty, "{at}");
        assert_eq!(
            format!("{:?}", lazy.attrs()),
            format!("{:?}", whole.attrs()),
            "{at}"
        );
        let names = |n: &SNode| n.props().iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(names(lazy), names(whole), "{at}");
        for ((name, l), (_, w)) in lazy.props().iter().zip(whole.props()) {
            same_tree(l, w, &format!("{at}.{name}"));
        }
        for (l, w, step) in [
            (lazy.items(), whole.items(), "[]"),
            (lazy.values(), whole.values(), "{}"),
        ] {
            assert_eq!(l.is_some(), w.is_some(), "{at}{step}");
            if let (Some(l), Some(w)) = (l, w) {
                same_tree(l, w, &format!("{at}{step}"));
            }
        }
    }

    #[test]
    fn kinds_parsed_one_by_one_are_the_kinds_of_the_whole_text() {
        for (line, text) in RELEASES {
            let whole = Schema::parse(line, text).unwrap_or_else(|e| panic!("{e}"));
            let lazy = release(line).unwrap();
            assert!(section_index(line).is_some(), "{line}: no build-time index");
            assert_eq!(lazy.slots.len(), whole.kinds().count(), "{line}");
            for k in whole.kinds() {
                let alone = release_kind(line, &k.group, &k.kind).expect("kind found alone");
                assert_eq!(alone.versions, k.versions, "{line} {}", k.kind);
                assert_eq!(alone.root.count(), k.root.count(), "{line} {}", k.kind);
                same_tree(&alone.root, &k.root, &format!("{line} {}", k.kind));
                assert!(kind_in_any_release(&k.group, &k.kind));
            }
            assert_eq!(lazy.node_count(), whole.node_count(), "{line}");
            assert!(release_kind(line, "example.com", "Nothing").is_none());
        }
        assert!(!kind_in_any_release("apps", "Deployment"));
    }

    #[test]
    fn crd_rules_compile_in_meshlint_cel() {
        fn walk<'s>(n: &'s SNode, out: &mut Vec<&'s str>) {
            out.extend(n.attrs().rules.iter().map(|r| r.rule.as_str()));
            n.props().iter().for_each(|(_, c)| walk(c, out));
            n.items()
                .into_iter()
                .chain(n.values())
                .for_each(|c| walk(c, out));
        }
        let mut rules = Vec::new();
        for k in release(DEFAULT_RELEASE).unwrap().kinds() {
            walk(&k.root, &mut rules);
        }
        let refused: Vec<&str> = rules
            .iter()
            .copied()
            .filter(|r| compiled_rule(r).is_none())
            .collect();
        eprintln!(
            "CRD rules of {DEFAULT_RELEASE}: {} of {} compile; refused: {refused:?}",
            rules.len() - refused.len(),
            rules.len()
        );
        assert!(refused.is_empty(), "{refused:?}");
    }

    #[test]
    fn release_lines_order_and_resolve() {
        assert_eq!(compare_lines("1.9", "1.22"), Ordering::Less);
        assert_eq!(compare_lines("1.31-dev", "1.30"), Ordering::Greater);
        assert_eq!(resolve_release(None), Ok("1.30"));
        assert_eq!(resolve_release(Some("1.29.3")), Ok("1.29"));
        assert_eq!(resolve_release(Some("v1.24")), Ok("1.24"));
        assert_eq!(resolve_release(Some("1.31")), Ok("1.31-dev"));
        assert!(resolve_release(Some("1.10")).is_err());
        let lines: Vec<_> = RELEASES.iter().map(|(l, _)| *l).collect();
        let mut sorted = lines.clone();
        sorted.sort_by(|a, b| compare_lines(a, b));
        assert_eq!(lines, sorted, "RELEASES is oldest first");
    }

    #[test]
    fn every_embedded_release_parses_with_every_kind() {
        for (line, _) in RELEASES {
            let schema = release(line).unwrap();
            assert_eq!(schema.line, line, "{line} does not parse");
            for kind in [
                "VirtualService",
                "DestinationRule",
                "Gateway",
                "ServiceEntry",
                "Sidecar",
                "PeerAuthentication",
                "AuthorizationPolicy",
                "RequestAuthentication",
                "Telemetry",
                "WasmPlugin",
                "EnvoyFilter",
                "WorkloadEntry",
                "WorkloadGroup",
                "ProxyConfig",
            ] {
                assert!(
                    schema.kinds().any(|k| k.kind == kind),
                    "{line}: {kind} has no schema"
                );
            }
        }
        assert!(release("1.30")
            .unwrap()
            .kind("extensions.istio.io", "TrafficExtension")
            .is_some());
        assert!(release("1.29")
            .unwrap()
            .kind("extensions.istio.io", "TrafficExtension")
            .is_none());
    }
}
