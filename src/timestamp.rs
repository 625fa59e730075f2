//! Strict ASL timestamps: parsing what AWS accepts as an "ISO-8601 extended offset date-time",
//! ordering by instant, and printing the context object's time format.
//!
//! Owns: [`Timestamp`] (an instant, UTC, nanosecond precision), [`format_iso`] and [`write_iso`].
//!
//! Invariants:
//! - A [`Timestamp`] is an instant: `secs` since the Unix epoch plus `nanos` in `0..1e9`. The
//!   offset a string was written with is folded in at parse time, so `2012-10-09T20:00:55+01:00`
//!   and `2012-10-09T19:00:55Z` are equal, and the derived ordering is instant order (what the
//!   Choice `Timestamp*` operators need).
//! - [`Timestamp::parse`] never panics, on any input, and allocates nothing.
//!
//! Grammar. AWS's cause text ("…cannot be parsed as an ISO-8601 extended offset date-time format
//! string…") is the Javadoc wording of Java's `DateTimeFormatter.ISO_OFFSET_DATE_TIME`, so we
//! follow that formatter's grammar with `ResolverStyle.STRICT`:
//!
//! ```text
//! date   = year "-" MM "-" dd            (MM 01-12, dd valid for the month, leap years Gregorian)
//! year   = 4 digits | ("+"|"-") 5..9 digits
//! time   = HH ":" mm [ ":" ss [ "." 0..9 digits ] ]    (HH 00-23, mm 00-59, ss 00-59)
//! offset = "Z" | ("+"|"-") HH ":" MM [ ":" ss ]         (at most 18:00)
//! full   = date "T" time offset
//! ```
//!
//! Choices made where AWS's behaviour is not recorded in our cases (documented per the brief):
//! - `T` and `Z` must be uppercase, as the ASL specification requires. (Java's formatter itself
//!   is case-insensitive; no recorded case shows AWS accepting lowercase.)
//! - Seconds are optional and a `.` with no digits is allowed, because Java's ISO_LOCAL_TIME
//!   accepts both; leap seconds (`:60`) and hour `24` are rejected, as STRICT resolution does.
//! - Years beyond 4 digits need a sign, as Java's `SignStyle.EXCEEDS_PAD` requires when strict.
//!
//! Recorded cases pin: `2016-03-05T21:29:29.243167252Z` (nanoseconds) and
//! `2016-03-14T01:59:00Z` are accepted; `2016-12-05 21:29:29Z` (space), `2016-12-05T21:29:29`
//! (no offset), `2016-12-05T25:29:29Z` (hour 25), `2016-13-05T21:29:29Z` (month 13) and
//! `05-12-2016T21:29:29Z` are rejected.

use std::fmt::Write as _;

const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;
/// Java's `ZoneOffset` limit.
const MAX_OFFSET_SECS: i64 = 18 * 3600;

/// An instant in time with nanosecond precision. Equality and ordering are by instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before).
    secs: i64,
    /// Nanoseconds within the second, always `< 1_000_000_000` (so derived `Ord` is correct).
    nanos: u32,
}

