//! How event patterns compare numbers.
//!
//! event-ruler compares numbers as IEEE-754 doubles, but only numbers it calls *comparable*: a
//! finite value whose decimal text survives the trip to a double and back, i.e. the shortest
//! decimal that reads back as the same double is numerically equal to the text. `5`, `5.0`,
//! `50e-1` and `0.1` are comparable; `9007199254740993`, `1.00000000000000001`, `1e309` and
//! `1e-400` are not. A pattern asking for a numeric comparison with a number that is not
//! comparable is invalid; an event number that is not comparable only ever matches by spelling.

/// The double value of a JSON number literal when it is comparable, with `-0` read as `0`.
pub fn comparable(text: &str) -> Option<f64> {
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
    fn equal_values_share_a_key() {
        assert_eq!(value_key(comparable("-0").unwrap()), value_key(comparable("0e5").unwrap()));
        assert_ne!(value_key(1.0), value_key(2.0));
    }
}
