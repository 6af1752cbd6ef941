//! The rule files are a catalogue over the graph's queries (issue 12): every graph
//! function is documented in `docs/rule-language.md`, and a built-in rule's CEL and
//! templates stay short.

use meshlint_rules::{RuleSet, GRAPH_FUNCTIONS};

/// Characters of a rule's logic: `when`, `for_each`, `message`, `messageExpression`,
/// `severityExpression`, `at` and `related` (expression and label).
fn logic_size(f: &meshlint_rules::RuleFile) -> usize {
    let opt = |s: &Option<String>| s.as_deref().map_or(0, str::len);
    opt(&f.when)
        + opt(&f.for_each)
        + opt(&f.message)
        + opt(&f.message_expression)
        + opt(&f.severity_expression)
        + opt(&f.at)
        + f.related
            .iter()
            .map(|r| r.expression.len() + r.message.len())
            .sum::<usize>()
}

/// Upper bounds that only go down: the median and the largest rule, in characters. The
/// goal of the catalogue is a median of 400 and no rule over 1,200.
const MEDIAN_AT_MOST: usize = 400;
const LARGEST_AT_MOST: usize = 1_200;

#[test]
fn builtin_rules_stay_short() {
    let set = RuleSet::builtin().expect("built-in rules parse");
    let mut sizes: Vec<(usize, String)> = set
        .rules
        .iter()
        .map(|r| (logic_size(&r.file), r.file.id.clone()))
        .collect();
    sizes.sort();
    let median = sizes[sizes.len() / 2].0;
    let (largest, largest_id) = sizes.last().cloned().expect("rules exist");
    let report: Vec<String> = sizes
        .iter()
        .rev()
        .take(10)
        .map(|(n, id)| format!("{id} {n}"))
        .collect();
    assert!(
        median <= MEDIAN_AT_MOST,
        "median rule size {median} > {MEDIAN_AT_MOST}; largest: {}",
        report.join(", ")
    );
    assert!(
        largest <= LARGEST_AT_MOST,
        "{largest_id} has {largest} characters of logic (at most {LARGEST_AT_MOST})"
    );
}

#[test]
fn every_graph_function_is_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rule-language.md");
    let doc = std::fs::read_to_string(path).expect("docs/rule-language.md");
    let missing: Vec<&str> = GRAPH_FUNCTIONS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !doc.contains(&format!("## {n}(")))
        .collect();
    assert!(
        missing.is_empty(),
        "undocumented graph functions: {missing:?}"
    );
}
