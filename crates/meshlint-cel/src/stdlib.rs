//! The standard library: conversions, strings and lists. A method call passes its
//! receiver as the first argument, so `s.startsWith('x')` and `startsWith(s, 'x')` are
//! the same call.

use crate::value::{compare, error, EvalError, Val};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

type StdFn = for<'a> fn(&[Val<'a>]) -> Result<Val<'a>, EvalError>;

/// (name, fewest arguments, most arguments, implementation); arguments count the receiver.
const TABLE: &[(&str, usize, usize, StdFn)] = &[
    ("size", 1, 1, size),
    ("string", 1, 1, to_string),
    ("int", 1, 1, to_int),
    ("uint", 1, 1, to_uint),
    ("double", 1, 1, to_double),
    ("bool", 1, 1, to_bool),
    ("dyn", 1, 1, identity),
    ("type", 1, 1, type_of),
    ("contains", 2, 2, contains),
    ("startsWith", 2, 2, starts_with),
    ("endsWith", 2, 2, ends_with),
    ("matches", 2, 2, matches),
    ("lowerAscii", 1, 1, lower_ascii),
    ("upperAscii", 1, 1, upper_ascii),
    ("trim", 1, 1, trim),
    ("replace", 3, 4, replace),
    ("split", 2, 3, split),
    ("substring", 2, 3, substring),
    ("charAt", 2, 2, char_at),
    ("indexOf", 2, 3, index_of),
    ("lastIndexOf", 2, 3, last_index_of),
    ("join", 1, 2, join),
    ("reverse", 1, 1, reverse),
    ("strings.quote", 1, 1, quote),
    ("distinct", 1, 1, distinct),
    ("flatten", 1, 2, flatten),
    ("sort", 1, 1, sort),
    ("slice", 3, 3, slice),
    ("lists.range", 1, 1, range),
    ("math.greatest", 1, 8, greatest),
    ("math.least", 1, 8, least),
    ("duration", 1, 1, to_duration),
    ("timestamp", 1, 1, crate::time::to_timestamp),
    ("getFullYear", 1, 2, get_full_year),
    ("getMonth", 1, 2, get_month),
    ("getDate", 1, 2, get_date),
    ("getDayOfMonth", 1, 2, get_day_of_month),
    ("getDayOfWeek", 1, 2, get_day_of_week),
    ("getDayOfYear", 1, 2, get_day_of_year),
    ("bytes", 1, 1, to_bytes),
    ("base64.encode", 1, 1, base64_encode),
    ("find", 2, 2, regex_find),
    ("format", 2, 2, format),
    ("optional.of", 1, 1, opt_of),
    ("optional.none", 0, 0, opt_none),
    ("optional.ofNonZeroValue", 1, 1, opt_of_non_zero),
    ("hasValue", 1, 1, opt_has_value),
    ("value", 1, 1, opt_value),
    ("orValue", 2, 2, opt_or_value),
    ("or", 2, 2, opt_or),
    ("findAll", 2, 3, find_all),
    ("sum", 1, 1, list_sum),
    ("min", 1, 1, list_min),
    ("max", 1, 1, list_max),
    ("isSorted", 1, 1, is_sorted),
    ("ip", 1, 1, crate::k8s::ip),
    ("isIP", 1, 1, crate::k8s::is_ip),
    ("ip.isCanonical", 1, 1, crate::k8s::ip_is_canonical),
    ("family", 1, 1, crate::k8s::family),
    ("isUnspecified", 1, 1, crate::k8s::is_unspecified),
    ("isLoopback", 1, 1, crate::k8s::is_loopback),
    ("isGlobalUnicast", 1, 1, crate::k8s::is_global_unicast),
    (
        "isLinkLocalMulticast",
        1,
        1,
        crate::k8s::is_link_local_multicast,
    ),
    (
        "isLinkLocalUnicast",
        1,
        1,
        crate::k8s::is_link_local_unicast,
    ),
    ("cidr", 1, 1, crate::k8s::cidr),
    ("isCIDR", 1, 1, crate::k8s::is_cidr),
    ("containsIP", 2, 2, crate::k8s::contains_ip),
    ("containsCIDR", 2, 2, crate::k8s::contains_cidr),
    ("masked", 1, 1, crate::k8s::masked),
    ("prefixLength", 1, 1, crate::k8s::prefix_length),
    ("quantity", 1, 1, crate::k8s::quantity),
    ("isQuantity", 1, 1, crate::k8s::is_quantity),
    ("isInteger", 1, 1, crate::k8s::q_is_integer),
    ("asInteger", 1, 1, crate::k8s::q_as_integer),
    (
        "asApproximateFloat",
        1,
        1,
        crate::k8s::q_as_approximate_float,
    ),
    ("sign", 1, 1, crate::k8s::q_sign),
    ("add", 2, 2, crate::k8s::q_add),
    ("sub", 2, 2, crate::k8s::q_sub),
    ("compareTo", 2, 2, crate::k8s::q_compare_to),
    ("isLessThan", 2, 2, crate::k8s::q_is_less_than),
    ("isGreaterThan", 2, 2, crate::k8s::q_is_greater_than),
    ("url", 1, 1, crate::k8s::url),
    ("isURL", 1, 1, crate::k8s::is_url),
    ("getScheme", 1, 1, crate::k8s::get_scheme),
    ("getHost", 1, 1, crate::k8s::get_host),
    ("getHostname", 1, 1, crate::k8s::get_hostname),
    ("getPort", 1, 1, crate::k8s::get_port),
    ("getEscapedPath", 1, 1, crate::k8s::get_escaped_path),
    ("getQuery", 1, 1, crate::k8s::get_query),
    ("base64.decode", 1, 1, base64_decode),
    ("math.abs", 1, 1, math_abs),
    ("math.sign", 1, 1, math_sign),
    ("math.round", 1, 1, math_round),
    ("math.trunc", 1, 1, math_trunc),
    ("math.ceil", 1, 1, math_ceil),
    ("math.floor", 1, 1, math_floor),
    ("math.isNaN", 1, 1, math_is_nan),
    ("math.isInf", 1, 1, math_is_inf),
    ("math.isFinite", 1, 1, math_is_finite),
    ("math.bitAnd", 2, 2, bit_and),
    ("math.bitOr", 2, 2, bit_or),
    ("math.bitXor", 2, 2, bit_xor),
    ("math.bitNot", 1, 1, bit_not),
    ("math.bitShiftLeft", 2, 2, shift_left),
    ("math.bitShiftRight", 2, 2, shift_right),
    ("getHours", 1, 2, get_hours),
    ("getMinutes", 1, 2, get_minutes),
    ("getSeconds", 1, 2, get_seconds),
    ("getMilliseconds", 1, 2, get_milliseconds),
];

