//! Compact JSON for the streamed report, byte for byte what `serde_json::to_writer` writes for
//! the report's types, but with strings copied whole when nothing in them needs escaping
//! (serde_json looks every byte up in a table; the report's megabytes of formulas and numbers
//! almost never hold a quote, a backslash or a control character).
//!
//! Only what the report model uses is supported: maps, structs (plain and flattened), sequences,
//! options, strings, booleans and integers. Anything else is an error, never a guess.

use std::fmt;

use serde::ser::{self, Serialize};

/// Appends `value` as compact JSON to `out`.
pub fn append<T: ?Sized + Serialize>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(&mut Json { out })
}

/// A value the report model never holds (a float, bytes, an enum with data, a tuple).
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error(message.to_string())
    }
}

fn unsupported<T>(what: &str) -> Result<T, Error> {
    Err(Error(format!(
        "the report's JSON writer does not write {what}"
    )))
}

struct Json<'o> {
    out: &'o mut Vec<u8>,
}

/// Writes `text` as a JSON string, escaped as serde_json escapes it.
fn string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
    } else {
        for &b in bytes {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x09 => out.extend_from_slice(b"\\t"),
                0x0a => out.extend_from_slice(b"\\n"),
                0x0c => out.extend_from_slice(b"\\f"),
                0x0d => out.extend_from_slice(b"\\r"),
                0x00..=0x1f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
                _ => out.push(b),
            }
        }
    }
    out.push(b'"');
}

/// Whether any byte is a quote, a backslash or a control character, eight bytes at a time.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of some byte of `(v - n·ONES) & !v & HIGH` is set exactly when some byte of
    // v is below n (n ≤ 0x80): the classic "has a byte less than" test.
    let below = |v: u64, n: u64| v.wrapping_sub(n * ONES) & !v & HIGH;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let v = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let quote = v ^ (u64::from(b'"') * ONES);
        let backslash = v ^ (u64::from(b'\\') * ONES);
        if below(v, 0x20) | below(quote, 1) | below(backslash, 1) != 0 {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A map, struct or sequence being written: whether a member was written yet.
struct Compound<'a, 'o> {
    json: &'a mut Json<'o>,
    first: bool,
}

impl Compound<'_, '_> {
    fn separate(&mut self) {
        if !self.first {
            self.json.out.push(b',');
        }
        self.first = false;
    }

    /// A struct field: its name is a Rust identifier, which never needs escaping.
    fn field<T: ?Sized + Serialize>(&mut self, name: &str, value: &T) -> Result<(), Error> {
        debug_assert!(!needs_escape(name.as_bytes()));
        self.separate();
        let out = &mut *self.json.out;
        out.reserve(name.len() + 3);
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        value.serialize(&mut *self.json)
    }
}

impl<'a, 'o> ser::Serializer for &'a mut Json<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, 'o>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = Compound<'a, 'o>;
    type SerializeStruct = Compound<'a, 'o>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.out.extend_from_slice(v.to_string().as_bytes());
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.out.extend_from_slice(v.to_string().as_bytes());
        Ok(())
    }

    fn serialize_f32(self, _: f32) -> Result<(), Error> {
        unsupported("floats")
    }

    fn serialize_f64(self, _: f64) -> Result<(), Error> {
        unsupported("floats")
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        string(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        string(self.out, v);
        Ok(())
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        unsupported("bytes")
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        unsupported("enums with data")
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a, 'o>, Error> {
        self.out.push(b'[');
        Ok(Compound {
            json: self,
            first: true,
        })
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        unsupported("tuples")
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        unsupported("tuples")
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        unsupported("enums with data")
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a, 'o>, Error> {
        self.out.push(b'{');
        Ok(Compound {
            json: self,
            first: true,
        })
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Compound<'a, 'o>, Error> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        unsupported("enums with data")
    }
}

