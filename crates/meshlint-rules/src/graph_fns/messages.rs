//! Message helpers: plural, quoted names, lists, display names, suggestions.
//!
//! Rule messages are sentences; these keep the grammar out of the rule files, so a
//! message reads `{{ plural(size(item.workloads), 'workload') }}` instead of a ternary.
//! None of them reads the graph.

use super::values::arg;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::{error, Val};
use meshlint_model::UNSET_NAMESPACE;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("plural", 2, plural),
    ("quoted", 1, quoted),
    ("names", 1, names),
    ("display", 1, display),
    ("displays", 1, displays),
    ("didYouMean", 1, did_you_mean),
    ("namesUpTo", 2, names_up_to),
];

/// `plural(n, word)`: "1 workload", "3 workloads", "2 policies", "0 classes".
fn plural<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let n = match arg("plural", a, 0)? {
        Val::Int(n) => *n,
        Val::UInt(n) => i64::try_from(*n).unwrap_or(i64::MAX),
        other => return error(format!("`plural` counts an int, not {other:?}")),
    };
    let Some(word) = a[1].as_str() else {
        return error("`plural` takes the singular word as its second argument");
    };
    Ok(Val::str(&format!("{n} {}", inflect(n, word))))
}

/// The word for `n` of them (English regular plurals; `words` for anything else).
pub(crate) fn inflect(n: i64, word: &str) -> String {
    if n == 1 || word.is_empty() {
        return word.to_string();
    }
    let lower = word.to_ascii_lowercase();
    let before_y = lower.chars().rev().nth(1);
    if lower.ends_with('y') && !matches!(before_y, Some('a' | 'e' | 'i' | 'o' | 'u')) {
        format!("{}ies", &word[..word.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

/// `quoted(x)`: the value in backticks, as messages show names and values.
fn quoted<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    Ok(Val::str(&format!("`{}`", text(arg("quoted", a, 0)?))))
}

/// `names(list)`: "`a`", "`a` and `b`", "`a`, `b` and `c`" (strings, or maps by `name`).
fn names<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let items = list("names", arg("names", a, 0)?)?;
    let quoted: Vec<String> = items.iter().map(quoted_name).collect();
    Ok(Val::str(&sentence_list(&quoted)))
}

/// An item of `names`/`namesUpTo` in backquotes: a map by its `name`, anything else as
/// its text.
fn quoted_name(v: &Val<'_>) -> String {
    match v.field("name") {
        Some(n) if v.is_map() => format!("`{}`", text(&n)),
        _ => format!("`{}`", text(v)),
    }
}

/// `display(ref)`: a resource as messages name it, "Kind `namespace/name`" (the namespace
/// left out when the inputs do not give one).
fn display<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    Ok(Val::str(&display_name(arg("display", a, 0)?)))
}

/// `displays(list)`: display names joined as in a sentence.
fn displays<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let items = list("displays", arg("displays", a, 0)?)?;
    let shown: Vec<String> = items.iter().map(display_name).collect();
    Ok(Val::str(&sentence_list(&shown)))
}

/// `didYouMean(candidates)`: "; did you mean `x`?" for the first candidate (a string or a
/// map with `name`), or the empty string when there is none.
fn did_you_mean<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let v = arg("didYouMean", a, 0)?;
    let first = match v {
        Val::Null => None,
        Val::Str(_) => Some(v.clone()),
        _ => list("didYouMean", v)?.into_iter().next(),
    };
    Ok(Val::str(&match first {
        Some(c) => {
            let name = match c.field("name") {
                Some(n) if c.is_map() => text(&n),
                _ => text(&c),
            };
            if name.is_empty() {
                String::new()
            } else {
                format!("; did you mean `{name}`?")
            }
        }
        None => String::new(),
    }))
}

/// `namesUpTo(list, n)`: `names` of at most `n` items, the rest counted:
/// "`a`, `b` and 3 more".
fn names_up_to<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let items = list("namesUpTo", arg("namesUpTo", a, 0)?)?;
    let Some(max) = a[1].as_int().and_then(|n| usize::try_from(n).ok()) else {
        return error("`namesUpTo` takes how many to name as its second argument");
    };
    let mut shown: Vec<String> = items.iter().take(max.max(1)).map(quoted_name).collect();
    if items.len() > shown.len() {
        shown.push(format!("{} more", items.len() - shown.len()));
    }
    Ok(Val::str(&sentence_list(&shown)))
}

