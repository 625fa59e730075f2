//! Event sources: a JSON template with random fields, or events replayed from an NDJSON file.
//!
//! A template is the text of one event with `{{…}}` placeholders. Each placeholder is replaced
//! by *raw text*, so write `"{{uuid}}"` (in quotes) for a string and `{{int 0 100}}` (bare) for
//! a number. The placeholders:
//!
//! | placeholder | produces |
//! |---|---|
//! | `{{uuid}}` | a random version-4 UUID, e.g. `0b7e…-4…` |
//! | `{{int LO HI}}` | an integer drawn uniformly from `LO..=HI` |
//! | `{{float}}` / `{{float LO HI}}` / `{{float LO HI DIGITS}}` | a float in `[0, 1)` / `[LO, HI)`, with `DIGITS` decimals (default: shortest form) |
//! | `{{choice a b c}}` | one of the words, uniformly (raw: quote it for a string) |
//! | `{{bool}}` | `true` or `false` |
//! | `{{hex N}}` | `N` random lowercase hex digits |
//! | `{{now}}` | the send time as `2026-11-21T11:20:00.000Z` (UTC, milliseconds) |
//! | `{{now_ms}}` | the send time in epoch milliseconds |
//! | `{{seq}}` | the event's sequence number in the run (0, 1, 2, …) |
//!
//! `{{{{` stands for a literal `{{`. Invariants: a template is parsed once (unknown names and bad
//! arguments are load-time errors with the placeholder's position), and every rendering is
//! checked to be JSON when the scenario is loaded, so a run never sends malformed events
//! because of its template. Rendering reuses the caller's buffer and allocates nothing else.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum TemplateError {
    #[error("template placeholder at byte {at} is not closed with }}}}")]
    Unclosed { at: usize },
    #[error("template placeholder `{{{{{text}}}}}` at byte {at}: {reason}")]
    Bad { text: String, at: usize, reason: String },
    #[error("the template does not render to JSON ({reason}); a sample rendering was: {sample}")]
    NotJson { reason: String, sample: String },
    #[error("replay file {path}: {reason}")]
    Replay { path: String, reason: String },
}

