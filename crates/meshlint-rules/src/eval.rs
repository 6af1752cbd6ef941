//! Running compiled rules over the graph, in parallel, deterministically.

use crate::cel_env::{self, node_value, read_ref, resource_value};
use crate::file::{Compiled, Rule};
use cel::{Context, ExecutionError, Value};
use meshlint_diag::{Finding, Related, Severity};
use meshlint_graph::MeshGraph;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

/// What a run produced: findings for the user, and rule bugs for the rule's author.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    /// One message per rule that failed at runtime (not the user's fault).
    pub rule_errors: BTreeMap<String, String>,
}

enum Outcome {
    Finding(Box<Finding>),
    RuleError(String, String),
}

fn absent_field(e: &ExecutionError) -> bool {
    matches!(e, ExecutionError::NoSuchKey(_))
}

/// Builds the per-thread root context: functions and run-wide variables.
fn root_context(graph: &Arc<MeshGraph>, mesh: &Value) -> Context<'static, 'static> {
    let mut ctx = Context::with_env(cel_env::env());
    cel_env::add_graph_functions(&mut ctx, graph);
    ctx.add_variable_from_value("mesh", mesh.clone());
    ctx.add_variable_from_value("closedWorld", graph.closed_world);
    ctx
}

/// Evaluates every rule on every resource it matches.
pub fn evaluate(rules: &[Rule], graph: Arc<MeshGraph>) -> Evaluation {
    let mut by_kind: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in graph.resources.iter().enumerate() {
        by_kind.entry(r.id.kind.as_str()).or_default().push(i);
    }
    // One work item per resource with every rule its kind matches: the resource's CEL
    // values (converted into the interpreter's representation when bound) are built
    // once per resource, not once per rule.
    let mut rules_for: Vec<Vec<usize>> = vec![Vec::new(); graph.resources.len()];
    for (ri, rule) in rules.iter().enumerate() {
        for kind in &rule.file.match_spec.kinds {
            for &res in by_kind.get(kind.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                rules_for[res].push(ri);
            }
        }
    }
    let work: Vec<usize> = (0..graph.resources.len())
        .filter(|&r| !rules_for[r].is_empty())
        .collect();
    let namespaces: Vec<OnceLock<Value>> = (0..graph.resources.len())
        .map(|_| OnceLock::new())
        .collect();
    let mesh = cel_env::mesh_value(&graph);
    let outcomes: Vec<Outcome> = work
        .par_iter()
        .with_min_len(16)
        .map_init(
            || root_context(&graph, &mesh),
            |root, &res| {
                let namespace = graph
                    .namespace_resource(graph.resources[res].namespace())
                    .map(|i| {
                        namespaces[i]
                            .get_or_init(|| node_value(&graph.resources[i].node))
                            .clone()
                    })
                    .unwrap_or(Value::Null);
                let mut scope = root.new_inner_scope();
                scope.add_variable_from_value("object", node_value(&graph.resources[res].node));
                scope.add_variable_from_value("resource", resource_value(&graph, res));
                scope.add_variable_from_value("namespaceObject", namespace);
                let mut out = Vec::new();
                for &ri in &rules_for[res] {
                    out.extend(run_rule(&rules[ri], &graph, res, &scope));
                }
                out
            },
        )
        .flatten_iter()
        .collect();
    let mut eval = Evaluation::default();
    for o in outcomes {
        match o {
            Outcome::Finding(f) => eval.findings.push(*f),
            Outcome::RuleError(id, msg) => {
                eval.rule_errors.entry(id).or_insert(msg);
            }
        }
    }
    eval
}