/// Names of the standard functions (documented in `docs/rule-language.md`).
pub const STANDARD_FUNCTIONS: &[&str] = &[
    "size",
    "string",
    "int",
    "uint",
    "double",
    "bool",
    "dyn",
    "type",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "lowerAscii",
    "upperAscii",
    "trim",
    "replace",
    "split",
    "substring",
    "charAt",
    "indexOf",
    "lastIndexOf",
    "join",
    "reverse",
    "strings.quote",
    "distinct",
    "flatten",
    "sort",
    "slice",
    "lists.range",
    "math.greatest",
    "math.least",
    "duration",
    "timestamp",
    "getFullYear",
    "getMonth",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "bytes",
    "base64.encode",
    "find",
    "format",
    "optional.of",
    "optional.none",
    "optional.ofNonZeroValue",
    "hasValue",
    "value",
    "orValue",
    "or",
    "findAll",
    "sum",
    "min",
    "max",
    "isSorted",
    "ip",
    "isIP",
    "ip.isCanonical",
    "family",
    "isUnspecified",
    "isLoopback",
    "isGlobalUnicast",
    "isLinkLocalMulticast",
    "isLinkLocalUnicast",
    "cidr",
    "isCIDR",
    "containsIP",
    "containsCIDR",
    "masked",
    "prefixLength",
    "quantity",
    "isQuantity",
    "isInteger",
    "asInteger",
    "asApproximateFloat",
    "sign",
    "add",
    "sub",
    "compareTo",
    "isLessThan",
    "isGreaterThan",
    "url",
    "isURL",
    "getScheme",
    "getHost",
    "getHostname",
    "getPort",
    "getEscapedPath",
    "getQuery",
    "base64.decode",
    "math.abs",
    "math.sign",
    "math.round",
    "math.trunc",
    "math.ceil",
    "math.floor",
    "math.isNaN",
    "math.isInf",
    "math.isFinite",
    "math.bitAnd",
    "math.bitOr",
    "math.bitXor",
    "math.bitNot",
    "math.bitShiftLeft",
    "math.bitShiftRight",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
];

pub(crate) fn find(name: &str) -> Option<usize> {
    TABLE.iter().position(|(n, ..)| *n == name)
}

pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|(n, ..)| *n)
}

pub(crate) fn arity(i: usize) -> (usize, usize) {
    (TABLE[i].1, TABLE[i].2)
}

pub(crate) fn call<'a>(i: usize, args: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    (TABLE[i].3)(args)
}

pub(crate) fn name(i: usize) -> &'static str {
    TABLE[i].0
}

fn want_str<'v>(f: &str, args: &'v [Val<'_>], i: usize) -> Result<&'v str, EvalError> {
    match args.get(i) {
        Some(Val::Str(s)) => Ok(s),
        Some(v) => error(format!(
            "`{f}` expects a string as argument {}, got {}",
            i + 1,
            v.type_name()
        )),
        None => error(format!("`{f}` is missing argument {}", i + 1)),
    }
}

fn want_int(f: &str, args: &[Val<'_>], i: usize) -> Result<i64, EvalError> {
    match args.get(i) {
        Some(v) => v.as_int().map_or_else(
            || {
                error(format!(
                    "`{f}` expects an int as argument {}, got {}",
                    i + 1,
                    v.type_name()
                ))
            },
            Ok,
        ),
        None => error(format!("`{f}` is missing argument {}", i + 1)),
    }
}

fn want_list<'a>(f: &str, args: &[Val<'a>], i: usize) -> Result<Vec<Val<'a>>, EvalError> {
    match args.get(i) {
        Some(v) if v.is_list() => Ok(v.elements().unwrap_or_default()),
        Some(v) => error(format!(
            "`{f}` expects a list as argument {}, got {}",
            i + 1,
            v.type_name()
        )),
        None => error(format!("`{f}` is missing argument {}", i + 1)),
    }
}

