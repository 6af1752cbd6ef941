//! meshlint's CEL: the expression language of rule files, implemented for this tool.
//!
//! It owns parsing (with the standard macros `has`, `all`, `exists`, `exists_one`, `map`,
//! `filter`), load-time checking (unknown function with a suggestion, wrong number of
//! arguments), and an interpreter whose values read the loader's spanned YAML tree in
//! place ([`Val::Node`]) and borrow strings from it, so evaluating a rule on a resource
//! copies nothing. Functions that need the mesh graph are supplied by the embedding crate
//! through [`Host`]; the standard library (strings, lists) lives in `stdlib`.
//!
//! Semantics follow the CEL specification where rules can observe them: `&&`/`||` are
//! commutative over errors, equality is false across types (numbers compare across
//! int/uint/double), a missing field is [`EvalError::NoSuchKey`] (the rule engine treats
//! it as "condition not met"), anything else is a rule bug.
#![forbid(unsafe_code)]

mod eval;
mod k8s;
mod lex;
mod parse;
mod stdlib;
mod time;
mod value;

pub use eval::{Budget, Host, NoHost, Scope};
pub use parse::{compile, compile_unchecked, CompileError, HostCall, Program};
pub use stdlib::STANDARD_FUNCTIONS;
pub use value::{compare, error, EvalError, Str, Val};
