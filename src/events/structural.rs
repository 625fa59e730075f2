//! Stage 1 of the fast event reader (simdjson-style): one pass over the whole event, 64 bytes
//! at a time, that lists the positions of its *structural* bytes, `{ } [ ] : ,` outside strings,
//! every string's opening quote, and the first byte of every scalar (`true`, `-1.5`, …), and
//! decides whether the fast reader ([`super::fastwalk`]) may read the event at all.
//!
//! Invariants:
//! - The index lists positions in increasing order; between two listed positions there are
//!   only whitespace bytes and the rest of a scalar (bytes that are neither whitespace,
//!   structural nor quotes, following a listed scalar start) or of a string (its content and
//!   closing quote, after its listed opening quote).
//! - Every string is closed and quotes alternate between opening and closing ones, so a
//!   string's closing quote is the last byte before the next listed position (or the end of
//!   the text) that is not whitespace. The fast path is refused (`None`) for any backslash
//!   anywhere (so no quote is escaped), any control byte (< 0x20) inside a string, any control
//!   byte other than tab, newline and carriage return outside one, and a text that ends inside
//!   a string. The exact walker reads every refused event.
//! - [`block_masks`] (SSE2 on x86_64, baseline there) gives exactly what
//!   [`scalar_block_masks`] gives; the tests compare them on every byte at every position.

/// Per-byte facts of a 64-byte block, one bit per byte.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Masks {
    quote: u64,
    /// `{ } [ ] : ,` wherever they are.
    structural: u64,
    /// Bytes up to 0x20 (space and control bytes): not part of a scalar.
    blank: u64,
    /// Control bytes (below 0x20); in [`Pass::Plain`] always empty.
    control: u64,
    /// [`Pass::Precise`]: a backslash, or a control byte other than tab, newline or carriage
    /// return. [`Pass::Plain`]: a backslash or any control byte.
    bad: u64,
}

/// How closely a block is classified: the plain pass, for the usual event without control
/// bytes or backslashes, is cheaper; an event where it finds any is classified again precisely.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pass {
    Plain,
    Precise,
}

/// [`Masks`] of `block` a byte at a time.
#[cfg(any(test, not(target_arch = "x86_64")))]
pub fn scalar_block_masks(block: &[u8; 64], pass: Pass) -> Masks {
    let mut m = Masks::default();
    for (k, &c) in block.iter().enumerate() {
        let bit = 1u64 << k;
        let control = c < 0x20;
        if c == b'"' {
            m.quote |= bit;
        }
        if matches!(c, b'{' | b'}' | b'[' | b']' | b':' | b',') {
            m.structural |= bit;
        }
        if c <= b' ' {
            m.blank |= bit;
        }
        let allowed = pass == Pass::Precise && matches!(c, b'\t' | b'\n' | b'\r');
        if control && pass == Pass::Precise {
            m.control |= bit;
        }
        if c == b'\\' || (control && !allowed) {
            m.bad |= bit;
        }
    }
    m
}

