//! Runtime values. YAML mappings and sequences are read in place (`Val::Node`), strings
//! borrow from the tree or the graph where they can, and containers built at run time are
//! reference-counted, so binding a resource or passing a value to a function copies
//! nothing.

use meshlint_load::{Node, NodeValue, Resolved};
use std::cmp::Ordering;
use std::fmt;
use std::ops::Deref;
use std::rc::Rc;

/// A string value: borrowed from the input (tree, graph, program) or owned.
#[derive(Clone)]
pub enum Str<'a> {
    Borrowed(&'a str),
    Shared(Rc<str>),
}

impl Deref for Str<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Str::Borrowed(s) => s,
            Str::Shared(s) => s,
        }
    }
}

impl fmt::Debug for Str<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A CEL value.
#[derive(Clone)]
pub enum Val<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Double(f64),
    Str(Str<'a>),
    List(Rc<Vec<Val<'a>>>),
    /// Entries in insertion order; lookups are linear (maps here have a handful of keys).
    Map(Rc<Vec<(Val<'a>, Val<'a>)>>),
    /// A YAML mapping or sequence, read in place. Scalars are never stored here:
    /// [`Val::from_node`] resolves them by the YAML core schema.
    Node(&'a Node),
    /// A type value (`int`, `string`, `type(x)`), by its CEL name.
    Type(&'static str),
    /// A `google.protobuf.Duration`, in nanoseconds.
    Duration(i64),
    /// A byte sequence.
    Bytes(Rc<[u8]>),
    /// A Kubernetes `url(…)` value, kept as its (valid) text.
    Url(Rc<str>),
    /// A `google.protobuf.Timestamp`: seconds since the Unix epoch and nanoseconds.
    Timestamp(i64, u32),
    /// A Kubernetes `quantity(…)`.
    Quantity(Rc<crate::k8s::Quantity>),
    /// A Kubernetes `ip(…)` address.
    Ip(std::net::IpAddr),
    /// A Kubernetes `cidr(…)`: the address as written and the prefix length.
    Cidr(std::net::IpAddr, u8),
    /// An optional value (`optional.of(x)`, `optional.none()`, `a.?b`).
    Opt(Option<Rc<Val<'a>>>),
}

/// Why an evaluation stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum EvalError {
    /// A field or key that is not there: the rule's condition is simply not met.
    NoSuchKey(String),
    /// Anything else (type mismatch, bad argument, index out of range): a bug in the rule.
    Error(String),
    /// The evaluation spent its [`crate::Budget`]: it was stopped, not finished.
    Budget(String),
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::NoSuchKey(k) => write!(f, "no such key: {k}"),
            EvalError::Error(m) => f.write_str(m),
            EvalError::Budget(m) => write!(f, "evaluation budget exceeded: {m}"),
        }
    }
}

impl std::error::Error for EvalError {}

/// Shorthand for a rule-bug error.
pub fn error<T>(message: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError::Error(message.into()))
}

