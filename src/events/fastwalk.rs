//! Stage 2 of the fast event reader: the walk over the structural index ([`super::structural`])
//! that gives the leaves on rule paths, as [`super::flatten`]'s exact walker does, but moving
//! from one listed position to the next instead of through every byte: a key is the text
//! between two listed quotes, a value is dispatched by the byte at its listed start, and a
//! subtree no rule reads is passed by walking its entries to the matching bracket.
//!
//! Invariants:
//! - It only reads texts stage 1 accepted (no backslash, no control byte in a string, every
//!   quote a real one), checking the grammar of everything it passes: separators where they
//!   belong, numbers by the scanner's own reader, `true`/`false`/`null` exact, each scalar
//!   followed by whitespace or a structural byte.
//! - Anything else (an error, an unusual token, nesting past [`MAX_NESTING`]) is a [`Bail`]:
//!   the caller forgets the leaves given so far and runs the exact walker, which decides. So a
//!   text read here to the end gives the exact walker's leaves, and every other text gets the
//!   exact walker's result, errors and all.

use super::classify::head;
use super::flatten::{Frame, LeafSink, PathTrie, Scalar};
use super::scan::Scanner;

/// The fast reader stops here and hands the event to the exact walker.
#[derive(Debug)]
pub struct Bail;

/// Containers walked into, and containers nested inside a skipped value, at most this deep
/// each (far below the scanner's limit, which the exact walker enforces).
pub const MAX_NESTING: usize = 64;

/// A position in the index, and the text it points into.
struct Cursor<'a> {
    text: &'a str,
    idx: &'a [u32],
    k: usize,
}

impl<'a> Cursor<'a> {
    /// The next listed position and its byte.
    #[inline(always)]
    fn next(&mut self) -> Result<(usize, u8), Bail> {
        let p = *self.idx.get(self.k).ok_or(Bail)? as usize;
        self.k += 1;
        Ok((p, *self.text.as_bytes().get(p).ok_or(Bail)?))
    }

