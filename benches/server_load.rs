//! A minimal load generator for `expressway serve`: StartSyncExecution of a workflow over
//! HTTP/1.1 keep-alive connections, each with one request in flight, for a fixed time.
//!
//! ```sh
//! cargo bench --bench server_load                      # starts the release server itself
//! cargo bench --bench server_load -- --connections 64 --seconds 10 --client-threads 1
//! cargo bench --bench server_load -- --url http://127.0.0.1:8083   # a running server
//! ```
//!
//! Without `--url` it starts `expressway serve` (the binary cargo built for this bench) on an
//! ephemeral port with `--preload` of the workflow. The workflow and event default to
//! `../shared/bench/chain.asl.json` and `event.json` (`--workflow`, `--event`); the machine is
//! named after the file (`chain`). Every response is checked: HTTP 200 and status SUCCEEDED.
//! Prints requests per second and latency percentiles. This is the small generator for the
//! server issue; the full harness lives in `loadtest/`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Options {
    url: Option<String>,
    workflow: PathBuf,
    event: PathBuf,
    connections: usize,
    seconds: u64,
    client_threads: usize,
    server_args: Vec<String>,
}

fn options() -> Options {
    let mut o = Options {
        url: None,
        workflow: PathBuf::from("../shared/bench/chain.asl.json"),
        event: PathBuf::from("../shared/bench/event.json"),
        connections: 32,
        seconds: 5,
        client_threads: 1,
        server_args: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--url" => o.url = Some(value()),
            "--workflow" => o.workflow = PathBuf::from(value()),
            "--event" => o.event = PathBuf::from(value()),
            "--connections" => o.connections = value().parse().expect("--connections N"),
            "--seconds" => o.seconds = value().parse().expect("--seconds N"),
            "--client-threads" => o.client_threads = value().parse().expect("--client-threads N"),
            // Passed to the server this bench starts, e.g. `--server-arg=--history-ring --server-arg=0`.
            s if s.starts_with("--server-arg=") => o.server_args.push(s["--server-arg=".len()..].to_string()),
            "--bench" => {}
            other => panic!("unknown option {other}"),
        }
    }
    o
}

