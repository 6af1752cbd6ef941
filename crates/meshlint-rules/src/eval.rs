//! Running compiled rules over the graph, in parallel, deterministically.

use crate::file::{Compiled, Reporting, Rule};
use crate::graph_fns::{mesh_value, read_ref, resource_value, GraphHost};
use meshlint_cel::{EvalError, Host, Scope, Val};
use meshlint_diag::{Finding, Related, Severity};
use meshlint_graph::MeshGraph;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a run produced: findings for the user, and rule bugs for the rule's author.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    /// One message per rule that failed at runtime (not the user's fault).
    pub rule_errors: BTreeMap<String, String>,
    /// Time spent in each rule (summed over threads), slowest first; measured only when
    /// `MESHLINT_PROFILE_RULES` is set, to help rule authors find expensive rules.
    pub rule_times: Vec<(String, std::time::Duration)>,
    /// For each finding (same order as `findings`), the index of the resource whose
    /// evaluation produced it — what the language server re-evaluates after an edit.
    pub subjects: Vec<usize>,
    /// For each finding, the index (in the rules evaluated) of the rule that produced it.
    pub subject_rules: Vec<usize>,
    /// Work each rule did (graph-query steps and CEL steps, [`meshlint_diag::work`]),
    /// in rule order: the complexity test checks that it grows linearly with the input.
    pub rule_work: Vec<(String, u64)>,
    /// Work spent building the graph's indexes before the rules ran (counted on the
    /// evaluating thread; all of it when the evaluation runs on one): the complexity
    /// test checks it like a rule's, since it was a rule's share when indexes were
    /// built on first use.
    pub index_work: u64,
}

enum Outcome {
    Finding(usize, usize, Box<Finding>),
    RuleError(String, String),
}

/// Evaluates every rule on every resource it matches.
pub fn evaluate(rules: &[Rule], graph: Arc<MeshGraph>) -> Evaluation {
    evaluate_resources(rules, graph, None)
}

/// Evaluates every rule on the resources of `only` (indexes into the graph's resources;
/// all when `None`) that it matches. The language server re-evaluates the resources an
/// edit may affect this way; findings say which resource produced them (`subjects`).
pub fn evaluate_resources(
    rules: &[Rule],
    graph: Arc<MeshGraph>,
    only: Option<&[usize]>,
) -> Evaluation {
    evaluate_selected(rules, graph, only, &|_, _| true)
}

