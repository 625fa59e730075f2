//! Block-wise byte classification for the event scanner: the end of a string's plain run is
//! found 16 bytes at a time (SSE2, baseline on x86_64; a scalar loop elsewhere) instead of a
//! byte at a time, noting on the way whether the run holds a dot, which decides how a key is
//! looked up in the path trie.
//!
//! Invariant: [`string_run`] gives exactly what [`scalar_string_run`] gives, on every target
//! and every input (the tests compare them), so the scanner's grammar does not depend on it.

/// From `start`: the offset of the first byte of `b` that is `"`, `\` or a control character
/// (below 0x20), or `b.len()` if there is none; and whether a `.` comes before that offset.
#[inline(always)]
pub fn string_run(b: &[u8], start: usize) -> (usize, bool) {
    #[cfg(target_arch = "x86_64")]
    {
        sse2::string_run(b, start)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar_string_run(b, start)
    }
}

/// Zero bytes that must follow the text in a buffer given to [`padded_string_run`] and
/// [`padded_head`]: enough for a 16-byte load at any position up to the text's end and for an
/// 8-byte load a few bytes past it.
pub const PAD: usize = 64;

/// [`string_run`] over `text` for a buffer `pad` that holds `text` followed by [`PAD`] zero
/// bytes, with `start <= text.len()`: the same result, without a path for the text's last
/// bytes, because the zero right after the text stops the run (a control byte stops it anyway).
///
/// # Safety
/// `start <= len`, `pad.len() >= len + PAD`, `pad[..len]` is the text and `pad[len] == 0`,
/// where `len` is the text's length (asserted in part in debug builds).
#[inline(always)]
pub unsafe fn padded_string_run(pad: &[u8], start: usize) -> (usize, bool) {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: the caller's guarantee, passed on.
        unsafe { sse2::padded_string_run(pad, start) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        scalar_string_run(pad, start)
    }
}

/// [`head`] of `pad[start..start + len]` for a padded buffer (see [`padded_string_run`]): one
/// unaligned load.
///
/// # Safety
/// `start + 8 <= pad.len()` (asserted in debug builds).
#[inline(always)]
pub unsafe fn padded_head(pad: &[u8], start: usize, len: usize) -> u64 {
    debug_assert!(start + 8 <= pad.len());
    // SAFETY: the caller guarantees eight readable bytes at `start`; the read is unaligned.
    let word = u64::from_le(unsafe { pad.as_ptr().add(start).cast::<u64>().read_unaligned() });
    // A table of masks rather than a branch and a shift: one load and an `and` per key.
    word & HEAD_MASKS[len.min(8)]
}

/// `HEAD_MASKS[n]`: the low `n` bytes of a word.
const HEAD_MASKS: [u64; 9] = {
    let mut masks = [u64::MAX; 9];
    let mut n = 0;
    while n < 8 {
        masks[n] = (1u64 << (8 * n)) - 1;
        n += 1;
    }
    masks
};

/// [`string_run`] a byte at a time.
pub fn scalar_string_run(b: &[u8], start: usize) -> (usize, bool) {
    let mut dot = false;
    let mut i = start;
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        dot |= c == b'.';
        i += 1;
    }
    (i, dot)
}