fn size<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Str(s) => Ok(Val::Int(s.chars().count() as i64)),
        Val::Bytes(b) => Ok(Val::Int(b.len() as i64)),
        v => match v.container_len() {
            Some(n) => Ok(Val::Int(n as i64)),
            None => error(format!("`size` is not defined for {}", v.type_name())),
        },
    }
}

fn to_string<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(match &a[0] {
        Val::Str(s) => Val::Str(s.clone()),
        Val::Int(i) => Val::str(&i.to_string()),
        Val::UInt(u) => Val::str(&u.to_string()),
        Val::Double(d) => Val::str(&double_to_string(*d)),
        Val::Bool(b) => Val::borrowed(if *b { "true" } else { "false" }),
        Val::Duration(n) => Val::str(&crate::value::format_duration(*n)),
        Val::Ip(a) => Val::str(&a.to_string()),
        Val::Timestamp(s, n) => Val::str(&crate::time::format(*s, *n)),
        Val::Cidr(a, p) => Val::str(&format!("{a}/{p}")),
        Val::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => Val::str(s),
            Err(_) => return error("`string`: the bytes are not valid UTF-8"),
        },
        v => return error(format!("`string` is not defined for {}", v.type_name())),
    })
}

/// `string(double)` as CEL prints it: the shortest text that reads back, in exponent
/// form (`1e+06`, `1.5e-07`) when the exponent is below -4 or at least 21.
fn double_to_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let sci = format!("{d:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if d != 0.0 && !(-4..21).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{d}")
    }
}

fn to_int<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Int(i) => Ok(Val::Int(*i)),
        Val::Timestamp(s, _) => Ok(Val::Int(*s)),
        Val::UInt(u) => i64::try_from(*u)
            .map(Val::Int)
            .or_else(|_| error("int overflow")),
        Val::Double(d) if d.is_finite() && d.abs() < 9.2e18 => Ok(Val::Int(d.trunc() as i64)),
        Val::Str(s) => s
            .parse()
            .map(Val::Int)
            .or_else(|_| error(format!("cannot convert {:?} to int", &**s))),
        v => error(format!("`int` is not defined for {}", v.type_name())),
    }
}

fn to_uint<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::UInt(u) => Ok(Val::UInt(*u)),
        Val::Int(i) => u64::try_from(*i)
            .map(Val::UInt)
            .or_else(|_| error("uint overflow")),
        Val::Double(d) if d.is_finite() && *d >= 0.0 && *d < 1.8e19 => {
            Ok(Val::UInt(d.trunc() as u64))
        }
        Val::Str(s) => s
            .parse()
            .map(Val::UInt)
            .or_else(|_| error(format!("cannot convert {:?} to uint", &**s))),
        v => error(format!("`uint` is not defined for {}", v.type_name())),
    }
}

fn to_double<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Double(d) => Ok(Val::Double(*d)),
        Val::Int(i) => Ok(Val::Double(*i as f64)),
        Val::UInt(u) => Ok(Val::Double(*u as f64)),
        Val::Str(s) => s
            .trim()
            .parse()
            .map(Val::Double)
            .or_else(|_| error(format!("cannot convert {:?} to double", &**s))),
        v => error(format!("`double` is not defined for {}", v.type_name())),
    }
}

fn to_bool<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Bool(b) => Ok(Val::Bool(*b)),
        Val::Str(s) => match &**s {
            "true" | "True" | "TRUE" | "t" | "1" => Ok(Val::Bool(true)),
            "false" | "False" | "FALSE" | "f" | "0" => Ok(Val::Bool(false)),
            other => error(format!("cannot convert {other:?} to bool")),
        },
        v => error(format!("`bool` is not defined for {}", v.type_name())),
    }
}

fn identity<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(a[0].clone())
}

fn type_of<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Type(a[0].type_name()))
}

fn to_bytes<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Bytes(b) => Ok(Val::Bytes(b.clone())),
        Val::Str(s) => Ok(Val::Bytes(s.as_bytes().into())),
        v => error(format!("`bytes` is not defined for {}", v.type_name())),
    }
}

fn to_duration<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Duration(n) => Ok(Val::Duration(*n)),
        Val::Str(s) => match crate::value::parse_duration(s) {
            Some(n) => Ok(Val::Duration(n)),
            None => error(format!("cannot convert {:?} to a duration", &**s)),
        },
        v => error(format!("`duration` is not defined for {}", v.type_name())),
    }
}