/// A small seedable generator (SplitMix64), one per worker: runs with a `seed` are repeatable.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A fraction in `[0, 1)` with 53 bits of precision.
    pub fn fraction(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..=hi` (callers guarantee `lo <= hi`).
    fn int_in(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi as i128 - lo as i128 + 1) as u128;
        (lo as i128 + (self.next_u64() as u128 % span) as i128) as i64
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Piece {
    Text(String),
    Uuid,
    Int(i64, i64),
    Float { lo: f64, hi: f64, digits: Option<usize> },
    Choice(Vec<String>),
    Bool,
    Hex(usize),
    Now,
    NowMs,
    Seq,
}

/// A parsed event template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// What a rendering may depend on besides randomness.
#[derive(Clone, Copy, Debug)]
pub struct RenderContext {
    pub seq: u64,
    pub now_ms: i64,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            if let Some(stripped) = after.strip_prefix("{{") {
                literal.push_str("{{");
                offset += open + 4;
                rest = stripped;
                continue;
            }
            let at = offset + open;
            let close = after.find("}}").ok_or(TemplateError::Unclosed { at })?;
            let inner = &after[..close];
            if !literal.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(parse_placeholder(inner, at)?);
            offset += open + 2 + close + 2;
            rest = &after[close + 2..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template { pieces })
    }

    /// Appends one rendering to `out`.
    pub fn render(&self, rng: &mut Rng, ctx: RenderContext, out: &mut String) {
        for piece in &self.pieces {
            // Writing into a String cannot fail.
            let _ = match piece {
                Piece::Text(t) => {
                    out.push_str(t);
                    Ok(())
                }
                Piece::Uuid => {
                    let bits = ((rng.next_u64() as u128) << 64) | rng.next_u64() as u128;
                    let id = uuid_from_bits(bits);
                    out.push_str(&id);
                    Ok(())
                }
                Piece::Int(lo, hi) => write!(out, "{}", rng.int_in(*lo, *hi)),
                Piece::Float { lo, hi, digits } => {
                    let x = lo + (hi - lo) * rng.fraction();
                    match digits {
                        Some(d) => write!(out, "{x:.d$}", d = *d),
                        None => write!(out, "{x:?}"),
                    }
                }
                Piece::Choice(words) => {
                    let i = (rng.next_u64() % words.len() as u64) as usize;
                    out.push_str(words.get(i).map(String::as_str).unwrap_or_default());
                    Ok(())
                }
                Piece::Bool => {
                    out.push_str(if rng.next_u64() & 1 == 1 { "true" } else { "false" });
                    Ok(())
                }
                Piece::Hex(n) => {
                    for _ in 0..*n {
                        let digit = (rng.next_u64() % 16) as u32;
                        out.push(char::from_digit(digit, 16).unwrap_or('0'));
                    }
                    Ok(())
                }
                Piece::Now => {
                    out.push_str(&expressway::timestamp::format_iso(ctx.now_ms));
                    Ok(())
                }
                Piece::NowMs => write!(out, "{}", ctx.now_ms),
                Piece::Seq => write!(out, "{}", ctx.seq),
            };
        }
    }

    /// Renders a few samples and checks each is JSON, so a bad template fails at load time.
    pub fn check_renders_json(&self) -> Result<(), TemplateError> {
        let mut rng = Rng::new(1);
        for seq in 0..8 {
            let mut out = String::new();
            self.render(&mut rng, RenderContext { seq, now_ms: 1_790_000_000_000 }, &mut out);
            if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&out) {
                return Err(TemplateError::NotJson { reason: e.to_string(), sample: out });
            }
        }
        Ok(())
    }
}

fn uuid_from_bits(bits: u128) -> String {
    // Set the version (4) and variant (10xx) bits as RFC 9562 asks.
    let bits = (bits & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

fn parse_placeholder(inner: &str, at: usize) -> Result<Piece, TemplateError> {
    let bad = |reason: &str| TemplateError::Bad { text: inner.to_string(), at, reason: reason.to_string() };
    let mut words = inner.split_whitespace();
    let name = words.next().ok_or_else(|| bad("empty placeholder"))?;
    let args: Vec<&str> = words.collect();
    let no_args = |piece: Piece| if args.is_empty() { Ok(piece) } else { Err(bad("takes no arguments")) };
    let num = |s: &str| s.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| bad(&format!("`{s}` is not a number")));
    match name {
        "uuid" => no_args(Piece::Uuid),
        "bool" => no_args(Piece::Bool),
        "now" => no_args(Piece::Now),
        "now_ms" => no_args(Piece::NowMs),
        "seq" => no_args(Piece::Seq),
        "int" => match args.as_slice() {
            [lo, hi] => {
                let lo = lo.parse::<i64>().map_err(|_| bad(&format!("`{lo}` is not an integer")))?;
                let hi = hi.parse::<i64>().map_err(|_| bad(&format!("`{hi}` is not an integer")))?;
                if lo > hi {
                    return Err(bad("LO must not exceed HI"));
                }
                Ok(Piece::Int(lo, hi))
            }
            _ => Err(bad("usage: {{int LO HI}}")),
        },
        "float" => {
            let (lo, hi, digits) = match args.as_slice() {
                [] => (0.0, 1.0, None),
                [lo, hi] => (num(lo)?, num(hi)?, None),
                [lo, hi, d] => (num(lo)?, num(hi)?, Some(d.parse::<usize>().map_err(|_| bad("DIGITS must be a whole number"))?)),
                _ => return Err(bad("usage: {{float}}, {{float LO HI}} or {{float LO HI DIGITS}}")),
            };
            if lo > hi || digits.is_some_and(|d| d > 17) {
                return Err(bad("needs LO <= HI and at most 17 digits"));
            }
            Ok(Piece::Float { lo, hi, digits })
        }
        "choice" if !args.is_empty() => Ok(Piece::Choice(args.iter().map(|s| s.to_string()).collect())),
        "choice" => Err(bad("usage: {{choice a b c}}")),
        "hex" => match args.as_slice() {
            [n] => n.parse::<usize>().ok().filter(|n| (1..=256).contains(n)).map(Piece::Hex).ok_or_else(|| bad("N must be 1..=256")),
            _ => Err(bad("usage: {{hex N}}")),
        },
        other => Err(bad(&format!("unknown placeholder `{other}` (known: uuid int float choice bool hex now now_ms seq)"))),
    }
}

/// Where events come from.
#[derive(Clone, Debug)]
pub enum EventSource {
    Template(Arc<Template>),
    /// Lines of an NDJSON file, sent in order and cycled.
    Replay(Arc<Vec<String>>),
}

impl EventSource {
    /// Reads an NDJSON file; blank lines are skipped, every other line must be JSON.
    pub fn replay_file(path: &Path) -> Result<EventSource, TemplateError> {
        let err = |reason: String| TemplateError::Replay { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let mut lines = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            serde_json::from_str::<serde::de::IgnoredAny>(line).map_err(|e| err(format!("line {}: {e}", n + 1)))?;
            lines.push(line.to_string());
        }
        if lines.is_empty() {
            return Err(err("no events in the file".into()));
        }
        Ok(EventSource::Replay(Arc::new(lines)))
    }

    /// Appends event number `ctx.seq` to `out`.
    pub fn render(&self, rng: &mut Rng, ctx: RenderContext, out: &mut String) {
        match self {
            EventSource::Template(t) => t.render(rng, ctx, out),
            EventSource::Replay(lines) => {
                let i = (ctx.seq % lines.len() as u64) as usize;
                out.push_str(lines.get(i).map(String::as_str).unwrap_or_default());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(t: &str, seq: u64) -> String {
        let mut out = String::new();
        Template::parse(t).unwrap().render(&mut Rng::new(7), RenderContext { seq, now_ms: 0 }, &mut out);
        out
    }

    #[test]
    fn literal_text_and_escapes_pass_through() {
        assert_eq!(render(r#"{"a": 1}"#, 0), r#"{"a": 1}"#);
        assert_eq!(render(r#"{"a": "{{{{x}}"}"#, 0), r#"{"a": "{{x}}"}"#);
    }

    #[test]
    fn every_placeholder_renders_in_range() {
        for seq in 0..200 {
            let s = render(r#"{"i": {{int -3 3}}, "f": {{float 10 20 2}}, "c": "{{choice a b}}", "b": {{bool}}, "s": {{seq}}}"#, seq);
            let v: serde_json::Value = serde_json::from_str(&s).unwrap();
            let i = v["i"].as_i64().unwrap();
            assert!((-3..=3).contains(&i), "{s}");
            let f = v["f"].as_f64().unwrap();
            assert!((10.0..=20.0).contains(&f), "{s}");
            assert!(["a", "b"].contains(&v["c"].as_str().unwrap()));
            assert!(v["b"].is_boolean());
            assert_eq!(v["s"].as_u64(), Some(seq));
        }
    }

    #[test]
    fn uuid_hex_and_time_have_their_shapes() {
        let s = render(r#"["{{uuid}}", "{{hex 6}}", "{{now}}", {{now_ms}}]"#, 0);
        let v: Vec<serde_json::Value> = serde_json::from_str(&s).unwrap();
        let id = v[0].as_str().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_eq!(v[1].as_str().unwrap().len(), 6);
        assert_eq!(v[2].as_str().unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(v[3].as_i64(), Some(0));
    }

    #[test]
    fn the_same_seed_gives_the_same_events() {
        assert_eq!(render("{{uuid}} {{int 0 1000000}}", 0), render("{{uuid}} {{int 0 1000000}}", 0));
    }

    #[test]
    fn bad_placeholders_are_load_time_errors() {
        for bad in ["{{nope}}", "{{int 1}}", "{{int 5 1}}", "{{float a b}}", "{{hex 0}}", "{{choice}}", "{{uuid 3}}", "{{}}"] {
            assert!(matches!(Template::parse(bad), Err(TemplateError::Bad { .. })), "{bad}");
        }
        assert_eq!(Template::parse("ab {{uuid").unwrap_err(), TemplateError::Unclosed { at: 3 });
    }

    #[test]
    fn a_template_that_is_not_json_is_refused() {
        let t = Template::parse(r#"{"id": {{uuid}}}"#).unwrap();
        assert!(matches!(t.check_renders_json(), Err(TemplateError::NotJson { .. })));
        assert!(Template::parse(r#"{"id": "{{uuid}}"}"#).unwrap().check_renders_json().is_ok());
    }

    #[test]
    fn replay_cycles_through_the_lines() {
        let dir = std::env::temp_dir().join(format!("lt-replay-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("e.ndjson");
        std::fs::write(&path, "{\"n\":1}\n\n{\"n\":2}\n").unwrap();
        let src = EventSource::replay_file(&path).unwrap();
        let mut out = String::new();
        for seq in 0..3 {
            src.render(&mut Rng::new(0), RenderContext { seq, now_ms: 0 }, &mut out);
        }
        assert_eq!(out, "{\"n\":1}{\"n\":2}{\"n\":1}");
        std::fs::write(&path, "{\"n\":1}\nnot json\n").unwrap();
        assert!(EventSource::replay_file(&path).unwrap_err().to_string().contains("line 2"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
