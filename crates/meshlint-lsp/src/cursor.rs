//! What the cursor is on: the resource, and the YAML scalar with its path from the
//! resource's root (`spec.http[0].route[0].destination.host`).

use crate::convert::contains;
use meshlint_diag::Pos;
use meshlint_graph::MeshGraph;
use meshlint_load::{Node, NodeValue, PathSegment};

/// A scalar under the cursor.
pub struct Target<'g> {
    pub resource: usize,
    pub path: Vec<PathSegment>,
    /// The scalar under the cursor (a key as a node of its text).
    pub node: std::borrow::Cow<'g, Node>,
    /// The cursor is on a mapping key, not a value.
    pub is_key: bool,
}

impl Target<'_> {
    /// The last key of the path, skipping list indexes (`hosts` for `spec.hosts[2]`).
    pub fn last_key(&self) -> &str {
        self.key_back(0)
    }

    /// The `n`-th key from the end, skipping list indexes.
    pub fn key_back(&self, n: usize) -> &str {
        self.path
            .iter()
            .rev()
            .filter_map(|s| match s {
                PathSegment::Key(k) => Some(k.as_str()),
                PathSegment::Index(_) => None,
            })
            .nth(n)
            .unwrap_or("")
    }

    /// Whether the scalar is an item of a list (`hosts[2]`), not a map value.
    pub fn in_list(&self) -> bool {
        matches!(self.path.last(), Some(PathSegment::Index(_)))
    }

    pub fn text(&self) -> &str {
        self.node.as_str().unwrap_or("")
    }
}

/// The resource of `file` whose document holds `pos`.
pub fn resource_at(graph: &MeshGraph, file: &str, pos: Pos) -> Option<usize> {
    graph
        .resources
        .iter()
        .position(|r| &*r.file == file && contains(r.node.span(), pos))
}

/// The scalar of `file` under `pos`, if it lies in a resource.
pub fn target_at<'g>(graph: &'g MeshGraph, file: &str, pos: Pos) -> Option<Target<'g>> {
    let resource = resource_at(graph, file, pos)?;
    let mut path = Vec::new();
    let (node, is_key) = descend(&graph.resources[resource].node, pos, &mut path)?;
    Some(Target {
        resource,
        path,
        node,
        is_key,
    })
}

fn descend<'g>(
    node: &'g Node,
    pos: Pos,
    path: &mut Vec<PathSegment>,
) -> Option<(std::borrow::Cow<'g, Node>, bool)> {
    match &node.value {
        NodeValue::Scalar(_) => {
            contains(node.span(), pos).then_some((std::borrow::Cow::Borrowed(node), false))
        }
        NodeValue::Seq(items) => items.iter().enumerate().find_map(|(i, item)| {
            if !contains(item.span(), pos) {
                return None;
            }
            path.push(PathSegment::Index(i));
            descend(item, pos, path)
        }),
        NodeValue::Map(entries) => entries.iter().find_map(|(k, v)| {
            let key = k.as_str().unwrap_or("").to_string();
            if contains(k.span(), pos) {
                path.push(PathSegment::Key(key));
                return Some((std::borrow::Cow::Owned(k.to_node()), true));
            }
            if !contains(v.span(), pos) {
                return None;
            }
            path.push(PathSegment::Key(key));
            descend(v, pos, path)
        }),
    }
}

/// Every scalar of a tree with its path (for finding references).
pub fn scalars<'n>(
    node: &'n Node,
    path: &mut Vec<PathSegment>,
    out: &mut Vec<(Vec<PathSegment>, &'n Node)>,
) {
    match &node.value {
        NodeValue::Scalar(_) => out.push((path.clone(), node)),
        NodeValue::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(PathSegment::Index(i));
                scalars(item, path, out);
                path.pop();
            }
        }
        NodeValue::Map(entries) => {
            for (k, v) in entries {
                path.push(PathSegment::Key(k.as_str().unwrap_or("").to_string()));
                scalars(v, path, out);
                path.pop();
            }
        }
    }
}