    /// The byte at the next listed position, without moving.
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(*self.idx.get(self.k)? as usize).copied()
    }

    #[inline(always)]
    fn expect(&mut self, c: u8) -> Result<usize, Bail> {
        match self.next()? {
            (p, d) if d == c => Ok(p),
            _ => Err(Bail),
        }
    }

    /// The body of the string whose opening quote, at `open`, was just taken.
    #[inline(always)]
    fn string(&self, open: usize) -> Result<&'a str, Bail> {
        // The closing quote is the last byte before the next listed position that is not
        // whitespace (stage 1), usually the one right before it.
        let b = self.text.as_bytes();
        let mut close = self.idx.get(self.k).map_or(b.len(), |&p| p as usize).wrapping_sub(1);
        if b.get(close) != Some(&b'"') {
            close = Self::closing_quote(b, close)?;
        }
        let bytes = b.get(open + 1..close).ok_or(Bail)?;
        // SAFETY: the text is UTF-8 and `bytes` lies between two quotes, which are ASCII, so it
        // starts and ends on char boundaries.
        Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
    }

    /// [`Self::string`]'s closing quote after whitespace: the last byte at or before `at` that
    /// is not whitespace.
    #[inline(never)]
    fn closing_quote(b: &[u8], mut at: usize) -> Result<usize, Bail> {
        while matches!(b.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            at = at.checked_sub(1).ok_or(Bail)?;
        }
        match b.get(at) {
            Some(b'"') => Ok(at),
            _ => Err(Bail),
        }
    }

    /// The scalar (number, `true`, `false`, `null`) starting at `p`, whose first byte is `c`.
    #[inline(always)]
    fn scalar(&self, p: usize, c: u8) -> Result<Scalar<'a>, Bail> {
        let b = self.text.as_bytes();
        let (scalar, end) = match c {
            b'-' | b'0'..=b'9' => {
                let mut scan = Scanner::new(self.text);
                scan.i = p;
                (Scalar::Num(scan.number().map_err(|_| Bail)?), scan.i)
            }
            b't' if b.get(p..p + 4) == Some(b"true") => (Scalar::True, p + 4),
            b'f' if b.get(p..p + 5) == Some(b"false") => (Scalar::False, p + 5),
            b'n' if b.get(p..p + 4) == Some(b"null") => (Scalar::Null, p + 4),
            _ => return Err(Bail),
        };
        // The scalar must be all of the run stage 1 found (`1x`, `truex` are not).
        match b.get(end) {
            Some(&c) if !(c <= b' ' || matches!(c, b'{' | b'}' | b'[' | b']' | b':' | b',' | b'"')) => Err(Bail),
            _ => Ok(scalar),
        }
    }

    /// A key (its opening quote next), its colon; the key's text and where it starts.
    #[inline(always)]
    fn key(&mut self) -> Result<(&'a str, usize), Bail> {
        let open = self.expect(b'"')?;
        let key = self.string(open)?;
        self.expect(b':')?;
        Ok((key, open + 1))
    }

    /// Passes a key (its opening quote next) and its colon: the key's closing quote is the
    /// last byte before the colon that is not whitespace (stage 1), so only the two are checked.
    #[inline(always)]
    fn skip_key(&mut self) -> Result<(), Bail> {
        self.expect(b'"')?;
        self.expect(b':')?;
        Ok(())
    }

    /// Passes the value whose first listed position, `p` with byte `c`, was just taken,
    /// checking its grammar.
    #[inline(never)]
    fn skip(&mut self, p: usize, c: u8) -> Result<(), Bail> {
        // One bit per open container, innermost lowest: set for an object.
        let mut objects = 0u64;
        let mut depth = 0usize;
        let (mut p, mut c) = (p, c);
        loop {
            match c {
                // The string's closing quote is not listed; stage 1 checked its content.
                b'"' => {}
                b'{' | b'[' => {
                    let object = c == b'{';
                    if self.peek() == Some(if object { b'}' } else { b']' }) {
                        self.k += 1;
                    } else {
                        depth += 1;
                        if depth > MAX_NESTING {
                            return Err(Bail);
                        }
                        objects = (objects << 1) | u64::from(object);
                        if object {
                            self.skip_key()?;
                        }
                        (p, c) = self.next()?;
                        continue;
                    }
                }
                _ => {
                    self.scalar(p, c)?;
                }
            }
            // A value is complete: close every container it completes.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let object = objects & 1 == 1;
                match self.next()?.1 {
                    b',' => {
                        if object {
                            self.skip_key()?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return Err(Bail),
                }
                objects >>= 1;
                depth -= 1;
            }
            (p, c) = self.next()?;
        }
    }
}

