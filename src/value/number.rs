//! JSON numbers that keep integer/float identity, compare numerically, and print as AWS's
//! Java runtime prints them (`Double.toString`: `1.0`, `1.0E10`, `1.0E-4`).

use std::cmp::Ordering;

#[derive(Clone, Copy, Debug)]
pub enum Number {
    /// An integer that fits `i64`.
    Int(i64),
    /// A non-negative integer above `i64::MAX`.
    UInt(u64),
    /// Any other number. Never NaN or infinite (JSON cannot carry those).
    Float(f64),
}

impl Number {
    /// A float; NaN and infinities (which JSON cannot carry) become `0`/the closest finite value
    /// is not attempted: callers check `is_finite` where a computation may overflow.
    pub fn from_f64(f: f64) -> Number {
        Number::Float(f)
    }

    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::UInt(u) => u as f64,
            Number::Float(f) => f,
        }
    }

    /// The integer value, for integers only (a float is `None` even when integral).
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn is_integer(self) -> bool {
        !matches!(self, Number::Float(_))
    }

    pub(crate) fn from_serde(n: &serde_json::Number) -> Number {
        if let Some(i) = n.as_i64() {
            Number::Int(i)
        } else if let Some(u) = n.as_u64() {
            Number::UInt(u)
        } else {
            Number::Float(n.as_f64().unwrap_or(0.0))
        }
    }

    pub(crate) fn to_serde(self) -> serde_json::Value {
        match self {
            Number::Int(i) => i.into(),
            Number::UInt(u) => u.into(),
            Number::Float(f) => serde_json::Number::from_f64(f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
        }
    }

    /// Writes the number as Java's `Long.toString`/`Double.toString` would.
    pub fn write(self, out: &mut String) {
        match self {
            Number::Int(i) => out.push_str(itoa::Buffer::new().format(i)),
            Number::UInt(u) => out.push_str(itoa::Buffer::new().format(u)),
            Number::Float(f) => write_java_double(f, out),
        }
    }

    /// Numeric comparison across representations.
    pub fn cmp_numeric(self, other: Number) -> Ordering {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a.cmp(&b),
            (Number::UInt(a), Number::UInt(b)) => a.cmp(&b),
            (Number::Int(_), Number::UInt(_)) => Ordering::Less,
            (Number::UInt(_), Number::Int(_)) => Ordering::Greater,
            (a, b) => a.as_f64().partial_cmp(&b.as_f64()).unwrap_or(Ordering::Equal),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.cmp_numeric(*other) == Ordering::Equal
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        self.write(&mut s);
        f.write_str(&s)
    }
}

/// Java's `Double.toString`: plain notation with at least one fractional digit for
/// 1e-3 <= |x| < 1e7, otherwise `d.dddE[-]n`. The digits are the shortest round-trip digits
/// (ryu), which is what JDK 19+ produces.
fn write_java_double(f: f64, out: &mut String) {
    if !f.is_finite() {
        // JSON cannot carry these; print as Java would so messages stay readable.
        out.push_str(if f.is_nan() { "NaN" } else if f > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    let mut buf = ryu::Buffer::new();
    // In Java's plain range ryu already writes what Java does (the same shortest digits, at
    // least one fractional digit, no exponent): e.g. `21.7`, `100.0`, `0.001`.
    if (1e-3..1e7).contains(&f.abs()) {
        let text = buf.format_finite(f);
        if !text.contains(['e', 'E']) {
            out.push_str(text);
            return;
        }
    }
    write_java_double_digits(f, out);
}

/// The general case of [`write_java_double`]: ryu's digits laid out by Java's rules.
fn write_java_double_digits(f: f64, out: &mut String) {
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(f.abs());
    // Decompose ryu's output into digits and a decimal exponent: value = 0.d1d2d3… × 10^exp10.
    let (mantissa, exp_part) = match text.find(['e', 'E']) {
        Some(p) => (&text[..p], text[p + 1..].parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(p) => (&mantissa[..p], &mantissa[p + 1..]),
        None => (mantissa, ""),
    };
    let mut digits: String = format!("{int_part}{frac_part}");
    let mut point = int_part.len() as i32 + exp_part; // position of the decimal point in `digits`
    let lead = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..lead);
    point -= lead as i32;
    let trimmed = digits.trim_end_matches('0').len();
    digits.truncate(trimmed.max(1));
    if f < 0.0 {
        out.push('-');
    }
    let abs = f.abs();
    if (1e-3..1e7).contains(&abs) {
        if point <= 0 {
            out.push_str("0.");
            for _ in 0..(-point) {
                out.push('0');
            }
            out.push_str(&digits);
        } else if point as usize >= digits.len() {
            out.push_str(&digits);
            for _ in 0..(point as usize - digits.len()) {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        out.push_str(itoa::Buffer::new().format(point - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn java(f: f64) -> String {
        let mut s = String::new();
        write_java_double(f, &mut s);
        s
    }

    #[test]
    fn the_plain_range_shortcut_agrees_with_the_general_layout() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut values = vec![1e-3, 0.001_000_000_000_000_1, 9_999_999.999_999_998, 1e7 - 1.0, 21.7, 100.0, 0.5, -48.2, 1234567.0];
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // Spread over the plain range's decades, with random mantissa bits.
            let decade = (seed >> 60) as i32 % 11 - 3;
            let mantissa = 1.0 + (seed >> 11) as f64 / (1u64 << 53) as f64 * 9.0;
            let sign = if seed & 1 == 0 { 1.0 } else { -1.0 };
            values.push(sign * mantissa * 10f64.powi(decade));
        }
        for f in values {
            let (mut general, mut fast) = (String::new(), String::new());
            write_java_double_digits(f, &mut general);
            write_java_double(f, &mut fast);
            assert_eq!(fast, general, "{f:e}");
        }
    }

    #[test]
    fn formats_like_java() {
        assert_eq!(java(1.0), "1.0");
        assert_eq!(java(1.5), "1.5");
        assert_eq!(java(-2.25), "-2.25");
        assert_eq!(java(100.0), "100.0");
        assert_eq!(java(1234567.0), "1234567.0");
        assert_eq!(java(1e7), "1.0E7");
        assert_eq!(java(1.0e10), "1.0E10");
        assert_eq!(java(0.001), "0.001");
        assert_eq!(java(0.0001), "1.0E-4");
        assert_eq!(java(3.3), "3.3");
        assert_eq!(java(1.5e300), "1.5E300");
        assert_eq!(java(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(java(123.456e-10), "1.23456E-8");
    }

    #[test]
    fn compares_across_kinds() {
        assert_eq!(Number::Int(1), Number::Float(1.0));
        assert!(Number::Int(-1).cmp_numeric(Number::UInt(u64::MAX)).is_lt());
    }
}
