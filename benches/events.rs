//! Matching throughput of the compiled EventBridge matcher: one ~1 KB event against 1, 100,
//! 1,000 and 10,000 rules of mixed kinds (exact, prefix, suffix, equals-ignore-case, wildcard,
//! numeric, anything-but, exists, cidr, `$or`). The event is matched from its JSON text, as it
//! arrives. Run briefly: `cargo bench --bench events -- --warm-up-time 1 --measurement-time 3`.
//!
//! For instruction counts (steadier than time on a shared machine), `EVENTS_PROFILE=RULES:N`
//! skips criterion and matches the event N times against RULES rules, after one warm-up match:
//! `EVENTS_PROFILE=1000:20000 valgrind --tool=callgrind target/release/deps/events-HASH`.
//! The profile mode also prints the loop's time per match, which `benches/events-side-by-side.sh`
//! uses to time two builds interleaved on the same machine.

use criterion::{black_box, criterion_group, Criterion, Throughput};
use expressway::events::{Matcher, Pattern, RuleId};

/// The members of the bench event's `detail`, in order.
const DETAIL: [&str; 13] = [
    r#""instance-id":"i-0abc1234def567890""#,
    r#""state":"running""#,
    r#""previous-state":"pending""#,
    r#""source-ip":"10.1.2.3""#,
    r#""port":443"#,
    r#""bytes":18234"#,
    r#""latency-ms":12.5"#,
    r#""region-code":"eu-west-1""#,
    r#""user":{"name":"alice","role":"admin","groups":["ops","dev","audit"]}"#,
    r#""tags":[{"key":"env","value":"prod"},{"key":"team","value":"payments"},{"key":"cost-center","value":"1234"}]"#,
    r#""request":{"method":"POST","path":"/api/v1/orders/8f14e45f","status":201,"agent":"Mozilla/5.0 (X11; Linux x86_64)"}"#,
    r#""items":[{"sku":"A-100","qty":2,"price":19.99},{"sku":"B-200","qty":1,"price":5.5}]"#,
    r#""notes":"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.""#,
];

/// The members of the EventBridge envelope, `detail` last.
const ENVELOPE: [&str; 8] = [
    r#""version":"0""#,
    r#""id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718""#,
    r#""detail-type":"EC2 Instance State-change Notification""#,
    r#""source":"aws.ec2""#,
    r#""account":"111122223333""#,
    r#""time":"2017-12-22T18:43:48Z""#,
    r#""region":"eu-west-1""#,
    r#""resources":["arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc1234def567890"]"#,
];