fn duration_part<'a>(a: &[Val<'a>], name: &str, unit: i64) -> Result<Val<'a>, EvalError> {
    if let Some(v) = crate::time::field(name, a)? {
        return Ok(v);
    }
    match &a[0] {
        Val::Duration(n) if a.len() == 1 => Ok(Val::Int(n / unit)),
        v => error(format!("`{name}` is not defined for {}", v.type_name())),
    }
}

fn get_hours<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    duration_part(a, "getHours", 3_600_000_000_000)
}

fn get_minutes<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    duration_part(a, "getMinutes", 60_000_000_000)
}

fn get_seconds<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    duration_part(a, "getSeconds", 1_000_000_000)
}

fn get_milliseconds<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    duration_part(a, "getMilliseconds", 1_000_000)
}

fn contains<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(
        want_str("contains", a, 0)?.contains(want_str("contains", a, 1)?),
    ))
}

fn starts_with<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(
        want_str("startsWith", a, 0)?.starts_with(want_str("startsWith", a, 1)?),
    ))
}

fn ends_with<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(
        want_str("endsWith", a, 0)?.ends_with(want_str("endsWith", a, 1)?),
    ))
}

fn regex_for(pattern: &str) -> Result<Rc<regex::Regex>, EvalError> {
    thread_local! {
        static CACHE: RefCell<HashMap<String, Rc<regex::Regex>>> = RefCell::new(HashMap::new());
    }
    CACHE.with(|c| {
        if let Some(re) = c.borrow().get(pattern) {
            return Ok(re.clone());
        }
        let re = Rc::new(
            regex::Regex::new(pattern)
                .map_err(|e| EvalError::Error(format!("invalid regular expression: {e}")))?,
        );
        c.borrow_mut().insert(pattern.to_string(), re.clone());
        Ok(re)
    })
}

fn matches<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let text = want_str("matches", a, 0)?;
    let re = regex_for(want_str("matches", a, 1)?)?;
    Ok(Val::Bool(re.is_match(text)))
}

/// Kubernetes' regex library: the first match, or `''`.
fn regex_find<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let text = want_str("find", a, 0)?;
    let re = regex_for(want_str("find", a, 1)?)?;
    Ok(Val::str(re.find(text).map_or("", |m| m.as_str())))
}

/// Kubernetes' regex library: every match (at most `limit` when given and not negative).
fn find_all<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let text = want_str("findAll", a, 0)?;
    let re = regex_for(want_str("findAll", a, 1)?)?;
    let limit = if a.len() == 3 {
        want_int("findAll", a, 2)?
    } else {
        -1
    };
    let limit = if limit < 0 {
        usize::MAX
    } else {
        limit as usize
    };
    Ok(Val::list(
        re.find_iter(text)
            .take(limit)
            .map(|m| Val::str(m.as_str()))
            .collect(),
    ))
}

fn lower_ascii<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::str(
        &want_str("lowerAscii", a, 0)?.to_ascii_lowercase(),
    ))
}

fn upper_ascii<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::str(
        &want_str("upperAscii", a, 0)?.to_ascii_uppercase(),
    ))
}

fn trim<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::str(want_str("trim", a, 0)?.trim()))
}

fn replace<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let s = want_str("replace", a, 0)?;
    let from = want_str("replace", a, 1)?;
    let to = want_str("replace", a, 2)?;
    let out = if a.len() == 4 {
        let n = want_int("replace", a, 3)?;
        if n < 0 {
            s.replace(from, to)
        } else {
            s.replacen(from, to, n as usize)
        }
    } else {
        s.replace(from, to)
    };
    Ok(Val::str(&out))
}

fn split<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let s = want_str("split", a, 0)?;
    let sep = want_str("split", a, 1)?;
    let limit = if a.len() == 3 {
        want_int("split", a, 2)?
    } else {
        -1
    };
    let parts: Vec<Val<'a>> = match limit {
        0 => Vec::new(),
        // An empty separator splits into characters (the last keeps the rest).
        n if sep.is_empty() => {
            let chars: Vec<char> = s.chars().collect();
            let n = if n < 0 {
                chars.len()
            } else {
                (n as usize).min(chars.len())
            };
            let mut parts: Vec<Val<'a>> = Vec::with_capacity(n);
            for i in 0..n {
                if i + 1 == n {
                    parts.push(Val::str(&chars[i..].iter().collect::<String>()));
                } else {
                    parts.push(Val::str(&chars[i].to_string()));
                }
            }
            parts
        }
        n if n < 0 => s.split(sep).map(Val::str).collect(),
        n => s.splitn(n as usize, sep).map(Val::str).collect(),
    };
    Ok(Val::list(parts))
}

fn char_range(f: &str, s: &str, start: i64, end: i64) -> Result<String, EvalError> {
    let count = s.chars().count() as i64;
    if start < 0 || end < start || end > count {
        return error(format!(
            "`{f}` range [{start}, {end}) is outside a string of {count} characters"
        ));
    }
    Ok(s.chars()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect())
}

fn substring<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let s = want_str("substring", a, 0)?;
    let start = want_int("substring", a, 1)?;
    let end = if a.len() == 3 {
        want_int("substring", a, 2)?
    } else {
        s.chars().count() as i64
    };
    Ok(Val::str(&char_range("substring", s, start, end)?))
}

