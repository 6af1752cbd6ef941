//! Tokens of a CEL expression.

use crate::parse::CompileError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    Int(i64),
    /// `9223372036854775808`: only valid right after a unary minus (`i64::MIN`).
    IntMinMagnitude,
    UInt(u64),
    Double(f64),
    Str(String),
    Bytes(Vec<u8>),
    /// A backquoted field name (`` a.`content-type` ``).
    QuotedIdent(String),
    LParen,
    RParen,
    LBrack,
    RBrack,
    LBrace,
    RBrace,
    Dot,
    Comma,
    Colon,
    Question,
    Not,
    Minus,
    Plus,
    Star,
    Slash,
    Percent,
    Lt,
    Le,
    Gt,
    Ge,
    EqEq,
    Ne,
    AndAnd,
    OrOr,
    Eof,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offset in the source, for error messages.
    pub offset: usize,
}

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, CompileError> {
    Err(CompileError {
        message: message.into(),
        offset,
    })
}

pub(crate) fn lex(src: &str) -> Result<Vec<Token>, CompileError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let two = |a: u8, b: u8| c == a && bytes.get(i + 1) == Some(&b);
        let tok = if two(b'&', b'&') {
            i += 2;
            Tok::AndAnd
        } else if two(b'|', b'|') {
            i += 2;
            Tok::OrOr
        } else if two(b'=', b'=') {
            i += 2;
            Tok::EqEq
        } else if two(b'!', b'=') {
            i += 2;
            Tok::Ne
        } else if two(b'<', b'=') {
            i += 2;
            Tok::Le
        } else if two(b'>', b'=') {
            i += 2;
            Tok::Ge
        } else if c.is_ascii_digit()
            || (c == b'.'
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
                && !matches!(
                    out.last(),
                    Some(Token {
                        tok: Tok::Ident(_) | Tok::RParen | Tok::RBrack,
                        ..
                    })
                ))
        {
            let (tok, next) = number(src, i)?;
            i = next;
            tok
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let quote = bytes.get(i + 1).copied();
            let is_quote = |q: Option<u8>| matches!(q, Some(b'\'' | b'"'));
            let (r, b) = (
                |x: u8| matches!(x, b'r' | b'R'),
                |x: u8| matches!(x, b'b' | b'B'),
            );
            if r(c) && is_quote(quote) {
                let (s, next) = string(src, i + 1, true)?;
                i = next;
                Tok::Str(s)
            } else if b(c) && is_quote(quote) {
                let (v, next) = byte_string(src, i + 1, false)?;
                i = next;
                Tok::Bytes(v)
            } else if quote.is_some_and(|q| (b(c) && r(q)) || (r(c) && b(q)))
                && is_quote(bytes.get(i + 2).copied())
            {
                let (v, next) = byte_string(src, i + 2, true)?;
                i = next;
                Tok::Bytes(v)
            } else {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Tok::Ident(src[start..i].to_string())
            }
        } else if c == b'`' {
            let Some(len) = src[i + 1..].find('`') else {
                return err(i, "backquoted field name is not closed");
            };
            let name = &src[i + 1..i + 1 + len];
            i += len + 2;
            Tok::QuotedIdent(name.to_string())
        } else if c == b'\'' || c == b'"' {
            let (s, next) = string(src, i, false)?;
            i = next;
            Tok::Str(s)
        } else {
            i += 1;
            match c {
                b'(' => Tok::LParen,
                b')' => Tok::RParen,
                b'[' => Tok::LBrack,
                b']' => Tok::RBrack,
                b'{' => Tok::LBrace,
                b'}' => Tok::RBrace,
                b'.' => Tok::Dot,
                b',' => Tok::Comma,
                b':' => Tok::Colon,
                b'?' => Tok::Question,
                b'!' => Tok::Not,
                b'-' => Tok::Minus,
                b'+' => Tok::Plus,
                b'*' => Tok::Star,
                b'/' => Tok::Slash,
                b'%' => Tok::Percent,
                b'<' => Tok::Lt,
                b'>' => Tok::Gt,
                _ => {
                    let ch = src[start..].chars().next().unwrap_or('?');
                    return err(start, format!("unexpected character `{ch}`"));
                }
            }
        };
        out.push(Token { tok, offset: start });
    }
    out.push(Token {
        tok: Tok::Eof,
        offset: src.len(),
    });
    Ok(out)
}

