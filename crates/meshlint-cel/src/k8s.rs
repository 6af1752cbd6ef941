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
        None => error(format!(
            "`url`: {text:?} is not an absolute URI or absolute path"
        )),
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

// ---------------------------------------------------------------- ip and cidr

use std::net::IpAddr;

/// An address as Kubernetes' `ip()` accepts it: IPv4 or IPv6, no zone, and no IPv4
/// embedded in IPv6 text (`::ffff:1.2.3.4`).
fn parse_ip(text: &str) -> Option<IpAddr> {
    if text.contains(':') && text.contains('.') {
        return None;
    }
    text.parse().ok()
}

fn parse_cidr(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, prefix) = text.split_once('/')?;
    let addr = parse_ip(addr)?;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix: u8 = prefix.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some((addr, prefix))
}

fn bits(addr: IpAddr) -> (u128, u32) {
    match addr {
        IpAddr::V4(a) => (u32::from(a) as u128, 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    let (n, width) = bits(addr);
    let keep = if prefix == 0 {
        0
    } else {
        (!0u128) << (width - prefix as u32) & if width == 32 { 0xffff_ffff } else { !0u128 }
    };
    match addr {
        IpAddr::V4(_) => IpAddr::V4(((n & keep) as u32).into()),
        IpAddr::V6(_) => IpAddr::V6((n & keep).into()),
    }
}

fn contains(net: IpAddr, prefix: u8, addr: IpAddr) -> bool {
    net.is_ipv4() == addr.is_ipv4() && mask(net, prefix) == mask(addr, prefix)
}

pub(crate) fn ip<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Str(s) => parse_ip(s).map(Val::Ip).map_or_else(
            || error(format!("`ip`: {:?} is not an IP address", &**s)),
            Ok,
        ),
        Val::Cidr(addr, _) => Ok(Val::Ip(*addr)),
        v => error(format!("`ip` is not defined for {}", v.type_name())),
    }
}

pub(crate) fn is_ip<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(parse_ip(text_arg("isIP", a)?).is_some()))
}

pub(crate) fn ip_is_canonical<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let text = text_arg("ip.isCanonical", a)?;
    match parse_ip(text) {
        Some(addr) => Ok(Val::Bool(addr.to_string() == text)),
        None => error(format!("`ip.isCanonical`: {text:?} is not an IP address")),
    }
}

fn want_ip(f: &str, a: &[Val<'_>]) -> Result<IpAddr, EvalError> {
    match &a[0] {
        Val::Ip(addr) => Ok(*addr),
        v => error(format!("`{f}` is not defined for {}", v.type_name())),
    }
}

pub(crate) fn family<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Int(if want_ip("family", a)?.is_ipv4() {
        4
    } else {
        6
    }))
}

pub(crate) fn is_unspecified<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(want_ip("isUnspecified", a)?.is_unspecified()))
}

pub(crate) fn is_loopback<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(want_ip("isLoopback", a)?.is_loopback()))
}

fn link_local_unicast(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.octets()[..2] == [169, 254],
        IpAddr::V6(a) => a.segments()[0] & 0xffc0 == 0xfe80,
    }
}

fn link_local_multicast(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => a.octets()[..3] == [224, 0, 0],
        IpAddr::V6(a) => a.segments()[0] & 0xff0f == 0xff02,
    }
}

pub(crate) fn is_link_local_unicast<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(link_local_unicast(want_ip(
        "isLinkLocalUnicast",
        a,
    )?)))
}

pub(crate) fn is_link_local_multicast<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(link_local_multicast(want_ip(
        "isLinkLocalMulticast",
        a,
    )?)))
}

/// As Go's `IsGlobalUnicast`: none of unspecified, loopback, multicast, link-local
/// unicast or the IPv4 broadcast address.
pub(crate) fn is_global_unicast<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let addr = want_ip("isGlobalUnicast", a)?;
    let broadcast = matches!(addr, IpAddr::V4(v) if v.is_broadcast());
    Ok(Val::Bool(
        !(addr.is_unspecified()
            || addr.is_loopback()
            || addr.is_multicast()
            || link_local_unicast(addr)
            || broadcast),
    ))
}

