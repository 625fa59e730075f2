//! How event patterns compare numbers.
//!
//! event-ruler compares numbers as IEEE-754 doubles, but only numbers it calls *comparable*: a
//! finite value whose decimal text survives the trip to a double and back, i.e. the shortest
//! decimal that reads back as the same double is numerically equal to the text. `5`, `5.0`,
//! `50e-1` and `0.1` are comparable; `9007199254740993`, `1.00000000000000001`, `1e309` and
//! `1e-400` are not. A pattern asking for a numeric comparison with a number that is not
//! comparable is invalid; an event number that is not comparable only ever matches by spelling.

/// [`comparable`] with non-negative integers of at most 15 digits (the usual event number, exact
/// in a double) read inline; everything else takes the call.
#[inline(always)]
pub fn comparable_inline(text: &str) -> Option<f64> {
    match small_integer(text.as_bytes()) {
        // Below 10^15, so the signed conversion (one instruction; the unsigned one is several) is exact.
        Some(mantissa) => Some(mantissa as i64 as f64),
        None => comparable(text),
    }
}

/// The value of 1 to 15 ASCII digits (exact in a double); `None` for anything else.
#[inline(always)]
fn small_integer(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut mantissa: u64 = 0;
    for &b in digits {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        mantissa = mantissa * 10 + u64::from(digit);
    }
    Some(mantissa)
}

/// The double value of a JSON number literal when it is comparable, with `-0` read as `0`.
pub fn comparable(text: &str) -> Option<f64> {
    if let Some(value) = short_plain_decimal(text) {
        return Some(value);
    }
    let value: f64 = text.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    let value = if value == 0.0 { 0.0 } else { value };
    if is_short_decimal(text) {
        return Some(value);
    }
    let mut buffer = ryu::Buffer::new();
    let shortest = buffer.format_finite(value);
    (Decimal::of(text)? == Decimal::of(shortest)?).then_some(value)
}

/// The value of a number written `-?digits[.digits]` with at most 15 significant digits and
/// at most 22 after the point (Clinger's fast path): the digits are an exact integer below
/// 2^53 and the power of ten is exact, so one correctly rounded division gives the nearest
/// double, as a full parse would. Such a number is comparable (see [`is_short_decimal`]).
/// `None` for anything else, which takes the general route.
fn short_plain_decimal(text: &str) -> Option<f64> {
    const POWERS: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
        1e21, 1e22,
    ];
    let (negative, digits) = match text.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        all => (false, all),
    };
    if digits.is_empty() || text.len() > 24 {
        return None;
    }
    // Integers (the common case) first: at most 15 digits are exact in a double.
    if let Some(mantissa) = small_integer(digits) {
        let value = mantissa as i64 as f64;
        return Some(if negative && value != 0.0 { -value } else { value });
    }
    let mut mantissa: u64 = 0;
    let mut significant = 0usize;
    let mut fraction: Option<usize> = None;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                significant += usize::from(mantissa != 0);
                if significant > 15 {
                    return None;
                }
                if let Some(f) = fraction.as_mut() {
                    *f += 1;
                }
            }
            b'.' if fraction.is_none() => fraction = Some(0),
            _ => return None,
        }
    }
    let power = *POWERS.get(fraction.unwrap_or(0))?;
    if fraction == Some(0) {
        return None;
    }
    let value = mantissa as f64 / power;
    // `-0` reads as `0`.
    Some(if negative && value != 0.0 { -value } else { value })
}

/// A key under which numerically equal comparable numbers hash alike.
pub fn value_key(value: f64) -> u64 {
    if value == 0.0 {
        0
    } else {
        value.to_bits()
    }
}

/// At most 15 significant digits and a modest exponent: such a decimal always reads back from
/// the nearest double unchanged (15 = DBL_DIG), so the slower check is not needed.
fn is_short_decimal(text: &str) -> bool {
    let mut digits = 0usize;
    let mut leading = true;
    for b in text.bytes() {
        match b {
            b'0' if leading => {}
            b'0'..=b'9' => {
                leading = false;
                digits += 1;
            }
            b'-' | b'.' => {}
            _ => return false,
        }
    }
    digits <= 15 && text.len() <= 24
}

