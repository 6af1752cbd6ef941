//! Parsing CEL into a checked tree: macros expanded, every function call resolved to a
//! standard-library or host function with its number of arguments checked.

use crate::lex::{lex, Tok, Token};
use crate::stdlib;
use std::fmt;

/// A compiled expression. Immutable and shareable between threads.
#[derive(Debug)]
pub struct Program {
    pub(crate) expr: Expr,
}

/// Why an expression was refused, with the byte offset in its source.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub message: String,
    pub offset: usize,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CompileError {}

#[derive(Debug, Clone)]
pub(crate) enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Double(f64),
    Str(Box<str>),
    Bytes(Box<[u8]>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum CompKind {
    All,
    Exists,
    ExistsOne,
    Map,
    Filter,
    /// `m.transformMap(k, v, [p,] e)`: a map from each kept key to `e`.
    TransformMap,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Func {
    /// Index into the standard library table.
    Std(usize),
    /// Index into the host's table.
    Host(usize),
}

#[derive(Debug)]
pub(crate) enum Expr {
    Lit(Lit),
    Ident(Box<str>),
    Select(Box<Expr>, Box<str>),
    Has(Box<Expr>, Box<str>),
    Index(Box<Expr>, Box<Expr>),
    /// A call; for method calls the receiver is the first argument.
    Call(Func, Vec<Expr>),
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `a.?b`: an optional of the field (none when absent).
    OptSelect(Box<Expr>, Box<str>),
    /// `a[?i]`: an optional of the element or entry.
    OptIndex(Box<Expr>, Box<Expr>),
    /// `?e` as a list element or map key: kept only when the optional `e` (or the
    /// entry's value) has a value.
    OptElem(Box<Expr>),
    /// `o.optMap(x, e)` (`flat`: `o.optFlatMap(x, e)`).
    OptMap {
        flat: bool,
        target: Box<Expr>,
        var: Box<str>,
        body: Box<Expr>,
    },
    /// A call of a function nobody defines, in an unchecked program: an error when
    /// evaluated (so `f() || true` is true, as CEL specifies for unchecked evaluation).
    Unbound(Box<str>),
    /// `cel.bind(var, init, body)`: `body` with `var` bound to `init`.
    Bind(Box<str>, Box<Expr>, Box<Expr>),
    /// `cel.block([e0, e1, …], body)`: `body` with `cel.index(i)` bound to `ei`, each
    /// slot seeing the earlier ones.
    Block(Vec<(Box<str>, Expr)>, Box<Expr>),
    Comp {
        kind: CompKind,
        range: Box<Expr>,
        var: Box<str>,
        /// The second variable of a two-variable comprehension (`all(i, v, p)`): the
        /// first is then the index (lists) or key (maps), this one the element or value.
        var2: Option<Box<str>>,
        /// The predicate of a three-argument `map(x, p, e)`.
        filter: Option<Box<Expr>>,
        body: Box<Expr>,
    },
}

/// Parses and checks `source`; `host` lists the host functions (name, arity) in the
/// order [`crate::Host::call`] receives their index.
pub fn compile(source: &str, host: &[(&str, usize)]) -> Result<Program, CompileError> {
    compile_with(source, host, true)
}

/// Like [`compile`], without the check that every function exists: a call of an
/// unknown function is an evaluation error instead (CEL's unchecked evaluation; rule
/// files are always checked).
pub fn compile_unchecked(source: &str, host: &[(&str, usize)]) -> Result<Program, CompileError> {
    compile_with(source, host, false)
}

fn compile_with(
    source: &str,
    host: &[(&str, usize)],
    checked: bool,
) -> Result<Program, CompileError> {
    let tokens = lex(source)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        host,
        depth: 0,
        links: 0,
        checked,
    };
    let expr = p.expr()?;
    if p.peek() != &Tok::Eof {
        return p.fail("unexpected input after the end of the expression");
    }
    Ok(Program { expr })
}

struct Parser<'h> {
    tokens: Vec<Token>,
    pos: usize,
    host: &'h [(&'h str, usize)],
    depth: usize,
    /// Operators and selections chained to the left of the point being parsed: a chain
    /// `a + b + …` builds a tree as deep as it is long.
    links: usize,
    /// Whether unknown functions are refused (else they fail when evaluated).
    checked: bool,
}

