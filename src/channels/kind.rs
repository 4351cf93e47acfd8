//! [`ChannelKind`]: which platform a channel connection is, as a handle on its registration.
//! There is no list of kinds outside the registry: parsing, listing and validating kinds all go
//! through a [`Registry`] ([`crate::channels::REGISTRY`] in the Worker, made-up ones in tests).

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::registry::{Platform, REGISTRY};

/// A platform a channel connection can be: a handle on its [`Platform`] registration, so what
/// the platform does is one field access away and a kind that is not registered cannot exist.
/// Two kinds are equal when their names are (names are unique within a registry: a test checks).
#[derive(Clone, Copy)]
pub struct ChannelKind(&'static Platform);

impl ChannelKind {
    /// The kind a registration declares (used by the registry for its entries' named kinds).
    pub const fn of(platform: &'static Platform) -> ChannelKind {
        ChannelKind(platform)
    }

    /// Its registration.
    pub fn platform(self) -> &'static Platform {
        self.0
    }

    /// The kind's name: in channel records, listings, messages and the webhook route.
    pub fn as_str(self) -> &'static str {
        self.0.name
    }

    /// The registered kind named `s`.
    pub fn parse(s: &str) -> Option<ChannelKind> {
        REGISTRY.parse(s)
    }

    /// Every registered kind, in registration order.
    pub fn all() -> impl Iterator<Item = ChannelKind> {
        REGISTRY.kinds()
    }

    /// The registered kinds' names, comma-separated (for messages).
    pub fn names() -> String {
        REGISTRY.names()
    }
}

impl PartialEq for ChannelKind {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for ChannelKind {}

impl Hash for ChannelKind {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}

impl fmt::Debug for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelKind({})", self.0.name)
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

/// As its name.
impl Serialize for ChannelKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name)
    }
}

/// From a registered kind's name; any other string is an error naming the registered ones.
impl<'de> Deserialize<'de> for ChannelKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(d)?;
        ChannelKind::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown channel kind {name:?}: expected one of {}", ChannelKind::names()))
        })
    }
}
