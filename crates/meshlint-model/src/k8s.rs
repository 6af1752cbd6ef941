//! Typed validation of the Kubernetes fields the graph and the rules read — Service
//! ports and selectors, pod templates (containers and their ports), workload selectors,
//! labels and annotations — and of `null` items in Istio lists.
//!
//! Kubernetes kinds have no field schema in `schema/` (they are not Istio's), yet the
//! graph reasons about a handful of their fields. A wrong type there (`port: "8O"`,
//! `ports: 5`, `containers: x`, a label value `1`) is a schema finding at the field,
//! and the tree the rules see is cleaned so it only holds well-typed values:
//!
//! - a list field of the wrong type becomes an empty list; a mapping field of the
//!   wrong type (labels, selector) is removed;
//! - a list item that is not a mapping (`null`, a scalar) is removed;
//! - a port item whose port number is missing, not an integer or outside 1–65535 is
//!   removed (it is unusable), an optional scalar of the wrong type is removed;
//! - label and selector values that are not strings are removed.
//!
//! Rules then never meet a value of a type they do not expect, so a manifest can no
//! longer turn into a "rule bug" without a location.

use crate::{codes, Kind, Resource};
use meshlint_diag::{Finding, Location, ResourceId, Severity, Span};
use meshlint_load::{Node, NodeValue, Resolved};
use std::sync::Arc;

struct Cleaner {
    file: Arc<str>,
    id: ResourceId,
    findings: Vec<Finding>,
}

fn child<'a>(n: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    match &mut n.value {
        NodeValue::Map(entries) => entries
            .iter_mut()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

fn remove(n: &mut Node, key: &str) {
    if let NodeValue::Map(entries) = &mut n.value {
        entries.retain(|(k, _)| k.as_str() != Some(key));
    }
}

