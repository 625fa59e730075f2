//! IP addresses and CIDR blocks as event-ruler matches them.
//!
//! event-ruler turns an address into upper-case hex digits (8 for IPv4, 32 for IPv6) and a CIDR
//! block (its base aligned to the mask) or a plain address pattern into a *range* of such digit strings, matched byte by byte
//! by its value automaton. That automaton assumes every value has the range's length, so it
//! decides as soon as a digit falls strictly inside the bounds. We reproduce its verdicts
//! exactly ([`HexRange::matches`]), including the odd ones it yields for values of another
//! length: `10.0.0.1` falls in `::/0`, and the number `10` in `0.0.0.0/0`.
//!
//! Addresses are read as Java's `InetAddress` reads literals, after event-ruler's own regular
//! expressions: IPv4 is four dot-separated decimal runs (leading zeros are decimal, at most 15
//! characters in all); IPv6 is hex digits and colons (no dotted tail), and an IPv4-mapped IPv6
//! address (`::ffff:a00:1`) is the IPv4 address.

/// A range of hex-digit strings with open or closed ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HexRange {
    bottom: Box<[u8]>,
    top: Box<[u8]>,
    open_bottom: bool,
    open_top: bool,
    /// The same range as an address block, which is how addresses of the same family meet it.
    pub block: Block,
}

/// An aligned address block: the addresses whose top `mask` bits equal `base`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Block {
    pub v6: bool,
    pub mask: u8,
    pub base: u128,
}

impl Block {
    pub fn key_of(self, address: u128) -> u128 {
        address & mask_bits(self.v6, self.mask)
    }
}

fn mask_bits(v6: bool, mask: u8) -> u128 {
    let width: u32 = if v6 { 128 } else { 32 };
    let mask = u32::from(mask).min(width);
    if mask == 0 {
        return 0;
    }
    let all = if v6 { u128::MAX } else { u128::from(u32::MAX) };
    // mask >= 1, so the shift is below 128.
    all & !((1u128 << (width - mask)) - 1)
}

/// An IP address read from text: IPv4 in the low 32 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    pub v6: bool,
    pub bits: u128,
}

impl Address {
    fn from_bytes(bytes: &[u8]) -> Address {
        Address { v6: bytes.len() == 16, bits: bytes.iter().fold(0u128, |acc, &b| (acc << 8) | u128::from(b)) }
    }

    fn bytes(self) -> Vec<u8> {
        let n = if self.v6 { 16 } else { 4 };
        (0..n).rev().map(|i| (self.bits >> (8 * i)) as u8).collect()
    }

    /// Upper-case hex digits, as event-ruler compares event values.
    pub fn hex(self) -> Vec<u8> {
        to_hex(&self.bytes())
    }

    /// The address's top 32 bits, which is all of it that an IPv4 range looks at.
    pub fn top32(self) -> u128 {
        if self.v6 {
            self.bits >> 96
        } else {
            self.bits
        }
    }
}

/// The address an IP literal denotes, or `None` when `text` is not one.
pub fn parse(text: &str) -> Option<Address> {
    if let Some(bits) = dotted_quad(text) {
        return Some(Address { v6: false, bits: u128::from(bits) });
    }
    parse_address(text).map(|b| Address::from_bytes(&b))
}

/// An IPv4 literal in one pass without allocating: what [`parse_address`] gives for a text
/// of four parts of one to three digits joined by dots that is a valid address; `None` for
/// everything else (which then takes the general route, so this only ever saves time).
/// Straight-line: each part is at most three digit tests, then a dot.
fn dotted_quad(text: &str) -> Option<u32> {
    let b = text.as_bytes();
    let (mut bits, at) = octet(b, 0)?;
    let mut at = at;
    for _ in 0..3 {
        if b.get(at) != Some(&b'.') {
            return None;
        }
        let (part, next) = octet(b, at + 1)?;
        bits = (bits << 8) | part;
        at = next;
    }
    (at == b.len()).then_some(bits)
}

/// One to three digits at `at` with a value up to 255, and the offset after them. A fourth
/// digit is left for the caller, which wants a dot or the end there and so refuses it.
#[inline(always)]
fn octet(b: &[u8], at: usize) -> Option<(u32, usize)> {
    let digit = |i: usize| b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d <= 9).map(u32::from);
    let mut value = digit(at)?;
    let mut end = at + 1;
    if let Some(d) = digit(end) {
        value = value * 10 + d;
        end += 1;
        if let Some(d) = digit(end) {
            value = value * 10 + d;
            end += 1;
        }
    }
    (value <= 255).then_some((value, end))
}

