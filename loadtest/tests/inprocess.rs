//! In-process runs of the shipped scenarios on the standard workloads (`../shared/bench`, or
//! `$EXPRESSWAY_BENCH_DIR`), shortened; and the command line end to end. Needs the benchmark
//! folder: without it each test says so and checks nothing. Counts and shapes only, no timing.

use std::future::pending;
use std::path::{Path, PathBuf};
use std::process::Command;

use expressway_loadtest::report::render_html;
use expressway_loadtest::runner::{run, Progress};
use expressway_loadtest::scenario::{resolve, Overrides, Scenario};
use expressway_loadtest::traffic::Traffic;

fn scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// The shipped scenario, or `None` (with a note) when the benchmark workloads are absent.
fn shipped(name: &str) -> Option<(Scenario, PathBuf)> {
    if !resolve(&scenarios(), "@bench/chain.asl.json").exists() {
        eprintln!("skipping: ../shared/bench not found (set EXPRESSWAY_BENCH_DIR)");
        return None;
    }
    Some(Scenario::load(&scenarios().join(format!("{name}.toml"))).unwrap())
}

fn short(duration: f64, rate: Option<f64>) -> Overrides {
    Overrides { duration_secs: Some(duration), rate, seed: Some(9), ..Overrides::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_constant_runs_every_scheduled_execution() {
    let Some((s, dir)) = shipped("chain-constant") else { return };
    let plan = s.plan(&dir, &short(1.0, Some(300.0))).unwrap();
    let report = run(&plan, Progress::Off, pending()).await;
    let planned = Traffic::Constant { rate: 300.0 }.planned_requests(1.0);
    assert_eq!(report.requests.dispatched, planned);
    assert_eq!(report.requests.ok, planned, "errors: {:?}", report.errors);
    assert_eq!(report.requests.events_ok, planned);
    assert!(report.errors.is_empty());
    assert_eq!(report.latency_us.count, planned);
    assert!(report.latency_us.p50 <= report.latency_us.p99 && report.latency_us.p99 <= report.latency_us.max);
    assert!(report.resources.rss_max_bytes.is_some() || !cfg!(target_os = "linux"));
    assert_eq!(report.timeline.iter().map(|t| t.requests_ok).sum::<u64>(), planned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_with_a_local_function_succeeds_in_closed_loop() {
    let Some((s, dir)) = shipped("task-closed") else { return };
    let plan = s.plan(&dir, &Overrides { clients: Some(4), ..short(0.3, None) }).unwrap();
    let report = run(&plan, Progress::Off, pending()).await;
    assert!(report.requests.ok > 0);
    assert_eq!(report.requests.failed, 0, "errors: {:?}", report.errors);
    assert_eq!(report.requests.ok, report.requests.dispatched);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branchy_burst_and_ramp_follow_their_schedules() {
    for (name, traffic) in [
        ("branchy-burst", Traffic::Burst { rate: 100.0, factor: 10.0, burst_secs: 2.0, every_secs: 10.0 }),
        ("branchy-ramp", Traffic::Ramp { from: 0.0, to: 100.0 }),
    ] {
        let Some((s, dir)) = shipped(name) else { return };
        let plan = s.plan(&dir, &short(1.0, Some(100.0))).unwrap();
        assert_eq!(plan.traffic, traffic);
        let report = run(&plan, Progress::Off, pending()).await;
        let planned = traffic.planned_requests(1.0);
        assert_eq!(report.requests.ok, planned, "{name}: {:?}", report.errors);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_has_its_documented_shape() {
    let Some((s, dir)) = shipped("chain-closed") else { return };
    let plan = s.plan(&dir, &Overrides { clients: Some(2), ..short(0.3, None) }).unwrap();
    let report = run(&plan, Progress::Off, pending()).await;
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    for key in ["scenario", "target", "traffic", "machine", "requests", "throughput", "latency_us", "service_time_us", "errors", "resources", "generator", "timeline", "distribution"] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    for key in ["p50", "p90", "p99", "p99_9", "max"] {
        assert!(json["latency_us"][key].is_number(), "latency_us.{key}");
    }
    assert_eq!(json["traffic"]["kind"], "closed");
    assert_eq!(json["service_time_us"], json["latency_us"], "closed loop: latency is service time");
    assert!(!json["timeline"].as_array().unwrap().is_empty());
    let distribution = json["distribution"].as_array().unwrap();
    assert_eq!(distribution.last().unwrap()["percentile"], 100.0);
    let html = render_html(&report);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.matches("<svg").count() >= 3, "throughput, latency over time and distribution charts");
    assert!(!html.contains("src=") && !html.contains("href="), "self-contained: nothing fetched");
}

#[test]
fn every_shipped_scenario_plans() {
    let (mut n, mut skipped) = (0, 0);
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers");
    let files = std::fs::read_dir(scenarios()).unwrap().chain(std::fs::read_dir(peers).unwrap());
    for entry in files {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let (s, dir) = Scenario::load(&path).unwrap();
            let needs_bench = s.workflow.as_deref().is_some_and(|w| w.starts_with("@bench/"));
            if needs_bench && !resolve(&dir, "@bench/chain.asl.json").exists() {
                skipped += 1;
                continue;
            }
            s.plan(&dir, &Overrides::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 3 && n + skipped >= 19, "{n} scenarios planned, {skipped} skipped");
}

#[test]
fn the_command_writes_reports_and_refuses_bad_scenarios() {
    if shipped("chain-constant").is_none() {
        return;
    }
    let out = std::env::temp_dir().join(format!("lt-cli-{}", std::process::id()));
    let html = out.join("r.html");
    let result = Command::new(env!("CARGO_BIN_EXE_expressway-loadtest"))
        .args(["run", scenarios().join("chain-constant.toml").to_str().unwrap(), "--duration", "500ms", "--rate", "200", "--quiet"])
        .args(["--json", "-", "--html", html.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let json: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(json["requests"]["ok"], 100);
    assert!(std::fs::read_to_string(&html).unwrap().contains("<svg"));
    assert!(String::from_utf8_lossy(&result.stderr).contains("latency p50"));

    let bad = out.join("bad.toml");
    std::fs::write(&bad, "[event]\ninline = '{{nope}}'\n[traffic]\nkind = \"constant\"\nrate = 1\n").unwrap();
    let result = Command::new(env!("CARGO_BIN_EXE_expressway-loadtest")).args(["run", bad.to_str().unwrap()]).output().unwrap();
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("unknown placeholder"));
    let _ = std::fs::remove_dir_all(&out);
}

/// The issue-4 scenarios, shortened: their reports carry the verdicts they exist for. (Whether
/// a target is met depends on the machine, so only the shape is checked.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_half_peak_and_soak_reports_carry_their_verdicts() {
    let Some((s, dir)) = shipped("chain-burst-10x") else { return };
    assert_eq!(s.targets.p99_us, Some(50.0));
    let mut s = s;
    // One 1-second burst at 1-2 s, then calm seconds until the next one at 3 s.
    s.traffic = Traffic::Burst { rate: 100.0, factor: 10.0, burst_secs: 1.0, every_secs: 2.0 };
    let report = run(&s.plan(&dir, &short(3.0, None)).unwrap(), Progress::Off, pending()).await;
    assert_eq!(report.requests.failed, 0, "errors: {:?}", report.errors);
    let burst = report.bursts.first().expect("the burst at 1-2 s");
    assert_eq!(burst.recovery_p99_us, Some(50.0));
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert!(json["bursts"][0].get("recovered_after_secs").is_some());
    assert_eq!(json["latency_check"]["p99_target_us"], 50.0);
    assert!(report.summary().contains("p99 target 50.0µs"));
    assert!(render_html(&report).contains("p99 recovered"));

    let Some((s, dir)) = shipped("chain-half-peak") else { return };
    let report = run(&s.plan(&dir, &short(1.0, Some(200.0))).unwrap(), Progress::Off, pending()).await;
    let check = report.latency_check.expect("a p99 target");
    assert_eq!(check.met, check.p99_us <= 50.0);

    let Some((s, dir)) = shipped("chain-soak") else { return };
    let report = run(&s.plan(&dir, &short(3.0, Some(200.0))).unwrap(), Progress::Off, pending()).await;
    if cfg!(target_os = "linux") {
        let memory = report.memory.as_ref().expect("RSS sampled every second after a 0.3 s warm-up");
        assert!(memory.samples >= 3 && memory.window_start_secs >= 0.3, "{memory:?}");
        assert!(report.summary().contains("slope"));
        assert!(render_html(&report).contains("memory trend"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_dispatch_runs_every_scheduled_execution_once() {
    // chain-half-peak sets `inline_dispatch = true`: worker threads pace and call the engine.
    let Some((s, dir)) = shipped("chain-half-peak") else { return };
    assert_eq!(s.target.inline_dispatch, Some(true));
    for traffic in [Traffic::Constant { rate: 400.0 }, Traffic::Burst { rate: 100.0, factor: 10.0, burst_secs: 0.2, every_secs: 0.5 }] {
        let mut s = s.clone();
        s.traffic = traffic.clone();
        let overrides = Overrides { duration_secs: Some(1.0), warmup_secs: Some(0.0), seed: Some(9), ..Overrides::default() };
        let report = run(&s.plan(&dir, &overrides).unwrap(), Progress::Off, pending()).await;
        let planned = traffic.planned_requests(1.0);
        assert_eq!(report.requests.dispatched, planned, "{traffic:?}");
        assert_eq!(report.requests.ok, planned, "{traffic:?}: errors {:?}", report.errors);
        assert_eq!(report.latency_us.count, planned);
        assert_eq!(report.timeline.iter().map(|t| t.requests_ok).sum::<u64>(), planned);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_up_traffic_is_not_counted() {
    let Some((mut s, dir)) = shipped("chain-half-peak") else { return };
    assert!(s.warmup_secs > 0.0, "the latency scenario warms up first");
    s.traffic = Traffic::Constant { rate: 400.0 };
    let plan = s.clone().plan(&dir, &Overrides { warmup_secs: Some(0.5), ..short(1.0, None) }).unwrap();
    let report = run(&plan, Progress::Off, pending()).await;
    let planned = Traffic::Constant { rate: 400.0 }.planned_requests(1.0);
    assert_eq!((report.requests.dispatched, report.requests.ok), (planned, planned), "errors {:?}", report.errors);
    assert_eq!(report.latency_us.count, planned);
    assert_eq!(report.warmup_secs, 0.5);
    assert!(report.summary().contains("after a 0.5s warm-up"));
    assert!(render_html(&report).contains("warm-up (not counted)"));
    let bad = s.plan(&dir, &Overrides { warmup_secs: Some(-1.0), ..short(1.0, None) });
    assert!(bad.is_err_and(|e| e.to_string().contains("warmup_secs")));
}
