//! Enums written as one `snake_case` word on the wire and in the database's text columns.

/// An enum whose values are fixed words: listed, named, parsed back.
pub trait WireEnum:
    Copy + Eq + std::fmt::Debug + std::str::FromStr<Err = UnknownValue> + 'static
{
    /// Every value, in the order menus show them.
    const ALL: &'static [Self];
    /// The type's name, as in TypeScript and in error messages.
    const TYPE_NAME: &'static str;
    fn as_str(self) -> &'static str;
}

/// A word that names no value of the enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    pub type_name: &'static str,
    pub value: String,
}

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} is not a {}", self.value, self.type_name)
    }
}

impl std::error::Error for UnknownValue {}

/// Declares a [`WireEnum`] with its serde and ts-rs derives, `Display` and `FromStr`, from one
/// list of `Variant => "word"` pairs, so the word is written once.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $word:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, ts_rs::TS,
        )]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $word)] $variant, )+
        }

        impl $crate::WireEnum for $name {
            const ALL: &'static [Self] = &[ $( Self::$variant, )+ ];
            const TYPE_NAME: &'static str = stringify!($name);
            fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $word, )+ }
            }
        }

        impl $name {
            /// The value's word on the wire.
            pub fn as_str(self) -> &'static str {
                <Self as $crate::WireEnum>::as_str(self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $word => Ok(Self::$variant), )+
                    _ => Err($crate::UnknownValue {
                        type_name: stringify!($name),
                        value: s.to_string(),
                    }),
                }
            }
        }
    };
}
pub(crate) use wire_enum;
