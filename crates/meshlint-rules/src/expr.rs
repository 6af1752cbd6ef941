//! Compiling rule expressions against the graph functions, and the `{{ expr }}`
//! templates of `message`, `at`, `help` and `related.message`.

use crate::graph_fns::GRAPH_FUNCTIONS;
use meshlint_cel::{EvalError, Host, Program, Scope};

/// Compiles a CEL expression; unknown functions and wrong numbers of arguments are
/// refused here, not at run time.
pub fn compile(source: &str) -> Result<Program, String> {
    meshlint_cel::compile(source, &GRAPH_FUNCTIONS).map_err(|e| {
        let near: String = source
            .get(e.offset..)
            .unwrap_or("")
            .chars()
            .take(24)
            .collect();
        if near.trim().is_empty() {
            format!("{} (at the end of the expression)", e.message)
        } else {
            format!("{} (at `{}`)", e.message, near.trim_end())
        }
    })
}

/// Text with `{{ expr }}` interpolations, or a whole CEL string expression.
pub(crate) struct Template {
    parts: Vec<Part>,
}

enum Part {
    Text(String),
    Expr(Program),
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or("`{{` without closing `}}`")?;
            parts.push(Part::Expr(compile(after[..end].trim())?));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    pub fn expression(p: Program) -> Template {
        Template {
            parts: vec![Part::Expr(p)],
        }
    }

    /// The compiled expressions of the template's interpolations.
    pub fn programs(&self) -> impl Iterator<Item = &Program> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(e) => Some(e),
            Part::Text(_) => None,
        })
    }

    pub fn render<'a>(
        &'a self,
        scope: &mut Scope<'a>,
        host: &dyn Host<'a>,
    ) -> Result<String, EvalError> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => out.push_str(&e.eval(scope, host)?.display()),
            }
        }
        Ok(out)
    }
}