impl<'a> Val<'a> {
    /// An owned copy of `s`.
    pub fn str(s: &str) -> Val<'a> {
        Val::Str(Str::Shared(Rc::from(s)))
    }

    /// A string borrowed for the evaluation's lifetime (no copy).
    pub fn borrowed(s: &'a str) -> Val<'a> {
        Val::Str(Str::Borrowed(s))
    }

    pub fn list(items: Vec<Val<'a>>) -> Val<'a> {
        Val::List(Rc::new(items))
    }

    /// A map with string keys, as graph functions build them. Takes an array as well
    /// as a vector: graph functions build maps per answer, and an array spares them
    /// the vector's allocation.
    pub fn map(pairs: impl IntoIterator<Item = (&'static str, Val<'a>)>) -> Val<'a> {
        Val::Map(Rc::new(
            pairs
                .into_iter()
                .map(|(k, v)| (Val::Str(Str::Borrowed(k)), v))
                .collect(),
        ))
    }

    /// A YAML node as a value; scalars resolved by the core schema.
    pub fn from_node(node: &'a Node) -> Val<'a> {
        match &node.value {
            NodeValue::Scalar(sc) => match sc.resolved() {
                Resolved::Null => Val::Null,
                Resolved::Bool(b) => Val::Bool(b),
                Resolved::Int(i) => Val::Int(i),
                Resolved::Float(f) => Val::Double(f),
                Resolved::Str(s) => Val::Str(Str::Borrowed(s)),
            },
            _ => Val::Node(node),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An integer (int, or uint that fits).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::UInt(u) => i64::try_from(*u).ok(),
            _ => None,
        }
    }

    pub fn is_list(&self) -> bool {
        match self {
            Val::List(_) => true,
            Val::Node(n) => matches!(n.value, NodeValue::Seq(_)),
            _ => false,
        }
    }

    pub fn is_map(&self) -> bool {
        match self {
            Val::Map(_) => true,
            Val::Node(n) => matches!(n.value, NodeValue::Map(_)),
            _ => false,
        }
    }

    /// The value under a string key of a map (`None` when absent or not a map).
    pub fn field(&self, name: &str) -> Option<Val<'a>> {
        match self {
            Val::Map(m) => m
                .iter()
                .find(|(k, _)| k.as_str().is_some_and(|k| same_name(k, name)))
                .map(|(_, v)| v.clone()),
            // A YAML key with a null value (`annotations:` and nothing after it) is
            // absent, as it is to Kubernetes, which drops null fields.
            Val::Node(n) => match &n.value {
                NodeValue::Map(entries) => entries
                    .iter()
                    .rev()
                    .find(|(k, _)| k.scalar_text().is_some_and(|s| same_name(s, name)))
                    .filter(|(_, v)| !v.is_null())
                    .map(|(_, v)| Val::from_node(v)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether a map has `key`.
    pub fn has_key(&self, key: &Val<'a>) -> bool {
        self.get(key).is_some()
    }

    /// Map lookup by any key value.
    pub fn get(&self, key: &Val<'a>) -> Option<Val<'a>> {
        match self {
            Val::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()),
            Val::Node(_) => key.as_str().and_then(|k| self.field(k)),
            _ => None,
        }
    }

    /// The number of elements of a list or map, or `None`.
    pub fn container_len(&self) -> Option<usize> {
        match self {
            Val::List(l) => Some(l.len()),
            Val::Map(m) => Some(m.len()),
            Val::Node(n) => match &n.value {
                NodeValue::Seq(s) => Some(s.len()),
                NodeValue::Map(m) => Some(m.len()),
                NodeValue::Scalar(_) => None,
            },
            _ => None,
        }
    }

    /// Element `i` of a list.
    pub fn index(&self, i: usize) -> Option<Val<'a>> {
        match self {
            Val::List(l) => l.get(i).cloned(),
            Val::Node(n) => match &n.value {
                NodeValue::Seq(s) => s.get(i).map(Val::from_node),
                _ => None,
            },
            _ => None,
        }
    }

    /// The elements of a list, or the keys of a map (what comprehensions range over).
    pub fn elements(&self) -> Option<Vec<Val<'a>>> {
        match self {
            Val::List(l) => Some(l.as_ref().clone()),
            Val::Map(m) => Some(m.iter().map(|(k, _)| k.clone()).collect()),
            Val::Node(n) => match &n.value {
                NodeValue::Seq(s) => Some(s.iter().map(Val::from_node).collect()),
                NodeValue::Map(m) => Some(
                    m.iter()
                        .map(|(k, _)| Val::Str(Str::Borrowed(k.scalar_text().unwrap_or(""))))
                        .collect(),
                ),
                NodeValue::Scalar(_) => None,
            },
            _ => None,
        }
    }

    /// Key/value pairs of a map.
    pub fn entries(&self) -> Option<Vec<(Val<'a>, Val<'a>)>> {
        match self {
            Val::Map(m) => Some(m.as_ref().clone()),
            Val::Node(n) => match &n.value {
                NodeValue::Map(m) => Some(
                    m.iter()
                        .map(|(k, v)| {
                            (
                                Val::Str(Str::Borrowed(k.scalar_text().unwrap_or(""))),
                                Val::from_node(v),
                            )
                        })
                        .collect(),
                ),
                _ => None,
            },
            _ => None,
        }
    }

    /// The CEL type name, for error messages and `type()`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null_type",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::UInt(_) => "uint",
            Val::Double(_) => "double",
            Val::Str(_) => "string",
            Val::List(_) => "list",
            Val::Map(_) => "map",
            Val::Node(n) => match n.value {
                NodeValue::Seq(_) => "list",
                _ => "map",
            },
            Val::Type(_) => "type",
            Val::Duration(_) => "google.protobuf.Duration",
            Val::Bytes(_) => "bytes",
            Val::Url(_) => "kubernetes.URL",
            Val::Opt(_) => "optional_type",
            Val::Ip(_) => "net.IP",
            Val::Quantity(_) => "kubernetes.Quantity",
            Val::Timestamp(..) => "google.protobuf.Timestamp",
            Val::Cidr(..) => "net.CIDR",
        }
    }

    /// Human text, as messages interpolate values: strings bare, lists comma-separated.
    pub fn display(&self) -> String {
        match self {
            Val::Str(s) => s.to_string(),
            Val::Null => "null".to_string(),
            Val::Bool(b) => b.to_string(),
            Val::Int(i) => i.to_string(),
            Val::UInt(u) => u.to_string(),
            Val::Double(d) => format_double(*d),
            Val::Type(t) => t.to_string(),
            Val::Duration(n) => format_duration(*n),
            Val::List(_) | Val::Node(_) if self.is_list() => self
                .elements()
                .unwrap_or_default()
                .iter()
                .map(Val::display)
                .collect::<Vec<_>>()
                .join(", "),
            _ => format!("{self:?}"),
        }
    }
}

