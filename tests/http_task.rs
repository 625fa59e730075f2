//! The HTTP Task (`arn:aws:states:::http:invoke`) against real local HTTP servers: what is sent
//! (method, URL, query encoding, headers, bodies in every encoding), what comes back (status,
//! headers, JSON and text bodies), failures (status codes, a closed port, a Task timeout) and
//! the host allow-list. Executions run through `Integrations`, as the CLI builds them.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use serde_json::{json, Value as Json};

use expressway::runtime::ExecutionOutcome;
use expressway::tasks::{HostAllowList, Integrations};

mod common;
use common::server::TestServer;

/// Answers by path: `/echo` describes the request as JSON, `/status/N` answers N with a JSON
/// body, `/text` plain text, `/slow` after 30 s, `/delay` after 200 ms.
async fn handler(req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let response = Response::builder().header("X-Test", "yes");
    match path.as_str() {
        "/echo" => {
            let method = req.method().to_string();
            let query = req.uri().query().unwrap_or("").to_string();
            let headers: serde_json::Map<String, Json> =
                req.headers().iter().map(|(k, v)| (k.to_string(), Json::from(v.to_str().unwrap_or("")))).collect();
            let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let echo = json!({"method": method, "query": query, "headers": headers, "body": String::from_utf8_lossy(&body)});
            response.header("Content-Type", "application/json").body(Full::new(Bytes::from(echo.to_string())))
        }
        "/text" => response.header("Content-Type", "text/plain").body(Full::new(Bytes::from_static(b"plain words"))),
        "/slow" | "/delay" => {
            tokio::time::sleep(if path == "/slow" { Duration::from_secs(30) } else { Duration::from_millis(200) }).await;
            response.body(Full::new(Bytes::from_static(b"{\"late\":true}")))
        }
        p => {
            let status: u16 = p.strip_prefix("/status/").and_then(|n| n.parse().ok()).unwrap_or(404);
            response.status(status).body(Full::new(Bytes::from_static(b"{\"problem\":\"x\"}")))
        }
    }
    .expect("valid response")
}

/// Runs an HTTP Task with `params` (plus `extra` state fields; a catcher may go to `Handled`).
fn run_task(params: Json, extra: Json, integrations: Integrations) -> ExecutionOutcome {
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::http:invoke", "Parameters": params});
    common::run_task_state(task, extra, "{}", integrations)
}

fn output(o: &ExecutionOutcome) -> Json {
    assert_eq!(o.status.as_str(), "SUCCEEDED", "{:?}: {:?}", o.error, o.cause);
    o.output.as_ref().expect("output").to_serde()
}

#[test]
fn sends_method_query_headers_and_json_body_and_returns_the_response_shape() {
    let server = TestServer::start(handler);
    let out = output(&run_task(
        json!({
            "ApiEndpoint": server.url("/echo"), "Method": "PUT",
            "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:123456789012:connection/c/1"},
            "Headers": {"X-Custom": "v1", "X-Number": 7},
            "QueryParameters": {"q": "a b", "list": [1, 2]},
            "RequestBody": {"k": [1, {"n": null}]}
        }),
        json!({}),
        Integrations::default(),
    ));
    assert_eq!(out["StatusCode"], 200);
    assert_eq!(out["StatusText"], "OK");
    assert_eq!(out["Headers"]["x-test"], json!(["yes"]));
    assert_eq!(out["Headers"]["content-type"], json!(["application/json"]));
    let echo = &out["ResponseBody"];
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["query"], "q=a%20b&list=1&list=2");
    assert_eq!(echo["headers"]["x-custom"], "v1");
    assert_eq!(echo["headers"]["x-number"], "7");
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(echo["body"], r#"{"k":[1,{"n":null}]}"#);
}

#[test]
fn url_encodes_the_body_with_each_array_format() {
    let server = TestServer::start(handler);
    let body = json!({"a": ["x", "y"], "o": {"k": "v w"}});
    for (format, expected) in [
        ("INDICES", "a[0]=x&a[1]=y&o[k]=v%20w"),
        ("BRACKETS", "a[]=x&a[]=y&o[k]=v%20w"),
        ("REPEAT", "a=x&a=y&o[k]=v%20w"),
        ("COMMAS", "a=x,y&o[k]=v%20w"),
    ] {
        let out = output(&run_task(
            json!({"ApiEndpoint": server.url("/echo"), "Method": "POST", "RequestBody": body,
                   "Transform": {"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": format}}}),
            json!({}),
            Integrations::default(),
        ));
        assert_eq!(out["ResponseBody"]["body"], expected, "{format}");
        assert_eq!(out["ResponseBody"]["headers"]["content-type"], "application/x-www-form-urlencoded");
    }
}