/// Reads the event `text` over its structural index `idx`, giving `sink` every leaf on a rule
/// path, as the exact walker would; or [`Bail`]s (see the module invariants). `stack` and
/// `membership` come empty.
pub fn walk(
    text: &str,
    idx: &[u32],
    trie: &PathTrie,
    sink: &mut impl LeafSink,
    stack: &mut Vec<Frame>,
    membership: &mut Vec<(u32, u32)>,
) -> Result<(), Bail> {
    let mut cur = Cursor { text, idx, k: 0 };
    // The first listed byte is the first that is not whitespace.
    if cur.next()?.1 != b'{' {
        return Err(Bail);
    }
    if cur.peek() == Some(b'}') {
        return Ok(());
    }
    stack.push(Frame::Object { node: 0, empty_step: false });
    let mut arrays = 0u32;
    let mut empty_steps = 0u32;
    loop {
        // At the next member or element of the innermost container: find its trie node.
        let (node, empty_step) = match stack.last_mut() {
            None => return Ok(()),
            Some(Frame::Object { node, .. }) => {
                let parent = *node;
                let (key, start) = cur.key()?;
                match trie.step_plain(parent, key, head(text.as_bytes(), start, key.len())) {
                    Some((child, needs_empty)) => (Some(child), needs_empty),
                    None => {
                        let (p, c) = cur.next()?;
                        cur.skip(p, c)?;
                        (None, false)
                    }
                }
            }
            Some(Frame::Array { node, id, index, .. }) => {
                membership.push((*id, *index));
                *index += 1;
                (Some(*node), false)
            }
        };
        if let Some(node) = node {
            empty_steps += u32::from(empty_step);
            let (p, c) = cur.next()?;
            match c {
                b'{' if trie.has_children(node) => {
                    if cur.peek() == Some(b'}') {
                        cur.k += 1;
                    } else {
                        if stack.len() >= MAX_NESTING {
                            return Err(Bail);
                        }
                        stack.push(Frame::Object { node, empty_step });
                        continue;
                    }
                }
                b'[' => {
                    let id = arrays;
                    arrays += 1;
                    if cur.peek() == Some(b']') {
                        cur.k += 1;
                    } else {
                        if stack.len() >= MAX_NESTING {
                            return Err(Bail);
                        }
                        stack.push(Frame::Array { node, id, index: 0, empty_step });
                        continue;
                    }
                }
                b'{' => cur.skip(p, c)?,
                _ => {
                    let scalar = if c == b'"' { Scalar::Str(cur.string(p)?.into()) } else { cur.scalar(p, c)? };
                    if let Some(path) = trie.path_at(node) {
                        sink.leaf(path, scalar, membership, empty_steps > 0);
                    }
                }
            }
            empty_steps -= u32::from(empty_step);
        }
        // A value is complete: move past separators, closing the containers it completes.
        loop {
            let close = match stack.last() {
                None => return Ok(()),
                Some(Frame::Object { .. }) => b'}',
                Some(Frame::Array { .. }) => {
                    membership.pop();
                    b']'
                }
            };
            match cur.next()?.1 {
                b',' => break,
                c if c == close => {
                    if let Some(Frame::Object { empty_step, .. } | Frame::Array { empty_step, .. }) = stack.pop() {
                        empty_steps -= u32::from(empty_step);
                    }
                }
                _ => return Err(Bail),
            }
        }
    }
}

/// The fast reader against the exact walker on the same texts: valid bench-like events and
/// mutations of them. Whatever the fast reader reads to the end must give the exact walker's
/// leaves (and the exact walker must accept it); and `flatten_with`, which bails to the exact
/// walker, must give the exact walker's leaves or its very error.
#[cfg(test)]
mod tests {
    use super::super::flatten::{flatten_exact, flatten_with, EventError, PathId, WalkBuffers};
    use super::super::structural;
    use super::*;
    use proptest::prelude::*;

    type Leaf = (PathId, String, Vec<(u32, u32)>, bool);

    #[derive(Default)]
    struct Leaves(Vec<Leaf>);

    impl LeafSink for Leaves {
        fn leaf(&mut self, path: PathId, value: Scalar<'_>, membership: &[(u32, u32)], needs_empty_step: bool) {
            let v = match value {
                Scalar::Str(s) => format!("\"{s}\""),
                Scalar::Num(n) => n.to_string(),
                Scalar::True => "true".into(),
                Scalar::False => "false".into(),
                Scalar::Null => "null".into(),
            };
            self.0.push((path, v, membership.to_vec(), needs_empty_step));
        }
        fn reset(&mut self) {
            self.0.clear();
        }
    }

    /// The benchmark's event: no escapes, so the fast reader reads it.
    const BENCH: &str = concat!(
        r#"{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"EC2 Instance State-change Notification","#,
        r#""source":"aws.ec2","account":"111122223333","time":"2017-12-22T18:43:48Z","region":"eu-west-1","#,
        r#""resources":["arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc1234def567890"],"detail":{"#,
        r#""instance-id":"i-0abc1234def567890","state":"running","previous-state":"pending","#,
        r#""source-ip":"10.1.2.3","port":443,"bytes":18234,"latency-ms":12.5,"region-code":"eu-west-1","#,
        r#""user":{"name":"alice","role":"admin","groups":["ops","dev","audit"]},"#,
        r#""tags":[{"key":"env","value":"prod"},{"key":"team","value":"payments"},{"key":"cost-center","value":"1234"}],"#,
        r#""request":{"method":"POST","path":"/api/v1/orders/8f14e45f","status":201,"agent":"Mozilla/5.0 (X11; Linux x86_64)"},"#,
        r#""items":[{"sku":"A-100","qty":2,"price":19.99},{"sku":"B-200","qty":1,"price":5.5}],"ratio":-1.25e-3,"big":1E+400,"#,
        r#""ok":true,"no":false,"none":null,"naïve":"café 🚀","a.b":{"c.d":[[1,[2]],{}]},"":{"":[0]},"#,
        r#""notes":"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore."}}"#
    );