/// The server this bench started; killed on drop.
struct Spawned(Child);

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(o: &Options) -> (SocketAddr, Spawned) {
    let dir = std::env::temp_dir().join(format!("expressway-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let name = o.workflow.file_name().and_then(|n| n.to_str()).expect("workflow file name");
    std::fs::copy(&o.workflow, dir.join(name)).expect("copy the workflow");
    let mut child = Command::new(env!("CARGO_BIN_EXE_expressway"))
        .args(["serve", "--bind", "127.0.0.1:0", "--preload"])
        .arg(&dir)
        .args(&o.server_args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start expressway serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("server output").expect("server output");
        if let Some(a) = line.strip_prefix("expressway serve: listening on http://") {
            break a.parse().expect("address");
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (addr, Spawned(child))
}

fn request(machine: &str, event: &str) -> Vec<u8> {
    let arn = format!("arn:aws:states:us-east-1:123456789012:stateMachine:{machine}");
    let body = serde_json::json!({"stateMachineArn": arn, "input": event}).to_string();
    format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSStepFunctions.StartSyncExecution\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads one response; answers whether it was a 200 with a SUCCEEDED execution.
async fn read_response(conn: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4) {
            let head = std::str::from_utf8(&buf[..end]).unwrap_or("");
            let status_ok = head.starts_with("HTTP/1.1 200");
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: ").or_else(|| l.strip_prefix("Content-Length: ")))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + len {
                let n = conn.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let ok = status_ok && memchr_find(&buf[end..end + len], b"\"status\":\"SUCCEEDED\"");
            return Ok(ok);
        }
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

struct ConnResult {
    ok: u64,
    failed: u64,
    latencies_us: Vec<u32>,
}

async fn drive(addr: SocketAddr, req: std::sync::Arc<Vec<u8>>, until: Instant) -> ConnResult {
    let mut r = ConnResult { ok: 0, failed: 0, latencies_us: Vec::new() };
    let Ok(mut conn) = TcpStream::connect(addr).await else {
        r.failed += 1;
        return r;
    };
    let _ = conn.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    while Instant::now() < until {
        let t = Instant::now();
        if conn.write_all(&req).await.is_err() {
            r.failed += 1;
            break;
        }
        match read_response(&mut conn, &mut buf).await {
            Ok(true) => r.ok += 1,
            Ok(false) => r.failed += 1,
            Err(_) => {
                r.failed += 1;
                break;
            }
        }
        r.latencies_us.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
    }
    r
}

/// CPU time (user + system) a process has used, from /proc (Linux); `None` elsewhere.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on Linux.
    Some(Duration::from_millis(ticks * 10))
}

fn main() {
    let o = options();
    let event = std::fs::read_to_string(&o.event).expect("read the event");
    let machine = o.workflow.file_name().and_then(|n| n.to_str()).expect("workflow").trim_end_matches(".asl.json").to_string();
    let (addr, _server) = match &o.url {
        Some(url) => {
            let hostport = url.trim_start_matches("http://").trim_end_matches('/');
            (hostport.parse().expect("--url http://HOST:PORT"), None)
        }
        None => {
            let (a, s) = start_server(&o);
            (a, Some(s))
        }
    };
    let server_pid = _server.as_ref().map(|s| s.0.id());
    let req = std::sync::Arc::new(request(&machine, &event));
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(o.client_threads).enable_all().build().expect("runtime");
    // A short warm-up, then the measured run.
    let results = runtime.block_on(async {
        let warm = Instant::now() + Duration::from_millis(500);
        let warmups: Vec<_> = (0..o.connections).map(|_| tokio::spawn(drive(addr, req.clone(), warm))).collect();
        for w in warmups {
            let _ = w.await;
        }
        let cpu_before = server_pid.and_then(cpu_time);
        let own_before = cpu_time(std::process::id());
        let start = Instant::now();
        let until = start + Duration::from_secs(o.seconds);
        let tasks: Vec<_> = (0..o.connections).map(|_| tokio::spawn(drive(addr, req.clone(), until))).collect();
        let mut all = Vec::new();
        for t in tasks {
            if let Ok(r) = t.await {
                all.push(r);
            }
        }
        let elapsed = start.elapsed();
        let cpu = server_pid.and_then(cpu_time).zip(cpu_before).map(|(after, before)| after.saturating_sub(before));
        let own = cpu_time(std::process::id()).zip(own_before).map(|(after, before)| after.saturating_sub(before));
        (all, elapsed, cpu, own)
    });
    let (all, elapsed, server_cpu, client_cpu) = results;
    let ok: u64 = all.iter().map(|r| r.ok).sum();
    let failed: u64 = all.iter().map(|r| r.failed).sum();
    let mut lat: Vec<u32> = all.into_iter().flat_map(|r| r.latencies_us).collect();
    lat.sort_unstable();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied().unwrap_or(0);
    println!(
        "StartSyncExecution {machine}: {:.0} req/s ({ok} ok, {failed} failed in {:.2} s; {} connections, {} client thread(s)); latency p50 {} µs, p99 {} µs, max {} µs",
        ok as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        o.connections,
        o.client_threads,
        pct(0.50),
        pct(0.99),
        lat.last().copied().unwrap_or(0),
    );
    if let Some(cpu) = server_cpu.filter(|_| ok > 0) {
        // Server CPU per request does not depend on what else the machine runs (unlike req/s).
        println!(
            "server CPU: {:.1} µs per request ({:.2} s in {:.2} s)",
            cpu.as_secs_f64() * 1e6 / ok as f64,
            cpu.as_secs_f64(),
            elapsed.as_secs_f64()
        );
    }
    if let Some(cpu) = client_cpu.filter(|_| ok > 0) {
        println!("client CPU: {:.1} µs per request", cpu.as_secs_f64() * 1e6 / ok as f64);
    }
}
