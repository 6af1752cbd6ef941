//! The interpreter: a tree walk over the checked expression.

use crate::parse::{BinOp, CompKind, Expr, Func, Lit, Program};
use crate::stdlib;
use crate::value::{compare, error, same_name, EvalError, Str, Val};
use std::cmp::Ordering;

/// Functions the embedding crate supplies (the graph functions of rule files), called
/// by their position in the table given to [`crate::compile`].
pub trait Host<'a> {
    fn call(&self, function: usize, args: &[Val<'a>]) -> Result<Val<'a>, EvalError>;
}

/// A host without functions, for expressions that call none.
pub struct NoHost;

impl<'a> Host<'a> for NoHost {
    fn call(&self, function: usize, _args: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
        Err(EvalError::Error(format!("no host function #{function}")))
    }
}

/// What one evaluation ([`Program::eval`]) may spend before it is stopped with
/// [`EvalError::Budget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Expression nodes evaluated (comprehension bodies count once per element).
    pub steps: u64,
    /// List elements, map entries and string bytes built, in total.
    pub built: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            steps: 5_000_000,
            built: 4_000_000,
        }
    }
}

/// Variables visible to an evaluation, innermost last, and its budget.
#[derive(Default, Clone)]
pub struct Scope<'a> {
    vars: Vec<(&'a str, Val<'a>)>,
    budget: Budget,
    steps: u64,
    built: u64,
    depth: usize,
}

/// The deepest an evaluation may recurse (the parser keeps trees shallower than this).
const MAX_EVAL_DEPTH: usize = 1_500;

impl<'a> Scope<'a> {
    pub fn new() -> Self {
        Scope::default()
    }

    /// Replaces the default budget of each evaluation.
    pub fn set_budget(&mut self, budget: Budget) {
        self.budget = budget;
    }

    fn step(&mut self) -> Result<(), EvalError> {
        self.steps += 1;
        if self.steps > self.budget.steps {
            return Err(EvalError::Budget(format!(
                "more than {} evaluation steps",
                self.budget.steps
            )));
        }
        Ok(())
    }

    /// Charges `n` elements or bytes about to be built.
    fn build(&mut self, n: u64) -> Result<(), EvalError> {
        self.built = self.built.saturating_add(n);
        if self.built > self.budget.built {
            return Err(EvalError::Budget(format!(
                "builds more than {} list elements, map entries or string bytes",
                self.budget.built
            )));
        }
        Ok(())
    }

    fn charge(&mut self, v: &Val<'_>) -> Result<(), EvalError> {
        match v {
            Val::Str(Str::Shared(s)) => self.build(s.len() as u64),
            Val::List(l) => self.build(l.len() as u64),
            Val::Map(m) => self.build(m.len() as u64),
            _ => Ok(()),
        }
    }

    /// Binds `name` (shadowing an outer binding) until [`Scope::truncate`].
    pub fn push(&mut self, name: &'a str, value: Val<'a>) {
        self.vars.push((name, value));
    }

    pub fn len(&self) -> usize {
        self.vars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    pub fn truncate(&mut self, len: usize) {
        self.vars.truncate(len);
    }

    pub fn lookup(&self, name: &str) -> Option<&Val<'a>> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| same_name(n, name))
            .map(|(_, v)| v)
    }
}

impl Program {
    /// Evaluates the expression with the variables of `scope`.
    pub fn eval<'a>(
        &'a self,
        scope: &mut Scope<'a>,
        host: &dyn Host<'a>,
    ) -> Result<Val<'a>, EvalError> {
        scope.steps = 0;
        scope.built = 0;
        scope.depth = 0;
        let result = eval(&self.expr, scope, host);
        // The complexity test counts the interpreter's steps with the graph's work.
        meshlint_diag::work::add(scope.steps);
        result
    }
}

fn as_bool(v: Result<Val<'_>, EvalError>, what: &str) -> Result<bool, EvalError> {
    match v? {
        Val::Bool(b) => Ok(b),
        other => error(format!("{what} needs a bool, got {}", other.type_name())),
    }
}