/// The first eight bytes of `b[start..start + len]` as a little-endian word, zero-padded: a
/// cheap first comparison between keys. Reads past `len` when the text allows and masks.
#[inline(always)]
pub fn head(b: &[u8], start: usize, len: usize) -> u64 {
    match b.get(start..start + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        Some(word) if len >= 8 => u64::from_le_bytes(word),
        Some(word) => u64::from_le_bytes(word) & ((1u64 << (8 * len)) - 1),
        None => {
            let end = start.saturating_add(len.min(8)).min(b.len());
            b.get(start..end).unwrap_or(&[]).iter().rev().fold(0, |acc, &c| (acc << 8) | u64::from(c))
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };

    /// Bit k set: byte `at + k` of `b` stops a string run; and bit k set: it is a dot.
    /// Requires `at + 16 <= b.len()`.
    #[inline(always)]
    unsafe fn masks(b: &[u8], at: usize) -> (u32, u32) {
        debug_assert!(at + 16 <= b.len());
        // SAFETY: SSE2 is part of the x86_64 baseline; the caller guarantees 16 readable bytes
        // at `at`, and the load is unaligned.
        unsafe {
            let x: __m128i = _mm_loadu_si128(b.as_ptr().add(at).cast());
            let quote = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'\\' as i8));
            // Unsigned x <= 0x1f exactly when max(x, 0x1f) == 0x1f.
            let control = _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
            let stop = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32;
            let dot = _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(b'.' as i8))) as u32;
            (stop, dot)
        }
    }

    /// See [`super::padded_string_run`]. No position past the text's end is loaded from: a
    /// block without a stopping byte does not hold the zero at `len`, so it ends at or before
    /// `len`, and the next block starts at or before `len`, with PAD >= 16 bytes after it.
    ///
    /// # Safety
    /// As [`super::padded_string_run`].
    #[inline(always)]
    pub unsafe fn padded_string_run(pad: &[u8], start: usize) -> (usize, bool) {
        let mut i = start;
        let mut dots = 0u32;
        loop {
            debug_assert!(i + super::PAD <= pad.len() && pad[i..].contains(&0));
            // SAFETY: i <= len (the invariant above), and pad.len() >= len + PAD >= i + 16.
            let (stop, dot) = unsafe { masks(pad, i) };
            if stop != 0 {
                let k = stop.trailing_zeros();
                return (i + k as usize, (dots | (dot & ((1u32 << k) - 1))) != 0);
            }
            dots |= dot;
            i += 16;
        }
    }

    #[inline(always)]
    pub fn string_run(b: &[u8], start: usize) -> (usize, bool) {
        let len = b.len();
        if len < 16 || start >= len {
            return super::scalar_string_run(b, start);
        }
        let last = len - 16;
        let mut i = start;
        let mut dots = 0u32;
        while i <= last {
            // SAFETY: i + 16 <= len.
            let (stop, dot) = unsafe { masks(b, i) };
            if stop != 0 {
                let k = stop.trailing_zeros();
                return (i + k as usize, (dots | (dot & ((1u32 << k) - 1))) != 0);
            }
            dots |= dot;
            i += 16;
        }
        if i >= len {
            return (len, dots != 0);
        }
        // Fewer than 16 bytes left: read the last 16 and drop those before `i`.
        let skip = i - last;
        // SAFETY: last + 16 == len.
        let (stop, dot) = unsafe { masks(b, last) };
        let (stop, dot) = (stop >> skip, dot >> skip);
        if stop != 0 {
            let k = stop.trailing_zeros();
            return (i + k as usize, (dots | (dot & ((1u32 << k) - 1))) != 0);
        }
        (len, (dots | dot) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_stopping_byte_at_every_offset() {
        for len in [0usize, 1, 5, 15, 16, 17, 31, 32, 33, 40] {
            for at in 0..=len {
                for b in 0u8..=255 {
                    let mut text = vec![b'a'; len];
                    if at < len {
                        text[at] = b;
                    }
                    for start in [0, 1, 3, 15, 16, 17].into_iter().filter(|&s| s <= len) {
                        assert_eq!(
                            string_run(&text, start),
                            scalar_string_run(&text, start),
                            "len {len} byte {b} at {at} from {start}"
                        );
                    }
                }
            }
        }
        assert_eq!(string_run(b"ab.c\"", 0), (4, true));
        assert_eq!(string_run(b"abc\".", 0), (3, false));
        assert_eq!(string_run(b"0123456789abcdef0123456789.bcdef\\.", 0), (32, true));
        assert_eq!(string_run(b"abc", 5), (5, false));
    }

    /// `b` followed by PAD zero bytes, as the scanner keeps it.
    fn padded(b: &[u8]) -> Vec<u8> {
        let mut pad = b.to_vec();
        pad.resize(b.len() + PAD, 0);
        pad
    }

    #[test]
    fn padded_runs_and_heads_match_the_plain_ones() {
        for len in [0usize, 1, 5, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 80] {
            for at in 0..=len {
                for b in [0u8, 1, 0x1f, 0x20, b'"', b'\\', b'.', b'a', 0x7f, 0x80, 0xff] {
                    let mut text = vec![b'a'; len];
                    if at < len {
                        text[at] = b;
                    }
                    let pad = padded(&text);
                    for start in 0..=len {
                        // SAFETY: start <= len, and `pad` is the text then PAD zero bytes.
                        let run = unsafe { padded_string_run(&pad, start) };
                        assert_eq!(run, scalar_string_run(&text, start), "len {len} byte {b} at {at} from {start}");
                        for n in 0..=(len - start).min(9) {
                            // SAFETY: start + 8 <= len + PAD.
                            assert_eq!(unsafe { padded_head(&pad, start, n) }, head(&text, start, n));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn heads_are_the_first_eight_bytes() {
        let text = b"\"instance-id\":\"a\",\"k\"";
        assert_eq!(head(text, 1, 11), u64::from_le_bytes(*b"instance"));
        assert_eq!(head(text, 1, 2), u64::from_le_bytes(*b"in\0\0\0\0\0\0"));
        assert_eq!(head(text, 19, 1), u64::from(b'k'));
        assert_eq!(head(text, 19, 0), 0);
        assert_eq!(head(b"", 0, 0), 0);
        for len in 0..=12 {
            let key = &b"abcdefghijkl"[..len];
            assert_eq!(head(b"abcdefghijkl", 0, len), head(key, 0, len), "{len}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_scalar_run(text in proptest::collection::vec(prop::sample::select(vec![b'a', b'.', b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80, 0xff, b'\n', 0]), 0..80), start in 0usize..90) {
            prop_assert_eq!(string_run(&text, start), scalar_string_run(&text, start));
            if start <= text.len() {
                // SAFETY: start <= len, and the buffer is the text then PAD zero bytes.
                prop_assert_eq!(unsafe { padded_string_run(&padded(&text), start) }, scalar_string_run(&text, start));
            }
        }
    }
}