#[test]
fn a_text_response_body_stays_a_string() {
    let server = TestServer::start(handler);
    let out = output(&run_task(json!({"ApiEndpoint": server.url("/text"), "Method": "GET"}), json!({}), Integrations::default()));
    assert_eq!(out["ResponseBody"], "plain words");
}

#[test]
fn error_statuses_fail_with_their_code_and_can_be_caught() {
    let server = TestServer::start(handler);
    for status in [400u16, 404, 500, 503] {
        let o = run_task(json!({"ApiEndpoint": server.url(&format!("/status/{status}")), "Method": "GET"}), json!({}), Integrations::default());
        assert_eq!(o.status.as_str(), "FAILED");
        assert_eq!(o.error.as_deref(), Some(format!("States.Http.StatusCode.{status}").as_str()));
        let cause: Json = serde_json::from_str(o.cause.as_deref().expect("cause")).expect("the cause is the response as JSON");
        assert_eq!(cause["StatusCode"], status);
        assert_eq!(cause["ResponseBody"], json!({"problem": "x"}));
    }
    let caught = output(&run_task(
        json!({"ApiEndpoint": server.url("/status/503"), "Method": "GET"}),
        json!({"Retry": [{"ErrorEquals": ["States.Http.StatusCode.503"], "MaxAttempts": 1, "IntervalSeconds": 1}],
               "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Handled"}]}),
        Integrations { virtual_time: true, ..Default::default() },
    ));
    assert_eq!(caught["Error"], "States.Http.StatusCode.503");
}

#[test]
fn a_closed_port_is_a_socket_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let o = run_task(json!({"ApiEndpoint": format!("http://127.0.0.1:{port}/x"), "Method": "GET"}), json!({}), Integrations::default());
    assert_eq!(o.error.as_deref(), Some("States.Http.Socket"));
    assert!(o.cause.as_deref().is_some_and(|c| !c.is_empty()));
}

#[test]
fn the_task_timeout_cuts_a_slow_server() {
    let server = TestServer::start(handler);
    let o = run_task(json!({"ApiEndpoint": server.url("/slow"), "Method": "GET"}), json!({"TimeoutSeconds": 1}), Integrations::default());
    assert_eq!(o.status.as_str(), "FAILED");
    assert_eq!(o.error.as_deref(), Some("States.Timeout"));
}

#[test]
fn under_virtual_time_a_real_call_gets_real_time_to_answer() {
    // On a paused clock tokio would jump straight to the 5-minute deadline while the request
    // waits on its socket; the call must resume the clock instead.
    let server = TestServer::start(handler);
    let o = run_task(json!({"ApiEndpoint": server.url("/delay"), "Method": "GET"}), json!({}), Integrations { virtual_time: true, ..Default::default() });
    assert_eq!(output(&o)["ResponseBody"], json!({"late": true}));
}

#[test]
fn hosts_off_the_allow_list_are_refused_without_a_request() {
    let refused = run_task(json!({"ApiEndpoint": "http://example.com/x", "Method": "GET"}), json!({}), Integrations::default());
    assert_eq!(refused.error.as_deref(), Some("States.Runtime"));
    let cause = refused.cause.as_deref().unwrap_or("");
    assert!(cause.contains("'example.com'") && cause.contains("--http-allow"), "{cause}");
    // Allowing a host lets the request through to the connection attempt; localhost is
    // always allowed and reaches the server.
    let server = TestServer::start(handler);
    let allowed = Integrations { http_allow: HostAllowList::parse("example.com"), ..Default::default() };
    let out = output(&run_task(json!({"ApiEndpoint": format!("http://localhost:{}/text", server.port), "Method": "GET"}), json!({}), allowed));
    assert_eq!(out["StatusCode"], 200);
}