fn eval<'a>(e: &'a Expr, scope: &mut Scope<'a>, host: &dyn Host<'a>) -> Result<Val<'a>, EvalError> {
    scope.step()?;
    if scope.depth >= MAX_EVAL_DEPTH {
        return Err(EvalError::Budget(format!(
            "nests deeper than {MAX_EVAL_DEPTH} levels"
        )));
    }
    scope.depth += 1;
    let result = eval_node(e, scope, host);
    scope.depth -= 1;
    result
}

fn eval_node<'a>(
    e: &'a Expr,
    scope: &mut Scope<'a>,
    host: &dyn Host<'a>,
) -> Result<Val<'a>, EvalError> {
    match e {
        Expr::Lit(l) => Ok(match l {
            Lit::Null => Val::Null,
            Lit::Bool(b) => Val::Bool(*b),
            Lit::Int(i) => Val::Int(*i),
            Lit::UInt(u) => Val::UInt(*u),
            Lit::Double(d) => Val::Double(*d),
            Lit::Str(s) => Val::Str(Str::Borrowed(s)),
            Lit::Bytes(b) => Val::Bytes(std::rc::Rc::from(&b[..])),
        }),
        Expr::Ident(name) => match scope.lookup(name) {
            Some(v) => Ok(v.clone()),
            None => match type_ident(name) {
                Some(t) => Ok(Val::Type(t)),
                None => error(format!("undeclared variable `{name}`")),
            },
        },
        Expr::Unbound(name) => error(format!("no such function `{name}`")),
        Expr::Select(operand, field) => {
            // Nearly every selection starts from a variable (`resource.ref`, `s.mode`):
            // that is checked first, without the allocations the dotted names below need.
            if !root_is_bound(operand, scope) {
                // `net.IP`: a qualified type name, unless `net` is a variable.
                if let Expr::Ident(ns) = &**operand {
                    if let Some(t) = type_ident(&format!("{ns}.{field}")) {
                        return Ok(Val::Type(t));
                    }
                }
                // `a.b.c` where the root is no variable: the longest dotted name bound
                // (`a.b.c`, else `a.b` then `.c`).
                if let Some(v) = qualified(e, scope)? {
                    return Ok(v);
                }
            }
            let v = eval(operand, scope, host)?;
            match v {
                // Selecting through an optional keeps it optional.
                Val::Opt(o) => opt_select(o.as_deref(), field),
                v => select(&v, field),
            }
        }
        Expr::OptSelect(operand, field) => {
            let v = eval(operand, scope, host)?;
            match v {
                Val::Opt(o) => opt_select(o.as_deref(), field),
                v => opt_select(Some(&v), field),
            }
        }
        Expr::Has(operand, field) => {
            let v = eval(operand, scope, host)?;
            Ok(Val::Bool(match v {
                Val::Opt(None) => false,
                Val::Opt(Some(inner)) => inner.field(field).is_some(),
                v => v.field(field).is_some(),
            }))
        }
        Expr::Index(operand, index) => {
            let v = eval(operand, scope, host)?;
            let i = eval(index, scope, host)?;
            match v {
                Val::Opt(o) => opt_index(o.as_deref(), &i),
                v => index_into(&v, &i),
            }
        }
        Expr::OptIndex(operand, index) => {
            let v = eval(operand, scope, host)?;
            let i = eval(index, scope, host)?;
            match v {
                Val::Opt(o) => opt_index(o.as_deref(), &i),
                v => opt_index(Some(&v), &i),
            }
        }
        Expr::OptElem(_) => error("`?` marks only list elements and map keys"),
        Expr::OptMap {
            flat,
            target,
            var,
            body,
        } => match eval(target, scope, host)? {
            Val::Opt(None) => Ok(Val::Opt(None)),
            Val::Opt(Some(inner)) => {
                let mark = scope.len();
                scope.push(var, (*inner).clone());
                let result = eval(body, scope, host);
                scope.truncate(mark);
                let v = result?;
                match (flat, v) {
                    (true, v @ Val::Opt(_)) => Ok(v),
                    (true, v) => error(format!(
                        "`optFlatMap` needs an optional, got {}",
                        v.type_name()
                    )),
                    (false, v) => Ok(Val::Opt(Some(std::rc::Rc::new(v)))),
                }
            }
            other => error(format!("`optMap` is not defined for {}", other.type_name())),
        },
        Expr::Call(func, args) => {
            // Arguments go in an array on the stack when there are at most three (nearly
            // every call): a vector cost an allocation per call.
            match &args[..] {
                [] => call(func, &[], scope, host),
                [a] => {
                    let values = [eval(a, scope, host)?];
                    call(func, &values, scope, host)
                }
                [a, b] => {
                    let values = [eval(a, scope, host)?, eval(b, scope, host)?];
                    call(func, &values, scope, host)
                }
                [a, b, c] => {
                    let values = [
                        eval(a, scope, host)?,
                        eval(b, scope, host)?,
                        eval(c, scope, host)?,
                    ];
                    call(func, &values, scope, host)
                }
                _ => {
                    let mut values = Vec::with_capacity(args.len());
                    for a in args {
                        values.push(eval(a, scope, host)?);
                    }
                    call(func, &values, scope, host)
                }
            }
        }
        Expr::List(items) => {
            scope.build(items.len() as u64)?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Expr::OptElem(inner) = item {
                    match eval(inner, scope, host)? {
                        Val::Opt(Some(v)) => out.push((*v).clone()),
                        Val::Opt(None) => {}
                        v => return error(format!("`?` needs an optional, got {}", v.type_name())),
                    }
                    continue;
                }
                out.push(eval(item, scope, host)?);
            }
            Ok(Val::list(out))
        }
        Expr::Map(entries) => {
            let mut out: Vec<(Val<'a>, Val<'a>)> = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let (k, optional) = match k {
                    Expr::OptElem(inner) => (eval(inner, scope, host)?, true),
                    k => (eval(k, scope, host)?, false),
                };
                let v = match (optional, eval(v, scope, host)?) {
                    (false, v) => v,
                    (true, Val::Opt(Some(v))) => (*v).clone(),
                    (true, Val::Opt(None)) => continue,
                    (true, v) => {
                        return error(format!(
                            "`?` needs an optional value, got {}",
                            v.type_name()
                        ))
                    }
                };
                if !matches!(k, Val::Str(_) | Val::Int(_) | Val::UInt(_) | Val::Bool(_)) {
                    return error(format!("a map key cannot be a {}", k.type_name()));
                }
                if out.iter().any(|(x, _)| *x == k) {
                    return error(format!("duplicate key {k:?} in map literal"));
                }
                out.push((k, v));
            }
            Ok(Val::Map(std::rc::Rc::new(out)))
        }
        Expr::Not(x) => Ok(Val::Bool(!as_bool(eval(x, scope, host), "`!`")?)),
        Expr::Neg(x) => match eval(x, scope, host)? {
            Val::Int(i) => i
                .checked_neg()
                .map(Val::Int)
                .map_or_else(|| error("int overflow"), Ok),
            Val::Double(d) => Ok(Val::Double(-d)),
            other => error(format!("cannot negate a {}", other.type_name())),
        },
        Expr::And(l, r) => {
            // Commutative over errors, as CEL specifies: `error && false` is false.
            let left = as_bool(eval(l, scope, host), "`&&`");
            if left == Ok(false) {
                return Ok(Val::Bool(false));
            }
            let right = as_bool(eval(r, scope, host), "`&&`");
            match (left, right) {
                (Err(e @ EvalError::Budget(_)), _) | (_, Err(e @ EvalError::Budget(_))) => Err(e),
                (Ok(true), right) => right.map(Val::Bool),
                (Err(_), Ok(false)) => Ok(Val::Bool(false)),
                (Err(e), _) => Err(e),
                (Ok(false), _) => Ok(Val::Bool(false)),
            }
        }
        Expr::Or(l, r) => {
            let left = as_bool(eval(l, scope, host), "`||`");
            if left == Ok(true) {
                return Ok(Val::Bool(true));
            }
            let right = as_bool(eval(r, scope, host), "`||`");
            match (left, right) {
                (Err(e @ EvalError::Budget(_)), _) | (_, Err(e @ EvalError::Budget(_))) => Err(e),
                (Ok(false), right) => right.map(Val::Bool),
                (Err(_), Ok(true)) => Ok(Val::Bool(true)),
                (Err(e), _) => Err(e),
                (Ok(true), _) => Ok(Val::Bool(true)),
            }
        }
        Expr::Cond(c, then, otherwise) => {
            if as_bool(eval(c, scope, host), "`? :`")? {
                eval(then, scope, host)
            } else {
                eval(otherwise, scope, host)
            }
        }
        Expr::Bin(op, l, r) => {
            let left = eval(l, scope, host)?;
            let right = eval(r, scope, host)?;
            if *op == BinOp::Add {
                let size = |v: &Val<'_>| match v {
                    Val::Str(s) => s.len() as u64,
                    Val::Bytes(b) => b.len() as u64,
                    _ => v.container_len().unwrap_or(0) as u64,
                };
                if matches!(left, Val::Str(_) | Val::Bytes(_)) || left.is_list() {
                    scope.build(size(&left) + size(&right))?;
                }
            }
            binary(*op, &left, &right)
        }
        Expr::Block(slots, body) => {
            let mark = scope.len();
            for (name, e) in slots {
                match eval(e, scope, host) {
                    Ok(v) => scope.push(name, v),
                    Err(err) => {
                        scope.truncate(mark);
                        return Err(err);
                    }
                }
            }
            let result = eval(body, scope, host);
            scope.truncate(mark);
            result
        }
        Expr::Bind(var, init, body) => {
            let value = eval(init, scope, host)?;
            let mark = scope.len();
            scope.push(var, value);
            let result = eval(body, scope, host);
            scope.truncate(mark);
            result
        }
        Expr::Comp {
            kind,
            range,
            var,
            var2,
            filter,
            body,
        } => {
            let range = eval(range, scope, host)?;
            let items: Option<Vec<(Val<'a>, Option<Val<'a>>)>> = match (var2, &range) {
                // A built list is read in place, not copied first by `elements`.
                (None, Val::List(l)) => Some(l.iter().map(|v| (v.clone(), None)).collect()),
                (None, _) => range
                    .elements()
                    .map(|e| e.into_iter().map(|v| (v, None)).collect()),
                (Some(_), _) if range.is_map() => range
                    .entries()
                    .map(|e| e.into_iter().map(|(k, v)| (k, Some(v))).collect()),
                (Some(_), _) => range.elements().map(|e| {
                    e.into_iter()
                        .enumerate()
                        .map(|(i, v)| (Val::Int(i as i64), Some(v)))
                        .collect()
                }),
            };
            let Some(items) = items else {
                return error(format!(
                    "cannot iterate over a {} (macros need a list or a map)",
                    range.type_name()
                ));
            };
            let vars = (&**var, var2.as_deref());
            comprehension(*kind, items, vars, filter.as_deref(), body, scope, host)
        }
    }
}