fn char_at<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let s = want_str("charAt", a, 0)?;
    let i = want_int("charAt", a, 1)?;
    if i == s.chars().count() as i64 {
        return Ok(Val::borrowed(""));
    }
    Ok(Val::str(&char_range("charAt", s, i, i + 1)?))
}

fn index_of<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    if a[0].is_list() && a.len() == 2 {
        let items = a[0].elements().unwrap_or_default();
        let at = items.iter().position(|v| *v == a[1]);
        return Ok(Val::Int(at.map_or(-1, |i| i as i64)));
    }
    let s = want_str("indexOf", a, 0)?;
    let sub = want_str("indexOf", a, 1)?;
    let from = if a.len() == 3 {
        want_int("indexOf", a, 2)?
    } else {
        0
    };
    let chars: Vec<char> = s.chars().collect();
    if from < 0 || from as usize > chars.len() {
        return error("`indexOf` start is out of range");
    }
    let tail: String = chars[from as usize..].iter().collect();
    Ok(Val::Int(match tail.find(sub) {
        Some(byte) => from + tail[..byte].chars().count() as i64,
        None => -1,
    }))
}

fn last_index_of<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    if a[0].is_list() && a.len() == 2 {
        let items = a[0].elements().unwrap_or_default();
        let at = items.iter().rposition(|v| *v == a[1]);
        return Ok(Val::Int(at.map_or(-1, |i| i as i64)));
    }
    let s = want_str("lastIndexOf", a, 0)?;
    let sub = want_str("lastIndexOf", a, 1)?;
    let chars: Vec<char> = s.chars().collect();
    // The match may start at most at `start` (characters).
    let last_start = if a.len() == 3 {
        let start = want_int("lastIndexOf", a, 2)?;
        if start < 0 || start as usize >= chars.len().max(1) && !(chars.is_empty() && start == 0) {
            return error("`lastIndexOf` start is out of range");
        }
        start as usize
    } else {
        chars.len()
    };
    let sub: Vec<char> = sub.chars().collect();
    let mut i = last_start.min(chars.len().saturating_sub(sub.len()));
    if sub.len() > chars.len() {
        return Ok(Val::Int(-1));
    }
    loop {
        if chars[i..i + sub.len()] == sub[..] {
            return Ok(Val::Int(i as i64));
        }
        if i == 0 {
            return Ok(Val::Int(-1));
        }
        i -= 1;
    }
}

fn list_sum<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let items = want_list("sum", a, 0)?;
    let mut total = match items.first() {
        Some(Val::UInt(_)) => Val::UInt(0),
        Some(Val::Double(_)) => Val::Double(0.0),
        Some(Val::Duration(_)) => Val::Duration(0),
        _ => Val::Int(0),
    };
    for item in &items {
        total = match (&total, item) {
            (Val::Int(x), Val::Int(y)) => x
                .checked_add(*y)
                .map(Val::Int)
                .map_or_else(|| error("integer overflow"), Ok)?,
            (Val::UInt(x), Val::UInt(y)) => x
                .checked_add(*y)
                .map(Val::UInt)
                .map_or_else(|| error("integer overflow"), Ok)?,
            (Val::Double(x), Val::Double(y)) => Val::Double(x + y),
            (Val::Duration(x), Val::Duration(y)) => x
                .checked_add(*y)
                .map(Val::Duration)
                .map_or_else(|| error("duration overflow"), Ok)?,
            (t, v) => {
                return error(format!(
                    "`sum` cannot add {} to {}",
                    v.type_name(),
                    t.type_name()
                ))
            }
        };
    }
    Ok(total)
}

fn list_extreme<'a>(
    f: &str,
    a: &[Val<'a>],
    pick: std::cmp::Ordering,
) -> Result<Val<'a>, EvalError> {
    let items = want_list(f, a, 0)?;
    let mut best: Option<Val<'a>> = None;
    for item in items {
        best = Some(match best {
            None => item,
            Some(b) => match compare(&item, &b) {
                Some(o) if o == pick => item,
                Some(_) => b,
                None => {
                    return error(format!(
                        "`{f}` cannot compare {} with {}",
                        item.type_name(),
                        b.type_name()
                    ))
                }
            },
        });
    }
    best.map_or_else(|| error(format!("`{f}` of an empty list")), Ok)
}

fn list_min<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    list_extreme("min", a, std::cmp::Ordering::Less)
}

fn list_max<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    list_extreme("max", a, std::cmp::Ordering::Greater)
}

fn is_sorted<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let items = want_list("isSorted", a, 0)?;
    for pair in items.windows(2) {
        match compare(&pair[0], &pair[1]) {
            Some(std::cmp::Ordering::Greater) => return Ok(Val::Bool(false)),
            Some(_) => {}
            None => return error("`isSorted` cannot order the elements"),
        }
    }
    Ok(Val::Bool(true))
}

