//! The reference rules' answers (graph `reference_answers.rs`) as rule values: Service
//! ports without a declared protocol, `gateways` entries naming no Gateway, subsets
//! selecting no workload.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("undeclaredProtocolPorts", 1, undeclared_protocol_ports),
    ("missingGateways", 1, missing_gateways),
    ("emptySubsets", 1, empty_subsets),
];

/// `undeclaredProtocolPorts(service)`: `{index, name, port, at}` per port whose protocol
/// Istio has to guess (`name` is null for an unnamed port; `at` is its name, else its
/// number).
fn undeclared_protocol_ports<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(svc) = resource_index(g, arg("undeclaredProtocolPorts", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.undeclared_protocol_ports(svc)
            .into_iter()
            .map(|p| {
                let field = if p.name.is_some() { "name" } else { "port" };
                Val::map([
                    ("index", usize_int(p.index)),
                    ("name", opt_str(p.name.as_deref())),
                    ("port", int(p.number)),
                    ("at", Val::str(&format!("spec.ports[{}].{field}", p.index))),
                ])
            })
            .collect(),
    ))
}

/// `missingGateways(virtualService)`: `{index, namespace, name, certain, suggestions,
/// similar}` per `gateways` entry naming no Gateway: `suggestions` are `namespace/name`
/// texts to write instead (best first), `similar` references to the Gateways behind them.
fn missing_gateways<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(vs) = resource_index(g, arg("missingGateways", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.missing_gateways(vs)
            .into_iter()
            .map(|m| {
                let l = &m.lookup;
                let mut suggestions: Vec<String> = l
                    .same_name_elsewhere
                    .iter()
                    .map(|&x| format!("{}/{}", g.resources[x].namespace(), l.name))
                    .collect();
                suggestions.extend(
                    l.near_name
                        .map(|x| format!("{}/{}", l.namespace, g.resources[x].name())),
                );
                suggestions.extend(
                    l.namespace_suggestion
                        .as_ref()
                        .map(|ns| format!("{ns}/{}", l.name)),
                );
                let similar = l
                    .same_name_elsewhere
                    .iter()
                    .chain(&l.near_name)
                    .map(|&x| name_ref(g, x))
                    .collect();
                Val::map([
                    ("index", usize_int(m.index)),
                    ("namespace", Val::str(&l.namespace)),
                    ("name", Val::str(&l.name)),
                    ("certain", Val::Bool(l.certain)),
                    ("suggestions", str_list(&suggestions)),
                    ("similar", Val::list(similar)),
                ])
            })
            .collect(),
    ))
}

/// `emptySubsets(destinationRule)`: `{index, name, routed, workloads}` per subset whose
/// labels select no workload behind the host (`workloads`: references to those there).
fn empty_subsets<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(dr) = resource_index(g, arg("emptySubsets", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    let (workloads, subsets) = g.subsets_selecting_nothing(dr);
    let refs = Val::list(workloads.iter().map(|&w| name_ref(g, w)).collect());
    Ok(Val::list(
        subsets
            .into_iter()
            .map(|s| {
                Val::map([
                    ("index", usize_int(s.index)),
                    ("name", Val::str(&s.name)),
                    ("routed", Val::Bool(s.routed)),
                    ("workloads", refs.clone()),
                ])
            })
            .collect(),
    ))
}