/// A CIDR pattern that cannot be used, with event-ruler's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrError(pub String);

/// The address bytes (4 or 16) of an IP literal, or `None` when `text` is not one.
fn parse_address(text: &str) -> Option<Vec<u8>> {
    if looks_like_ipv4(text) {
        return ipv4(text).map(|a| a.to_vec());
    }
    if looks_like_ipv6(text) {
        let bytes = ipv6(text)?;
        if bytes[..10].iter().all(|&b| b == 0) && bytes[10] == 0xff && bytes[11] == 0xff {
            return Some(bytes[12..].to_vec());
        }
        return Some(bytes.to_vec());
    }
    None
}

/// Upper-case hex digits of an IP literal, as event-ruler compares event values.
#[cfg(test)]
fn address_hex(text: &str) -> Option<Vec<u8>> {
    parse(text).map(Address::hex)
}

fn to_hex(bytes: &[u8]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0x0f)]);
    }
    out
}

fn looks_like_ipv4(text: &str) -> bool {
    let mut parts = 0;
    for part in text.split('.') {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        parts += 1;
    }
    parts == 4
}

fn looks_like_ipv6(text: &str) -> bool {
    text.contains(':') && text.bytes().all(|b| b == b':' || b.is_ascii_hexdigit())
}

/// Java's `IPAddressUtil.textToNumericFormatV4` for four-part literals.
fn ipv4(text: &str) -> Option<[u8; 4]> {
    if text.len() > 15 {
        return None;
    }
    let mut out = [0u8; 4];
    for (slot, part) in out.iter_mut().zip(text.split('.')) {
        let value: u32 = part.parse().ok()?;
        *slot = u8::try_from(value).ok()?;
    }
    Some(out)
}

/// Java's `IPAddressUtil.textToNumericFormatV6` (without the dotted IPv4 tail, which the
/// regular expression in front of it excludes).
fn ipv6(text: &str) -> Option<[u8; 16]> {
    let src = text.as_bytes();
    if src.len() < 2 {
        return None;
    }
    let mut dst = [0u8; 16];
    let mut i = 0;
    if src[0] == b':' {
        i = 1;
        if src[1] != b':' {
            return None;
        }
    }
    let mut colon_at: Option<usize> = None;
    let mut j = 0usize;
    let mut saw_digit = false;
    let mut val: u32 = 0;
    while i < src.len() {
        let ch = src[i];
        i += 1;
        if let Some(d) = (ch as char).to_digit(16) {
            val = (val << 4) | d;
            if val > 0xffff {
                return None;
            }
            saw_digit = true;
            continue;
        }
        // Only ':' remains possible here (the caller checked the alphabet).
        if !saw_digit {
            if colon_at.is_some() {
                return None;
            }
            colon_at = Some(j);
            continue;
        } else if i == src.len() {
            return None;
        }
        if j + 2 > 16 {
            return None;
        }
        dst[j] = (val >> 8) as u8;
        dst[j + 1] = val as u8;
        j += 2;
        saw_digit = false;
        val = 0;
    }
    if saw_digit {
        if j + 2 > 16 {
            return None;
        }
        dst[j] = (val >> 8) as u8;
        dst[j + 1] = val as u8;
        j += 2;
    }
    if let Some(cp) = colon_at {
        if j == 16 {
            return None;
        }
        let n = j - cp;
        for k in 1..=n {
            dst[16 - k] = dst[cp + n - k];
            dst[cp + n - k] = 0;
        }
        j = 16;
    }
    (j == 16).then_some(dst)
}

impl HexRange {
    /// The range event-ruler builds for a plain pattern string that is an IP literal: that one
    /// address.
    pub fn single_address(text: &str) -> Option<HexRange> {
        let address = parse(text)?;
        let block = Block { v6: address.v6, mask: if address.v6 { 128 } else { 32 }, base: address.bits };
        let digits = address.hex();
        let mut bottom = digits.clone();
        let mut top = digits;
        let last = bottom.len() - 1;
        if top[last] == b'F' {
            bottom[last] = b'E';
            Some(HexRange { bottom: bottom.into(), top: top.into(), open_bottom: true, open_top: false, block })
        } else {
            top[last] = if top[last] == b'9' { b'A' } else { top[last] + 1 };
            Some(HexRange { bottom: bottom.into(), top: top.into(), open_bottom: false, open_top: true, block })
        }
    }