fn join<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let items = want_list("join", a, 0)?;
    let sep = if a.len() == 2 {
        want_str("join", a, 1)?
    } else {
        ""
    };
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        match item {
            Val::Str(s) => out.push_str(s),
            other => {
                return error(format!(
                    "`join` expects a list of strings, found {}",
                    other.type_name()
                ))
            }
        }
    }
    Ok(Val::str(&out))
}

fn reverse<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Str(s) => Ok(Val::str(&s.chars().rev().collect::<String>())),
        v if v.is_list() => {
            let mut items = v.elements().unwrap_or_default();
            items.reverse();
            Ok(Val::list(items))
        }
        v => error(format!("`reverse` is not defined for {}", v.type_name())),
    }
}

fn quote<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let s = want_str("strings.quote", a, 0)?;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(Val::str(&out))
}

fn distinct<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let items = want_list("distinct", a, 0)?;
    let mut out: Vec<Val<'a>> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(Val::list(out))
}

fn flatten<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let depth = if a.len() == 2 {
        want_int("flatten", a, 1)?
    } else {
        1
    };
    if depth < 0 {
        return error("`flatten` depth must not be negative");
    }
    fn go<'a>(items: Vec<Val<'a>>, depth: i64, out: &mut Vec<Val<'a>>) {
        for item in items {
            if depth > 0 && item.is_list() {
                go(item.elements().unwrap_or_default(), depth - 1, out);
            } else {
                out.push(item);
            }
        }
    }
    let mut out = Vec::new();
    go(want_list("flatten", a, 0)?, depth, &mut out);
    Ok(Val::list(out))
}

fn sort<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let mut items = want_list("sort", a, 0)?;
    let mut failed = None;
    items.sort_by(|x, y| {
        compare(x, y).unwrap_or_else(|| {
            failed = Some((x.type_name(), y.type_name()));
            std::cmp::Ordering::Equal
        })
    });
    if let Some((x, y)) = failed {
        return error(format!("`sort` cannot order {x} and {y}"));
    }
    Ok(Val::list(items))
}

fn slice<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let items = want_list("slice", a, 0)?;
    let start = want_int("slice", a, 1)?;
    let end = want_int("slice", a, 2)?;
    if start < 0 || end < start || end as usize > items.len() {
        return error(format!(
            "`slice` range [{start}, {end}) is outside a list of {}",
            items.len()
        ));
    }
    Ok(Val::list(items[start as usize..end as usize].to_vec()))
}

fn range<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let n = want_int("lists.range", a, 0)?;
    Ok(Val::list((0..n.max(0)).map(Val::Int).collect()))
}

fn extreme<'a>(f: &str, a: &[Val<'a>], pick: std::cmp::Ordering) -> Result<Val<'a>, EvalError> {
    let items = if a.len() == 1 && a[0].is_list() {
        a[0].elements().unwrap_or_default()
    } else {
        a.to_vec()
    };
    let mut best: Option<Val<'a>> = None;
    for item in items {
        best = Some(match best {
            None => item,
            Some(b) => match compare(&item, &b) {
                Some(o) if o == pick => item,
                Some(_) => b,
                None => return error(format!("`{f}` cannot compare its arguments")),
            },
        });
    }
    best.map_or_else(|| error(format!("`{f}` of an empty list")), Ok)
}

fn greatest<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    extreme("math.greatest", a, std::cmp::Ordering::Greater)
}

fn least<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    extreme("math.least", a, std::cmp::Ordering::Less)
}

fn want_double(f: &str, a: &[Val<'_>]) -> Result<f64, EvalError> {
    match a.first() {
        Some(Val::Double(d)) => Ok(*d),
        Some(v) => error(format!("`{f}` expects a double, got {}", v.type_name())),
        None => error(format!("`{f}` is missing its argument")),
    }
}

fn math_abs<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Int(i) => i
            .checked_abs()
            .map(Val::Int)
            .map_or_else(|| error("integer overflow"), Ok),
        Val::UInt(u) => Ok(Val::UInt(*u)),
        Val::Double(d) => Ok(Val::Double(d.abs())),
        v => error(format!("`math.abs` is not defined for {}", v.type_name())),
    }
}

fn math_sign<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Int(i) => Ok(Val::Int(i.signum())),
        Val::UInt(u) => Ok(Val::UInt((*u).min(1))),
        Val::Double(d) if d.is_nan() => Ok(Val::Double(*d)),
        Val::Double(d) if *d == 0.0 => Ok(Val::Double(0.0)),
        Val::Double(d) => Ok(Val::Double(d.signum())),
        v => error(format!("`math.sign` is not defined for {}", v.type_name())),
    }
}

fn math_round<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    want_double("math.round", a).map(|d| Val::Double(d.round()))
}

fn math_trunc<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    want_double("math.trunc", a).map(|d| Val::Double(d.trunc()))
}

fn math_ceil<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    want_double("math.ceil", a).map(|d| Val::Double(d.ceil()))
}

fn math_floor<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    want_double("math.floor", a).map(|d| Val::Double(d.floor()))
}

fn math_is_nan<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    want_double("math.isNaN", a).map(|d| Val::Bool(d.is_nan()))
}

