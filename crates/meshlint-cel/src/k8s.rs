//! Kubernetes' CEL libraries that the API server enables for CRD validation rules and
//! that meshlint supports: URLs (`url`, `isURL` and the getters). The regex (`find`,
//! `findAll`) and list (`indexOf`, `lastIndexOf`, `sum`, `min`, `max`, `isSorted`)
//! functions live with the standard library they overload.

use crate::value::{error, EvalError, Val};
use std::rc::Rc;

/// The parts of a URL as Kubernetes reads it: an absolute URI (`scheme://host/path`)
/// or an absolute path (`/path`).
struct Parts<'s> {
    scheme: &'s str,
    host: &'s str,
    path: &'s str,
    query: &'s str,
}

fn parse(text: &str) -> Option<Parts<'_>> {
    if text.is_empty() || text.chars().any(|c| c.is_control() || c == ' ') {
        return None;
    }
    let text = text.split('#').next().unwrap_or("");
    let (before_query, query) = text.split_once('?').unwrap_or((text, ""));
    if before_query.starts_with('/') {
        return Some(Parts {
            scheme: "",
            host: "",
            path: before_query,
            query,
        });
    }
    let (scheme, rest) = before_query.split_once(':')?;
    let mut chars = scheme.chars();
    if !chars.next()?.is_ascii_alphabetic()
        || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let (host, path) = match rest.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            let authority = &after[..end];
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            (host, &after[end..])
        }
        // `scheme:opaque` has no host; Kubernetes requires a path or authority.
        None if rest.starts_with('/') => ("", rest),
        None => return None,
    };
    if let Some(bracketed) = host.strip_prefix('[') {
        let (_, port) = bracketed.split_once(']')?;
        if !(port.is_empty() || port.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
    } else if let Some((_, port)) = host.rsplit_once(':') {
        if !port.is_empty() && !is_port(port) {
            return None;
        }
    }
    Some(Parts {
        scheme,
        host,
        path,
        query,
    })
}

fn is_port(p: &str) -> bool {
    p.bytes().all(|b| b.is_ascii_digit())
}

fn text_arg<'v>(f: &str, a: &'v [Val<'_>]) -> Result<&'v str, EvalError> {
    match &a[0] {
        Val::Str(s) => Ok(s),
        v => error(format!("`{f}` needs a string, got {}", v.type_name())),
    }
}

pub(crate) fn url<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let text = text_arg("url", a)?;
    match parse(text) {
        Some(_) => Ok(Val::Url(Rc::from(text))),
        None => error(format!("`url`: {text:?} is not an absolute URI or absolute path")),
    }
}

pub(crate) fn is_url<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(parse(text_arg("isURL", a)?).is_some()))
}

fn parts<'v>(f: &str, a: &'v [Val<'_>]) -> Result<Parts<'v>, EvalError> {
    match &a[0] {
        Val::Url(u) => parse(u).map_or_else(|| error("invalid URL"), Ok),
        v => error(format!("`{f}` is not defined for {}", v.type_name())),
    }
}

pub(crate) fn get_scheme<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::str(parts("getScheme", a)?.scheme))
}

pub(crate) fn get_host<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::str(parts("getHost", a)?.host))
}

fn split_host(host: &str) -> (&str, &str) {
    if let Some(b) = host.strip_prefix('[') {
        let (name, rest) = b.split_once(']').unwrap_or((b, ""));
        return (name, rest.strip_prefix(':').unwrap_or(""));
    }
    match host.rsplit_once(':') {
        Some((name, port)) => (name, port),
        None => (host, ""),
    }
}

pub(crate) fn get_hostname<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::str(split_host(parts("getHostname", a)?.host).0))
}

pub(crate) fn get_port<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::str(split_host(parts("getPort", a)?.host).1))
}

pub(crate) fn get_escaped_path<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::str(parts("getEscapedPath", a)?.path))
}

/// The query as a map from each name to its values, in order.
pub(crate) fn get_query<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let query = parts("getQuery", a)?.query;
    let mut out: Vec<(Val<'a>, Vec<Val<'a>>)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match out.iter_mut().find(|(key, _)| key.as_str() == Some(k)) {
            Some((_, values)) => values.push(Val::str(v)),
            None => out.push((Val::str(k), vec![Val::str(v)])),
        }
    }
    Ok(Val::Map(Rc::new(
        out.into_iter().map(|(k, v)| (k, Val::list(v))).collect(),
    )))
}