    /// Path sets to read with: the benchmark's rule paths; others through arrays, dotted keys
    /// and empty steps; none.
    fn tries() -> Vec<PathTrie> {
        let sets: [&[&str]; 4] = [
            &[
                "source", "detail-type", "account", "detail.state", "detail.instance-id", "detail.request.path",
                "detail.bytes", "detail.user.name", "detail.source-ip", "detail.tags.key", "detail.tags.value",
                "detail.request.agent", "detail.port", "detail.region-code", "detail.user.role",
            ],
            &["detail.items.sku", "detail.items.price", "detail.a.b.c.d", "detail.ok", "detail.none", "detail.ratio", "a", "a.b"],
            &["detail..", "detail", "detail.naïve", "detail.big", "resources", "a..b", "k"],
            &[],
        ];
        sets.iter()
            .map(|paths| {
                let mut trie = PathTrie::new();
                for (i, p) in paths.iter().enumerate() {
                    trie.add(p, i as PathId);
                }
                trie
            })
            .collect()
    }

    /// The fast reader alone: `None` when it bails.
    fn fast(text: &str, trie: &PathTrie) -> Option<Vec<Leaf>> {
        let mut index = Vec::new();
        let n = structural::build(text.as_bytes(), &mut index)?;
        let mut sink = Leaves::default();
        walk(text, &index[..n], trie, &mut sink, &mut Vec::new(), &mut Vec::new()).ok()?;
        Some(sink.0)
    }

    fn exact(text: &str, trie: &PathTrie) -> Result<Vec<Leaf>, EventError> {
        let mut sink = Leaves::default();
        flatten_exact(text, trie, &mut sink, &mut WalkBuffers::default()).map(|()| sink.0)
    }

    /// Checks `text` with every path set; returns how many times the fast reader read it.
    fn check(text: &str) -> Result<usize, TestCaseError> {
        let mut read = 0;
        let mut buffers = WalkBuffers::default();
        for trie in tries() {
            let want = exact(text, &trie);
            if let Some(got) = fast(text, &trie) {
                read += 1;
                prop_assert_eq!(Ok(got), want.clone(), "{:?}", text);
            }
            let mut sink = Leaves::default();
            let got = flatten_with(text, &trie, &mut sink, &mut buffers).map(|()| sink.0);
            prop_assert_eq!(got, want, "{:?}", text);
        }
        Ok(read)
    }

    #[test]
    fn the_bench_event_is_read_fast_with_the_exact_leaves() {
        assert_eq!(check(BENCH).unwrap(), 4);
        assert_eq!(exact(BENCH, &tries()[0]).unwrap().len(), 19);
        for text in [
            "{}",
            " {\"a\" :\n[ 1 ,{\"b\":[]}, {} ] }\t",
            r#"{"a": {"b": 1}} trailing text is never read"#,
            r#"{"a": [[[{"b": "x"}]]], "k": -0.0e-0, "a.b": [true, false, null]}"#,
        ] {
            assert!(check(text).unwrap() > 0, "{text}");
        }
    }

