//! The formatters' response buffer: bytes appended without UTF-8 checks (every piece is a
//! `&str` or ASCII digits), validated once when the response is complete. Appending a number
//! is one fixed-size copy from a stack buffer; a `String` would check each piece.

use std::fmt;

use tributary_rrd::number_format::{
    write_i64_bytes, write_netdata_f64_bytes, write_storage_number_bytes,
};
use tributary_rrd::storage_number::StorageNumber;

/// A response being written.
#[derive(Debug, Default)]
pub struct Out(Vec<u8>);

impl Out {
    /// Continues writing after what `s` holds.
    pub fn from_string(s: String) -> Out {
        Out(s.into_bytes())
    }

    /// The finished text. Only `&str` and ASCII were appended, so the check cannot fail (a
    /// lossy copy would be made if it did).
    pub fn into_string(self) -> String {
        String::from_utf8(self.0)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Appends text (the separators between values are one byte or none: no copy call for
    /// those).
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        match s.as_bytes() {
            [] => {}
            [b] => self.0.push(*b),
            bytes => self.0.extend_from_slice(bytes),
        }
    }

    /// Appends one character.
    #[inline]
    pub fn push(&mut self, c: char) {
        let mut b = [0u8; 4];
        self.push_str(c.encode_utf8(&mut b));
    }

    /// Appends a value as netdata prints it (`null` for NaN).
    #[inline]
    pub fn num(&mut self, v: f64) {
        write_netdata_f64_bytes(&mut self.0, v);
    }

    /// Appends a stored sample (not the empty slot) as netdata prints its value, made
    /// absolute with `absolute`.
    #[inline]
    pub fn stored(&mut self, sn: StorageNumber, absolute: bool) {
        write_storage_number_bytes(&mut self.0, sn, absolute);
    }

    /// Appends an integer.
    #[inline]
    pub fn int(&mut self, v: i64) {
        write_i64_bytes(&mut self.0, v);
    }
}

impl fmt::Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    #[test]
    fn writes_text_numbers_and_formatted_pieces() {
        let mut o = super::Out::from_string("a".into());
        o.push_str("ü,");
        o.push('€');
        o.num(50.5102041);
        o.push(',');
        o.int(-17);
        write!(o, " {:02}", 7).unwrap();
        o.num(f64::NAN);
        assert_eq!(o.into_string(), "aü,€50.5102041,-17 07null");
    }
}