/// Whether two names (map keys, variable names) are equal. Length and first byte are
/// compared before the bytes: the names a lookup passes over are short and mostly differ
/// there, and a library `memcmp` call per name passed over was a few percent of a rule
/// run.
#[inline]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// A duration as CEL prints it: seconds with the fraction needed, `1.5s`, `-0.000001s`.
pub(crate) fn format_duration(nanos: i64) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let (secs, frac) = (n / 1_000_000_000, n % 1_000_000_000);
    if frac == 0 {
        format!("{sign}{secs}s")
    } else {
        let f = format!("{frac:09}");
        format!("{sign}{secs}.{}s", f.trim_end_matches('0'))
    }
}

/// Parses a Go/CEL duration (`1h2m3.5s`, `-250ms`, `0`), as nanoseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let (neg, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..num_len];
        if number.is_empty() || number == "." {
            return None;
        }
        rest = &rest[num_len..];
        let (unit, scale): (&str, i128) = [
            ("ns", 1),
            ("us", 1_000),
            ("\u{b5}s", 1_000),
            ("\u{3bc}s", 1_000),
            ("ms", 1_000_000),
            ("s", 1_000_000_000),
            ("m", 60_000_000_000),
            ("h", 3_600_000_000_000),
        ]
        .into_iter()
        .find(|(u, _)| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let mut part = whole.checked_mul(scale)?;
        let mut div = 1i128;
        for d in frac.bytes().take(18) {
            div *= 10;
            part += (d - b'0') as i128 * scale / div;
        }
        total = total.checked_add(part)?;
        if total > i64::MAX as i128 {
            return None;
        }
    }
    i64::try_from(if neg { -total } else { total }).ok()
}

pub(crate) fn format_double(d: f64) -> String {
    if d.is_finite() && d.fract() == 0.0 && d.abs() < 1e15 {
        format!("{d:.1}")
    } else {
        d.to_string()
    }
}