pub(crate) fn cidr<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let text = text_arg("cidr", a)?;
    parse_cidr(text)
        .map(|(addr, p)| Val::Cidr(addr, p))
        .map_or_else(|| error(format!("`cidr`: {text:?} is not a CIDR")), Ok)
}

pub(crate) fn is_cidr<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(parse_cidr(text_arg("isCIDR", a)?).is_some()))
}

fn want_cidr(f: &str, v: &Val<'_>) -> Result<(IpAddr, u8), EvalError> {
    match v {
        Val::Cidr(addr, p) => Ok((*addr, *p)),
        Val::Str(s) => parse_cidr(s).map_or_else(|| error(format!("`{f}`: not a CIDR")), Ok),
        v => error(format!("`{f}` is not defined for {}", v.type_name())),
    }
}

pub(crate) fn contains_ip<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let (net, prefix) = want_cidr("containsIP", &a[0])?;
    let addr = match &a[1] {
        Val::Ip(addr) => *addr,
        Val::Str(s) => parse_ip(s).map_or_else(|| error("`containsIP`: not an IP address"), Ok)?,
        v => return error(format!("`containsIP` needs an IP, got {}", v.type_name())),
    };
    Ok(Val::Bool(contains(net, prefix, addr)))
}

pub(crate) fn contains_cidr<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let (net, prefix) = want_cidr("containsCIDR", &a[0])?;
    let (other, other_prefix) = want_cidr("containsCIDR", &a[1])?;
    Ok(Val::Bool(
        other_prefix >= prefix && contains(net, prefix, other),
    ))
}

pub(crate) fn masked<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let (addr, prefix) = want_cidr("masked", &a[0])?;
    Ok(Val::Cidr(mask(addr, prefix), prefix))
}

pub(crate) fn prefix_length<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Int(want_cidr("prefixLength", &a[0])?.1 as i64))
}

// ---------------------------------------------------------------- quantity

/// A Kubernetes resource quantity (`100m`, `1.5Gi`, `2e3`), exactly: `digits × 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    pub digits: i128,
    pub scale: i32,
}

impl Quantity {
    /// Parses the quantity syntax: a signed decimal number and an optional suffix
    /// (`Ki Mi Gi Ti Pi Ei`, `n u m k M G T P E`, or an exponent `e3`/`E-2`).
    pub fn parse(text: &str) -> Option<Quantity> {
        let (neg, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(num_len);
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && frac.is_empty()) || frac.contains('.') {
            return None;
        }
        let mut digits: i128 = 0;
        for b in whole.bytes().chain(frac.bytes()) {
            digits = digits.checked_mul(10)?.checked_add((b - b'0') as i128)?;
        }
        let mut scale = -(frac.len() as i32);
        let binary = |k: u32| 1024i128.checked_pow(k);
        match suffix {
            "" => {}
            "Ki" => digits = digits.checked_mul(binary(1)?)?,
            "Mi" => digits = digits.checked_mul(binary(2)?)?,
            "Gi" => digits = digits.checked_mul(binary(3)?)?,
            "Ti" => digits = digits.checked_mul(binary(4)?)?,
            "Pi" => digits = digits.checked_mul(binary(5)?)?,
            "Ei" => digits = digits.checked_mul(binary(6)?)?,
            "n" => scale -= 9,
            "u" => scale -= 6,
            "m" => scale -= 3,
            "k" => scale += 3,
            "M" => scale += 6,
            "G" => scale += 9,
            "T" => scale += 12,
            "P" => scale += 15,
            "E" => scale += 18,
            s if s.starts_with(['e', 'E']) => {
                let exp: i32 = s[1..].parse().ok()?;
                if s[1..].starts_with('+') || exp.abs() > 300 {
                    return None;
                }
                scale += exp;
            }
            _ => return None,
        }
        Some(Quantity {
            digits: if neg { -digits } else { digits },
            scale,
        })
    }

    /// Both on the smaller scale (`None` when that overflows).
    fn aligned(self, other: Quantity) -> Option<(i128, i128, i32)> {
        let scale = self.scale.min(other.scale);
        let lift = |q: Quantity| {
            10i128
                .checked_pow((q.scale - scale) as u32)
                .and_then(|f| q.digits.checked_mul(f))
        };
        Some((lift(self)?, lift(other)?, scale))
    }