/// Like [`evaluate_resources`], evaluating on a resource only the rules `wanted`
/// (called with the resource's and the rule's index) accepts: the language server
/// re-runs after an edit every rule on the edited file's resources and, elsewhere,
/// only the rules whose dependencies the edit touched.
pub fn evaluate_selected(
    rules: &[Rule],
    graph: Arc<MeshGraph>,
    only: Option<&[usize]>,
    wanted_rule: &(dyn Fn(usize, usize) -> bool + Sync),
) -> Evaluation {
    let g: &MeshGraph = &graph;
    let wanted: Option<Vec<bool>> = only.map(|only| {
        let mut wanted = vec![false; g.resources.len()];
        for &i in only {
            if let Some(slot) = wanted.get_mut(i) {
                *slot = true;
            }
        }
        wanted
    });
    // Which rules apply depends only on a resource's kind and API group: one list per
    // (kind, group) class, shared by its resources (a list per resource took 7 MB on
    // the 2,000-namespace gen-mesh corpus, through the whole evaluation).
    let mut class_ids: HashMap<(&str, &str), usize> = HashMap::new();
    let mut classes: Vec<(&str, &str)> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let class_of: Vec<usize> = g
        .resources
        .iter()
        .enumerate()
        .map(|(res, r)| {
            let key = (&*r.id.kind, r.group());
            let class = *class_ids.entry(key).or_insert_with(|| {
                classes.push(key);
                members.push(Vec::new());
                classes.len() - 1
            });
            members[class].push(res);
            class
        })
        .collect();
    let mut rules_of_class: Vec<Vec<usize>> = vec![Vec::new(); classes.len()];
    let mut reached: Vec<&Rule> = Vec::new();
    for (ri, rule) in rules.iter().enumerate() {
        let mut hit = false;
        for kind in &rule.file.match_spec.kinds {
            // `*` matches every resource, whatever its kind.
            if kind == "*" {
                for slot in rules_of_class.iter_mut() {
                    slot.push(ri);
                }
                hit |= (0..g.resources.len()).any(|res| wanted_rule(res, ri));
                continue;
            }
            // `group/Kind` names a kind of one API group (custom resources).
            let (group, name) = match kind.split_once('/') {
                Some((g, k)) => (Some(g), k),
                None => (None, kind.as_str()),
            };
            for (class, &(class_kind, class_group)) in classes.iter().enumerate() {
                if class_kind != name || group.is_some_and(|want| want != class_group) {
                    continue;
                }
                rules_of_class[class].push(ri);
                hit |= members[class].iter().any(|&res| wanted_rule(res, ri));
            }
        }
        if hit {
            reached.push(rule);
        }
    }
    let rules_for = |res: usize| rules_of_class[class_of[res]].as_slice();
    // Compile the reached rules up front, in parallel, rather than have the first work
    // items queue behind the same rule's compilation.
    reached.par_iter().for_each(|r| {
        let _ = r.compiled();
    });
    // A whole-input run needs nearly every index: build them side by side first rather
    // than one at a time as rules first ask (see `MeshGraph::build_indexes`).
    let index_work = if only.is_none() && !reached.is_empty() {
        let before = meshlint_diag::work::so_far();
        g.build_indexes();
        meshlint_diag::work::so_far().wrapping_sub(before)
    } else {
        0
    };
    let profile = std::env::var_os("MESHLINT_PROFILE_RULES").is_some();
    let nanos: Vec<AtomicU64> = (0..rules.len()).map(|_| AtomicU64::new(0)).collect();
    let work_done: Vec<AtomicU64> = (0..rules.len()).map(|_| AtomicU64::new(0)).collect();
    let work: Vec<usize> = (0..g.resources.len())
        .filter(|&r| rules_for(r).iter().any(|&ri| wanted_rule(r, ri)))
        .filter(|&r| wanted.as_ref().is_none_or(|w| w[r]))
        .collect();
    let outcomes: Vec<Outcome> = work
        .par_iter()
        .with_min_len(16)
        .map_init(
            || (GraphHost::new(g), mesh_value(g)),
            |(host, mesh), &res| {
                let namespace = g
                    .namespace_resource(g.resources[res].namespace())
                    .map(|i| Val::from_node(&g.resources[i].node))
                    .unwrap_or(Val::Null);
                let mut scope = Scope::new();
                scope.push("mesh", mesh.clone());
                scope.push("closedWorld", Val::Bool(g.closed_world));
                scope.push("object", Val::from_node(&g.resources[res].node));
                scope.push("resource", resource_value(g, res));
                scope.push("namespaceObject", namespace);
                let mut out = Vec::new();
                for &ri in rules_for(res).iter().filter(|&&ri| wanted_rule(res, ri)) {
                    let started = profile.then(Instant::now);
                    let work_before = meshlint_diag::work::so_far();
                    let before = out.len();
                    run_rule(&rules[ri], g, res, &mut scope, &*host, &mut out);
                    for o in &mut out[before..] {
                        if let Outcome::Finding(_, rule, _) = o {
                            *rule = ri;
                        }
                    }
                    let spent = meshlint_diag::work::so_far().wrapping_sub(work_before);
                    work_done[ri].fetch_add(spent, Ordering::Relaxed);
                    if let Some(t) = started {
                        nanos[ri].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    }
                }
                out
            },
        )
        .flatten_iter()
        .collect();
    let mut eval = Evaluation {
        rule_work: rules
            .iter()
            .zip(&work_done)
            .map(|(r, w)| (r.id().to_string(), w.load(Ordering::Relaxed)))
            .collect(),
        index_work,
        ..Evaluation::default()
    };
    if profile {
        eval.rule_times = rules
            .iter()
            .zip(&nanos)
            .map(|(r, n)| {
                let spent = Duration::from_nanos(n.load(Ordering::Relaxed));
                (r.id().to_string(), spent)
            })
            .collect();
        eval.rule_times.sort_by_key(|t| std::cmp::Reverse(t.1));
    }
    for o in outcomes {
        match o {
            Outcome::Finding(subject, rule, f) => {
                eval.findings.push(*f);
                eval.subjects.push(subject);
                eval.subject_rules.push(rule);
            }
            Outcome::RuleError(id, msg) => {
                eval.rule_errors.entry(id).or_insert(msg);
            }
        }
    }
    eval
}