fn math_is_inf<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    want_double("math.isInf", a).map(|d| Val::Bool(d.is_infinite()))
}

fn math_is_finite<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    want_double("math.isFinite", a).map(|d| Val::Bool(d.is_finite()))
}

fn bits<'a>(
    f: &str,
    a: &[Val<'a>],
    int: fn(i64, i64) -> i64,
    uint: fn(u64, u64) -> u64,
) -> Result<Val<'a>, EvalError> {
    match (&a[0], &a[1]) {
        (Val::Int(x), Val::Int(y)) => Ok(Val::Int(int(*x, *y))),
        (Val::UInt(x), Val::UInt(y)) => Ok(Val::UInt(uint(*x, *y))),
        (x, y) => error(format!(
            "`{f}` is not defined for {} and {}",
            x.type_name(),
            y.type_name()
        )),
    }
}

fn bit_and<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    bits("math.bitAnd", a, |x, y| x & y, |x, y| x & y)
}

fn bit_or<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    bits("math.bitOr", a, |x, y| x | y, |x, y| x | y)
}

fn bit_xor<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    bits("math.bitXor", a, |x, y| x ^ y, |x, y| x ^ y)
}

fn bit_not<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Int(x) => Ok(Val::Int(!x)),
        Val::UInt(x) => Ok(Val::UInt(!x)),
        v => error(format!(
            "`math.bitNot` is not defined for {}",
            v.type_name()
        )),
    }
}

fn shift<'a>(f: &str, a: &[Val<'a>], left: bool) -> Result<Val<'a>, EvalError> {
    let n = match &a[1] {
        Val::Int(n) if *n >= 0 => *n as u64,
        Val::Int(_) => return error(format!("`{f}`: negative shift")),
        v => return error(format!("`{f}` needs an int shift, got {}", v.type_name())),
    };
    let apply = |x: u64| {
        if n >= 64 {
            0
        } else if left {
            x << n
        } else {
            x >> n
        }
    };
    match &a[0] {
        // Right shifts of ints are logical, as in cel-go.
        Val::Int(x) => Ok(Val::Int(apply(*x as u64) as i64)),
        Val::UInt(x) => Ok(Val::UInt(apply(*x))),
        v => error(format!("`{f}` is not defined for {}", v.type_name())),
    }
}

fn shift_left<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    shift("math.bitShiftLeft", a, true)
}

fn shift_right<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    shift("math.bitShiftRight", a, false)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let Val::Bytes(b) = &a[0] else {
        return error(format!(
            "`base64.encode` needs bytes, got {}",
            a[0].type_name()
        ));
    };
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &c)| n | (c as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    Ok(Val::str(&out))
}

fn base64_decode<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let s = want_str("base64.decode", a, 0)?;
    let digits: Vec<u32> = s
        .trim_end_matches('=')
        .bytes()
        .map(|c| BASE64.iter().position(|&d| d == c).map(|p| p as u32))
        .collect::<Option<_>>()
        .map_or_else(|| error("`base64.decode`: not base64"), Ok)?;
    if digits.len() % 4 == 1 {
        return error("`base64.decode`: not base64");
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | d << (18 - 6 * i));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Ok(Val::Bytes(out.into()))
}

fn opt_of<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Opt(Some(Rc::new(a[0].clone()))))
}

fn opt_none<'a>(_: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Opt(None))
}

fn is_zero(v: &Val<'_>) -> bool {
    match v {
        Val::Null => true,
        Val::Bool(b) => !b,
        Val::Int(i) => *i == 0,
        Val::UInt(u) => *u == 0,
        Val::Double(d) => *d == 0.0,
        Val::Str(s) => s.is_empty(),
        Val::Bytes(b) => b.is_empty(),
        Val::Duration(n) => *n == 0,
        Val::Opt(o) => o.is_none(),
        v => v.container_len() == Some(0),
    }
}

fn opt_of_non_zero<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Opt((!is_zero(&a[0])).then(|| Rc::new(a[0].clone()))))
}

fn want_opt<'v, 'a>(f: &str, a: &'v [Val<'a>]) -> Result<&'v Option<Rc<Val<'a>>>, EvalError> {
    match &a[0] {
        Val::Opt(o) => Ok(o),
        v => error(format!("`{f}` is not defined for {}", v.type_name())),
    }
}

fn opt_has_value<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(want_opt("hasValue", a)?.is_some()))
}

fn opt_value<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match want_opt("value", a)? {
        Some(v) => Ok((**v).clone()),
        None => error("`value` of an empty optional"),
    }
}

fn opt_or_value<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(match want_opt("orValue", a)? {
        Some(v) => (**v).clone(),
        None => a[1].clone(),
    })
}

fn opt_or<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match (want_opt("or", a)?, &a[1]) {
        (Some(_), _) => Ok(a[0].clone()),
        (None, other @ Val::Opt(_)) => Ok(other.clone()),
        (None, other) => error(format!("`or` needs an optional, got {}", other.type_name())),
    }
}

