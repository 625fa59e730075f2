//! The engine's one source of non-cryptographic randomness: execution names and ARN suffixes,
//! `States.UUID`/`$uuid`, unseeded `States.MathRandom`/`$random`, retry jitter. A per-thread
//! SplitMix64 generator seeded once from the OS, so none of these costs a system call.

use std::cell::Cell;

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&uuid::Uuid::new_v4().as_bytes()[..8]);
    u64::from_le_bytes(bytes) | 1
}

/// SplitMix64 step: fast, well-spread; identifiers need uniqueness, not secrecy.
pub fn next_u64() -> u64 {
    STATE.with(|s| {
        let mut z = s.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        s.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}

/// A random fraction in [0, 1) with 53 bits of precision.
pub fn next_fraction() -> f64 {
    (next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A random version-4 UUID in its hyphenated lowercase text form.
pub fn uuid_v4() -> String {
    let mut out = String::with_capacity(uuid::fmt::Hyphenated::LENGTH);
    push_uuid_v4(&mut out);
    out
}

/// Appends a fresh UUID v4 to `out` (no formatting machinery: ARNs are built per execution).
pub fn push_uuid_v4(out: &mut String) {
    let bits = ((next_u64() as u128) << 64) | next_u64() as u128;
    let uuid = uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid();
    out.push_str(uuid.hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()));
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuids_are_v4_and_distinct() {
        let a = super::uuid_v4();
        let b = super::uuid_v4();
        assert_ne!(a, b);
        let parsed = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
    }

    #[test]
    fn fractions_stay_in_the_unit_interval() {
        for _ in 0..1000 {
            let f = super::next_fraction();
            assert!((0.0..1.0).contains(&f));
        }
    }
}