fn describe(n: &Node) -> String {
    match &n.value {
        NodeValue::Map(_) => "a mapping".into(),
        NodeValue::Seq(_) => "a list".into(),
        NodeValue::Scalar(s) if s.is_null() => "null".into(),
        NodeValue::Scalar(s) => match s.resolved() {
            Resolved::Str(_) => format!("the string {:?}", truncate(s.text())),
            _ => format!("`{}`", truncate(s.text())),
        },
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 40 {
        let t: String = s.chars().take(40).collect();
        format!("{t}…")
    } else {
        s.to_string()
    }
}

/// A port number as Kubernetes reads it: a plain integer (not a quoted string).
fn port_value(n: &Node) -> Option<i64> {
    n.scalar().filter(|s| s.plain()).and_then(|s| s.as_i64())
}

impl Cleaner {
    fn report(&mut self, code: &'static str, span: Span, message: String) {
        self.findings.push(
            Finding::new(
                code,
                Severity::Error,
                message,
                Location {
                    file: self.file.clone(),
                    span,
                },
            )
            .with_resource(Some(self.id.clone())),
        );
    }

    fn type_error(&mut self, n: &Node, what: &str, expected: &str) {
        let found = describe(n);
        self.report(
            codes::SCHEMA_TYPE,
            n.head_span(),
            format!(
                "`{what}` must be {expected}, found {found}; the API server rejects this resource"
            ),
        );
    }

    /// A mapping of strings (labels, annotations, selectors) at `key`.
    fn string_map(&mut self, parent: &mut Node, key: &str, what: &str) {
        let Some(m) = child(parent, key) else { return };
        if m.is_null() {
            return;
        }
        let NodeValue::Map(entries) = &m.value else {
            let m = m.clone();
            self.type_error(&m, what, "a mapping of strings");
            remove(parent, key);
            return;
        };
        let mut bad = Vec::new();
        for (i, (k, v)) in entries.iter().enumerate() {
            let ok = matches!(v.scalar(), Some(s) if !s.plain() || matches!(s.resolved(), Resolved::Str(_)));
            if !ok {
                let name = k.as_str().unwrap_or("?").to_string();
                bad.push((i, v.clone(), name));
            }
        }
        for (_, v, name) in &bad {
            let expected = if v.scalar().is_some() && !v.is_null() {
                "a string (quote the value)"
            } else {
                "a string"
            };
            self.type_error(v, &format!("{what}.{name}"), expected);
        }
        if let Some(NodeValue::Map(entries)) = child(parent, key).map(|m| &mut m.value) {
            let mut i = 0;
            entries.retain(|_| {
                let keep = !bad.iter().any(|(b, _, _)| *b == i);
                i += 1;
                keep
            });
        }
    }

    /// The items at `key`, which must be a list of mappings: a wrong type becomes an
    /// empty list, items that are not mappings are removed. `required`: report absence.
    fn map_list<'a>(
        &mut self,
        parent: &'a mut Node,
        key: &str,
        what: &str,
        required: bool,
    ) -> Option<&'a mut meshlint_load::List<Node>> {
        let head = parent.head_span();
        let Some(list) = child(parent, key) else {
            if required {
                self.report(
                    codes::SCHEMA_REQUIRED,
                    head,
                    format!(
                        "`{}` is missing its required field `{key}`",
                        parent_name(what)
                    ),
                );
            }
            return None;
        };
        if list.is_null() {
            return None;
        }
        if !matches!(list.value, NodeValue::Seq(_)) {
            let bad = list.clone();
            self.type_error(&bad, what, "a list of mappings");
            list.set_value(NodeValue::Seq(Default::default()));
        }
        let NodeValue::Seq(items) = &mut list.value else {
            return None;
        };
        let bad: Vec<(usize, Node)> = items
            .iter()
            .enumerate()
            .filter(|(_, n)| !matches!(n.value, NodeValue::Map(_)))
            .map(|(i, n)| (i, n.clone()))
            .collect();
        for (i, n) in &bad {
            self.type_error(n, &format!("{what}[{i}]"), "a mapping");
        }
        let mut i = 0;
        items.retain(|_| {
            let keep = !bad.iter().any(|(b, _)| *b == i);
            i += 1;
            keep
        });
        Some(items)
    }

    /// Whether the port at `key` of `item` is an integer in 1–65535 (reported if not;
    /// reported as missing when `required`).
    fn port_ok(&mut self, item: &Node, key: &str, what: &str, required: bool) -> bool {
        match item.get(key) {
            None => {
                if required {
                    self.report(
                        codes::SCHEMA_REQUIRED,
                        item.head_span(),
                        format!("`{what}` is missing its required field `{key}`"),
                    );
                }
                !required
            }
            Some(n) => match port_value(n) {
                Some(p) if (1..=65535).contains(&p) => true,
                Some(_) => {
                    self.report(
                        codes::SCHEMA_TYPE,
                        n.head_span(),
                        format!("`{what}.{key}` must be a port number from 1 to 65535, found {}; the API server rejects this resource", describe(n)),
                    );
                    false
                }
                None => {
                    self.type_error(
                        n,
                        &format!("{what}.{key}"),
                        "an integer port number (1–65535)",
                    );
                    false
                }
            },
        }
    }

    /// An optional scalar at `key`: removed when it is a mapping or a list.
    fn scalar(&mut self, item: &mut Node, key: &str, what: &str, expected: &str) {
        if let Some(v) = item.get(key) {
            if v.scalar().is_none() {
                let v = v.clone();
                self.type_error(&v, &format!("{what}.{key}"), expected);
                remove(item, key);
            }
        }
    }

    /// `targetPort`: an integer port or a port name.
    fn int_or_string_port(&mut self, item: &mut Node, key: &str, what: &str) {
        let Some(v) = item.get(key) else { return };
        let bad = match (v.scalar(), port_value(v)) {
            (None, _) => Some("an integer port number or a port name"),
            (Some(_), Some(p)) if !(1..=65535).contains(&p) => {
                Some("a port number from 1 to 65535 or a port name")
            }
            _ => None,
        };
        if let Some(expected) = bad {
            let v = v.clone();
            self.type_error(&v, &format!("{what}.{key}"), expected);
            remove(item, key);
        }
    }

    /// A list of ports at `key` of `parent`: bad items are removed.
    fn ports(&mut self, parent: &mut Node, key: &str, what: &str, number_key: &str) {
        let Some(items) = self.map_list(parent, key, what, false) else {
            return;
        };
        let mut keep = Vec::with_capacity(items.len());
        let taken = std::mem::take(items);
        for (i, mut item) in taken.into_vec().into_iter().enumerate() {
            let w = format!("{what}[{i}]");
            if !self.port_ok(&item, number_key, &w, true) {
                continue;
            }
            if !self.port_ok(&item, "nodePort", &w, false) {
                remove(&mut item, "nodePort");
            }
            self.int_or_string_port(&mut item, "targetPort", &w);
            for k in ["name", "protocol", "appProtocol"] {
                self.scalar(&mut item, k, &w, "a string");
            }
            keep.push(item);
        }
        if let Some(items) = child(parent, key).and_then(|l| match &mut l.value {
            NodeValue::Seq(items) => Some(items),
            _ => None,
        }) {
            *items = keep.into();
        }
    }

    fn metadata(&mut self, node: &mut Node, what: &str) {
        let Some(meta) = child(node, "metadata") else {
            return;
        };
        if !matches!(meta.value, NodeValue::Map(_)) {
            return;
        }
        self.string_map(meta, "labels", &format!("{what}metadata.labels"));
        self.string_map(meta, "annotations", &format!("{what}metadata.annotations"));
    }

    fn pod_spec(&mut self, pod: &mut Node, what: &str) {
        for (key, required) in [("containers", true), ("initContainers", false)] {
            let w = format!("{what}.{key}");
            let Some(items) = self.map_list(pod, key, &w, required) else {
                continue;
            };
            let mut containers = std::mem::take(items);
            for (i, c) in containers.iter_mut().enumerate() {
                let cw = format!("{w}[{i}]");
                self.scalar(c, "name", &cw, "a string");
                self.ports(c, "ports", &format!("{cw}.ports"), "containerPort");
            }
            if let Some(NodeValue::Seq(items)) = child(pod, key).map(|l| &mut l.value) {
                *items = containers;
            }
        }
    }

    /// Null items in every list of an Istio resource's spec. `what` is the path of `n`,
    /// grown and cut back in place as the walk goes (a path string per node was most of
    /// this walk's cost, and only a null item needs one).
    fn no_null_items(&mut self, n: &mut Node, what: &mut String) {
        use std::fmt::Write;
        match &mut n.value {
            NodeValue::Scalar(_) => {}
            NodeValue::Seq(items) => {
                let mut nulls = false;
                for (i, item) in items.iter().enumerate() {
                    if item.is_null() {
                        nulls = true;
                        self.report(
                            codes::SCHEMA_TYPE,
                            item.head_span(),
                            format!(
                                "`{what}[{i}]` is null; Istio rejects a list with an empty item"
                            ),
                        );
                    }
                }
                let len = what.len();
                for (i, item) in items.iter_mut().enumerate() {
                    if matches!(item.value, NodeValue::Scalar(_)) {
                        continue;
                    }
                    // Paths keep the index as written.
                    let _ = write!(what, "[{i}]");
                    self.no_null_items(item, what);
                    what.truncate(len);
                }
                if nulls {
                    items.retain(|i| !i.is_null());
                }
            }
            NodeValue::Map(entries) => {
                let len = what.len();
                for (k, v) in entries.iter_mut() {
                    if matches!(v.value, NodeValue::Scalar(_)) {
                        continue;
                    }
                    what.push('.');
                    what.push_str(k.as_str().unwrap_or("?"));
                    self.no_null_items(v, what);
                    what.truncate(len);
                }
            }
        }
    }
}