/// [`Masks`] of `block`, 16 bytes at a time where SSE2 is baseline.
#[inline(always)]
pub fn block_masks(block: &[u8; 64], pass: Pass) -> Masks {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::block_masks(block, pass)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar_block_masks(block, pass)
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use super::{Masks, Pass};
    use std::arch::x86_64::{
        __m128i, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    #[inline(always)]
    pub fn block_masks(block: &[u8; 64], pass: Pass) -> Masks {
        let mut m = Masks::default();
        for part in 0..4 {
            // SAFETY: SSE2 is part of the x86_64 baseline; `block` has 64 bytes, so the
            // unaligned 16-byte load at `16 * part` (part < 4) is in bounds.
            let (quote, structural, blank, control, bad) = unsafe {
                let x: __m128i = _mm_loadu_si128(block.as_ptr().add(16 * part).cast());
                let eq = |c: u8| _mm_cmpeq_epi8(x, _mm_set1_epi8(c as i8));
                // `[` and `{` are 0x5b and 0x7b, `]` and `}` 0x5d and 0x7d: equal once 0x20 is set.
                let folded = _mm_or_si128(x, _mm_set1_epi8(0x20));
                let brackets = _mm_or_si128(
                    _mm_cmpeq_epi8(folded, _mm_set1_epi8(b'{' as i8)),
                    _mm_cmpeq_epi8(folded, _mm_set1_epi8(b'}' as i8)),
                );
                let structural = _mm_or_si128(brackets, _mm_or_si128(eq(b':'), eq(b',')));
                // Unsigned x <= c exactly when max(x, c) == c.
                let at_most = |c: u8| _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(c as i8)), _mm_set1_epi8(c as i8));
                let control = at_most(0x1f);
                let bad = match pass {
                    Pass::Plain => _mm_or_si128(eq(b'\\'), control),
                    Pass::Precise => {
                        let allowed = _mm_or_si128(_mm_or_si128(eq(b'\t'), eq(b'\n')), eq(b'\r'));
                        _mm_or_si128(eq(b'\\'), _mm_andnot_si128(allowed, control))
                    }
                };
                (
                    _mm_movemask_epi8(eq(b'"')) as u16,
                    _mm_movemask_epi8(structural) as u16,
                    _mm_movemask_epi8(at_most(b' ')) as u16,
                    if pass == Pass::Precise { _mm_movemask_epi8(control) as u16 } else { 0 },
                    _mm_movemask_epi8(bad) as u16,
                )
            };
            let shift = 16 * part as u32;
            m.quote |= u64::from(quote) << shift;
            m.structural |= u64::from(structural) << shift;
            m.blank |= u64::from(blank) << shift;
            m.control |= u64::from(control) << shift;
            m.bad |= u64::from(bad) << shift;
        }
        m
    }
}

/// Bit k set when an odd number of bits of `x` are set at positions 0..=k.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// Builds the structural index of `text` into `out` (which keeps its length between events,
/// so this allocates only when a longer event comes) and returns how many positions it holds,
/// or `None` when the fast reader may not read this text (see the module invariants).
pub fn build(text: &[u8], out: &mut Vec<u32>) -> Option<usize> {
    u32::try_from(text.len()).ok()?;
    // Every byte is listed at most once.
    if out.len() < text.len() {
        out.resize(text.len(), 0);
    }
    match index_blocks::<false>(text, out) {
        Ok(n) => Some(n),
        Err(Pass::Plain) => index_blocks::<true>(text, out).ok(),
        Err(Pass::Precise) => None,
    }
}

/// What is carried from one block to the next.
#[derive(Default)]
struct Carry {
    /// All ones when the previous block ended inside a string.
    inside: u64,
    /// 1 when the previous block ended in a scalar.
    scalar: u64,
    /// Positions listed so far.
    n: usize,
}

/// [`build`] with one kind of pass (`PRECISE`: [`Pass::Precise`]); `Err(pass)` when this pass
/// refuses the text.
#[inline(never)]
fn index_blocks<const PRECISE: bool>(text: &[u8], out: &mut [u32]) -> Result<usize, Pass> {
    let pass = if PRECISE { Pass::Precise } else { Pass::Plain };
    let mut carry = Carry::default();
    let chunks = text.chunks_exact(64);
    let rest = chunks.remainder();
    let mut base = 0u32;
    for chunk in chunks {
        let block = chunk.try_into().map_err(|_| Pass::Precise)?;
        carry = index_block(block_masks(block, pass), base, carry, out).ok_or(pass)?;
        base += 64;
    }
    if !rest.is_empty() {
        // Padding with spaces changes nothing: they are blanks, inside strings or outside.
        let mut tail = [b' '; 64];
        tail.get_mut(..rest.len()).ok_or(Pass::Precise)?.copy_from_slice(rest);
        carry = index_block(block_masks(&tail, pass), base, carry, out).ok_or(pass)?;
    }
    if carry.inside != 0 {
        return Err(Pass::Precise);
    }
    Ok(carry.n)
}