/// The longest chain of operators, selections and calls an expression may build (its
/// tree depth, so evaluating and dropping it cannot overflow the stack).
const MAX_LINKS: usize = 1000;

/// Deep enough for any real rule; a hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 200;

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Int(i) => format!("`{i}`"),
        Tok::IntMinMagnitude => "`9223372036854775808`".to_string(),
        Tok::UInt(u) => format!("`{u}u`"),
        Tok::Double(d) => format!("`{d}`"),
        Tok::Str(_) => "a string".to_string(),
        Tok::Bytes(_) => "a bytes literal".to_string(),
        Tok::QuotedIdent(n) => format!("`{n}`"),
        Tok::Eof => "the end of the expression".to_string(),
        other => {
            let s = match other {
                Tok::LParen => "(",
                Tok::RParen => ")",
                Tok::LBrack => "[",
                Tok::RBrack => "]",
                Tok::LBrace => "{",
                Tok::RBrace => "}",
                Tok::Dot => ".",
                Tok::Comma => ",",
                Tok::Colon => ":",
                Tok::Question => "?",
                Tok::Not => "!",
                Tok::Minus => "-",
                Tok::Plus => "+",
                Tok::Star => "*",
                Tok::Slash => "/",
                Tok::Percent => "%",
                Tok::Lt => "<",
                Tok::Le => "<=",
                Tok::Gt => ">",
                Tok::Ge => ">=",
                Tok::EqEq => "==",
                Tok::Ne => "!=",
                Tok::AndAnd => "&&",
                Tok::OrOr => "||",
                _ => "?",
            };
            format!("`{s}`")
        }
    }
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn offset(&self) -> usize {
        self.tokens[self.pos].offset
    }

    fn next(&mut self) -> Tok {
        let t = self.tokens[self.pos].tok.clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.peek() == t {
            self.next();
            true
        } else {
            false
        }
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, CompileError> {
        Err(CompileError {
            message: message.into(),
            offset: self.offset(),
        })
    }

    fn expect(&mut self, t: &Tok) -> Result<(), CompileError> {
        if self.eat(t) {
            Ok(())
        } else {
            let found = describe(self.peek());
            self.fail(format!("expected {}, found {found}", describe(t)))
        }
    }

    fn enter(&mut self) -> Result<(), CompileError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail("expression nests too deeply");
        }
        Ok(())
    }

    fn link(&mut self, n: &mut usize) -> Result<(), CompileError> {
        self.links += 1;
        *n += 1;
        if self.links > MAX_LINKS {
            return self.fail(format!(
                "expression is too long: more than {MAX_LINKS} chained operators"
            ));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, CompileError> {
        self.enter()?;
        let cond = self.or()?;
        let e = if self.eat(&Tok::Question) {
            let then = self.expr()?;
            self.expect(&Tok::Colon)?;
            let otherwise = self.expr()?;
            Expr::Cond(Box::new(cond), Box::new(then), Box::new(otherwise))
        } else {
            cond
        };
        self.depth -= 1;
        Ok(e)
    }

    fn or(&mut self) -> Result<Expr, CompileError> {
        let mut left = self.and()?;
        let mut n = 0;
        while self.eat(&Tok::OrOr) {
            self.link(&mut n)?;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        self.links -= n;
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, CompileError> {
        let mut left = self.relation()?;
        let mut n = 0;
        while self.eat(&Tok::AndAnd) {
            self.link(&mut n)?;
            let right = self.relation()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        self.links -= n;
        Ok(left)
    }

    fn relation(&mut self) -> Result<Expr, CompileError> {
        let mut left = self.additive()?;
        let mut n = 0;
        loop {
            let op = match self.peek() {
                Tok::EqEq => BinOp::Eq,
                Tok::Ne => BinOp::Ne,
                Tok::Lt => BinOp::Lt,
                Tok::Le => BinOp::Le,
                Tok::Gt => BinOp::Gt,
                Tok::Ge => BinOp::Ge,
                Tok::Ident(s) if s == "in" => BinOp::In,
                _ => break,
            };
            self.next();
            self.link(&mut n)?;
            let right = self.additive()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
        self.links -= n;
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr, CompileError> {
        let mut left = self.multiplicative()?;
        let mut n = 0;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => break,
            };
            self.next();
            self.link(&mut n)?;
            let right = self.multiplicative()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
        self.links -= n;
        Ok(left)
    }

    fn multiplicative(&mut self) -> Result<Expr, CompileError> {
        let mut left = self.unary()?;
        let mut n = 0;
        loop {
            let op = match self.peek() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                Tok::Percent => BinOp::Rem,
                _ => break,
            };
            self.next();
            self.link(&mut n)?;
            let right = self.unary()?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
        }
        self.links -= n;
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, CompileError> {
        self.enter()?;
        let e = if self.eat(&Tok::Not) {
            Expr::Not(Box::new(self.unary()?))
        } else if self.eat(&Tok::Minus) {
            if self.eat(&Tok::IntMinMagnitude) {
                self.depth -= 1;
                return Ok(Expr::Lit(Lit::Int(i64::MIN)));
            }
            match self.unary()? {
                Expr::Lit(Lit::Int(i)) => match i.checked_neg() {
                    Some(n) => Expr::Lit(Lit::Int(n)),
                    None => Expr::Neg(Box::new(Expr::Lit(Lit::Int(i)))),
                },
                Expr::Lit(Lit::Double(d)) => Expr::Lit(Lit::Double(-d)),
                other => Expr::Neg(Box::new(other)),
            }
        } else {
            self.member()?
        };
        self.depth -= 1;
        Ok(e)
    }

    fn member(&mut self) -> Result<Expr, CompileError> {
        let mut e = self.primary()?;
        let mut n = 0;
        loop {
            if matches!(self.peek(), Tok::Dot | Tok::LBrack) {
                self.link(&mut n)?;
            }
            if self.peek() == &Tok::Dot
                && self.tokens.get(self.pos + 1).map(|t| &t.tok) == Some(&Tok::Question)
            {
                self.next();
                self.next();
                let name = match self.next() {
                    Tok::Ident(n) => n,
                    other => {
                        return self.fail(format!(
                            "expected a field name after `.?`, found {}",
                            describe(&other)
                        ))
                    }
                };
                e = Expr::OptSelect(Box::new(e), name.into());
            } else if self.peek() == &Tok::LBrack
                && self.tokens.get(self.pos + 1).map(|t| &t.tok) == Some(&Tok::Question)
            {
                self.next();
                self.next();
                let index = self.expr()?;
                self.expect(&Tok::RBrack)?;
                e = Expr::OptIndex(Box::new(e), Box::new(index));
            } else if self.peek() == &Tok::Dot
                && matches!(
                    self.tokens.get(self.pos + 1).map(|t| &t.tok),
                    Some(Tok::QuotedIdent(_))
                )
            {
                self.next();
                let Tok::QuotedIdent(name) = self.next() else {
                    unreachable!("peeked")
                };
                e = Expr::Select(Box::new(e), name.into());
            } else if self.eat(&Tok::Dot) {
                let at = self.offset();
                let name = match self.next() {
                    Tok::Ident(n) => n,
                    other => {
                        return self.err_at(
                            at,
                            format!(
                                "expected a field or method name after `.`, found {}",
                                describe(&other)
                            ),
                        )
                    }
                };
                if self.eat(&Tok::LParen) {
                    let args = self.args(&Tok::RParen)?;
                    e = self.method(e, &name, args, at)?;
                } else {
                    e = Expr::Select(Box::new(e), name.into());
                }
            } else if self.eat(&Tok::LBrack) {
                let index = self.expr()?;
                self.expect(&Tok::RBrack)?;
                e = Expr::Index(Box::new(e), Box::new(index));
            } else {
                self.links -= n;
                return Ok(e);
            }
        }
    }

    fn args(&mut self, close: &Tok) -> Result<Vec<Expr>, CompileError> {
        let mut out = Vec::new();
        if self.eat(close) {
            return Ok(out);
        }
        loop {
            if *close == Tok::RBrack && self.eat(&Tok::Question) {
                out.push(Expr::OptElem(Box::new(self.expr()?)));
            } else {
                out.push(self.expr()?);
            }
            if self.eat(close) {
                return Ok(out);
            }
            self.expect(&Tok::Comma)?;
            if self.eat(close) {
                return Ok(out);
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, CompileError> {
        let at = self.offset();
        match self.next() {
            Tok::Int(i) => Ok(Expr::Lit(Lit::Int(i))),
            Tok::UInt(u) => Ok(Expr::Lit(Lit::UInt(u))),
            Tok::Double(d) => Ok(Expr::Lit(Lit::Double(d))),
            Tok::Str(s) => Ok(Expr::Lit(Lit::Str(s.into()))),
            Tok::Bytes(b) => Ok(Expr::Lit(Lit::Bytes(b.into()))),
            Tok::LParen => {
                let e = self.expr()?;
                self.expect(&Tok::RParen)?;
                Ok(e)
            }
            Tok::LBrack => Ok(Expr::List(self.args(&Tok::RBrack)?)),
            Tok::LBrace => {
                let mut entries = Vec::new();
                if !self.eat(&Tok::RBrace) {
                    loop {
                        let k = if self.eat(&Tok::Question) {
                            Expr::OptElem(Box::new(self.expr()?))
                        } else {
                            self.expr()?
                        };
                        self.expect(&Tok::Colon)?;
                        let v = self.expr()?;
                        entries.push((k, v));
                        if self.eat(&Tok::RBrace) {
                            break;
                        }
                        self.expect(&Tok::Comma)?;
                        if self.eat(&Tok::RBrace) {
                            break;
                        }
                    }
                }
                Ok(Expr::Map(entries))
            }
            Tok::Ident(name) => match name.as_str() {
                "true" => Ok(Expr::Lit(Lit::Bool(true))),
                "false" => Ok(Expr::Lit(Lit::Bool(false))),
                "null" => Ok(Expr::Lit(Lit::Null)),
                _ if self.eat(&Tok::LParen) => {
                    let args = self.args(&Tok::RParen)?;
                    self.global(&name, args, at)
                }
                _ => Ok(Expr::Ident(name.into())),
            },
            Tok::Dot => self.fail("leading `.` (qualified names) is not supported"),
            other => self.err_at(at, format!("expected a value, found {}", describe(&other))),
        }
    }

    fn err_at<T>(&self, offset: usize, message: String) -> Result<T, CompileError> {
        Err(CompileError { message, offset })
    }

    fn global(&self, name: &str, args: Vec<Expr>, at: usize) -> Result<Expr, CompileError> {
        if name == "has" {
            let mut args = args;
            return match (args.len(), args.pop()) {
                (1, Some(Expr::Select(operand, field))) => Ok(Expr::Has(operand, field)),
                _ => self.err_at(
                    at,
                    "`has` takes one field selection, like `has(object.spec.tls)`".to_string(),
                ),
            };
        }
        if let Some(i) = self.host.iter().position(|(n, _)| *n == name) {
            let arity = self.host[i].1;
            if args.len() != arity {
                return self.err_at(
                    at,
                    format!("`{name}` takes {arity} argument(s), {} given", args.len()),
                );
            }
            return Ok(Expr::Call(Func::Host(i), args));
        }
        if let Some(i) = stdlib::find(name) {
            self.check_std_arity(i, name, args.len(), at)?;
            return Ok(Expr::Call(Func::Std(i), args));
        }
        if is_macro(name) {
            return self.err_at(
                at,
                format!("`{name}` is a macro; call it on a list, like `list.{name}(x, …)`"),
            );
        }
        self.unknown(name, at)
    }

    fn method(
        &self,
        target: Expr,
        name: &str,
        mut args: Vec<Expr>,
        at: usize,
    ) -> Result<Expr, CompileError> {
        if name == "optMap" || name == "optFlatMap" {
            let (Some(Expr::Ident(var)), 2) = (args.first(), args.len()) else {
                return self.err_at(
                    at,
                    format!("`{name}` takes a variable name and an expression"),
                );
            };
            let var = var.clone();
            let body = args.pop().expect("two");
            return Ok(Expr::OptMap {
                flat: name == "optFlatMap",
                target: Box::new(target),
                var,
                body: Box::new(body),
            });
        }
        if is_macro(name) {
            let var = match args.first() {
                Some(Expr::Ident(v)) => v.clone(),
                _ => {
                    return self.err_at(
                        at,
                        format!("`{name}` takes a variable name first, like `.{name}(x, …)`"),
                    )
                }
            };
            let kind = match name {
                "all" => CompKind::All,
                "exists" => CompKind::Exists,
                "exists_one" | "existsOne" => CompKind::ExistsOne,
                "map" | "transformList" => CompKind::Map,
                "transformMap" => CompKind::TransformMap,
                _ => CompKind::Filter,
            };
            // Two variables: `all(i, v, p)`, `transformList(i, v, [p,] e)`, …
            let two_vars = match name {
                "transformList" | "transformMap" => true,
                "map" | "filter" => false,
                _ => args.len() == 3,
            };
            let (min, max, wanted) = match (name, two_vars) {
                ("map", _) => (2, 3, "2 or 3"),
                (_, true) if kind == CompKind::Map || kind == CompKind::TransformMap => {
                    (3, 4, "3 or 4")
                }
                (_, true) => (3, 3, "3"),
                _ => (2, 2, "2"),
            };
            if args.len() < min || args.len() > max {
                return self.err_at(
                    at,
                    format!("`{name}` takes {wanted} arguments, {} given", args.len()),
                );
            }
            let var2 = if two_vars {
                match args.get(1) {
                    Some(Expr::Ident(v)) if *v != var => Some(v.clone()),
                    _ => {
                        return self.err_at(
                            at,
                            format!("`{name}` takes two distinct variable names first"),
                        )
                    }
                }
            } else {
                None
            };
            let with_filter = args.len() == min + 1;
            let body = args.pop().map(Box::new);
            let filter = if with_filter {
                args.pop().map(Box::new)
            } else {
                None
            };
            return Ok(Expr::Comp {
                kind,
                range: Box::new(target),
                var,
                var2,
                filter,
                body: body.expect("checked above"),
            });
        }
        if matches!(&target, Expr::Ident(ns) if &**ns == "cel") {
            let int_arg = |e: &Expr| match e {
                Expr::Lit(Lit::Int(i)) if *i >= 0 => Some(*i),
                _ => None,
            };
            match (name, args.as_slice()) {
                ("index", [i]) => {
                    if let Some(i) = int_arg(i) {
                        return Ok(Expr::Ident(format!("@index{i}").into()));
                    }
                }
                ("iterVar" | "accuVar", [a, b]) => {
                    if let (Some(a), Some(b)) = (int_arg(a), int_arg(b)) {
                        return Ok(Expr::Ident(format!("@{name}:{a}:{b}").into()));
                    }
                }
                ("block", [Expr::List(_), _]) => {
                    let body = args.pop().expect("two");
                    let Some(Expr::List(slots)) = args.pop() else {
                        unreachable!("matched above")
                    };
                    let slots = slots
                        .into_iter()
                        .enumerate()
                        .map(|(i, e)| (format!("@index{i}").into(), e))
                        .collect();
                    return Ok(Expr::Block(slots, Box::new(body)));
                }
                _ => {}
            }
        }
        if matches!(&target, Expr::Ident(ns) if &**ns == "cel") && name == "bind" {
            if args.len() != 3 {
                return self.err_at(
                    at,
                    format!("`cel.bind` takes 3 arguments, {} given", args.len()),
                );
            }
            let body = args.pop().expect("three");
            let init = args.pop().expect("three");
            let Some(Expr::Ident(var)) = args.pop() else {
                return self.err_at(at, "`cel.bind` takes a variable name first".into());
            };
            return Ok(Expr::Bind(var, Box::new(init), Box::new(body)));
        }
        // `lists.range(n)`, `strings.quote(s)`: namespaced globals.
        if let Expr::Ident(ns) = &target {
            let qualified = format!("{ns}.{name}");
            if let Some(i) = stdlib::find(&qualified) {
                self.check_std_arity(i, &qualified, args.len(), at)?;
                return Ok(Expr::Call(Func::Std(i), args));
            }
        }
        if self.host.iter().any(|(n, _)| *n == name) {
            return self.err_at(
                at,
                format!("`{name}` is a global function; call it as `{name}(…)`"),
            );
        }
        if let Some(i) = stdlib::find(name) {
            self.check_std_arity(i, name, args.len() + 1, at)?;
            args.insert(0, target);
            return Ok(Expr::Call(Func::Std(i), args));
        }
        self.unknown(name, at)
    }

    fn check_std_arity(
        &self,
        i: usize,
        name: &str,
        given: usize,
        at: usize,
    ) -> Result<(), CompileError> {
        let (min, max) = stdlib::arity(i);
        if given < min || given > max {
            let wanted = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return self.err_at(
                at,
                format!(
                    "`{name}` takes {wanted} argument(s) (counting the receiver of a method call), {given} given"
                ),
            );
        }
        Ok(())
    }

    fn unknown(&self, name: &str, at: usize) -> Result<Expr, CompileError> {
        if !self.checked {
            return Ok(Expr::Unbound(name.into()));
        }
        let mut message = format!("unknown function `{name}`");
        let mut candidates: Vec<&str> = self.host.iter().map(|(n, _)| *n).collect();
        for n in stdlib::names().chain(MACROS.iter().copied()) {
            candidates.push(n);
        }
        if let Some(s) = meshlint_diag::did_you_mean(name, candidates) {
            message.push_str(&format!("; did you mean `{s}`?"));
        }
        self.err_at(at, message)
    }
}

const MACROS: &[&str] = &[
    "has",
    "all",
    "exists",
    "exists_one",
    "existsOne",
    "map",
    "filter",
    "transformList",
    "transformMap",
];

fn is_macro(name: &str) -> bool {
    name != "has" && MACROS.contains(&name)
}

/// One call of a host function in a program, as [`Program::host_calls`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCall<'p> {
    /// The function's index in the host table the program was compiled against.
    pub function: usize,
    /// The first argument when it is a string literal (`resourcesOf('Secret')`).
    pub literal: Option<&'p str>,
}

impl Program {
    /// Every host-function call in the expression, in source order (repeats kept): what
    /// the language server reads to know which graph answers a rule depends on.
    pub fn host_calls(&self) -> Vec<HostCall<'_>> {
        let mut out = Vec::new();
        self.expr.visit(&mut |e| {
            if let Expr::Call(Func::Host(function), args) = e {
                let literal = match args.first() {
                    Some(Expr::Lit(Lit::Str(s))) => Some(&**s),
                    _ => None,
                };
                out.push(HostCall {
                    function: *function,
                    literal,
                });
            }
        });
        out
    }

    /// Whether the expression names the variable `name` anywhere (a bound variable of
    /// the same name counts too: the answer errs towards "yes").
    pub fn mentions(&self, name: &str) -> bool {
        let mut found = false;
        self.expr.visit(&mut |e| {
            if matches!(e, Expr::Ident(n) if &**n == name) {
                found = true;
            }
        });
        found
    }
}

impl Expr {
    /// Calls `f` on this expression and every expression below it.
    fn visit<'e>(&'e self, f: &mut dyn FnMut(&'e Expr)) {
        f(self);
        match self {
            Expr::Lit(_) | Expr::Ident(_) | Expr::Unbound(_) => {}
            Expr::Select(e, _)
            | Expr::Has(e, _)
            | Expr::Not(e)
            | Expr::Neg(e)
            | Expr::OptSelect(e, _)
            | Expr::OptElem(e) => e.visit(f),
            Expr::Index(a, b)
            | Expr::OptIndex(a, b)
            | Expr::Bin(_, a, b)
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Bind(_, a, b) => {
                a.visit(f);
                b.visit(f);
            }
            Expr::Call(_, args) | Expr::List(args) => args.iter().for_each(|a| a.visit(f)),
            Expr::Map(entries) => entries.iter().for_each(|(k, v)| {
                k.visit(f);
                v.visit(f);
            }),
            Expr::Cond(a, b, c) => {
                a.visit(f);
                b.visit(f);
                c.visit(f);
            }
            Expr::OptMap { target, body, .. } => {
                target.visit(f);
                body.visit(f);
            }
            Expr::Block(slots, body) => {
                slots.iter().for_each(|(_, e)| e.visit(f));
                body.visit(f);
            }
            Expr::Comp {
                range,
                filter,
                body,
                ..
            } => {
                range.visit(f);
                if let Some(p) = filter {
                    p.visit(f);
                }
                body.visit(f);
            }
        }
    }
}

#[cfg(test)]
mod walk_tests {
    use super::*;

    #[test]
    fn host_calls_and_variables_are_found_everywhere() {
        let host = [("peerMode", 2), ("resourcesOf", 1)];
        let p = compile(
            "object.spec.all(x, cel.bind(m, peerMode(x, 80), m.mode == 'STRICT')) || resourcesOf('Secret').exists(s, s == namespaceObject)",
            &host,
        )
        .unwrap();
        let calls = p.host_calls();
        assert_eq!(
            calls,
            vec![
                HostCall {
                    function: 0,
                    literal: None
                },
                HostCall {
                    function: 1,
                    literal: Some("Secret")
                },
            ]
        );
        assert!(p.mentions("namespaceObject"));
        assert!(p.mentions("object"));
        assert!(!p.mentions("mesh"));
    }
}