fn list<'g>(name: &str, v: &Val<'g>) -> Result<Vec<Val<'g>>, meshlint_cel::EvalError> {
    match v.elements() {
        Some(items) => Ok(items),
        None if v.is_null() => Ok(Vec::new()),
        None => error(format!("`{name}` takes a list")),
    }
}

/// "Kind `namespace/name`" from a map with `kind`, `namespace` and `name`.
fn display_name(v: &Val) -> String {
    let field = |k: &str| v.field(k).map(|x| text(&x)).unwrap_or_default();
    let (kind, ns, name) = (field("kind"), field("namespace"), field("name"));
    let qualified = if ns.is_empty() || ns == UNSET_NAMESPACE {
        name
    } else {
        format!("{ns}/{name}")
    };
    if kind.is_empty() {
        format!("`{qualified}`")
    } else {
        format!("{kind} `{qualified}`")
    }
}

/// "a", "a and b", "a, b and c".
pub(crate) fn sentence_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A value as text: strings as they are, numbers and booleans printed.
fn text(v: &Val) -> String {
    match v {
        Val::Int(n) => n.to_string(),
        Val::UInt(n) => n.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Double(d) => d.to_string(),
        Val::Null => String::new(),
        other => other.as_str().map(str::to_string).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshlint_graph::MeshGraph;
    use meshlint_model::MeshConfig;

    fn run<'g>(h: &GraphHost<'g>, name: &str, args: &[Val<'g>]) -> String {
        let f = FUNCTIONS.iter().find(|(n, _, _)| *n == name).unwrap().2;
        f(h, args).unwrap().as_str().unwrap().to_string()
    }

    fn strs(items: &[&str]) -> Val<'static> {
        Val::list(items.iter().map(|s| Val::str(s)).collect())
    }

    #[test]
    fn helpers_read_as_sentences() {
        let g = MeshGraph::new(Vec::new(), MeshConfig::default(), false);
        let h = GraphHost::new(&g);
        assert_eq!(
            run(&h, "plural", &[Val::Int(1), Val::str("workload")]),
            "1 workload"
        );
        assert_eq!(
            run(&h, "plural", &[Val::Int(2), Val::str("policy")]),
            "2 policies"
        );
        assert_eq!(
            run(&h, "plural", &[Val::Int(0), Val::str("class")]),
            "0 classes"
        );
        assert_eq!(
            run(&h, "plural", &[Val::Int(3), Val::str("gateway")]),
            "3 gateways"
        );
        assert_eq!(run(&h, "quoted", &[Val::Int(8080)]), "`8080`");
        assert_eq!(run(&h, "names", &[strs(&[])]), "");
        assert_eq!(run(&h, "names", &[strs(&["a"])]), "`a`");
        assert_eq!(
            run(&h, "names", &[strs(&["a", "b", "c"])]),
            "`a`, `b` and `c`"
        );
        let gw = |ns: &str| {
            Val::map([
                ("kind", Val::str("Gateway")),
                ("namespace", Val::str(ns)),
                ("name", Val::str("public")),
            ])
        };
        assert_eq!(run(&h, "display", &[gw("edge")]), "Gateway `edge/public`");
        assert_eq!(
            run(&h, "display", &[gw(UNSET_NAMESPACE)]),
            "Gateway `public`"
        );
        assert_eq!(
            run(&h, "displays", &[Val::list(vec![gw("a"), gw("b")])]),
            "Gateway `a/public` and Gateway `b/public`"
        );
        assert_eq!(run(&h, "names", &[Val::list(vec![gw("a")])]), "`public`");
        assert_eq!(
            run(&h, "didYouMean", &[strs(&["istio-system"])]),
            "; did you mean `istio-system`?"
        );
        assert_eq!(run(&h, "didYouMean", &[strs(&[])]), "");
        assert_eq!(run(&h, "didYouMean", &[Val::str("")]), "");
        assert!(FUNCTIONS[0].2(&h, &[Val::str("x"), Val::str("y")]).is_err());
        let five = strs(&["a", "b", "c", "d", "e"]);
        assert_eq!(
            run(&h, "namesUpTo", &[five.clone(), Val::Int(4)]),
            "`a`, `b`, `c`, `d` and 1 more"
        );
        assert_eq!(
            run(&h, "namesUpTo", &[five, Val::Int(5)]),
            "`a`, `b`, `c`, `d` and `e`"
        );
    }
}