impl fmt::Debug for Val<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Null => f.write_str("null"),
            Val::Bool(b) => write!(f, "{b}"),
            Val::Int(i) => write!(f, "{i}"),
            Val::UInt(u) => write!(f, "{u}u"),
            Val::Double(d) => f.write_str(&format_double(*d)),
            Val::Str(s) => write!(f, "{:?}", &**s),
            Val::Type(t) => f.write_str(t),
            Val::Url(u) => write!(f, "url({:?})", &**u),
            Val::Ip(a) => write!(f, "ip({:?})", a.to_string()),
            Val::Quantity(q) => write!(f, "quantity({}e{})", q.digits, q.scale),
            Val::Timestamp(s, n) => write!(f, "timestamp({:?})", crate::time::format(*s, *n)),
            Val::Cidr(a, p) => write!(f, "cidr(\"{a}/{p}\")"),
            Val::Opt(None) => f.write_str("optional.none()"),
            Val::Opt(Some(v)) => write!(f, "optional.of({v:?})"),
            Val::Duration(n) => write!(f, "duration({:?})", format_duration(*n)),
            Val::Bytes(b) => {
                f.write_str("b\"")?;
                for &c in b.iter() {
                    if c.is_ascii_graphic() && c != b'"' && c != b'\\' || c == b' ' {
                        write!(f, "{}", c as char)?;
                    } else {
                        write!(f, "\\x{c:02x}")?;
                    }
                }
                f.write_str("\"")
            }
            _ if self.is_list() => f
                .debug_list()
                .entries(self.elements().unwrap_or_default())
                .finish(),
            _ => f
                .debug_map()
                .entries(self.entries().unwrap_or_default())
                .finish(),
        }
    }
}

/// CEL equality: numbers compare across int/uint/double, containers structurally,
/// values of different types are unequal.
impl PartialEq for Val<'_> {
    fn eq(&self, other: &Self) -> bool {
        use Val::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Str(a), Str(b)) => **a == **b,
            (Type(a), Type(b)) => a == b,
            (Duration(a), Duration(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (Url(a), Url(b)) => a == b,
            (Ip(a), Ip(b)) => a.to_canonical() == b.to_canonical(),
            (Quantity(a), Quantity(b)) => a.compare(**b) == Ordering::Equal,
            (Timestamp(a, x), Timestamp(b, y)) => (a, x) == (b, y),
            (Cidr(a, p), Cidr(b, q)) => a == b && p == q,
            (Opt(a), Opt(b)) => match (a, b) {
                (None, None) => true,
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
            (Int(_) | UInt(_) | Double(_), Int(_) | UInt(_) | Double(_)) => {
                numeric_cmp(self, other) == Some(Ordering::Equal)
            }
            _ if self.is_list() && other.is_list() => {
                let (Some(a), Some(b)) = (self.container_len(), other.container_len()) else {
                    return false;
                };
                a == b && (0..a).all(|i| self.index(i) == other.index(i))
            }
            _ if self.is_map() && other.is_map() => {
                let (Some(a), Some(b)) = (self.entries(), other.container_len()) else {
                    return false;
                };
                a.len() == b && a.iter().all(|(k, v)| other.get(k).as_ref() == Some(v))
            }
            _ => false,
        }
    }
}

fn numeric_cmp(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    use Val::*;
    match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (UInt(x), UInt(y)) => Some(x.cmp(y)),
        (Double(x), Double(y)) => x.partial_cmp(y),
        (Int(x), UInt(y)) => Some(if *x < 0 {
            Ordering::Less
        } else {
            (*x as u64).cmp(y)
        }),
        (UInt(x), Int(y)) => Some(if *y < 0 {
            Ordering::Greater
        } else {
            x.cmp(&(*y as u64))
        }),
        (Int(x), Double(y)) => (*x as f64).partial_cmp(y),
        (Double(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (UInt(x), Double(y)) => (*x as f64).partial_cmp(y),
        (Double(x), UInt(y)) => x.partial_cmp(&(*y as f64)),
        _ => None,
    }
}

/// CEL ordering: numbers across types, strings, bools; `None` for anything else.
pub fn compare(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Some((**x).cmp(&**y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Duration(x), Val::Duration(y)) => Some(x.cmp(y)),
        (Val::Timestamp(a, x), Val::Timestamp(b, y)) => Some((a, x).cmp(&(b, y))),
        (Val::Bytes(x), Val::Bytes(y)) => Some(x.cmp(y)),
        _ => numeric_cmp(a, b),
    }
}
