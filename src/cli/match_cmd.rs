//! `expressway match PATTERN_FILE`: filter NDJSON events on stdin through an EventBridge event
//! pattern, as `jq` would filter JSON. Matching lines are written to stdout unchanged, in order.
//!
//! Exit codes: 0 when every line was read; 1 when some line was not a JSON object (each is
//! reported on stderr with its line number and skipped, and the rest are still filtered);
//! 2 when the pattern is invalid (its message on stderr, as EventBridge's
//! `InvalidEventPatternException` gives it) or a file or stdin cannot be read. Blank lines are
//! skipped silently.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use expressway::events::{Matcher, Pattern};

#[derive(Args)]
pub struct MatchArgs {
    /// The event pattern (a JSON file, as given to PutRule's EventPattern).
    pattern: PathBuf,
    /// Print only how many events matched.
    #[arg(long)]
    count: bool,
}

pub fn run(args: MatchArgs) -> i32 {
    let text = match super::input::read_file(&args.pattern, "pattern") {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let pattern = match Pattern::parse(&text) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: invalid event pattern: {e}");
            return 2;
        }
    };
    let mut matcher = Matcher::new();
    matcher.add_rule(0, &pattern);

    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let (mut matched, mut malformed) = (0u64, 0u64);
    for (index, line) in stdin.split(b'\n').enumerate() {
        let line_no = index + 1;
        let bytes = match line {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: reading stdin: {e}");
                return 2;
            }
        };
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(&bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(event) = std::str::from_utf8(bytes) else {
            eprintln!("line {line_no}: not UTF-8 text; skipped");
            malformed += 1;
            continue;
        };
        match matcher.matches(event) {
            Ok(rules) if !rules.is_empty() => {
                matched += 1;
                if !args.count && out.write_all(bytes).and_then(|_| out.write_all(b"\n")).is_err() {
                    return 0; // stdout closed (e.g. piped into `head`): nothing more to do
                }
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("line {line_no}: {e}; skipped");
                malformed += 1;
            }
        }
    }
    if args.count {
        let _ = writeln!(out, "{matched}");
    }
    let _ = out.flush();
    i32::from(malformed > 0)
}
