//! Scenario files (TOML) and their resolution into a runnable [`Plan`].
//!
//! ```toml
//! name = "chain-constant"              # default: the file name without .toml
//! description = "chain at a steady 50k events/s, in-process"
//! workflow = "@bench/chain.asl.json"   # the ASL definition (needed in-process)
//! duration_secs = 30
//! warmup_secs = 2                      # optional: run first at the base rate, not counted (default 0)
//! seed = 1                             # optional: repeatable random fields
//!
//! [event]                              # exactly one of template / inline / replay
//! template = "../events/iot-reading.json"
//!
//! [traffic]                            # rates are events per second
//! kind = "constant"                    # constant | burst | ramp | closed
//! rate = 50000                         # burst: rate factor burst_secs every_secs; ramp: from to; closed: clients
//!
//! [targets]                          # optional: what the report checks (see report::verdicts)
//! p99_us = 50                          # p99 latency target; bursts report when p99 got back under it
//! memory_warmup_secs = 60              # left out of the RSS trend (default 60, or a tenth of a shorter run)
//! memory_growth_percent = 5            # the fitted RSS growth that still counts as flat
//!
//! [target]
//! kind = "in-process"                  # in-process | start-sync | start | put-events | ndjson
//! threads = 2                          # tokio worker threads (default: one per CPU)
//! max_in_flight = 10000                # in-process open loop: requests running at once
//! json_boundary = true                 # in-process: false = replayed events parsed before the run, outputs not serialised
//! inline_dispatch = false              # in-process open loop: true = each worker thread paces its share and calls the engine itself
//! # HTTP: url, connections, state_machine_arn, batch, event_bus, source, detail_type,
//! #       timeout_secs, server_pid (to sample the server's memory and CPU)
//! # in-process Task resources answered by a local function adding fields to its input:
//! local_functions = { "arn:aws:lambda:us-east-1:123456789012:function:annotate" = { processedBy = "local-fn" } }
//! ```
//!
//! Relative paths are resolved from the scenario file's folder. `@bench/NAME` names a file of
//! the standard benchmark workloads: `$EXPRESSWAY_BENCH_DIR/NAME`, else the first
//! `shared/bench/NAME` found walking up from the scenario's folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use expressway::asl::StateMachineType;
use expressway::machine::StateMachine;
use serde::Deserialize;
use thiserror::Error;

use crate::target::{HttpKind, HttpTarget, InProcess, Target};
use crate::report::Targets;
use crate::template::{EventSource, Template};
use crate::traffic::Traffic;

#[derive(Debug, Error)]
pub enum ScenarioError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("scenario {name}: {reason}")]
    Invalid { name: String, reason: String },
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: Option<String>,
    pub description: Option<String>,
    pub workflow: Option<String>,
    #[serde(default = "default_duration")]
    pub duration_secs: f64,
    /// Seconds of traffic at the base rate (closed loop: the same clients) before the measured
    /// run, so start-up costs (thread spin-up, first allocations, cold caches) are not counted.
    #[serde(default)]
    pub warmup_secs: f64,
    pub seed: Option<u64>,
    pub event: EventSpec,
    pub traffic: Traffic,
    #[serde(default)]
    pub target: TargetSpec,
    #[serde(default)]
    pub targets: Targets,
}

fn default_duration() -> f64 {
    10.0
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    pub template: Option<String>,
    pub inline: Option<String>,
    pub replay: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    #[default]
    InProcess,
    StartSync,
    Start,
    PutEvents,
    Ndjson,
}