fn run_rule<'a>(
    rule: &'a Rule,
    g: &'a MeshGraph,
    res: usize,
    scope: &mut Scope<'a>,
    host: &dyn Host<'a>,
    out: &mut Vec<Outcome>,
) {
    let bug = |e: &dyn std::fmt::Display| {
        let e = e.to_string();
        // A spent budget stops this rule on this resource; the others go on.
        let what = if e.starts_with("evaluation budget exceeded") {
            "not evaluated on"
        } else {
            "runtime error on"
        };
        Outcome::RuleError(
            rule.id().to_string(),
            format!(
                "{} ({}): {what} {}: {e}",
                rule.id(),
                rule.origin,
                g.resources[res].id
            ),
        )
    };
    let c = match rule.compiled() {
        Ok(c) => c,
        Err(e) => {
            out.push(Outcome::RuleError(rule.id().to_string(), e.to_string()));
            return;
        }
    };
    let Some(program) = &c.for_each else {
        match check(c, scope, host) {
            Ok(true) => out.push(produce(rule, g, res, scope, host)),
            Ok(false) | Err(EvalError::NoSuchKey(_)) => {}
            Err(e) => out.push(bug(&e)),
        }
        return;
    };
    let items = match program.eval(scope, host) {
        Ok(Val::Null) | Err(EvalError::NoSuchKey(_)) => return,
        Ok(v) if v.is_list() => v.elements().unwrap_or_default(),
        Ok(other) => {
            out.push(bug(&format!(
                "for_each must give a list, got {}",
                other.type_name()
            )));
            return;
        }
        Err(e) => {
            out.push(bug(&e));
            return;
        }
    };
    let mark = scope.len();
    for (i, item) in items.into_iter().enumerate() {
        scope.push("item", item);
        scope.push("index", Val::Int(i as i64));
        let result = check(c, scope, host);
        match result {
            Ok(true) => out.push(produce(rule, g, res, scope, host)),
            Ok(false) | Err(EvalError::NoSuchKey(_)) => {}
            Err(e) => {
                out.push(bug(&e));
                scope.truncate(mark);
                break;
            }
        }
        scope.truncate(mark);
    }
}

fn check<'a>(
    c: &'a Compiled,
    scope: &mut Scope<'a>,
    host: &dyn Host<'a>,
) -> Result<bool, EvalError> {
    match &c.when {
        None => Ok(true),
        Some(p) => match p.eval(scope, host)? {
            Val::Bool(b) => Ok(b),
            Val::Null => Ok(false),
            other => Err(EvalError::Error(format!(
                "`when` must give a bool, got {}",
                other.type_name()
            ))),
        },
    }
}

fn produce<'a>(
    rule: &'a Rule,
    g: &'a MeshGraph,
    res: usize,
    scope: &mut Scope<'a>,
    host: &dyn Host<'a>,
) -> Outcome {
    let r = &g.resources[res];
    let c: &Reporting = match rule.reporting() {
        Ok(c) => c,
        Err(e) => return Outcome::RuleError(rule.id().to_string(), e.to_string()),
    };
    let message = match c.message.render(scope, host) {
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
            .and_then(|t| t.render(scope, host).ok())
            .unwrap_or_default();
    // The `at` path is parsed once, for the location and for the fingerprint's value.
    let segments = meshlint_load::PathSegment::parse_path(&path);
    let location = r.location_at(segments.as_deref());
    let mut severity = rule.severity;
    if let Some(p) = &c.severity_expression {
        if let Ok(Val::Str(s)) = p.eval(scope, host) {
            if let Some(sev) = Severity::parse(&s) {
                severity = sev;
            }
        }
    }
    let mut related = Vec::new();
    for (expr, template) in &c.related {
        let refs = match expr.eval(scope, host) {
            Ok(Val::Null) | Err(_) => Vec::new(),
            Ok(v) if v.is_list() => v.elements().unwrap_or_default(),
            Ok(v) => vec![v],
        };
        for rv in refs {
            let Some((idx, p)) = read_ref(&rv) else {
                continue;
            };
            let Some(target) = g.resources.get(idx) else {
                continue;
            };
            let mark = scope.len();
            scope.push("ref", rv);
            let message = template.render(scope, host).unwrap_or_default();
            scope.truncate(mark);
            related.push(Related {
                location: target.location_of(&p),
                message,
            });
        }
    }
    let fingerprint = {
        let value = segments
            .as_deref()
            .and_then(|segs| r.node.lookup(segs))
            .map(|(n, _)| n.as_str().unwrap_or("").to_string())
            .unwrap_or_default();
        Some(format!("{}|{}|{}", r.id, path, value))
    };
    let help = c.help.as_ref().and_then(|t| t.render(scope, host).ok());
    Outcome::Finding(
        res,
        0,
        Box::new(Finding {
            rule: rule.id().into(),
            rule_name: Some(rule.name().into()),
            severity,
            message,
            location,
            resource: Some(r.id.clone()),
            istio_code: rule.file.istio_code.as_deref().map(Into::into),
            related,
            help,
            fingerprint,
        }),
    )
}