impl ser::SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.separate();
        value.serialize(&mut *self.json)
    }

    fn end(self) -> Result<(), Error> {
        self.json.out.push(b']');
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Error> {
        self.separate();
        let start = self.json.out.len();
        key.serialize(&mut *self.json)?;
        // The report's keys are names; serde_json would quote a number, this writer refuses it.
        if self.json.out.get(start) == Some(&b'"') {
            Ok(())
        } else {
            unsupported("keys that are not strings")
        }
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.json.out.push(b':');
        value.serialize(&mut *self.json)
    }

    fn end(self) -> Result<(), Error> {
        self.json.out.push(b'}');
        Ok(())
    }
}

impl ser::SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        self.json.out.push(b'}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::collections::BTreeMap;

    fn both(value: &impl Serialize) -> (String, String) {
        let mut ours = Vec::new();
        append(&mut ours, value).expect("the value is supported");
        (
            String::from_utf8(ours).expect("UTF-8"),
            serde_json::to_string(value).expect("serde_json writes it"),
        )
    }

    #[test]
    fn every_byte_is_escaped_as_serde_json_escapes_it() {
        let all: String = (0u32..0x80)
            .chain([0xe9, 0x3c3, 0x2212, 0x1f600])
            .filter_map(char::from_u32)
            .collect();
        let (ours, theirs) = both(&all);
        assert_eq!(ours, theirs);
        for c in all.chars() {
            let text = format!("a{c}b\\{c}");
            let (ours, theirs) = both(&text);
            assert_eq!(ours, theirs, "{:?}", c);
        }
        let (ours, theirs) = both(&"\\frac{\\partial L}{\\partial w_{1}} = \"x\"");
        assert_eq!(ours, theirs);
    }

    #[derive(Serialize)]
    struct Inner {
        value: String,
        #[serde(skip_serializing_if = "String::is_empty")]
        latex: String,
        exact: Option<u32>,
    }

    #[derive(Serialize)]
    struct Outer {
        kind: &'static str,
        random: bool,
        seed: u64,
        offset: i64,
        items: Vec<Inner>,
        #[serde(flatten)]
        inner: Inner,
        nothing: Option<Inner>,
        map: BTreeMap<String, Vec<u8>>,
        empty: Vec<u8>,
        unit: (),
    }

    #[test]
    fn the_word_test_finds_every_special_byte_at_every_offset() {
        for special in (0u8..0x20).chain([b'"', b'\\']) {
            for len in 1..20 {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    assert!(needs_escape(&bytes), "{special:#x} at {at} of {len}");
                }
            }
        }
        // Neighbours of the special bytes, and bytes with the high bit set, are plain.
        let plain: Vec<u8> = [0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff].repeat(5);
        for start in 0..8 {
            assert!(!needs_escape(&plain[start..]));
        }
    }

    #[test]
    fn report_shapes_match_serde_json() {
        let inner = |value: &str, latex: &str, exact| Inner {
            value: value.to_string(),
            latex: latex.to_string(),
            exact,
        };
        let outer = Outer {
            kind: "param",
            random: true,
            seed: u64::MAX,
            offset: i64::MIN,
            items: vec![
                inner("1", "", None),
                inner("-0.5", "-\\frac{1}{2}", Some(7)),
            ],
            inner: inner("0.3", "x\ny", Some(0)),
            nothing: None,
            map: BTreeMap::from([("k\"".to_string(), vec![1, 2]), ("a".to_string(), vec![])]),
            empty: vec![],
            unit: (),
        };
        let (ours, theirs) = both(&outer);
        assert_eq!(ours, theirs);
    }

    #[test]
    fn unsupported_values_are_errors() {
        let mut out = Vec::new();
        assert!(append(&mut out, &1.5f64).is_err());
        assert!(append(&mut out, &(1, 2)).is_err());
        assert!(append(&mut out, &BTreeMap::from([(1, 2)])).is_err());
    }
}