/// Calls a function with its evaluated arguments.
fn call<'a>(
    func: &Func,
    values: &[Val<'a>],
    scope: &mut Scope<'a>,
    host: &dyn Host<'a>,
) -> Result<Val<'a>, EvalError> {
    let result = match func {
        Func::Std(i) => {
            // Refuse what would be built before building it.
            if stdlib::name(*i) == "lists.range" {
                if let Some(Val::Int(n)) = values.first() {
                    scope.build((*n).max(0) as u64)?;
                }
            }
            stdlib::call(*i, values).map_err(|e| match e {
                EvalError::Error(m) if !m.contains('`') => {
                    EvalError::Error(format!("`{}`: {m}", stdlib::name(*i)))
                }
                other => other,
            })?
        }
        Func::Host(i) => host.call(*i, values)?,
    };
    if matches!(func, Func::Std(_)) {
        scope.charge(&result)?;
    }
    Ok(result)
}

fn comprehension<'a>(
    kind: CompKind,
    items: Vec<(Val<'a>, Option<Val<'a>>)>,
    (var, var2): (&'a str, Option<&'a str>),
    filter: Option<&'a Expr>,
    body: &'a Expr,
    scope: &mut Scope<'a>,
    host: &dyn Host<'a>,
) -> Result<Val<'a>, EvalError> {
    let mark = scope.len();
    let mut result = Ok(());
    let mut pending: Option<EvalError> = None;
    let mut count = 0usize;
    let mut out = Vec::new();
    let mut out_map = Vec::new();
    for (item, second) in items {
        scope.truncate(mark);
        scope.push(var, item.clone());
        let filter_item = match (&second, var2) {
            (Some(v), Some(name)) => {
                scope.push(name, v.clone());
                v.clone()
            }
            _ => item.clone(),
        };
        match kind {
            CompKind::All | CompKind::Exists => {
                let what = if kind == CompKind::All {
                    "`all`"
                } else {
                    "`exists`"
                };
                match as_bool(eval(body, scope, host), what) {
                    Ok(b) if b == (kind == CompKind::Exists) => {
                        scope.truncate(mark);
                        return Ok(Val::Bool(b));
                    }
                    Ok(_) => {}
                    // A spent budget ends the comprehension.
                    Err(e @ EvalError::Budget(_)) => {
                        result = Err(e);
                        break;
                    }
                    // Another element may still decide the result (CEL's error absorption).
                    Err(e) => {
                        pending.get_or_insert(e);
                    }
                }
            }
            CompKind::ExistsOne => match as_bool(eval(body, scope, host), "`exists_one`") {
                Ok(true) => count += 1,
                Ok(false) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            },
            CompKind::Filter => match as_bool(eval(body, scope, host), "`filter`") {
                Ok(true) => {
                    if let Err(e) = scope.build(1) {
                        result = Err(e);
                        break;
                    }
                    out.push(filter_item)
                }
                Ok(false) => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            },
            CompKind::Map | CompKind::TransformMap => {
                if let Some(f) = filter {
                    match as_bool(eval(f, scope, host), "`map` filter") {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                if let Err(e) = scope.build(1) {
                    result = Err(e);
                    break;
                }
                match eval(body, scope, host) {
                    Ok(v) if kind == CompKind::TransformMap => out_map.push((item, v)),
                    Ok(v) => out.push(v),
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
    }
    scope.truncate(mark);
    result?;
    match kind {
        CompKind::All | CompKind::Exists => match pending {
            Some(e) => Err(e),
            None => Ok(Val::Bool(kind == CompKind::All)),
        },
        CompKind::ExistsOne => Ok(Val::Bool(count == 1)),
        CompKind::Filter | CompKind::Map => Ok(Val::list(out)),
        CompKind::TransformMap => Ok(Val::Map(std::rc::Rc::new(out_map))),
    }
}

/// Whether a chain of selections (`a.b.c`) starts from a bound variable, or from
/// anything other than an identifier (a call, a literal): then it is evaluated as
/// written, without trying dotted variable names.
fn root_is_bound(e: &Expr, scope: &Scope<'_>) -> bool {
    let mut cur = e;
    loop {
        match cur {
            Expr::Select(inner, _) => cur = inner,
            Expr::Ident(root) => return scope.lookup(root).is_some(),
            _ => return true,
        }
    }
}

/// Resolves a chain of selections on an unbound identifier against dotted variable
/// names, longest first; `None` when the chain's root is bound or is not an identifier.
fn qualified<'a>(e: &'a Expr, scope: &Scope<'a>) -> Result<Option<Val<'a>>, EvalError> {
    let mut parts: Vec<&str> = Vec::new();
    let mut cur = e;
    loop {
        match cur {
            Expr::Select(inner, field) => {
                parts.push(field);
                cur = inner;
            }
            Expr::Ident(root) => {
                if scope.lookup(root).is_some() {
                    return Ok(None);
                }
                parts.push(root);
                break;
            }
            _ => return Ok(None),
        }
    }
    parts.reverse();
    for k in (2..=parts.len()).rev() {
        if let Some(v) = scope.lookup(&parts[..k].join(".")) {
            let mut v = v.clone();
            for field in &parts[k..] {
                v = select(&v, field)?;
            }
            return Ok(Some(v));
        }
    }
    Ok(None)
}

fn opt_select<'a>(v: Option<&Val<'a>>, field: &str) -> Result<Val<'a>, EvalError> {
    match v {
        None => Ok(Val::Opt(None)),
        Some(v) if v.is_map() => Ok(Val::Opt(v.field(field).map(std::rc::Rc::new))),
        Some(v) => select(v, field).map(|x| Val::Opt(Some(std::rc::Rc::new(x)))),
    }
}

fn opt_index<'a>(v: Option<&Val<'a>>, i: &Val<'a>) -> Result<Val<'a>, EvalError> {
    match v {
        None => Ok(Val::Opt(None)),
        Some(v) if v.is_map() => Ok(Val::Opt(v.get(i).map(std::rc::Rc::new))),
        Some(v) if v.is_list() => Ok(Val::Opt(index_into(v, i).ok().map(std::rc::Rc::new))),
        Some(v) => index_into(v, i).map(|x| Val::Opt(Some(std::rc::Rc::new(x)))),
    }
}

fn select<'a>(v: &Val<'a>, field: &str) -> Result<Val<'a>, EvalError> {
    if v.is_map() {
        return v
            .field(field)
            .map_or_else(|| Err(EvalError::NoSuchKey(field.to_string())), Ok);
    }
    match v {
        // An absent parent (`spec:` left empty) reads as absent, not as a rule bug.
        Val::Null => Err(EvalError::NoSuchKey(field.to_string())),
        other => error(format!(
            "cannot select field `{field}` of a {}",
            other.type_name()
        )),
    }
}