/// A value as `format`'s `%s` prints it: strings bare, containers recursively, map
/// entries ordered by their printed keys.
fn format_plain(v: &Val<'_>) -> Result<String, EvalError> {
    Ok(match v {
        Val::Str(s) => s.to_string(),
        Val::Null => "null".into(),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::UInt(u) => u.to_string(),
        Val::Double(d) => format_special(*d).unwrap_or_else(|| double_to_string(*d)),
        Val::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Val::Type(t) => t.to_string(),
        Val::Duration(n) => crate::value::format_duration(*n),
        Val::Url(u) => u.to_string(),
        Val::Quantity(q) => format!("{}e{}", q.digits, q.scale),
        Val::Ip(a) => a.to_string(),
        Val::Timestamp(s, n) => crate::time::format(*s, *n),
        Val::Cidr(a, p) => format!("{a}/{p}"),
        Val::Opt(_) => return error("`format` cannot print an optional"),
        v if v.is_map() => {
            let mut entries = Vec::new();
            for (k, val) in v.entries().unwrap_or_default() {
                entries.push((format_plain(&k)?, format_plain(&val)?));
            }
            entries.sort();
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        v => {
            let items = v.elements().unwrap_or_default();
            let inner = items
                .iter()
                .map(format_plain)
                .collect::<Result<Vec<_>, _>>()?;
            format!("[{}]", inner.join(", "))
        }
    })
}

fn format_special(d: f64) -> Option<String> {
    if d.is_nan() {
        Some("NaN".into())
    } else if d.is_infinite() {
        Some(if d > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        None
    }
}

fn as_f64(v: &Val<'_>) -> Option<f64> {
    match v {
        Val::Int(i) => Some(*i as f64),
        Val::UInt(u) => Some(*u as f64),
        Val::Double(d) => Some(*d),
        _ => None,
    }
}

/// Go-style exponent (`1.052033e+03`) from Rust's (`1.052033e3`).
fn go_exponent(text: &str) -> String {
    match text.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}e{sign}{digits:0>2}")
        }
        None => text.to_string(),
    }
}

fn format<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let template = want_str("format", a, 0)?;
    let args = want_list("format", a, 1)?;
    let mut out = String::new();
    let mut next = args.iter();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            out.push('%');
            continue;
        }
        let mut precision: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            precision = Some(digits.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            return error("`format`: the template ends inside a clause");
        };
        let Some(arg) = next.next() else {
            return error("`format`: more clauses than arguments");
        };
        let text = match (verb, arg) {
            ('s', v) => format_plain(v)?,
            ('d', Val::Int(i)) => i.to_string(),
            ('d', Val::UInt(u)) => u.to_string(),
            ('d', Val::Double(d)) if !d.is_finite() => format_special(*d).unwrap_or_default(),
            ('f' | 'e', v) if as_f64(v).is_some() => {
                let d = as_f64(v).unwrap_or(0.0);
                match format_special(d) {
                    Some(t) => t,
                    None if verb == 'f' => format!("{:.*}", precision.unwrap_or(6), d),
                    None => go_exponent(&format!("{:.*e}", precision.unwrap_or(6), d)),
                }
            }
            ('b', Val::Int(i)) => format!("{i:b}"),
            ('b', Val::UInt(u)) => format!("{u:b}"),
            ('b', Val::Bool(b)) => (if *b { "1" } else { "0" }).to_string(),
            ('o', Val::Int(i)) => format!("{i:o}"),
            ('o', Val::UInt(u)) => format!("{u:o}"),
            ('x', Val::Int(i)) if *i < 0 => format!("-{:x}", i.unsigned_abs()),
            ('X', Val::Int(i)) if *i < 0 => format!("-{:X}", i.unsigned_abs()),
            ('x', Val::Int(i)) => format!("{i:x}"),
            ('X', Val::Int(i)) => format!("{i:X}"),
            ('x', Val::UInt(u)) => format!("{u:x}"),
            ('X', Val::UInt(u)) => format!("{u:X}"),
            ('x' | 'X', Val::Str(_) | Val::Bytes(_)) => {
                let bytes: &[u8] = match arg {
                    Val::Str(s) => s.as_bytes(),
                    Val::Bytes(b) => b,
                    _ => &[],
                };
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                if verb == 'X' {
                    hex.to_ascii_uppercase()
                } else {
                    hex
                }
            }
            (verb, v) => {
                return error(format!(
                    "`format`: `%{verb}` cannot print a {}",
                    v.type_name()
                ))
            }
        };
        out.push_str(&text);
    }
    Ok(Val::str(&out))
}

fn time_field<'a>(name: &str, a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match crate::time::field(name, a)? {
        Some(v) => Ok(v),
        None => error(format!("`{name}` is not defined for {}", a[0].type_name())),
    }
}

fn get_full_year<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    time_field("getFullYear", a)
}

fn get_month<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    time_field("getMonth", a)
}

fn get_date<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    time_field("getDate", a)
}

fn get_day_of_month<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    time_field("getDayOfMonth", a)
}

fn get_day_of_week<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    time_field("getDayOfWeek", a)
}

fn get_day_of_year<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    time_field("getDayOfYear", a)
}
