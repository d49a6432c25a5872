//! Protobuf base-128 varints as used for length prefixes (FORMAT.md 3 and 4).

/// Longest varint of a 64-bit value.
pub const MAX_VARINT_LEN: usize = 10;

/// Number of bytes of the varint of `value`.
pub fn encoded_len(value: u64) -> usize {
    // One byte per started group of 7 bits; 0 still takes one byte.
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Writes the varint of `value` into `out`, returning the bytes written.
/// `out` must hold at least `encoded_len(value)` bytes.
pub fn encode(mut value: u64, out: &mut [u8]) -> usize {
    let mut i = 0;
    while value >= 0x80 {
        out[i] = (value as u8) | 0x80;
        value >>= 7;
        i += 1;
    }
    out[i] = value as u8;
    i + 1
}

/// Appends the varint of `value` to `out`.
pub fn push(value: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; MAX_VARINT_LEN];
    let n = encode(value, &mut buf);
    out.extend_from_slice(&buf[..n]);
}

/// Decodes a varint at the start of `bytes`: `(value, bytes used)`, or
/// `None` when it is unterminated within `bytes`, longer than 10 bytes, or
/// overflows 64 bits.
pub fn decode(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().take(MAX_VARINT_LEN).enumerate() {
        let low = u64::from(b & 0x7F);
        if i == MAX_VARINT_LEN - 1 && b > 1 {
            return None; // would overflow 64 bits
        }
        value |= low << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_boundaries() {
        for v in [0u64, 1, 127, 128, 16383, 16384, u32::MAX as u64, u64::MAX] {
            let mut buf = [0u8; MAX_VARINT_LEN];
            let n = encode(v, &mut buf);
            assert_eq!(n, encoded_len(v));
            assert_eq!(decode(&buf[..n]), Some((v, n)));
        }
    }

    #[test]
    fn rejects_unterminated_and_overlong() {
        assert_eq!(decode(&[0x80, 0x80]), None);
        assert_eq!(decode(&[0xFF; 11]), None);
        assert_eq!(
            decode(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02]),
            None
        );
        assert_eq!(decode(&[]), None);
    }
}