    /// The range of a `{"cidr": "..."}` pattern.
    pub fn cidr(text: &str) -> Result<HexRange, CidrError> {
        let parts: Vec<&str> = text.split('/').collect();
        // Java's String.split drops trailing empty strings: "a/" has one part.
        let parts: Vec<&str> = match parts.iter().rposition(|p| !p.is_empty()) {
            Some(last) => parts[..=last].to_vec(),
            None => Vec::new(),
        };
        let [address, mask] = parts[..] else {
            return Err(CidrError("Malformed CIDR, one '/' required".into()));
        };
        let mask: i32 = java_parse_int(mask).ok_or_else(|| CidrError("Malformed CIDR, mask bits must be an integer".into()))?;
        if mask < 0 {
            return Err(CidrError("Malformed CIDR, mask bits must not be negative".into()));
        }
        let base = if looks_like_ipv4(address) || looks_like_ipv6(address) {
            parse_address(address).ok_or_else(|| CidrError(format!("Invalid IP address: {address}")))?
        } else {
            return Err(CidrError(format!("Nonstandard IP address: {address}")));
        };
        let bits = base.len() * 8;
        if base.len() == 4 && mask > 31 {
            return Err(CidrError("IPv4 mask bits must be < 32".into()));
        }
        if base.len() == 16 && mask > 127 {
            return Err(CidrError("IPv6 mask bits must be < 128".into()));
        }
        // The bottom clears the bits below the mask (`10.0.0.5/24` is `10.0.0.0/24`); the top
        // sets them.
        let mut bottom = base.clone();
        let mut top = base;
        let mut free = bits as i64 - i64::from(mask);
        for (low, high) in bottom.iter_mut().zip(top.iter_mut()).rev() {
            if free >= 8 {
                *low = 0;
                *high = 0xff;
            } else if free > 0 {
                let bits_below = (1u8 << free) - 1;
                *low &= !bits_below;
                *high |= bits_below;
            }
            free -= 8;
        }
        let block = Block { v6: bottom.len() == 16, mask: mask as u8, base: Address::from_bytes(&bottom).bits };
        Ok(HexRange { bottom: to_hex(&bottom).into(), top: to_hex(&top).into(), open_bottom: false, open_top: false, block })
    }

    /// Whether event-ruler's automaton for this range accepts `value` (hex digits of an event
    /// address, or any other value's raw bytes).
    pub fn matches(&self, value: &[u8]) -> bool {
        let (b, t) = (&self.bottom[..], &self.top[..]);
        let len = b.len();
        let Some(fork) = b.iter().zip(t.iter()).position(|(x, y)| x != y) else {
            return false;
        };
        if value.get(..fork) != b.get(..fork) {
            return false;
        }
        let Some(&d) = value.get(fork) else { return false };
        let last = len - 1;
        if fork == last {
            return (is_hex(d) && b[fork] < d && d < t[fork])
                || (d == b[fork] && !self.open_bottom)
                || (d == t[fork] && !self.open_top);
        }
        if is_hex(d) && b[fork] < d && d < t[fork] {
            return true;
        }
        let (path, greater, open) = if d == b[fork] {
            (b, true, self.open_bottom)
        } else if d == t[fork] {
            (t, false, self.open_top)
        } else {
            return false;
        };
        for (j, (&want, &d)) in path.iter().zip(value.iter()).enumerate().skip(fork + 1) {
            let beyond = if greater { d > want } else { d < want };
            if is_hex(d) && beyond {
                return true;
            }
            if d != want {
                return false;
            }
            if j == last {
                return !open;
            }
        }
        false
    }
}

fn is_hex(d: u8) -> bool {
    d.is_ascii_digit() || (b'A'..=b'F').contains(&d)
}