fn index_into<'a>(v: &Val<'a>, i: &Val<'a>) -> Result<Val<'a>, EvalError> {
    if v.is_list() {
        let n = match i {
            Val::Double(d) if d.fract() == 0.0 => Some(*d as i64),
            other => other.as_int(),
        };
        let Some(n) = n else {
            return error(format!(
                "a list index must be an int, got {}",
                i.type_name()
            ));
        };
        let len = v.container_len().unwrap_or(0);
        return usize::try_from(n)
            .ok()
            .and_then(|n| v.index(n))
            .map_or_else(
                || error(format!("index {n} out of range for a list of {len}")),
                Ok,
            );
    }
    if v.is_map() {
        return v
            .get(i)
            .map_or_else(|| Err(EvalError::NoSuchKey(i.display())), Ok);
    }
    match v {
        Val::Null => Err(EvalError::NoSuchKey(i.display())),
        other => error(format!("cannot index a {}", other.type_name())),
    }
}

/// The type names an expression may use as values (`type(x) == string`).
fn type_ident(name: &str) -> Option<&'static str> {
    [
        "int",
        "uint",
        "double",
        "bool",
        "string",
        "bytes",
        "list",
        "map",
        "null_type",
        "type",
        "google.protobuf.Duration",
        "google.protobuf.Timestamp",
        "optional_type",
        "net.IP",
        "net.CIDR",
    ]
    .into_iter()
    .find(|t| *t == name)
}

