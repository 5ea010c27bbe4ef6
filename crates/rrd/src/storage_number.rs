//! netdata's 32-bit `storage_number`: how one stored sample is packed.
//!
//! Mirrors libnetdata/storage_number in netdata 1.37.1 (spec: collection-math.md §3):
//!
//! ```text
//! bit 31     negative
//! bit 30     multiply (1: mantissa × 10^m or 100^m; 0: mantissa / 10^m or 100^m)
//! bits 29-27 m (0..7)
//! bit 26     factor 100 (alone, 0x04000000, it means "empty slot")
//! bit 25     reset (a counter reset or overflow happened in this slot)
//! bit 24     not anomalous (always set: tributary has no ML)
//! bits 23-0  mantissa
//! ```
//!
//! The rounding (`lrint`, half to even) and the repeated ×10 loop are kept exactly so that every
//! value prints the same digits as netdata's API.

/// A packed sample.
pub type StorageNumber = u32;

/// The sign bit.
pub const SN_FLAG_NEGATIVE: u32 = 1 << 31;
/// The exponent multiplies instead of dividing.
pub const SN_FLAG_MULTIPLY: u32 = 1 << 30;
/// The exponent is a power of 100 (huge values); alone it marks an empty slot.
pub const SN_FLAG_MUL100: u32 = 1 << 26;
/// A counter reset or overflow was detected in this slot.
pub const SN_FLAG_RESET: u32 = 1 << 25;
/// Set on every normal value (netdata's ML clears it for anomalies).
pub const SN_FLAG_NOT_ANOMALOUS: u32 = 1 << 24;
/// The empty slot: nothing was collected for this time.
pub const SN_EMPTY_SLOT: u32 = SN_FLAG_MUL100;
/// The flags a normal sample carries.
pub const SN_DEFAULT_FLAGS: u32 = SN_FLAG_NOT_ANOMALOUS;

const MANTISSA_MAX: f64 = 16_777_215.0; // 0x00ffffff
const MANTISSA_MIN_SCALED: f64 = 1_677_726.0; // 0x0019999e

/// Packs `value` with `flags` (only RESET and NOT_ANOMALOUS are kept) the way netdata 1.37.1 does.
/// NaN and infinities become [`SN_EMPTY_SLOT`].
pub fn pack(value: f64, flags: u32) -> StorageNumber {
    if !value.is_finite() {
        return SN_EMPTY_SLOT;
    }
    let mut r = flags & (SN_FLAG_NOT_ANOMALOUS | SN_FLAG_RESET);
    if value == 0.0 || value.is_subnormal() {
        return r;
    }
    let mut n = value;
    if n < 0.0 {
        r += SN_FLAG_NEGATIVE;
        n = -n;
    }
    let mut factor = 10.0;
    if n / 10_000_000.0 > MANTISSA_MAX {
        factor = 100.0;
        r |= SN_FLAG_MUL100;
    }
    let mut m: u32 = 0;
    while m < 7 && n > MANTISSA_MAX {
        n /= factor;
        m += 1;
    }
    if m > 0 {
        r += SN_FLAG_MULTIPLY + (m << 27);
        if n > MANTISSA_MAX {
            return r + 0x00ff_ffff;
        }
    } else {
        while m < 7 && n < MANTISSA_MIN_SCALED {
            n *= 10.0;
            m += 1;
        }
        if n > MANTISSA_MAX {
            n /= 10.0;
            m -= 1;
        }
        r += m << 27;
    }
    r.wrapping_add(n.round_ties_even() as u32)
}

/// The powers used by [`unpack`], indexed by `factor100 * 16 + multiply * 8 + m`.
const fn lut() -> [f64; 32] {
    let mut t = [0.0; 32];
    let mut i = 0;
    let mut p10 = 1.0;
    let mut p100 = 1.0;
    while i < 8 {
        t[i] = 1.0 / p10;
        t[8 + i] = p10;
        t[16 + i] = 1.0 / p100;
        t[24 + i] = p100;
        p10 *= 10.0;
        p100 *= 100.0;
        i += 1;
    }
    t
}
static LUT: [f64; 32] = lut();

/// Unpacks a stored sample; the empty slot becomes NaN.
pub fn unpack(x: StorageNumber) -> f64 {
    if x == SN_EMPTY_SLOT {
        return f64::NAN;
    }
    let sign = if x & SN_FLAG_NEGATIVE != 0 { -1.0 } else { 1.0 };
    let multiply = usize::from(x & SN_FLAG_MULTIPLY != 0);
    let factor100 = usize::from(x & SN_FLAG_MUL100 != 0);
    let m = ((x >> 27) & 7) as usize;
    (sign * LUT[factor100 * 16 + multiply * 8 + m]) * f64::from(x & 0x00ff_ffff)
}

/// True when the slot holds a value (not [`SN_EMPTY_SLOT`]).
pub fn exists(x: StorageNumber) -> bool {
    x != SN_EMPTY_SLOT
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn packs_the_examples_of_the_spec() {
        assert_eq!(pack(1.0, SN_DEFAULT_FLAGS), 0x3998_9680);
        assert_eq!(pack(-23437.5, SN_DEFAULT_FLAGS), 0x9123_c346);
        assert_eq!(pack(16_777_216.0, SN_DEFAULT_FLAGS), 0x4919_999a);
        assert_eq!(unpack(0x4919_999a), 16_777_220.0);
        assert_eq!(pack(123.456, SN_DEFAULT_FLAGS), 0x29bc_6100);
        assert_eq!(pack(0.0, SN_DEFAULT_FLAGS), SN_FLAG_NOT_ANOMALOUS);
        assert_eq!(pack(f64::NAN, SN_DEFAULT_FLAGS), SN_EMPTY_SLOT);
        assert_eq!(pack(f64::INFINITY, SN_DEFAULT_FLAGS), SN_EMPTY_SLOT);
        assert!(unpack(SN_EMPTY_SLOT).is_nan());
        assert_eq!(unpack(pack(0.9, 0)), 0.899_999_999_999_999_9);
    }

    #[test]
    fn reset_flag_is_kept_and_ignored_by_unpack() {
        let x = pack(42.0, SN_DEFAULT_FLAGS | SN_FLAG_RESET);
        assert_ne!(x & SN_FLAG_RESET, 0);
        assert_eq!(unpack(x), 42.0);
    }

    proptest! {
        #[test]
        fn round_trip_keeps_seven_significant_digits(v in -1.0e13f64..1.0e13f64) {
            prop_assume!(v.abs() > 1e-6);
            let back = unpack(pack(v, SN_DEFAULT_FLAGS));
            prop_assert!(((back - v) / v).abs() < 1e-6, "{} -> {}", v, back);
        }

        #[test]
        fn packing_never_produces_the_empty_marker_for_finite_values(v in any::<f64>()) {
            prop_assume!(v.is_finite());
            prop_assert_ne!(pack(v, SN_DEFAULT_FLAGS), SN_EMPTY_SLOT);
        }
    }
}
