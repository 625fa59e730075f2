//! The real AWS clients against `expressway serve` run as a process: boto3
//! (`tests/clients/test_boto3.py`, Step Functions and EventBridge) and the aws CLI running every
//! `aws stepfunctions` command of the product's documents (`tests/clients/test_aws_cli.py`) and
//! the `aws events` commands (`tests/clients/test_aws_cli_events.py`), plus a SIGTERM shutdown
//! that must finish an accepted execution and `serve --rules` fed through `POST /events`.
//!
//! The clients live in a virtualenv made by `scripts/setup-clients.sh` (`.ci/run` runs it; this
//! test runs it too when the venv is missing). Without network to install them, the client
//! tests say so loudly and check nothing; the documents come from `../shared/seeds` (or
//! `$EXPRESSWAY_SEEDS`) and the CLI test likewise says so when they are absent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const ROLE: &str = "arn:aws:iam::123456789012:role/test";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The clients' virtualenv, set up on first use; `None` (with a loud message) when it cannot be.
fn venv() -> Option<PathBuf> {
    let dir =
        std::env::var_os("EXPRESSWAY_CLIENTS_VENV").map(PathBuf::from).unwrap_or_else(|| root().join("target/clients-venv"));
    let ready = |d: &Path| d.join("bin/python").exists() && d.join("bin/aws").exists();
    if !ready(&dir) {
        let status = Command::new("bash").arg(root().join("scripts/setup-clients.sh")).arg(&dir).status();
        if !status.is_ok_and(|s| s.success()) || !ready(&dir) {
            eprintln!("##### server_clients: SKIPPED — boto3/awscli are not installed in {} (run scripts/setup-clients.sh with network access) #####", dir.display());
            return None;
        }
    }
    Some(dir)
}

/// `expressway serve` on an ephemeral port, stopped with SIGTERM when dropped.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    stderr: mpsc::Receiver<String>,
}

