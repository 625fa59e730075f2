//! Memory and CPU of a process, read from Linux's `/proc/PID/{status,stat}`.
//!
//! In-process runs sample this process, which holds the engine *and* the load generator; HTTP
//! runs sample the server when its pid is given. Elsewhere than Linux, or when the process is
//! gone, samples are `None` and reports say so rather than showing zeros.

/// One reading of a process's resident memory and CPU time consumed so far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProcSample {
    pub rss_bytes: u64,
    /// User + system CPU time, in seconds.
    pub cpu_secs: f64,
}

pub fn sample(pid: u32) -> Option<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(ProcSample { rss_bytes: parse_vm_rss(&status)?, cpu_secs: parse_cpu_ticks(&stat)? as f64 / clock_ticks_per_sec() })
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.trim_start_matches("VmRSS:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// utime + stime (fields 14 and 15). The command name (field 2) may hold spaces and
/// parentheses, so fields are counted after its last `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// The machine, for reports: logical CPUs and the CPU model.
pub fn machine() -> (usize, String) {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, m)| m.trim().to_string()))
        .unwrap_or_else(|| "unknown".into());
    (cpus, model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rss_and_cpu_fields() {
        assert_eq!(parse_vm_rss("Name:\tx\nVmRSS:\t  1234 kB\nThreads: 3\n"), Some(1234 * 1024));
        let stat = "42 (a (weird) name) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0";
        assert_eq!(parse_cpu_ticks(stat), Some(300));
    }

    #[test]
    fn this_process_can_be_sampled_on_linux() {
        if cfg!(target_os = "linux") {
            let s = sample(std::process::id()).expect("proc sample");
            assert!(s.rss_bytes > 0);
        }
    }
}
