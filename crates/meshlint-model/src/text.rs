//! [`Text`]: a string of a typed view that many resources write alike.
//!
//! Field paths (`spec.ports[0]`, `spec.trafficPolicy.tls`), port names, TLS modes and
//! subset names repeat across thousands of resources: on the 20,000-namespace gen-mesh
//! corpus each was its own `String` (24 bytes plus a heap copy) in every view. A `Text`
//! is one shared copy per loading thread behind an `Arc` (16 bytes, no copy), and reads
//! as a `&str`.

use serde::{Serialize, Serializer};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text(Arc<str>);

impl Text {
    /// The shared copy of `text` (see [`crate::resource`]'s interning: bounded per
    /// thread, so an input of only distinct values copies no more than a `String` would).
    pub fn new(text: &str) -> Text {
        Text(crate::resource::interned(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared copy itself, for an index that keys or labels by this text without
    /// copying it.
    pub fn shared(&self) -> Arc<str> {
        self.0.clone()
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::new(text)
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text::new(&text)
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        text.0.to_string()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl Default for Text {
    /// The empty text.
    fn default() -> Text {
        Text::new("")
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        **self == *other.0
    }
}