    fn approx(self) -> f64 {
        self.digits as f64 * 10f64.powi(self.scale)
    }

    pub fn compare(self, other: Quantity) -> std::cmp::Ordering {
        match self.aligned(other) {
            Some((a, b, _)) => a.cmp(&b),
            None => self
                .approx()
                .partial_cmp(&other.approx())
                .unwrap_or(std::cmp::Ordering::Equal),
        }
    }

    /// The value as an integer, when it is one and fits in 64 bits.
    fn integer(self) -> Option<i64> {
        if self.scale >= 0 {
            let v = self
                .digits
                .checked_mul(10i128.checked_pow(self.scale as u32)?)?;
            return i64::try_from(v).ok();
        }
        let f = 10i128.checked_pow((-self.scale) as u32)?;
        (self.digits % f == 0)
            .then(|| i64::try_from(self.digits / f).ok())
            .flatten()
    }
}

pub(crate) fn quantity<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let text = text_arg("quantity", a)?;
    match Quantity::parse(text) {
        Some(q) => Ok(Val::Quantity(Rc::new(q))),
        None => error(format!("`quantity`: {text:?} is not a quantity")),
    }
}

pub(crate) fn is_quantity<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(
        Quantity::parse(text_arg("isQuantity", a)?).is_some(),
    ))
}

fn want_quantity(f: &str, v: &Val<'_>) -> Result<Quantity, EvalError> {
    match v {
        Val::Quantity(q) => Ok(**q),
        Val::Int(i) => Ok(Quantity {
            digits: *i as i128,
            scale: 0,
        }),
        v => error(format!("`{f}` is not defined for {}", v.type_name())),
    }
}

pub(crate) fn q_is_integer<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Bool(
        want_quantity("isInteger", &a[0])?.integer().is_some(),
    ))
}

pub(crate) fn q_as_integer<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match want_quantity("asInteger", &a[0])?.integer() {
        Some(i) => Ok(Val::Int(i)),
        None => error("`asInteger`: the quantity is not an integer that fits in 64 bits"),
    }
}

pub(crate) fn q_as_approximate_float<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    Ok(Val::Double(
        want_quantity("asApproximateFloat", &a[0])?.approx(),
    ))
}

pub(crate) fn q_sign<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Quantity(q) => Ok(Val::Int(q.digits.signum() as i64)),
        v => error(format!("`sign` is not defined for {}", v.type_name())),
    }
}

fn q_arith<'a>(f: &str, a: &[Val<'a>], sign: i128) -> Result<Val<'a>, EvalError> {
    let x = want_quantity(f, &a[0])?;
    let y = want_quantity(f, &a[1])?;
    let (p, q, scale) = x
        .aligned(y)
        .map_or_else(|| error(format!("`{f}`: quantity overflow")), Ok)?;
    let digits = q
        .checked_mul(sign)
        .and_then(|q| p.checked_add(q))
        .map_or_else(|| error(format!("`{f}`: quantity overflow")), Ok)?;
    Ok(Val::Quantity(Rc::new(Quantity { digits, scale })))
}

pub(crate) fn q_add<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    q_arith("add", a, 1)
}

pub(crate) fn q_sub<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    q_arith("sub", a, -1)
}

pub(crate) fn q_compare_to<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let x = want_quantity("compareTo", &a[0])?;
    let y = want_quantity("compareTo", &a[1])?;
    Ok(Val::Int(x.compare(y) as i64))
}

pub(crate) fn q_is_less_than<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let x = want_quantity("isLessThan", &a[0])?;
    let y = want_quantity("isLessThan", &a[1])?;
    Ok(Val::Bool(x.compare(y) == std::cmp::Ordering::Less))
}

pub(crate) fn q_is_greater_than<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    let x = want_quantity("isGreaterThan", &a[0])?;
    let y = want_quantity("isGreaterThan", &a[1])?;
    Ok(Val::Bool(x.compare(y) == std::cmp::Ordering::Greater))
}