fn number(src: &str, start: usize) -> Result<(Tok, usize), CompileError> {
    let bytes = src.as_bytes();
    let mut i = start;
    if bytes[i] == b'0' && matches!(bytes.get(i + 1), Some(b'x' | b'X')) {
        i += 2;
        let digits_start = i;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            i += 1;
        }
        let digits = &src[digits_start..i];
        if matches!(bytes.get(i), Some(b'u' | b'U')) {
            return u64::from_str_radix(digits, 16)
                .map(|v| (Tok::UInt(v), i + 1))
                .or_else(|_| err(start, "invalid hexadecimal literal"));
        }
        return i64::from_str_radix(digits, 16)
            .map(|v| (Tok::Int(v), i))
            .or_else(|_| err(start, "invalid hexadecimal literal"));
    }
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let mut is_double = false;
    if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        is_double = true;
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            is_double = true;
            i = j;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    let text = &src[start..i];
    if is_double {
        return text
            .parse()
            .map(|v| (Tok::Double(v), i))
            .or_else(|_| err(start, "invalid number"));
    }
    if matches!(bytes.get(i), Some(b'u' | b'U')) {
        return text
            .parse()
            .map(|v| (Tok::UInt(v), i + 1))
            .or_else(|_| err(start, "integer literal out of range"));
    }
    if text == "9223372036854775808" {
        return Ok((Tok::IntMinMagnitude, i));
    }
    text.parse()
        .map(|v| (Tok::Int(v), i))
        .or_else(|_| err(start, "integer literal out of range"))
}

/// A quoted string starting at `start` (the quote), single or triple quoted.
fn string(src: &str, start: usize, raw: bool) -> Result<(String, usize), CompileError> {
    let bytes = src.as_bytes();
    let q = bytes[start];
    let triple = bytes.get(start + 1) == Some(&q) && bytes.get(start + 2) == Some(&q);
    let mut i = start + if triple { 3 } else { 1 };
    let mut out = String::new();
    loop {
        let Some(&c) = bytes.get(i) else {
            return err(start, "string literal is not closed");
        };
        if c == q {
            if !triple {
                return Ok((out, i + 1));
            }
            if bytes.get(i + 1) == Some(&q) && bytes.get(i + 2) == Some(&q) {
                return Ok((out, i + 3));
            }
        }
        if !triple && (c == b'\n' || c == b'\r') {
            return err(start, "string literal is not closed on its line");
        }
        if c == b'\\' && !raw {
            let (ch, next) = escape(src, i)?;
            out.push(ch);
            i = next;
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8();
    }
}

/// A quoted bytes literal starting at `start` (the quote): text is UTF-8 encoded, and
/// `\xHH` and octal escapes are single bytes.
fn byte_string(src: &str, start: usize, raw: bool) -> Result<(Vec<u8>, usize), CompileError> {
    let bytes = src.as_bytes();
    let q = bytes[start];
    let triple = bytes.get(start + 1) == Some(&q) && bytes.get(start + 2) == Some(&q);
    let mut i = start + if triple { 3 } else { 1 };
    let mut out = Vec::new();
    loop {
        let Some(&c) = bytes.get(i) else {
            return err(start, "bytes literal is not closed");
        };
        if c == q {
            if !triple {
                return Ok((out, i + 1));
            }
            if bytes.get(i + 1) == Some(&q) && bytes.get(i + 2) == Some(&q) {
                return Ok((out, i + 3));
            }
        }
        if !triple && (c == b'\n' || c == b'\r') {
            return err(start, "bytes literal is not closed on its line");
        }
        if c == b'\\' && !raw {
            match bytes.get(i + 1) {
                Some(b'u' | b'U') => return err(i, "\\u escapes are not allowed in bytes"),
                Some(b'x' | b'X' | b'0'..=b'3') => {
                    let (ch, next) = escape(src, i)?;
                    out.push(ch as u32 as u8);
                    i = next;
                }
                _ => {
                    let (ch, next) = escape(src, i)?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    i = next;
                }
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
}

fn escape(src: &str, at: usize) -> Result<(char, usize), CompileError> {
    let bytes = src.as_bytes();
    let Some(&c) = bytes.get(at + 1) else {
        return err(at, "unfinished escape sequence");
    };
    let simple = match c {
        b'\\' => Some('\\'),
        b'\'' => Some('\''),
        b'"' => Some('"'),
        b'`' => Some('`'),
        b'?' => Some('?'),
        b'n' => Some('\n'),
        b'r' => Some('\r'),
        b't' => Some('\t'),
        b'a' => Some('\u{7}'),
        b'b' => Some('\u{8}'),
        b'f' => Some('\u{c}'),
        b'v' => Some('\u{b}'),
        _ => None,
    };
    if let Some(ch) = simple {
        return Ok((ch, at + 2));
    }
    let (digits, radix, len) = match c {
        b'x' | b'X' => (at + 2, 16, 2),
        b'u' => (at + 2, 16, 4),
        b'U' => (at + 2, 16, 8),
        b'0'..=b'3' => (at + 1, 8, 3),
        _ => return err(at, format!("unknown escape sequence `\\{}`", c as char)),
    };
    let text = src.get(digits..digits + len).unwrap_or("");
    u32::from_str_radix(text, radix)
        .ok()
        .filter(|_| text.len() == len)
        .and_then(char::from_u32)
        .map(|ch| (ch, digits + len))
        .ok_or_else(|| CompileError {
            message: "invalid escape sequence".to_string(),
            offset: at,
        })
}