impl ServerProcess {
    fn start(extra: &[&str]) -> ServerProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_expressway"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(extra)
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start expressway serve");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let addr = loop {
            let line = rx.recv_timeout(Duration::from_secs(30)).expect("the server did not say where it listens");
            if let Some(a) = line.strip_prefix("expressway serve: listening on http://") {
                break a.parse().expect("address");
            }
        };
        ServerProcess { child, addr, stderr: rx }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends SIGTERM and waits for the exit; answers the exit success and what it printed.
    fn terminate(mut self) -> (bool, String) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let status = self.child.wait().expect("wait");
        let mut lines = Vec::new();
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_secs(5)) {
            lines.push(l);
        }
        (status.success(), lines.join("\n"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python(venv: &Path, script: &str, server: &ServerProcess, env: &[(&str, PathBuf)]) {
    let path = format!("{}:{}", venv.join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new(venv.join("bin/python"))
        .arg(root().join("tests/clients").join(script))
        .env("EXPRESSWAY_ENDPOINT", server.endpoint())
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
        .env("PATH", path)
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .output()
        .expect("run python");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    println!("{text}");
    assert!(out.status.success(), "{script} failed:\n{text}");
}

const MOCKS: [&str; 4] = ["--mock-config", "examples/hello-world-reverse/mock.json", "--test-case", "HiMom"];

#[test]
fn boto3_covers_every_operation_and_error() {
    let Some(venv) = venv() else { return };
    let server = ServerProcess::start(&MOCKS);
    python(&venv, "test_boto3.py", &server, &[]);
}

#[test]
fn aws_cli_runs_every_command_of_the_documents() {
    let Some(venv) = venv() else { return };
    let seeds = std::env::var_os("EXPRESSWAY_SEEDS").map(PathBuf::from).unwrap_or_else(|| root().join("../shared/seeds"));
    if !seeds.is_dir() {
        eprintln!("##### server_clients: SKIPPED the aws CLI document test — {} is absent #####", seeds.display());
        return;
    }
    let server = ServerProcess::start(&MOCKS);
    let definition = root().join("examples/hello-world-reverse/hello-world-reverse.asl.json");
    python(&venv, "test_aws_cli.py", &server, &[("EXPRESSWAY_SEEDS", seeds), ("EXPRESSWAY_DEFINITION", definition)]);
}

#[test]
fn aws_cli_eventbridge_commands_start_executions() {
    let Some(venv) = venv() else { return };
    let server = ServerProcess::start(&[]);
    python(&venv, "test_aws_cli_events.py", &server, &[]);
}

/// `serve --rules` with the example rules file (the `run --bus` format, ndjson: target
/// included), fed the example events through `POST /events`.
#[test]
fn serve_rules_file_takes_ndjson_events() {
    let server = ServerProcess::start(&["--rules", "examples/events/rules.json"]);
    let events = std::fs::read_to_string(root().join("examples/events/events.ndjson")).unwrap();
    let reply = post(server.addr, "/events", &events);
    assert_eq!((reply["Accepted"].as_u64(), reply["FailedEntryCount"].as_u64()), (Some(4), Some(0)), "{reply}");
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:price-order";
    let mut sizes = Vec::new();
    for _ in 0..2000 {
        let list =
            call(server.addr, "ListExecutions", &serde_json::json!({"stateMachineArn": machine, "statusFilter": "SUCCEEDED"}));
        let executions = list["executions"].as_array().cloned().unwrap_or_default();
        if executions.len() == 2 {
            for e in executions {
                let d = call(server.addr, "DescribeExecution", &serde_json::json!({"executionArn": e["executionArn"]}));
                let output: serde_json::Value = serde_json::from_str(d["output"].as_str().unwrap()).unwrap();
                sizes.push((output["orderId"].as_str().unwrap().to_string(), output["size"].as_str().unwrap().to_string()));
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    sizes.sort();
    assert_eq!(sizes, vec![("o-1".to_string(), "small".to_string()), ("o-2".to_string(), "big".to_string())]);
}

/// One request over a fresh connection; answers the 200 response's JSON body.
fn request(addr: SocketAddr, head: &str, body: &str) -> serde_json::Value {
    let mut conn = TcpStream::connect(addr).expect("connect");
    let req = format!("{head}Host: localhost\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    conn.write_all(req.as_bytes()).expect("write");
    let mut response = String::new();
    conn.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    assert!(head.starts_with("HTTP/1.1 200"), "{response}");
    serde_json::from_str(body).expect("json")
}

/// One Step Functions call; answers the response body.
fn call(addr: SocketAddr, op: &str, body: &serde_json::Value) -> serde_json::Value {
    let head = format!("POST / HTTP/1.1\r\nX-Amz-Target: AWSStepFunctions.{op}\r\nContent-Type: application/x-amz-json-1.0\r\n");
    request(addr, &head, &body.to_string())
}

fn post(addr: SocketAddr, path: &str, body: &str) -> serde_json::Value {
    request(addr, &format!("POST {path} HTTP/1.1\r\nContent-Type: application/x-ndjson\r\n"), body)
}

#[test]
fn sigterm_finishes_accepted_executions_before_exiting() {
    let dir = std::env::temp_dir().join(format!("expressway-sigterm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log.ndjson");
    let server = ServerProcess::start(&["--log-file", log.to_str().unwrap()]);
    let definition = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#;
    let logging = serde_json::json!({"level": "ALL", "includeExecutionData": true,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"}}]});
    let create = serde_json::json!({"name": "Drain", "definition": definition, "roleArn": ROLE, "type": "EXPRESS", "loggingConfiguration": logging});
    let created = call(server.addr, "CreateStateMachine", &create);
    let started = call(server.addr, "StartExecution", &serde_json::json!({"stateMachineArn": created["stateMachineArn"]}));
    let execution = started["executionArn"].as_str().unwrap().to_string();
    let (ok, stderr) = server.terminate();
    assert!(ok, "{stderr}");
    assert!(stderr.contains("expressway serve: shut down"), "{stderr}");
    assert!(!stderr.contains("stopped at shutdown"), "{stderr}");
    let records = std::fs::read_to_string(&log).unwrap();
    let last: serde_json::Value = serde_json::from_str(records.lines().last().expect("log records")).unwrap();
    assert_eq!(last["type"], "ExecutionSucceeded", "{records}");
    assert_eq!(last["execution_arn"], execution.as_str());
    let _ = std::fs::remove_dir_all(dir);
}