fn binary<'a>(op: BinOp, l: &Val<'a>, r: &Val<'a>) -> Result<Val<'a>, EvalError> {
    use Val::*;
    let order = |want: fn(Ordering) -> bool| match compare(l, r) {
        Some(o) => Ok(Bool(want(o))),
        None => error(format!(
            "cannot compare {} with {}",
            l.type_name(),
            r.type_name()
        )),
    };
    let mismatch = |sym: &str| {
        error(format!(
            "`{sym}` is not defined for {} and {}",
            l.type_name(),
            r.type_name()
        ))
    };
    let overflow = || error("integer overflow");
    match op {
        BinOp::Eq => Ok(Bool(l == r)),
        BinOp::Ne => Ok(Bool(l != r)),
        BinOp::Lt => order(|o| o == Ordering::Less),
        BinOp::Le => order(|o| o != Ordering::Greater),
        BinOp::Gt => order(|o| o == Ordering::Greater),
        BinOp::Ge => order(|o| o != Ordering::Less),
        BinOp::In => {
            if r.is_list() {
                let n = r.container_len().unwrap_or(0);
                Ok(Bool((0..n).any(|i| r.index(i).as_ref() == Some(l))))
            } else if r.is_map() {
                Ok(Bool(r.has_key(l)))
            } else {
                mismatch("in")
            }
        }
        BinOp::Add => match (l, r) {
            (Int(a), Int(b)) => a.checked_add(*b).map(Int).map_or_else(overflow, Ok),
            (UInt(a), UInt(b)) => a.checked_add(*b).map(UInt).map_or_else(overflow, Ok),
            (Double(a), Double(b)) => Ok(Double(a + b)),
            (Duration(a), Duration(b)) => a.checked_add(*b).map(Duration).map_or_else(overflow, Ok),
            (Timestamp(s, n), Duration(d)) | (Duration(d), Timestamp(s, n)) => {
                crate::time::shift(*s, *n, *d, 1)
            }
            (Bytes(a), Bytes(b)) => Ok(Bytes(a.iter().chain(b.iter()).copied().collect())),
            (Str(a), Str(b)) => {
                let mut s = String::with_capacity(a.len() + b.len());
                s.push_str(a);
                s.push_str(b);
                Ok(Val::str(&s))
            }
            _ if l.is_list() && r.is_list() => {
                let mut items = l.elements().unwrap_or_default();
                items.extend(r.elements().unwrap_or_default());
                Ok(Val::list(items))
            }
            _ => mismatch("+"),
        },
        BinOp::Sub => match (l, r) {
            (Int(a), Int(b)) => a.checked_sub(*b).map(Int).map_or_else(overflow, Ok),
            (UInt(a), UInt(b)) => a.checked_sub(*b).map(UInt).map_or_else(overflow, Ok),
            (Double(a), Double(b)) => Ok(Double(a - b)),
            (Duration(a), Duration(b)) => a.checked_sub(*b).map(Duration).map_or_else(overflow, Ok),
            (Timestamp(s, n), Duration(d)) => crate::time::shift(*s, *n, *d, -1),
            (Timestamp(s, n), Timestamp(t, m)) => crate::time::between((*s, *n), (*t, *m)),
            _ => mismatch("-"),
        },
        BinOp::Mul => match (l, r) {
            (Int(a), Int(b)) => a.checked_mul(*b).map(Int).map_or_else(overflow, Ok),
            (UInt(a), UInt(b)) => a.checked_mul(*b).map(UInt).map_or_else(overflow, Ok),
            (Double(a), Double(b)) => Ok(Double(a * b)),
            _ => mismatch("*"),
        },
        BinOp::Div => match (l, r) {
            (Int(_), Int(0)) | (UInt(_), UInt(0)) => error("division by zero"),
            (Int(a), Int(b)) => a.checked_div(*b).map(Int).map_or_else(overflow, Ok),
            (UInt(a), UInt(b)) => Ok(UInt(a / b)),
            (Double(a), Double(b)) => Ok(Double(a / b)),
            _ => mismatch("/"),
        },
        BinOp::Rem => match (l, r) {
            (Int(_), Int(0)) | (UInt(_), UInt(0)) => error("modulus by zero"),
            (Int(a), Int(b)) => a.checked_rem(*b).map(Int).map_or_else(overflow, Ok),
            (UInt(a), UInt(b)) => Ok(UInt(a % b)),
            _ => mismatch("%"),
        },
    }
}
