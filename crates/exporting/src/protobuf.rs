//! The few protobuf (proto3) encodings remote write needs, with libprotobuf's rules: fields in
//! number order, default values (0, 0.0, empty strings) left out.

/// Appends `n` as a base-128 varint.
pub fn varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7F) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Appends a length-delimited field (wire type 2); empty payloads are left out.
pub fn bytes_field(out: &mut Vec<u8>, field: u32, payload: &[u8]) {
    if payload.is_empty() {
        return;
    }
    varint(out, u64::from(field << 3 | 2));
    varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// Appends a `double` field (wire type 1); 0.0 is left out.
pub fn double_field(out: &mut Vec<u8>, field: u32, v: f64) {
    if v.to_bits() == 0 {
        return;
    }
    varint(out, u64::from(field << 3 | 1));
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends an `int64` field (wire type 0, negative numbers in ten bytes); 0 is left out.
pub fn int64_field(out: &mut Vec<u8>, field: u32, v: i64) {
    if v == 0 {
        return;
    }
    varint(out, u64::from(field << 3));
    varint(out, v as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_libprotobuf() {
        let mut v = Vec::new();
        varint(&mut v, 300);
        assert_eq!(v, [0xAC, 0x02]);
        v.clear();
        int64_field(&mut v, 2, -1);
        assert_eq!(v.len(), 11);
        v.clear();
        double_field(&mut v, 1, 0.0);
        bytes_field(&mut v, 1, b"");
        int64_field(&mut v, 2, 0);
        assert!(v.is_empty());
    }
}