/// A realistic EventBridge envelope of about 1 KB.
fn event() -> String {
    format!(r#"{{{},"detail":{{{}}}}}"#, ENVELOPE.join(","), DETAIL.join(","))
}

/// The same event with every object's members in reverse order: matched alternately with
/// [`event`], no key is where the walker's key log (which remembers the last event's keys)
/// expects it, so this measures the matcher on a stream whose shape changes at every event.
fn event_reversed() -> String {
    let rev = |members: &[&str]| members.iter().rev().copied().collect::<Vec<_>>().join(",");
    let detail = rev(&DETAIL)
        .replace(r#"{"name":"alice","role":"admin","groups":["ops","dev","audit"]}"#, r#"{"groups":["ops","dev","audit"],"role":"admin","name":"alice"}"#)
        .replace(r#"{"key":"env","value":"prod"}"#, r#"{"value":"prod","key":"env"}"#)
        .replace(r#"{"key":"team","value":"payments"}"#, r#"{"value":"payments","key":"team"}"#)
        .replace(r#"{"key":"cost-center","value":"1234"}"#, r#"{"value":"1234","key":"cost-center"}"#)
        .replace(
            r#"{"method":"POST","path":"/api/v1/orders/8f14e45f","status":201,"agent":"Mozilla/5.0 (X11; Linux x86_64)"}"#,
            r#"{"agent":"Mozilla/5.0 (X11; Linux x86_64)","status":201,"path":"/api/v1/orders/8f14e45f","method":"POST"}"#,
        );
    format!(r#"{{"detail":{{{detail}}},{}}}"#, rev(&ENVELOPE))
}

/// Rule `i` of a mixed rule set; kinds rotate, values vary with `i` so few rules match.
fn rule(i: usize) -> String {
    let n = i / 12;
    match i % 12 {
        0 => format!(r#"{{"source":["aws.svc{n}"],"detail-type":["Type {n}"]}}"#),
        1 => format!(r#"{{"source":["aws.ec2"],"detail":{{"state":["state-{n}"]}}}}"#),
        2 => format!(r#"{{"detail":{{"instance-id":[{{"prefix":"i-{n:04x}"}}]}}}}"#),
        3 => format!(r#"{{"detail":{{"request":{{"path":[{{"suffix":"/{n}"}}]}}}}}}"#),
        4 => format!(r#"{{"detail":{{"bytes":[{{"numeric":[">",{lo},"<=",{hi}]}}]}}}}"#, lo = n * 1000, hi = n * 1000 + 500),
        5 => format!(r#"{{"detail":{{"user":{{"name":[{{"equals-ignore-case":"USER{n}"}}]}}}}}}"#),
        6 => format!(r#"{{"detail":{{"state":[{{"anything-but":["running","state-{n}"]}}]}}}}"#),
        7 => format!(r#"{{"detail":{{"source-ip":[{{"cidr":"10.{}.{}.0/24"}}]}}}}"#, n % 250 + 2, n / 250),
        8 => format!(r#"{{"detail":{{"tags":{{"key":["team"],"value":["team-{n}"]}}}}}}"#),
        9 => format!(r#"{{"detail":{{"request":{{"agent":[{{"wildcard":"Bot-{n}*"}}]}}}}}}"#),
        10 => format!(r#"{{"detail":{{"$or":[{{"port":[{n}]}},{{"region-code":["zz-{n}"]}}]}}}}"#),
        _ => format!(r#"{{"account":["{:012}"],"detail":{{"user":{{"role":[{{"exists":true}}]}}}}}}"#, n),
    }
}

fn matcher(count: usize) -> Matcher {
    let mut m = Matcher::new();
    for i in 0..count {
        let p = Pattern::parse(&rule(i)).expect("bench rules are valid");
        m.add_rule(i as RuleId, &p);
    }
    m
}

fn bench(c: &mut Criterion) {
    let event = event();
    let mut group = c.benchmark_group("events/match");
    group.throughput(Throughput::Elements(1));
    for count in [1usize, 100, 1_000, 10_000] {
        let m = matcher(count);
        group.bench_function(format!("{count}-rules-{}B", event.len()), |b| {
            b.iter(|| m.matches(black_box(&event)).expect("valid event"))
        });
    }
    // Every event shaped differently from the one before (see `event_reversed`).
    let shapes = [event.clone(), event_reversed()];
    let m = matcher(1_000);
    group.bench_function(format!("1000-rules-{}B-alternating-shapes", event.len()), |b| {
        let mut n = 0usize;
        b.iter(|| {
            n += 1;
            m.matches(black_box(&shapes[n % 2])).expect("valid event")
        })
    });
    group.finish();
}

/// `EVENTS_PROFILE=RULES:N`: N matches against RULES rules, for callgrind; with
/// `EVENTS_SHAPES=alternating`, of the event and its reversed twin in turn.
fn profile(spec: &str) {
    let (rules, n) = spec.split_once(':').unwrap_or((spec, "10000"));
    let rules: usize = rules.parse().expect("EVENTS_PROFILE=RULES:N");
    let n: usize = n.parse().expect("EVENTS_PROFILE=RULES:N");
    let event = event();
    let alternating = std::env::var("EVENTS_SHAPES").is_ok_and(|s| s == "alternating");
    let shapes = [event.clone(), if alternating { event_reversed() } else { event.clone() }];
    let m = matcher(rules);
    let mut matched = m.matches(&event).expect("valid event").len();
    let start = std::time::Instant::now();
    for i in 0..n {
        matched += m.matches(black_box(&shapes[i % 2])).expect("valid event").len();
    }
    let elapsed = start.elapsed();
    // The loop alone is timed (not building the rules), for side-by-side runs of two builds.
    let per_match = elapsed.as_nanos() as f64 / n.max(1) as f64;
    println!(
        "{n} matches of a {}-byte event against {rules} rules; {matched} rule hits; {per_match:.1} ns per match",
        event.len()
    );
}

criterion_group!(benches, bench);

fn main() {
    match std::env::var("EVENTS_PROFILE") {
        Ok(spec) => profile(&spec),
        Err(_) => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