/// Lists the entries of one block (at `base`) given its masks; `None` if it has a bad byte.
#[inline(always)]
fn index_block(m: Masks, base: u32, carry: Carry, out: &mut [u32]) -> Option<Carry> {
    // Opening quotes and string contents; closing quotes are outside.
    let inside = prefix_xor(m.quote) ^ carry.inside;
    if m.bad | (m.control & inside) != 0 {
        return None;
    }
    let outside = !(inside | m.quote);
    let scalar = outside & !(m.blank | m.structural);
    let starts = scalar & !((scalar << 1) | carry.scalar);
    let mut entries = (m.structural & outside) | (m.quote & inside) | starts;
    let mut n = carry.n;
    debug_assert!(n + entries.count_ones() as usize <= out.len());
    while entries != 0 {
        // SAFETY: `entries` only has bits of bytes of the text (the padding of the last block
        // is blanks, which are never listed), each listed once, so `n` stays below the text's
        // length, and `out` is at least that long (`build`).
        unsafe { *out.get_unchecked_mut(n) = base + entries.trailing_zeros() };
        n += 1;
        entries &= entries - 1;
    }
    Some(Carry { inside: ((inside as i64) >> 63) as u64, scalar: scalar >> 63, n })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The index by its definition, a byte at a time.
    fn reference(text: &[u8]) -> Option<Vec<u32>> {
        let mut out = Vec::new();
        let mut inside = false;
        let mut prev_scalar = false;
        for (i, &c) in text.iter().enumerate() {
            if c == b'\\' || (c < 0x20 && (inside || !matches!(c, b'\t' | b'\n' | b'\r'))) {
                return None;
            }
            let mut scalar = false;
            if c == b'"' {
                if !inside {
                    out.push(i as u32);
                }
                inside = !inside;
            } else if !inside {
                if matches!(c, b'{' | b'}' | b'[' | b']' | b':' | b',') {
                    out.push(i as u32);
                } else if c > b' ' {
                    scalar = true;
                    if !prev_scalar {
                        out.push(i as u32);
                    }
                }
            }
            prev_scalar = scalar;
        }
        (!inside).then_some(out)
    }

    fn built(text: &[u8]) -> Option<Vec<u32>> {
        let mut out = Vec::new();
        build(text, &mut out).map(|n| out[..n].to_vec())
    }

    #[test]
    fn block_masks_agree_on_every_byte_at_every_position() {
        for at in 0..64 {
            for c in 0u8..=255 {
                let mut block = [b'a'; 64];
                block[at] = c;
                block[(at + 17) % 64] = b'"';
                for pass in [Pass::Plain, Pass::Precise] {
                    assert_eq!(block_masks(&block, pass), scalar_block_masks(&block, pass), "byte {c} at {at}");
                }
            }
        }
    }

    #[test]
    fn indexes_structure_strings_and_scalar_starts() {
        let text = br#" {"a": [1, true, "x,y"], "b":{}} "#;
        let want: Vec<u32> = vec![1, 2, 5, 7, 8, 9, 11, 15, 17, 22, 23, 25, 28, 29, 30, 31];
        assert_eq!(built(text), Some(want.clone()));
        assert_eq!(reference(text), Some(want));
        for refused in [&br#"{"a\"b": 1}"#[..], b"{\"a\": \"x\ty\"}", b"{\"a\": \x01}", br#"{"a": "open}"#] {
            assert_eq!(built(refused), None, "{:?}", String::from_utf8_lossy(refused));
        }
        assert_eq!(built(b"{\"a\":\t1\r\n}"), Some(vec![0, 1, 4, 6, 9]));
        assert_eq!(built(b""), Some(vec![]));
    }

    #[test]
    fn strings_and_scalars_across_block_boundaries() {
        for len in 55..140 {
            let long = format!("{{\"k\":\"{}\",\"n\":{}}}", "s".repeat(len), "7".repeat(len % 70 + 1));
            assert_eq!(built(long.as_bytes()), reference(long.as_bytes()), "{len}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn agrees_with_the_byte_wise_definition(text in proptest::collection::vec(prop::sample::select(vec![
            b'a', b'1', b'-', b'"', b'"', b'\\', b'{', b'}', b'[', b']', b':', b',', b' ', b'\t', b'\n', 0x01, 0x7f, 0xc3, 0xa9,
        ]), 0..300)) {
            prop_assert_eq!(built(&text), reference(&text));
        }
    }
}