/// Java's `Integer.parseInt`: optional sign, decimal digits, 32-bit range.
fn java_parse_int(text: &str) -> Option<i32> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        address_hex(s).unwrap()
    }

    #[test]
    fn parses_addresses_like_java() {
        assert_eq!(parse_address("10.0.0.01"), Some(vec![10, 0, 0, 1]));
        assert_eq!(parse_address("10.0.0.256"), None);
        assert_eq!(parse_address("10.0.0"), None);
        assert_eq!(parse_address("2001:DB8:0:0:0:0:0:1"), parse_address("2001:db8::1"));
        assert_eq!(parse_address("::ffff:a00:1"), Some(vec![10, 0, 0, 1]));
        assert_eq!(parse_address("::"), Some(vec![0; 16]));
        assert_eq!(parse_address(":1"), None);
        assert_eq!(parse_address("1::2::3"), None);
        assert_eq!(parse_address("2001:db8::g"), None);
        assert_eq!(parse_address("x"), None);
        for text in [
            "10.0.0.1", "10.0.0.01", "255.255.255.255", "256.0.0.1", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.",
            "001.002.003.004", "0000.0.0.1", "1.2.3.4a", "", "1.2.3.04", "99999.1.1.1", "::1", "1.2.3.4:5",
            "1.2.3.4.", "1.2.3.2555", "1.2.3.256", "0.0.0.0", "9.99.199.255", "1.2.3.4 ", "1.2.3.-4", "1.2.3.4/8",
        ] {
            let slow = parse_address(text).map(|b| Address::from_bytes(&b));
            assert_eq!(parse(text), slow, "{text}");
            if let Some(bits) = dotted_quad(text) {
                assert_eq!(slow, Some(Address { v6: false, bits: u128::from(bits) }), "{text}");
            }
        }
    }

    #[test]
    fn dotted_quads_agree_with_the_general_parser() {
        // Texts of digits and dots (with the odd other byte), up to 17 bytes: every one the fast
        // reader accepts is what the general parser gives.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 18) as usize;
            let text: String = (0..len)
                .map(|k| match (x >> (k * 3 + 5)) % 16 {
                    0..=3 => '.',
                    4 => b"x:-/ 0"[(x >> 60) as usize % 6] as char,
                    d => char::from(b'0' + ((d + (x >> 50) % 7) % 10) as u8),
                })
                .collect();
            let slow = parse_address(&text).map(|b| Address::from_bytes(&b));
            assert_eq!(parse(&text), slow, "{text}");
            match dotted_quad(&text) {
                Some(bits) => {
                    accepted += 1;
                    assert_eq!(slow, Some(Address { v6: false, bits: u128::from(bits) }), "{text}");
                }
                None => refused += 1,
            }
        }
        assert!(accepted > 100 && refused > 100, "{accepted} {refused}");
    }

    #[test]
    fn cidr_ranges() {
        let r = HexRange::cidr("10.0.0.0/24").unwrap();
        assert!(r.matches(&hex("10.0.0.33")));
        assert!(!r.matches(&hex("10.0.1.0")));
        let unaligned = HexRange::cidr("10.0.0.5/24").unwrap();
        assert!(unaligned.matches(&hex("10.0.0.1")), "the base is aligned to the mask");
        assert!(unaligned.matches(&hex("10.0.0.255")));
        assert!(HexRange::cidr("::/0").unwrap().matches(&hex("10.0.0.1")));
        assert!(HexRange::cidr("0.0.0.0/0").unwrap().matches(b"10"));
        assert!(!HexRange::cidr("10.0.0.0/31").unwrap().matches(b"10"));
        assert!(!HexRange::cidr("0.0.0.0/0").unwrap().matches(b"\"x\""));
        for (bad, msg) in [
            ("10.0.0.0/32", "IPv4 mask bits must be < 32"),
            ("::/128", "IPv6 mask bits must be < 128"),
            ("abc/8", "Nonstandard IP address: abc"),
            ("10.0.0.0/-1", "Malformed CIDR, mask bits must not be negative"),
            ("", "Malformed CIDR, one '/' required"),
            ("10.0.0.0/x", "Malformed CIDR, mask bits must be an integer"),
        ] {
            assert_eq!(HexRange::cidr(bad), Err(CidrError(msg.into())), "{bad}");
        }
    }

    #[test]
    fn blocks_agree_with_ranges() {
        for (cidr, inside, outside) in [
            ("10.0.0.0/24", "10.0.0.77", "10.0.1.0"),
            ("10.0.0.5/30", "10.0.0.7", "10.0.0.8"),
            ("0.0.0.0/0", "255.1.2.3", "::1"),
            ("2001:db8::/32", "2001:db8:ffff::1", "2001:db9::"),
            ("::/0", "fe80::1", "10.0.0.1"),
        ] {
            let r = HexRange::cidr(cidr).unwrap();
            let a = parse(inside).unwrap();
            assert!(r.matches(&a.hex()) && r.block.key_of(a.bits) == r.block.base, "{cidr} {inside}");
            let b = parse(outside).unwrap();
            if b.v6 == r.block.v6 {
                assert!(!r.matches(&b.hex()) && r.block.key_of(b.bits) != r.block.base, "{cidr} {outside}");
            }
        }
    }

    #[test]
    fn single_addresses() {
        let r = HexRange::single_address("2001:db8::1").unwrap();
        assert!(r.matches(&hex("2001:0DB8:0:0:0:0:0:1")));
        assert!(!r.matches(&hex("2001:db8::2")));
        let f = HexRange::single_address("10.0.0.15").unwrap();
        assert!(f.matches(&hex("10.0.0.15")));
        assert!(!f.matches(&hex("10.0.0.14")));
        assert!(HexRange::single_address("x").is_none());
    }
}