/// A decimal number as sign, significant digits and exponent: `value = 0.d1d2… × 10^exponent`.
#[derive(PartialEq, Eq, Debug)]
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    /// Parses JSON-style (or ryu-style) number text. Zero has no digits and no sign.
    fn of(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(i) => (rest.get(..i)?, rest.get(i + 1..)?.trim_start_matches('+').parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int_part, frac_part) = match mantissa.find('.') {
            Some(i) => (mantissa.get(..i)?, mantissa.get(i + 1..)?),
            None => (mantissa, ""),
        };
        let mut digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).collect();
        let mut exponent = exp.checked_add(int_part.len() as i64)?;
        let leading = digits.iter().take_while(|&&d| d == b'0').count();
        digits.drain(..leading);
        exponent -= leading as i64;
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        if digits.is_empty() {
            return Some(Decimal { negative: false, digits, exponent: 0 });
        }
        Some(Decimal { negative, digits, exponent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparable_numbers() {
        for (text, want) in [
            ("5", Some(5.0)),
            ("5.0", Some(5.0)),
            ("50e-1", Some(5.0)),
            ("-0", Some(0.0)),
            ("-0.0", Some(0.0)),
            ("0.1", Some(0.1)),
            ("123.4560", Some(123.456)),
            ("1e22", Some(1e22)),
            ("12345678901234567000", Some(12345678901234567000.0)),
            ("1.7976931348623157e308", Some(f64::MAX)),
            ("9007199254740992", Some(9007199254740992.0)),
            ("9007199254740993", None),
            ("1.00000000000000001", None),
            ("12345678901234567890", None),
            ("0.1000000000000000055511151231257827", None),
            ("1e309", None),
            ("-1e309", None),
            ("1e-400", None),
        ] {
            assert_eq!(comparable(text), want, "{text}");
        }
    }

    #[test]
    fn the_fast_path_agrees_with_the_full_parse() {
        let mut texts: Vec<String> = [
            "0", "-0", "0.0", "-0.000", "1", "12.5", "0.1", "0.3", "123456789012345", "-123456789012345", "1234567890123456",
            "0.000000000000000000001", "0.0000000000000000000001", "0.00000000000000000000001", "999999999999999.9",
            "99999999999999.99", "4.35", "1.7976931348623157", "00012", "1.", ".5", "1e5", "-", "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 16) as usize + 1;
            let point = (x >> 8) as usize % (digits + 1);
            let mut t = String::new();
            if x & 0x10000 != 0 {
                t.push('-');
            }
            for k in 0..digits {
                if k == point && k > 0 {
                    t.push('.');
                }
                t.push(char::from(b'0' + (x.rotate_right(k as u32 * 3 + 20) % 10) as u8));
            }
            texts.push(t);
        }
        for t in &texts {
            if let Some(fast) = short_plain_decimal(t) {
                let full: f64 = t.parse().unwrap();
                assert_eq!(fast.to_bits(), if full == 0.0 { 0.0f64.to_bits() } else { full.to_bits() }, "{t}");
                assert!(is_short_decimal(t), "{t}");
            }
        }
        assert_eq!(short_plain_decimal("12.5"), Some(12.5));
        assert_eq!(short_plain_decimal("-0"), Some(0.0));
        assert_eq!(short_plain_decimal("1234567890123456"), None);
        assert_eq!(short_plain_decimal("1e5"), None);
        assert_eq!(short_plain_decimal("-18234"), Some(-18234.0));
        assert_eq!(short_plain_decimal("443x"), None);
        for t in texts.iter().map(String::as_str).chain(["0", "443", "999999999999999", "1000000000000000", "1e5", "12.5"]) {
            assert_eq!(comparable_inline(t).map(f64::to_bits), comparable(t).map(f64::to_bits), "{t}");
        }
    }

    #[test]
    fn equal_values_share_a_key() {
        assert_eq!(value_key(comparable("-0").unwrap()), value_key(comparable("0e5").unwrap()));
        assert_ne!(value_key(1.0), value_key(2.0));
    }
}