impl Timestamp {
    /// Parses an ISO-8601 extended offset date-time exactly as AWS accepts it (see the module
    /// docs for the grammar); `None` for anything else.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let mut c = Cursor { b: text.as_bytes(), i: 0 };
        let year = c.year()?;
        c.expect(b'-')?;
        let month = c.digits(2)?;
        c.expect(b'-')?;
        let day = c.digits(2)?;
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        c.expect(b'T')?;
        let hour = c.digits(2)?;
        c.expect(b':')?;
        let minute = c.digits(2)?;
        let mut second = 0;
        let mut nanos = 0u32;
        if c.eat(b':') {
            second = c.digits(2)?;
            if c.eat(b'.') {
                // Up to nine digits; a tenth digit then fails the offset below.
                let mut n = 0;
                while n < 9 {
                    match c.peek() {
                        Some(d @ b'0'..=b'9') => {
                            nanos = nanos * 10 + u32::from(d - b'0');
                            c.i += 1;
                            n += 1;
                        }
                        _ => break,
                    }
                }
                while n < 9 {
                    nanos *= 10;
                    n += 1;
                }
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let offset = c.offset()?;
        if c.i != c.b.len() {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * SECS_PER_DAY + hour * 3600 + minute * 60 + second - offset;
        Some(Timestamp { secs, nanos })
    }

    /// The instant `millis` milliseconds after the epoch.
    pub fn from_epoch_millis(millis: i64) -> Timestamp {
        Timestamp {
            secs: millis.div_euclid(1000),
            // rem_euclid is in 0..1000, so the cast and product are in range.
            nanos: (millis.rem_euclid(1000) as u32) * 1_000_000,
        }
    }

    /// The instant `nanos` nanoseconds after the epoch; `None` if it does not fit.
    pub fn from_epoch_nanos(nanos: i128) -> Option<Timestamp> {
        let secs = i64::try_from(nanos.div_euclid(NANOS_PER_SEC as i128)).ok()?;
        let sub = nanos.rem_euclid(NANOS_PER_SEC as i128) as u32;
        Some(Timestamp { secs, nanos: sub })
    }

    /// Whole seconds since the epoch (floored).
    pub fn epoch_seconds(self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second.
    pub fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// Milliseconds since the epoch, floored (sub-millisecond digits are dropped toward the
    /// past, so a Wait until `…:29.9999Z` does not end before that instant's millisecond).
    pub fn epoch_millis(self) -> i64 {
        self.secs.saturating_mul(1000).saturating_add(i64::from(self.nanos / 1_000_000))
    }

    /// Nanoseconds since the epoch (exact).
    pub fn epoch_nanos(self) -> i128 {
        i128::from(self.secs) * i128::from(NANOS_PER_SEC) + i128::from(self.nanos)
    }

    /// This instant in the context object's format, at millisecond precision.
    pub fn format_iso(self) -> String {
        format_iso(self.epoch_millis())
    }
}

/// Formats epoch milliseconds as AWS prints context-object times (`$$.Execution.StartTime`,
/// `$$.State.EnteredTime`): UTC, always three fraction digits, `Z`, e.g.
/// `2019-03-26T20:14:13.192Z` (the AWS documentation's example).
///
/// Choice: AWS's docs only show times with a non-zero millisecond part; we always print three
/// digits (`.000Z`) rather than Java `Instant.toString`'s dropping of a zero fraction.
/// Years outside 0000-9999 print as Java does (`+10000`, `-0001`).
pub fn format_iso(epoch_millis: i64) -> String {
    let secs = epoch_millis.div_euclid(1000);
    let millis = epoch_millis.rem_euclid(1000);
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let mut out = String::with_capacity(24);
    if year > 9999 {
        let _ = write!(out, "+{year}");
    } else if year < 0 {
        let _ = write!(out, "-{:04}", -year);
    } else {
        let _ = write!(out, "{year:04}");
    }
    let _ = write!(
        out,
        "-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
    out
}

/// Appends [`format_iso`]'s text to `out` without allocating. Each thread keeps the text of the
/// last two seconds it printed (an execution's start and stop may straddle a second), so the
/// times of a busy sidecar's result lines cost a copy and three digits, not a calendar conversion.
pub fn write_iso(epoch_millis: i64, out: &mut String) {
    thread_local! {
        /// The `YYYY-MM-DDTHH:MM:SS.` text of two seconds, and which slot to replace next.
        static RECENT: std::cell::RefCell<([(i64, String); 2], usize)> =
            const { std::cell::RefCell::new(([(i64::MIN, String::new()), (i64::MIN, String::new())], 0)) };
    }
    let second = epoch_millis.div_euclid(1000);
    let millis = epoch_millis.rem_euclid(1000) as u32;
    RECENT.with(|recent| {
        let (slots, next) = &mut *recent.borrow_mut();
        let slot = match slots.iter().position(|(s, _)| *s == second) {
            Some(hit) => hit,
            None => {
                let slot = *next;
                *next = 1 - slot;
                let full = format_iso(second * 1000);
                let (cached_second, prefix) = &mut slots[slot];
                prefix.clear();
                prefix.push_str(&full[..full.len() - "000Z".len()]);
                *cached_second = second;
                slot
            }
        };
        out.push_str(&slots[slot].1);
    });
    for digit in [millis / 100, millis / 10 % 10, millis % 10] {
        out.push(char::from(b'0' + digit as u8));
    }
    out.push('Z');
}

/// A byte cursor over the text being parsed; every read is bounds-checked.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, want: u8) -> bool {
        if self.peek() == Some(want) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, want: u8) -> Option<()> {
        self.eat(want).then_some(())
    }

    /// Exactly `n` ASCII digits (n ≤ 9, so no overflow).
    fn digits(&mut self, n: usize) -> Option<i64> {
        let mut v = 0i64;
        for _ in 0..n {
            match self.peek() {
                Some(d @ b'0'..=b'9') => {
                    v = v * 10 + i64::from(d - b'0');
                    self.i += 1;
                }
                _ => return None,
            }
        }
        Some(v)
    }

    /// Greedy run of up to `max` digits; returns (value, count).
    fn digit_run(&mut self, max: usize) -> (i64, usize) {
        let mut v = 0i64;
        let mut n = 0;
        while n < max {
            match self.peek() {
                Some(d @ b'0'..=b'9') => {
                    v = v * 10 + i64::from(d - b'0');
                    self.i += 1;
                    n += 1;
                }
                _ => break,
            }
        }
        (v, n)
    }

    /// `yyyy`, or a sign and 5-9 digits (Java's EXCEEDS_PAD, strict).
    fn year(&mut self) -> Option<i64> {
        let sign = match self.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => 0,
        };
        if sign == 0 {
            let (v, n) = self.digit_run(10);
            return (n == 4).then_some(v);
        }
        self.i += 1;
        let (v, n) = self.digit_run(10);
        ((5..=9).contains(&n)).then_some(sign * v)
    }

    /// `Z` or `±HH:MM[:ss]`, returned as seconds east of UTC.
    fn offset(&mut self) -> Option<i64> {
        if self.eat(b'Z') {
            return Some(0);
        }
        let sign = if self.eat(b'+') {
            1
        } else if self.eat(b'-') {
            -1
        } else {
            return None;
        };
        let h = self.digits(2)?;
        self.expect(b':')?;
        let m = self.digits(2)?;
        let s = if self.eat(b':') { self.digits(2)? } else { 0 };
        if m > 59 || s > 59 {
            return None;
        }
        let total = h * 3600 + m * 60 + s;
        (total <= MAX_OFFSET_SECS).then_some(sign * total)
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_iso_is_format_iso() {
        let mut out = String::new();
        for ms in [0, 1, 999, 1_000, -1, -999, -1_000, 1_513_968_228_123, 1_513_968_228_999, 1_513_968_229_000, 253_402_300_800_000, -62_167_219_200_001] {
            out.clear();
            write_iso(ms, &mut out);
            assert_eq!(out, format_iso(ms), "{ms}");
        }
        out.clear();
        for ms in [5, 1_006, 7, 2_008, 1_009] {
            write_iso(ms, &mut out);
        }
        let expected = ["00.005Z", "01.006Z", "00.007Z", "02.008Z", "01.009Z"].map(|t| format!("1970-01-01T00:00:{t}"));
        assert_eq!(out, expected.concat(), "appends, through the cached seconds and their replacements");
    }

    fn ms(text: &str) -> i64 {
        Timestamp::parse(text).map(Timestamp::epoch_millis).unwrap_or(i64::MIN)
    }

    #[test]
    fn accepts_what_aws_accepts() {
        assert_eq!(ms("1970-01-01T00:00:00Z"), 0);
        assert_eq!(ms("2016-03-14T01:59:00Z"), 1_457_920_740_000);
        let t = Timestamp::parse("2016-03-05T21:29:29.243167252Z").unwrap();
        assert_eq!(t.subsec_nanos(), 243_167_252);
        assert_eq!(t.epoch_millis(), 1_457_213_369_243);
        assert_eq!(ms("2012-10-09T19:00:55+01:00"), ms("2012-10-09T18:00:55Z"));
        assert_eq!(ms("2012-10-09T19:00:55-05:30"), ms("2012-10-10T00:30:55Z"));
        assert_eq!(ms("2012-10-09T19:00:55.5Z"), ms("2012-10-09T19:00:55Z") + 500);
        assert!(Timestamp::parse("2024-02-29T00:00:00Z").is_some());
        assert!(Timestamp::parse("2000-02-29T23:59:59.999999999+18:00").is_some());
        // Java's ISO_LOCAL_TIME makes seconds optional.
        assert_eq!(ms("2012-10-09T19:00Z"), ms("2012-10-09T19:00:00Z"));
        assert!(Timestamp::parse("+10000-01-01T00:00:00Z").is_some());
    }

    #[test]
    fn rejects_what_aws_rejects() {
        for bad in [
            // Recorded AWS rejections (Wait Timestamp/TimestampPath cases).
            "2016-12-05 21:29:29Z",
            "2016-12-05T21:29:29",
            "2016-12-05T25:29:29Z",
            "2016-13-05T21:29:29Z",
            "05-12-2016T21:29:29Z",
            // Per the ASL spec / strict resolution.
            "2016-12-05t21:29:29Z",
            "2016-12-05T21:29:29z",
            "2023-02-24",
            "2012-10-09T19:00:55",
            "",
            "2015-02-29T00:00:00Z",
            "2016-04-31T00:00:00Z",
            "2016-00-10T00:00:00Z",
            "2016-01-00T00:00:00Z",
            "2016-01-01T24:00:00Z",
            "2016-01-01T23:60:00Z",
            "2016-01-01T23:59:60Z",
            "2016-01-01T23:59:59.1234567890Z",
            "2016-01-01T23:59:59+0100",
            "2016-01-01T23:59:59+01",
            "2016-01-01T23:59:59+18:01",
            "2016-01-01T23:59:59+01:60",
            "2016-01-01T23:59:59Z ",
            " 2016-01-01T23:59:59Z",
            "16-01-01T23:59:59Z",
            "+2016-01-01T23:59:59Z",
            "20160-01-01T00:00:00Z",
            "2016-1-01T00:00:00Z",
            "2016-01-01T0:00:00Z",
            "2016-01-01T00:00:00ZZ",
            "２０１６-01-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_none(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn orders_by_instant() {
        let a = Timestamp::parse("2012-10-09T19:00:55Z").unwrap();
        let b = Timestamp::parse("2012-10-09T20:00:55+01:00").unwrap();
        let c = Timestamp::parse("2012-10-09T19:00:55.000000001Z").unwrap();
        assert_eq!(a, b);
        assert!(a < c && b < c);
        let before = Timestamp::parse("1969-12-31T23:59:59.5Z").unwrap();
        assert_eq!(before.epoch_millis(), -500);
        assert!(before < Timestamp::from_epoch_millis(0));
    }

    #[test]
    fn epoch_conversions_round_trip() {
        for m in [0i64, 1, -1, 999, -999, 1_457_213_369_243, -62_135_596_800_000, 253_402_300_799_999] {
            let t = Timestamp::from_epoch_millis(m);
            assert_eq!(t.epoch_millis(), m);
            assert_eq!(Timestamp::from_epoch_nanos(t.epoch_nanos()), Some(t));
        }
        assert_eq!(Timestamp::from_epoch_nanos(i128::MAX), None);
    }

    #[test]
    fn formats_like_the_context_object() {
        assert_eq!(format_iso(1_553_631_253_192), "2019-03-26T20:14:13.192Z");
        assert_eq!(format_iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_iso(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(format_iso(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(format_iso(253_402_300_800_000), "+10000-01-01T00:00:00.000Z");
        let t = Timestamp::parse("2016-03-05T21:29:29.243167252Z").unwrap();
        assert_eq!(t.format_iso(), "2016-03-05T21:29:29.243Z");
    }

    /// Tiny deterministic generator so the property tests need no extra dependency.
    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn property_format_then_parse_is_identity() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            // Years 0000..=9999 so the output stays in the unsigned-year grammar.
            let m = (rng.next() % 315_537_897_600_000) as i64 - 62_167_219_200_000;
            let text = format_iso(m);
            assert_eq!(Timestamp::parse(&text).map(Timestamp::epoch_millis), Some(m), "{text}");
        }
    }

    #[test]
    fn property_never_panics_on_random_text() {
        let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
        const ALPHABET: &[char] =
            &['0', '1', '2', '5', '9', '-', '+', ':', '.', 'T', 't', 'Z', 'z', ' ', 'é', '\u{10348}'];
        let seeds = ["2016-03-05T21:29:29.243167252Z", "+123456789-12-31T23:59:59-18:00", "2012-10-09T19:00Z"];
        for i in 0..50_000 {
            let text: String = if i % 2 == 0 {
                let len = rng.below(40);
                (0..len).map(|_| ALPHABET[rng.below(ALPHABET.len())]).collect()
            } else {
                // Mutate a valid timestamp: replace, delete or insert characters.
                let mut chars: Vec<char> = seeds[rng.below(seeds.len())].chars().collect();
                for _ in 0..=rng.below(3) {
                    let at = rng.below(chars.len() + 1);
                    let ch = ALPHABET[rng.below(ALPHABET.len())];
                    match rng.below(3) {
                        0 if at < chars.len() => chars[at] = ch,
                        1 if at < chars.len() => {
                            chars.remove(at);
                        }
                        _ => chars.insert(at, ch),
                    }
                }
                chars.into_iter().collect()
            };
            if let Some(t) = Timestamp::parse(&text) {
                // Anything accepted is a real instant that prints and compares sanely.
                assert!(t.subsec_nanos() < 1_000_000_000);
                let _ = t.format_iso();
                assert_eq!(t.cmp(&t), std::cmp::Ordering::Equal);
            }
        }
    }
}
