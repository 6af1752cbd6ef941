//! Timestamps (`google.protobuf.Timestamp`): RFC 3339 text, seconds since the Unix
//! epoch, the range 0001-01-01 to 9999-12-31, and calendar getters in UTC or at a
//! fixed offset (`'+05:30'`, `'-02:00'`, `'UTC'`). Named IANA time zones need a zone
//! database meshlint does not carry and are refused.

use crate::value::{error, EvalError, Val};

/// Seconds of 0001-01-01T00:00:00Z and of 9999-12-31T23:59:59Z.
const MIN_SECS: i64 = -62_135_596_800;
const MAX_SECS: i64 = 253_402_300_799;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of days since 1970-01-01: (year, month 1-12, day 1-31).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A timestamp value, checked against CEL's range.
pub(crate) fn make<'a>(secs: i64, nanos: u32) -> Result<Val<'a>, EvalError> {
    if !(MIN_SECS..=MAX_SECS).contains(&secs) {
        return error("timestamp out of range");
    }
    Ok(Val::Timestamp(secs, nanos))
}

fn digits(s: &str, at: usize, n: usize) -> Option<i64> {
    let part = s.get(at..at + n)?;
    part.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| part.parse().ok())?
}

/// Parses RFC 3339 (`2009-02-13T23:31:30.5Z`, `…+05:30`).
pub(crate) fn parse(s: &str) -> Option<(i64, u32)> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(s, 0, 4)?, digits(s, 5, 2)?, digits(s, 8, 2)?);
    let (h, mi, sec) = (digits(s, 11, 2)?, digits(s, 14, 2)?, digits(s, 17, 2)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60
    {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let frac = &s[start..i];
        if frac.is_empty() || frac.len() > 9 {
            return None;
        }
        nanos = format!("{frac:0<9}").parse().ok()?;
    }
    let offset = match &s[i..] {
        "Z" | "z" => 0,
        tz => offset_seconds(tz)?,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    Some((secs, nanos))
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `+05:30`, `-02:00`, `02:00` (east), as seconds east of UTC.
fn offset_seconds(tz: &str) -> Option<i64> {
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => (1, tz),
    };
    let (h, m) = rest.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 23 && m <= 59).then_some(sign * (h * 3600 + m * 60))
}

/// RFC 3339 in UTC with the fraction it needs, as CEL prints timestamps.
pub(crate) fn format(secs: i64, nanos: u32) -> String {
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    let mut out = format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        t / 3600,
        t / 60 % 60,
        t % 60
    );
    if nanos > 0 {
        out.push('.');
        out.push_str(format!("{nanos:09}").trim_end_matches('0'));
    }
    out.push('Z');
    out
}

pub(crate) fn to_timestamp<'a>(a: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
    match &a[0] {
        Val::Timestamp(s, n) => Ok(Val::Timestamp(*s, *n)),
        Val::Int(secs) => make(*secs, 0),
        Val::Str(s) => match parse(s) {
            Some((secs, nanos)) => make(secs, nanos),
            None => error(format!("cannot convert {:?} to a timestamp", &**s)),
        },
        v => error(format!("`timestamp` is not defined for {}", v.type_name())),
    }
}

/// `ts ± duration` (`sign` 1 or -1).
pub(crate) fn shift<'a>(secs: i64, nanos: u32, by: i64, sign: i64) -> Result<Val<'a>, EvalError> {
    let total = (secs as i128) * 1_000_000_000 + nanos as i128 + (by as i128) * sign as i128;
    let s = total.div_euclid(1_000_000_000);
    let n = total.rem_euclid(1_000_000_000) as u32;
    match i64::try_from(s) {
        Ok(s) => make(s, n),
        Err(_) => error("timestamp out of range"),
    }
}

/// `ts - ts` as a duration.
pub(crate) fn between<'a>(a: (i64, u32), b: (i64, u32)) -> Result<Val<'a>, EvalError> {
    let nanos = (a.0 as i128 - b.0 as i128) * 1_000_000_000 + a.1 as i128 - b.1 as i128;
    i64::try_from(nanos)
        .map(Val::Duration)
        .or_else(|_| error("duration out of range"))
}

/// A calendar field of a timestamp, in UTC or at the offset of the second argument.
pub(crate) fn field<'a>(name: &str, a: &[Val<'a>]) -> Result<Option<Val<'a>>, EvalError> {
    let Val::Timestamp(secs, nanos) = &a[0] else {
        return Ok(None);
    };
    let offset = match a.get(1) {
        None => 0,
        Some(Val::Str(tz)) if &**tz == "UTC" || &**tz == "Z" => 0,
        Some(Val::Str(tz)) => match offset_seconds(tz) {
            Some(o) => o,
            None => {
                return error(format!(
                "`{name}`: time zone {:?} is not supported (use UTC or an offset such as '+05:30')",
                &**tz
            ))
            }
        },
        Some(v) => {
            return error(format!(
                "`{name}` needs a time zone string, got {}",
                v.type_name()
            ))
        }
    };
    let local = secs + offset;
    let days = local.div_euclid(86_400);
    let t = local.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let v = match name {
        "getFullYear" => y,
        "getMonth" => mo - 1,
        "getDate" => d,
        "getDayOfMonth" => d - 1,
        "getDayOfWeek" => (days + 4).rem_euclid(7),
        "getDayOfYear" => days - days_from_civil(y, 1, 1),
        "getHours" => t / 3600,
        "getMinutes" => t / 60 % 60,
        "getSeconds" => t % 60,
        "getMilliseconds" => (*nanos / 1_000_000) as i64,
        _ => return Ok(None),
    };
    Ok(Some(Val::Int(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for text in [
            "2009-02-13T23:31:30Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "1969-12-31T23:59:59.5Z",
        ] {
            let (s, n) = parse(text).unwrap();
            assert_eq!(format(s, n), text);
        }
        assert_eq!(parse("2009-02-13T23:31:30Z"), Some((1_234_567_890, 0)));
        assert_eq!(parse("2009-02-14T01:31:30+02:00"), Some((1_234_567_890, 0)));
        assert!(parse("2009-02-30T00:00:00Z").is_none());
    }
}