impl TargetKind {
    pub fn parse(s: &str) -> Option<TargetKind> {
        Some(match s {
            "in-process" => TargetKind::InProcess,
            "start-sync" => TargetKind::StartSync,
            "start" => TargetKind::Start,
            "put-events" => TargetKind::PutEvents,
            "ndjson" => TargetKind::Ndjson,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            TargetKind::InProcess => "in-process",
            TargetKind::StartSync => "start-sync",
            TargetKind::Start => "start",
            TargetKind::PutEvents => "put-events",
            TargetKind::Ndjson => "ndjson",
        }
    }

    fn http(self) -> Option<HttpKind> {
        match self {
            TargetKind::InProcess => None,
            TargetKind::StartSync => Some(HttpKind::StartSync),
            TargetKind::Start => Some(HttpKind::Start),
            TargetKind::PutEvents => Some(HttpKind::PutEvents),
            TargetKind::Ndjson => Some(HttpKind::Ndjson),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    #[serde(default)]
    pub kind: TargetKind,
    pub threads: Option<usize>,
    pub max_in_flight: Option<usize>,
    pub url: Option<String>,
    pub connections: Option<usize>,
    pub state_machine_arn: Option<String>,
    pub batch: Option<usize>,
    pub event_bus: Option<String>,
    pub source: Option<String>,
    pub detail_type: Option<String>,
    pub timeout_secs: Option<f64>,
    pub server_pid: Option<u32>,
    /// In-process: parse each event and serialise each output (the default), or, with replayed
    /// events, parse them before the run and measure the engine alone.
    pub json_boundary: Option<bool>,
    /// In-process open loop: each worker thread paces its own share of the schedule and calls
    /// the engine itself, as an in-process caller's threads would, instead of a dispatcher
    /// thread handing requests over (whose cross-thread wake-ups dominate microsecond latencies).
    pub inline_dispatch: Option<bool>,
    #[serde(default)]
    pub local_functions: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

/// Command-line overrides; `None` keeps the scenario's value.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub duration_secs: Option<f64>,
    pub warmup_secs: Option<f64>,
    pub rate: Option<f64>,
    pub clients: Option<usize>,
    pub threads: Option<usize>,
    pub connections: Option<usize>,
    pub max_in_flight: Option<usize>,
    pub target: Option<TargetKind>,
    pub url: Option<String>,
    pub state_machine_arn: Option<String>,
    pub batch: Option<usize>,
    pub server_pid: Option<u32>,
    pub seed: Option<u64>,
}

/// A scenario resolved and checked: everything a run needs, nothing left to fail on.
pub struct Plan {
    pub name: String,
    pub description: String,
    pub duration: Duration,
    /// Traffic before the measured run, at the base rate, whose results are not counted.
    pub warmup: Duration,
    pub seed: u64,
    pub source: EventSource,
    /// In events per second, as written.
    pub traffic: Traffic,
    pub target_kind: TargetKind,
    pub target: Target,
    /// A label for reports: the target kind, and the URL for HTTP.
    pub target_label: String,
    /// Events per request.
    pub batch: usize,
    /// HTTP connections (open loop); closed-loop runs use one client per connection.
    pub connections: usize,
    pub max_in_flight: usize,
    /// Worker threads for the runtime the binary builds (`None`: one per CPU).
    pub threads: Option<usize>,
    /// In-process open loop: worker threads pace and call the engine themselves.
    pub inline_dispatch: bool,
    /// The process whose memory and CPU the report shows.
    pub sample_pid: Option<u32>,
    /// What the report checks the run against.
    pub targets: Targets,
}

impl Plan {
    /// Requests-per-second form of the traffic (events/s divided by the batch size).
    pub fn request_traffic(&self) -> Traffic {
        self.traffic.scaled(1.0 / self.batch as f64)
    }
}

/// Parses a duration: `30`, `30s`, `500ms`, `2m`, `1h`.
pub fn parse_duration_secs(s: &str) -> Option<f64> {
    let s = s.trim();
    let (number, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (s, 1.0)
    };
    number.trim().parse::<f64>().ok().map(|n| n * scale).filter(|x| x.is_finite() && *x > 0.0)
}

impl Scenario {
    pub fn load(path: &Path) -> Result<(Scenario, PathBuf), ScenarioError> {
        let file_err = |reason: String| ScenarioError::File { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| file_err(e.to_string()))?;
        let mut scenario: Scenario = toml::from_str(&text).map_err(|e| file_err(e.to_string()))?;
        if scenario.name.is_none() {
            scenario.name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        }
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok((scenario, dir))
    }

    /// Applies `overrides`, resolves files relative to `dir`, compiles the workflow.
    pub fn plan(mut self, dir: &Path, overrides: &Overrides) -> Result<Plan, ScenarioError> {
        let name = self.name.clone().unwrap_or_else(|| "scenario".into());
        let invalid = |reason: String| ScenarioError::Invalid { name: name.clone(), reason };
        let o = overrides;
        if let Some(d) = o.duration_secs {
            self.duration_secs = d;
        }
        if !(self.duration_secs.is_finite() && self.duration_secs > 0.0) {
            return Err(invalid("duration_secs must be positive".into()));
        }
        if let Some(w) = o.warmup_secs {
            self.warmup_secs = w;
        }
        if !(self.warmup_secs.is_finite() && self.warmup_secs >= 0.0) {
            return Err(invalid("warmup_secs must be zero or more".into()));
        }
        if let Some(rate) = o.rate {
            if !self.traffic.is_open_loop() {
                return Err(invalid("--rate applies to open-loop traffic; use --clients for closed loop".into()));
            }
            self.traffic = self.traffic.with_rate(rate);
        }
        if let Some(clients) = o.clients {
            self.traffic = Traffic::Closed { clients };
        }
        self.traffic.validate().map_err(|e| invalid(e.to_string()))?;
        self.targets.validate().map_err(invalid)?;
        let t = &mut self.target;
        t.kind = o.target.unwrap_or(t.kind);
        t.threads = o.threads.or(t.threads);
        t.connections = o.connections.or(t.connections);
        t.max_in_flight = o.max_in_flight.or(t.max_in_flight);
        t.url = o.url.clone().or(t.url.take());
        t.state_machine_arn = o.state_machine_arn.clone().or(t.state_machine_arn.take());
        t.batch = o.batch.or(t.batch);
        t.server_pid = o.server_pid.or(t.server_pid);
        if t.threads == Some(0) || t.connections == Some(0) || t.max_in_flight == Some(0) {
            return Err(invalid("threads, connections and max_in_flight must be at least 1".into()));
        }

        let source = self.event_source(dir).map_err(|reason| invalid(format!("event: {reason}")))?;
        let kind = self.target.kind;
        let (target, target_label, batch, sample_pid) = match kind.http() {
            None => {
                let workflow = self.workflow.as_deref().ok_or_else(|| invalid("the in-process target needs `workflow`".into()))?;
                let path = resolve(dir, workflow);
                let text = std::fs::read_to_string(&path).map_err(|e| invalid(format!("workflow {}: {e}", path.display())))?;
                let machine = StateMachine::new(&name, &text, StateMachineType::Express)
                    .map_err(|e| invalid(format!("workflow {}: {}", path.display(), e.message)))?;
                let mut inproc = InProcess::new(&name, machine.program, &self.target.local_functions);
                if self.target.json_boundary == Some(false) {
                    let EventSource::Replay(lines) = &source else {
                        return Err(invalid("json_boundary = false needs replayed events (`replay`), parsed before the run".into()));
                    };
                    inproc = inproc.without_json_boundary(lines).map_err(invalid)?;
                }
                if self.target.batch.is_some_and(|b| b != 1) {
                    return Err(invalid("the in-process target runs one event per execution (batch = 1)".into()));
                }
                (Target::InProcess(Arc::new(inproc)), kind.label().to_string(), 1, Some(std::process::id()))
            }
            Some(http_kind) => {
                let t = &self.target;
                if t.json_boundary.is_some() || t.inline_dispatch.is_some() || !t.local_functions.is_empty() {
                    return Err(invalid("json_boundary, inline_dispatch and local_functions apply to the in-process target only".into()));
                }
                let url = t.url.as_deref().ok_or_else(|| invalid(format!("the {} target needs `url`", kind.label())))?;
                let (authority, path) = HttpTarget::parse_url(url).map_err(invalid)?;
                let batch = t.batch.unwrap_or(if http_kind == HttpKind::PutEvents { 10 } else { 1 });
                if batch == 0 || batch > http_kind.max_batch() {
                    return Err(invalid(format!("batch must be 1..={} for {}", http_kind.max_batch(), kind.label())));
                }
                let timeout = t.timeout_secs.unwrap_or(30.0);
                if !(timeout.is_finite() && timeout > 0.0) {
                    return Err(invalid("timeout_secs must be positive".into()));
                }
                let default_path = if http_kind == HttpKind::Ndjson && path == "/" { "/events".to_string() } else { path };
                let arn = t.state_machine_arn.clone().unwrap_or_else(|| format!("arn:aws:states:us-east-1:123456789012:stateMachine:{name}"));
                let http = HttpTarget {
                    kind: http_kind,
                    authority,
                    path: default_path,
                    state_machine_arn: arn,
                    event_bus: t.event_bus.clone().unwrap_or_else(|| "default".into()),
                    source: t.source.clone().unwrap_or_else(|| "expressway.loadtest".into()),
                    detail_type: t.detail_type.clone().unwrap_or_else(|| "loadtest event".into()),
                    timeout: Duration::from_secs_f64(timeout),
                };
                (Target::Http(Arc::new(http)), format!("{} {url}", kind.label()), batch, t.server_pid)
            }
        };
        Ok(Plan {
            description: self.description.clone().unwrap_or_default(),
            duration: Duration::from_secs_f64(self.duration_secs),
            warmup: Duration::from_secs_f64(self.warmup_secs),
            seed: o.seed.or(self.seed).unwrap_or_else(expressway::ids::next_u64),
            source,
            traffic: self.traffic.clone(),
            target_kind: kind,
            target,
            target_label,
            batch,
            connections: self.target.connections.unwrap_or(16),
            max_in_flight: self.target.max_in_flight.unwrap_or(10_000),
            threads: self.target.threads,
            inline_dispatch: self.target.inline_dispatch.unwrap_or(false),
            sample_pid,
            targets: self.targets.clone(),
            name,
        })
    }

    fn event_source(&self, dir: &Path) -> Result<EventSource, String> {
        let e = &self.event;
        let template_text = match (&e.template, &e.inline, &e.replay) {
            (Some(path), None, None) => {
                let path = resolve(dir, path);
                std::fs::read_to_string(&path).map_err(|err| format!("template {}: {err}", path.display()))?
            }
            (None, Some(text), None) => text.clone(),
            (None, None, Some(path)) => return EventSource::replay_file(&resolve(dir, path)).map_err(|err| err.to_string()),
            _ => return Err("give exactly one of `template`, `inline` or `replay`".into()),
        };
        let template = Template::parse(template_text.trim()).map_err(|err| err.to_string())?;
        template.check_renders_json().map_err(|err| err.to_string())?;
        Ok(EventSource::Template(Arc::new(template)))
    }
}

/// Resolves a scenario path (see the module documentation for `@bench/`).
pub fn resolve(dir: &Path, path: &str) -> PathBuf {
    if let Some(name) = path.strip_prefix("@bench/") {
        if let Some(bench) = std::env::var_os("EXPRESSWAY_BENCH_DIR") {
            return PathBuf::from(bench).join(name);
        }
        let start = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        for ancestor in start.ancestors() {
            let candidate = ancestor.join("shared/bench").join(name);
            if candidate.exists() {
                return candidate;
            }
        }
        return dir.join("shared/bench").join(name);
    }
    dir.join(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration_secs("30"), Some(30.0));
        assert_eq!(parse_duration_secs("30s"), Some(30.0));
        assert_eq!(parse_duration_secs("500ms"), Some(0.5));
        assert_eq!(parse_duration_secs("2m"), Some(120.0));
        assert_eq!(parse_duration_secs("0"), None);
        assert_eq!(parse_duration_secs("soon"), None);
    }

    fn scenario(text: &str) -> Scenario {
        toml::from_str(text).unwrap()
    }

    const INLINE: &str = r#"
        workflow = "wf.json"
        [event]
        inline = '{"n": {{seq}}}'
        [traffic]
        kind = "constant"
        rate = 100
    "#;

    #[test]
    fn a_minimal_scenario_plans_with_defaults_and_overrides() {
        let dir = std::env::temp_dir().join(format!("lt-scenario-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("wf.json"), r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#).unwrap();
        let plan = scenario(INLINE).plan(&dir, &Overrides::default()).unwrap();
        assert_eq!(plan.duration, Duration::from_secs(10));
        assert_eq!(plan.target_kind, TargetKind::InProcess);
        assert_eq!(plan.batch, 1);
        let o = Overrides { duration_secs: Some(2.0), rate: Some(7.0), ..Overrides::default() };
        let plan = scenario(INLINE).plan(&dir, &o).unwrap();
        assert_eq!((plan.duration, plan.traffic), (Duration::from_secs(2), Traffic::Constant { rate: 7.0 }));
        let o = Overrides { clients: Some(3), ..Overrides::default() };
        assert_eq!(scenario(INLINE).plan(&dir, &o).unwrap().traffic, Traffic::Closed { clients: 3 });
        let boundary = INLINE.to_string() + "[target]\njson_boundary = false\n";
        let refused = scenario(&boundary).plan(&dir, &Overrides::default()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains("needs replayed events"), "{refused}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mistakes_are_reported_before_the_run() {
        let dir = std::env::temp_dir();
        let err = |text: &str, o: Overrides| scenario(text).plan(&dir, &o).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(INLINE, Overrides::default()).contains("wf.json"));
        let http = INLINE.to_string() + "[target]\nkind = \"put-events\"\nurl = \"http://127.0.0.1:9\"\nbatch = 11\n";
        assert!(err(&http, Overrides::default()).contains("batch must be 1..=10"));
        let no_url = INLINE.to_string() + "[target]\nkind = \"start-sync\"\n";
        assert!(err(&no_url, Overrides::default()).contains("needs `url`"));
        let closed = INLINE.replace("kind = \"constant\"\n        rate = 100", "kind = \"closed\"\n        clients = 2");
        assert!(err(&closed, Overrides { rate: Some(5.0), ..Overrides::default() }).contains("--clients"));
        let bad_template = INLINE.replace("{{seq}}", "{{nope}}");
        assert!(err(&bad_template, Overrides::default()).contains("unknown placeholder"));
        assert!(toml::from_str::<Scenario>(&(INLINE.to_string() + "bogus = 1\n")).is_err());
    }

    #[test]
    fn bench_paths_honour_the_environment_variable_or_walk_up() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let p = resolve(&dir, "@bench/chain.asl.json");
        assert!(p.ends_with("shared/bench/chain.asl.json") || std::env::var_os("EXPRESSWAY_BENCH_DIR").is_some());
        assert_eq!(resolve(Path::new("/a"), "b/c.json"), PathBuf::from("/a/b/c.json"));
    }
}