fn run_rule(rule: &Rule, graph: &Arc<MeshGraph>, res: usize, scope: &Context) -> Vec<Outcome> {
    let bug = |e: ExecutionError| {
        Outcome::RuleError(
            rule.id().to_string(),
            format!(
                "{} ({}): runtime error on {}: {e}",
                rule.id(),
                rule.origin,
                graph.resources[res].id
            ),
        )
    };
    let c = match rule.compiled() {
        Ok(c) => c,
        Err(e) => return vec![Outcome::RuleError(rule.id().to_string(), e.to_string())],
    };
    let mut out = Vec::new();
    match &c.for_each {
        None => match check(c, scope) {
            Ok(true) => out.push(produce(rule, c, graph, res, scope)),
            Ok(false) => {}
            Err(e) if absent_field(&e) => {}
            Err(e) => out.push(bug(e)),
        },
        Some(program) => {
            let items = match program.execute(scope) {
                Ok(Value::List(items)) => items,
                Ok(Value::Null) => return out,
                Ok(other) => {
                    return vec![bug(ExecutionError::function_error(
                        "for_each",
                        format!("expected a list, got {other:?}"),
                    ))]
                }
                Err(e) if absent_field(&e) => return out,
                Err(e) => return vec![bug(e)],
            };
            for (i, item) in items.iter().enumerate() {
                let mut inner = scope.new_inner_scope();
                inner.add_variable_from_value("item", item.clone());
                inner.add_variable_from_value("index", i as i64);
                match check(c, &inner) {
                    Ok(true) => out.push(produce(rule, c, graph, res, &inner)),
                    Ok(false) => {}
                    Err(e) if absent_field(&e) => {}
                    Err(e) => {
                        out.push(bug(e));
                        break;
                    }
                }
            }
        }
    }
    out
}

fn check(c: &Compiled, ctx: &Context) -> Result<bool, ExecutionError> {
    match &c.when {
        None => Ok(true),
        Some(p) => match p.execute(ctx)? {
            Value::Bool(b) => Ok(b),
            Value::Null => Ok(false),
            other => Err(ExecutionError::function_error(
                "when",
                format!("expected a boolean, got {other:?}"),
            )),
        },
    }
}

fn produce(rule: &Rule, c: &Compiled, graph: &MeshGraph, res: usize, ctx: &Context) -> Outcome {
    let r = &graph.resources[res];
    let render = |t: &crate::cel_env::Template| t.render(ctx);
    let message = match render(&c.message) {
        Ok(m) => m,
        Err(e) => {
            return Outcome::RuleError(
                rule.id().to_string(),
                format!(
                    "{} ({}): message failed on {}: {e}",
                    rule.id(),
                    rule.origin,
                    r.id
                ),
            )
        }
    };
    let path =
        c.at.as_ref()
            .and_then(|t| render(t).ok())
            .unwrap_or_default();
    let location = r.location_of(&path);
    let mut severity = rule.severity;
    if let Some(p) = &c.severity_expression {
        if let Ok(Value::String(s)) = p.execute(ctx) {
            if let Some(sev) = Severity::parse(&s) {
                severity = sev;
            }
        }
    }
    let mut related = Vec::new();
    for (expr, template) in &c.related {
        let refs = match expr.execute(ctx) {
            Ok(Value::List(l)) => l.iter().cloned().collect(),
            Ok(Value::Null) | Err(_) => Vec::new(),
            Ok(v) => vec![v],
        };
        for rv in refs {
            let Some((idx, p)) = read_ref(&rv) else {
                continue;
            };
            let Some(target) = graph.resources.get(idx) else {
                continue;
            };
            let mut inner = ctx.new_inner_scope();
            inner.add_variable_from_value("ref", rv.clone());
            let message = template.render(&inner).unwrap_or_default();
            related.push(Related {
                location: target.location_of(&p),
                message,
            });
        }
    }
    let fingerprint = {
        let value = meshlint_load::PathSegment::parse_path(&path)
            .and_then(|segs| {
                r.node
                    .lookup(&segs)
                    .map(|(n, _)| n.as_str().unwrap_or("").to_string())
            })
            .unwrap_or_default();
        Some(format!("{}|{}|{}", r.id, path, value))
    };
    Outcome::Finding(Box::new(Finding {
        rule: rule.id().into(),
        rule_name: Some(rule.name().into()),
        severity,
        message,
        location,
        resource: Some(r.id.clone()),
        istio_code: rule.file.istio_code.as_deref().map(Into::into),
        related,
        help: c.help.as_ref().and_then(|t| render(t).ok()),
        fingerprint,
    }))
}
