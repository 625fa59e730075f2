//! A readable listing of a compiled program (`expressway compile`), stable enough for snapshot
//! tests: one line per state with its index, type and resolved transitions.

use std::fmt;

use super::*;

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(t) = self.timeout_seconds {
            writeln!(f, "timeout: {t}s")?;
        }
        for (bi, block) in self.blocks.iter().enumerate() {
            let owner = match block.parent {
                Some(p) => format!(" (in #{} {})", p.0, self.state(p).name),
                None => String::new(),
            };
            writeln!(f, "block {bi}{owner}: start #{}", block.start.0)?;
            for id in block.states.clone() {
                let s = &self.states[id as usize];
                write!(f, "  #{id} {} [{}]", s.name, s.kind.type_name())?;
                match &s.kind {
                    StateKind::Choice { choices, default } => {
                        let targets: Vec<String> = choices.iter().map(|c| format!("#{}", c.next.0)).collect();
                        write!(f, " choices -> {}", targets.join(", "))?;
                        if let Some(d) = default {
                            write!(f, "; default -> #{}", d.0)?;
                        }
                    }
                    StateKind::Task(t) => write!(f, " {}", t.resource)?,
                    StateKind::Parallel { branches } => {
                        let b: Vec<String> = branches.iter().map(|b| format!("block {}", b.0)).collect();
                        write!(f, " branches: {}", b.join(", "))?;
                    }
                    StateKind::Map(m) => write!(f, " {:?} processor: block {}", m.mode, m.processor.0)?,
                    _ => {}
                }
                match s.next {
                    Transition::Next(n) => write!(f, " -> #{}", n.0)?,
                    Transition::End if matches!(s.kind, StateKind::Choice { .. } | StateKind::Fail(_)) => {}
                    Transition::End => write!(f, " -> end")?,
                }
                for r in &s.retry {
                    write!(f, "\n      retry {:?} every {}s x{} backoff {}", r.error_equals.as_slice(), r.interval_seconds, r.max_attempts, r.backoff_rate)?;
                }
                for c in &s.catch {
                    write!(f, "\n      catch {:?} -> #{}", c.error_equals.as_slice(), c.next.0)?;
                }
                writeln!(f)?;
            }
        }
        Ok(())
    }
}