fn parent_name(what: &str) -> &str {
    what.rsplit_once('.').map_or(what, |(p, _)| p)
}

/// Validates and cleans the fields described in the module docs; returns the findings.
pub(crate) fn validate_and_clean(r: &mut Resource) -> Vec<Finding> {
    let handled = matches!(r.kind, Kind::Service | Kind::Namespace) || r.kind.is_workload();
    if !handled && !is_istio_group(r.group()) {
        return Vec::new();
    }
    let mut c = Cleaner {
        file: r.file.clone(),
        id: r.id.clone(),
        findings: Vec::new(),
    };
    let kind = r.kind;
    let istio = is_istio_group(r.group());
    let node = &mut r.node;
    if istio {
        if let Some(spec) = child(node, "spec") {
            c.no_null_items(spec, &mut "spec".to_string());
        }
        return c.findings;
    }
    c.metadata(node, "");
    match kind {
        Kind::Service => {
            if let Some(spec) = child(node, "spec") {
                if matches!(spec.value, NodeValue::Map(_)) {
                    c.string_map(spec, "selector", "spec.selector");
                    c.ports(spec, "ports", "spec.ports", "port");
                }
            }
        }
        Kind::Namespace => {}
        Kind::Pod => {
            if let Some(spec) = child(node, "spec").filter(|s| matches!(s.value, NodeValue::Map(_)))
            {
                c.pod_spec(spec, "spec");
            }
        }
        _ => {
            let Some(spec) = child(node, "spec").filter(|s| matches!(s.value, NodeValue::Map(_)))
            else {
                return c.findings;
            };
            let (spec, prefix) = if kind == Kind::CronJob {
                match child(spec, "jobTemplate")
                    .and_then(|j| child(j, "spec"))
                    .filter(|s| matches!(s.value, NodeValue::Map(_)))
                {
                    Some(s) => (s, "spec.jobTemplate.spec"),
                    None => return c.findings,
                }
            } else {
                (spec, "spec")
            };
            if let Some(sel) =
                child(spec, "selector").filter(|s| matches!(s.value, NodeValue::Map(_)))
            {
                c.string_map(
                    sel,
                    "matchLabels",
                    &format!("{prefix}.selector.matchLabels"),
                );
            }
            let Some(template) =
                child(spec, "template").filter(|s| matches!(s.value, NodeValue::Map(_)))
            else {
                return c.findings;
            };
            c.metadata(template, &format!("{prefix}.template."));
            if let Some(pod) =
                child(template, "spec").filter(|s| matches!(s.value, NodeValue::Map(_)))
            {
                c.pod_spec(pod, &format!("{prefix}.template.spec"));
            }
        }
    }
    c.findings
}

fn is_istio_group(group: &str) -> bool {
    group.ends_with("istio.io")
}