    #[test]
    fn unusual_and_broken_texts_get_the_exact_result() {
        let deep = |n: usize| format!(r#"{{"detail":{}1{}}}"#, "[".repeat(n), "]".repeat(n));
        let deep_objects = |n: usize| format!(r#"{{"detail":{}1{}}}"#, r#"{"a":"#.repeat(n), "}".repeat(n));
        let mut texts: Vec<String> = [
            "", " ", "[]", "\"x\"", "1", "{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,}", "{,}", "{\"a\" 1}", "{\"a\":1 \"b\":2}",
            "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":truex}",
            "{\"a\":nul}", "{\"a\":1x}", "{\"s\":[1}}", "{\"s\":{\"a\":1]}", "{\"a\":[1}}", "{\"a\":{\"a\":1]}",
            "{\"s\":[[1],[2}]}", "{\"s\":{\"a\":[}]}", "{\"a\":\"x\"1}", "{\"a\":{\"b\"}}", "{\"a\":[}", "{\"a\":]}", "{\"a\":1}}", "{1:2}",
            "{\"a\":\"\\n\"}", "{\"a\":\"\u{1}\"}", "{\"a\":\u{1}1}", "{\"a\":é}", "{\"a\":'x'}", "{\"a\":+1}", "{\"a\":NaN}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for n in [30, 62, 63, 64, 65, 66, 200, 998, 999, 1000, 1001] {
            texts.push(deep(n));
            texts.push(deep_objects(n));
            texts.push(format!(r#"{{"skipped":{}1{}}}"#, "[".repeat(n), "]".repeat(n)));
        }
        for text in &texts {
            check(text).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Keys and values without escapes, numbers of every shape (some invalid), nesting.
    fn value() -> impl Strategy<Value = String> {
        let leaf = prop::sample::select(vec![
            "0", "-0", "1", "-12", "443", "12.5", "-1.25e-3", "1E+400", "9007199254740993", "01", "1.", "-", "1e", ".5",
            "true", "false", "null", "tru", "\"\"", "\"x\"", "\"a,b:{}[]\"", "\"é 🚀\"", "\"k\"",
        ])
        .prop_map(str::to_string);
        let key = prop::sample::select(vec!["a", "b", "k", "a.b", "", "a..b", ".", "detail", "é"]);
        let ws = prop::sample::select(vec!["", " ", "\n", "\t ", "\r\n"]);
        leaf.prop_recursive(6, 48, 5, move |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..5), ws.clone())
                    .prop_map(|(v, w)| format!("[{w}{}{w}]", v.join(&format!("{w},{w}")))),
                (prop::collection::vec((key.clone(), inner), 0..5), ws.clone()).prop_map(|(kv, w)| {
                    let members: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\"{w}:{w}{v}")).collect();
                    format!("{{{w}{}{w}}}", members.join(","))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        #[test]
        fn generated_events_read_as_the_exact_walker_reads_them(v in value()) {
            check(&format!("{{\"a\":{v},\"detail\":{v}}}"))?;
        }

        /// Truncations, deletions, replacements and insertions of bytes that matter to JSON anywhere in the
        /// benchmark's event.
        #[test]
        fn mutated_bench_events_read_as_the_exact_walker_reads_them(
            at in 0usize..1300,
            how in 0u8..4,
            inserted in prop::sample::select(vec![
                "\u{1}", "\u{1f}", "\t", "\n", "\"", "\\", "\\n", "{", "}", "[", "]", ",", ":", " ", "-", "0", "01", ".", "e",
                "1e", "1.", "tru", "nul", "x", "é", "\u{7f}", "{\"a\":", "[[",
            ]),
        ) {
            let mut cut = at.min(BENCH.len());
            while !BENCH.is_char_boundary(cut) {
                cut -= 1;
            }
            let mutated = match how {
                0 => BENCH[..cut].to_string(),
                1 => {
                    let next = BENCH[cut..].chars().next().map_or(0, char::len_utf8);
                    format!("{}{}", &BENCH[..cut], &BENCH[cut + next..])
                }
                2 => format!("{}{inserted}{}", &BENCH[..cut], &BENCH[cut..]),
                _ => {
                    let next = BENCH[cut..].chars().next().map_or(0, char::len_utf8);
                    format!("{}{inserted}{}", &BENCH[..cut], &BENCH[cut + next..])
                }
            };
            check(&mutated)?;
        }
    }
}
