//! The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched),
//! so it can be attached to an issue or opened offline years later.

use std::fmt::Write as _;

use super::{fmt_us, Report};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 250.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;

struct Series<'a> {
    name: &'a str,
    color: &'a str,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

struct Chart<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    log_y: bool,
    /// Fixed x ticks (value, label); evenly spaced numbers when `None`.
    x_ticks: Option<Vec<(f64, String)>>,
    y_format: fn(f64) -> String,
    series: Vec<Series<'a>>,
}

pub fn render(r: &Report) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let title = format!("{} — Expressway load test", r.scenario);
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{}</style></head><body>",
        esc(&title),
        STYLE
    );
    let _ = write!(page, "<h1>{}</h1><p>{}</p>", esc(&title), esc(&r.description));
    page.push_str(&summary_table(r));

    let t = |f: fn(&super::Tick) -> f64| r.timeline.iter().map(|k| (k.t, f(k))).collect::<Vec<_>>();
    let mut throughput = vec![Series { name: "events/s", color: "#1f77b4", dashed: false, points: t(|k| k.events_per_sec) }];
    if r.traffic.is_open_loop() {
        throughput.push(Series { name: "intended", color: "#888", dashed: true, points: t(|k| k.intended_events_per_sec) });
    }
    throughput.push(Series { name: "errors/s", color: "#d62728", dashed: false, points: t(|k| k.errors_per_sec) });
    page.push_str(&chart(&Chart {
        title: "Throughput over time",
        x_label: "seconds",
        y_label: "events/s",
        log_y: false,
        x_ticks: None,
        y_format: fmt_count,
        series: throughput,
    }));
    page.push_str(&chart(&Chart {
        title: "Latency over time (per second)",
        x_label: "seconds",
        y_label: "latency",
        log_y: true,
        x_ticks: None,
        y_format: fmt_us_axis,
        series: vec![
            Series { name: "p50", color: "#2ca02c", dashed: false, points: t(|k| k.p50_us) },
            Series { name: "p90", color: "#1f77b4", dashed: false, points: t(|k| k.p90_us) },
            Series { name: "p99", color: "#ff7f0e", dashed: false, points: t(|k| k.p99_us) },
            Series { name: "max", color: "#d62728", dashed: true, points: t(|k| k.max_us) },
        ],
    }));
    let nines = |p: f64| -(1.0 - p / 100.0).max(1e-6).log10();
    page.push_str(&chart(&Chart {
        title: "Latency distribution",
        x_label: "percentile",
        y_label: "latency",
        log_y: true,
        x_ticks: Some(["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"].iter().enumerate().map(|(i, l)| (i as f64, l.to_string())).collect()),
        y_format: fmt_us_axis,
        series: vec![Series {
            name: "latency",
            color: "#9467bd",
            dashed: false,
            points: r.distribution.iter().filter(|p| p.percentile < 100.0).map(|p| (nines(p.percentile), p.latency_us)).collect(),
        }],
    }));
    let rss: Vec<(f64, f64)> = r.timeline.iter().filter_map(|k| k.rss_bytes.map(|b| (k.t, b as f64 / 1048576.0))).collect();
    if !rss.is_empty() {
        page.push_str(&chart(&Chart {
            title: "Memory (RSS) of the sampled process",
            x_label: "seconds",
            y_label: "MiB",
            log_y: false,
            x_ticks: None,
            y_format: fmt_count,
            series: vec![Series { name: "RSS MiB", color: "#8c564b", dashed: false, points: rss }],
        }));
    }
    let cpu: Vec<(f64, f64)> = r.timeline.iter().filter_map(|k| k.cpu_percent.map(|c| (k.t, c))).collect();
    if !cpu.is_empty() {
        page.push_str(&chart(&Chart {
            title: "CPU of the sampled process (% of one core)",
            x_label: "seconds",
            y_label: "%",
            log_y: false,
            x_ticks: None,
            y_format: fmt_count,
            series: vec![Series { name: "CPU %", color: "#e377c2", dashed: false, points: cpu }],
        }));
    }
    page.push_str(&details(r));
    page.push_str("</body></html>\n");
    page
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:800px;margin:2em auto;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}h2{font-size:1.1em;margin-top:1.5em}\
svg{display:block;margin:1em 0}pre{background:#f6f6f6;padding:8px;overflow:auto}";

fn summary_table(r: &Report) -> String {
    let l = &r.latency_us;
    let mut s = String::from("<table>");
    let mut row = |k: &str, v: String| {
        let _ = write!(s, "<tr><th>{}</th><td class=\"n\">{}</td></tr>", esc(k), esc(&v));
    };
    row("target", r.target.clone());
    if r.warmup_secs > 0.0 {
        row("warm-up (not counted)", format!("{:.1} s at the base rate", r.warmup_secs));
    }
    row("requests answered", format!("{} ok, {} failed", r.requests.ok, r.requests.failed));
    row("events", format!("{} ok, {} failed", r.requests.events_ok, r.requests.events_failed));
    row("throughput", format!("{:.0} events/s ({:.0} requests/s), best second {:.0}", r.throughput.events_per_sec, r.throughput.requests_per_sec, r.throughput.peak_events_per_sec));
    row(
        "latency",
        format!("p50 {}  p90 {}  p99 {}  p99.9 {}  max {}", fmt_us(l.p50), fmt_us(l.p90), fmt_us(l.p99), fmt_us(l.p99_9), fmt_us(l.max)),
    );
    let v = &r.service_time_us;
    row("service time (from hand-over)", format!("p50 {}  p90 {}  p99 {}  p99.9 {}  max {}", fmt_us(v.p50), fmt_us(v.p90), fmt_us(v.p99), fmt_us(v.p99_9), fmt_us(v.max)));
    if let Some(max) = r.resources.rss_max_bytes {
        row("memory (RSS, max)", format!("{:.1} MiB", max as f64 / 1048576.0));
    }
    if let Some(cpu) = r.resources.cpu_mean_percent {
        row("CPU (mean)", format!("{cpu:.0}% of one core"));
    }
    row("run", format!("{:.1}s from {}{}", r.elapsed_secs, r.started_at, if r.interrupted { " (interrupted)" } else { "" }));
    row("machine", format!("{} CPUs, {} ({})", r.machine.cpus, r.machine.cpu_model, r.machine.os));
    if let Some(c) = &r.latency_check {
        let verdict = if c.met { "met" } else { "not met" };
        row(
            &format!("p99 target {}", fmt_us(c.p99_target_us)),
            format!("{verdict}: p99 {}; {} of {} seconds over it", fmt_us(c.p99_us), c.seconds_over_target, c.seconds),
        );
    }
    if let Some(m) = &r.memory {
        row(
            "memory trend",
            format!(
                "{}: {:.1} → {:.1} MiB from {:.0} s to {:.0} s, slope {:.1} KiB/min ({})",
                if m.flat { "flat" } else { "not flat" },
                m.rss_window_start_bytes as f64 / 1048576.0,
                m.rss_window_end_bytes as f64 / 1048576.0,
                m.window_start_secs,
                m.window_end_secs,
                m.slope_kib_per_min,
                m.rule
            ),
        );
    }
    s.push_str("</table>");
    if !r.bursts.is_empty() {
        s.push_str("<h2>Bursts</h2><table><tr><th>window</th><th>events/s</th><th>p99</th><th>errors</th><th>p99 in the seconds after</th><th>p99 recovered</th></tr>");
        for b in &r.bursts {
            let after: Vec<String> = b.p99_after_us.iter().map(|p| fmt_us(*p)).collect();
            let recovered = match (b.recovery_p99_us, b.recovered_after_secs) {
                (Some(level), Some(secs)) => format!("to {} within {secs:.0} s", fmt_us(level)),
                (Some(level), None) => format!("not back to {}", fmt_us(level)),
                (None, _) => String::new(),
            };
            let _ = write!(
                s,
                "<tr><td>{:.0}–{:.0} s</td><td class=\"n\">{:.0}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                b.start_secs,
                b.end_secs,
                b.events_per_sec,
                esc(&fmt_us(b.p99_us)),
                b.errors,
                esc(&after.join(", ")),
                esc(&recovered)
            );
        }
        s.push_str("</table>");
    }
    if !r.errors.is_empty() {
        s.push_str("<h2>Errors by kind</h2><table><tr><th>kind</th><th>count</th></tr>");
        for (kind, n) in &r.errors {
            let _ = write!(s, "<tr><td>{}</td><td class=\"n\">{n}</td></tr>", esc(kind));
        }
        s.push_str("</table>");
    }
    s
}

fn details(r: &Report) -> String {
    let traffic = serde_json::to_string(&r.traffic).unwrap_or_default();
    format!(
        "<h2>Settings</h2><pre>traffic {}\nbatch {}  duration {}s  seed {}\ngenerator: worst dispatch lag {:.1} ms, {} late requests</pre>\
         <p>Latency is measured from each request's intended send time in open loop (corrected for coordinated omission), \
         from the actual send in closed loop. Produced by expressway-loadtest {}.</p>",
        esc(&traffic),
        r.batch,
        r.duration_secs,
        r.seed,
        r.generator.max_dispatch_lag_ms,
        r.generator.late_requests,
        esc(&r.machine.loadtest_version)
    )
}

fn chart(c: &Chart<'_>) -> String {
    let all = || c.series.iter().flat_map(|s| s.points.iter().copied());
    let ys = || all().map(|(_, y)| y).filter(|y| y.is_finite() && (!c.log_y || *y > 0.0));
    let (x_min, x_max) = match &c.x_ticks {
        Some(t) => (t.first().map_or(0.0, |t| t.0), t.last().map_or(1.0, |t| t.0)),
        None => (0.0, all().map(|(x, _)| x).fold(0.0, f64::max).max(1.0)),
    };
    let (y_min, y_max) = if c.log_y {
        let lo = ys().fold(f64::INFINITY, f64::min);
        let hi = ys().fold(0.0, f64::max);
        if lo.is_finite() && hi > 0.0 {
            (10f64.powf(lo.log10().floor()), 10f64.powf(hi.log10().ceil().max(lo.log10().floor() + 1.0)))
        } else {
            (1.0, 10.0)
        }
    } else {
        (0.0, nice_ceiling(ys().fold(0.0, f64::max)))
    };
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let px = |x: f64| LEFT + (x - x_min) / (x_max - x_min).max(f64::MIN_POSITIVE) * plot_w;
    let py = |y: f64| {
        let f = if c.log_y { (y.max(y_min).log10() - y_min.log10()) / (y_max.log10() - y_min.log10()) } else { y / y_max };
        TOP + plot_h * (1.0 - f.clamp(0.0, 1.0))
    };

    let mut s = String::new();
    let _ = write!(
        s,
        "<h2>{}</h2><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-size=\"11\">",
        esc(c.title)
    );
    // Horizontal grid and y labels.
    let y_ticks: Vec<f64> = if c.log_y {
        let (a, b) = (y_min.log10().round() as i32, y_max.log10().round() as i32);
        (a..=b).map(|e| 10f64.powi(e)).collect()
    } else {
        // 1 and 5 × 10^k split into fifths, 2 × 10^k into quarters: round labels either way.
        let mantissa = y_max / 10f64.powf(y_max.log10().floor());
        let parts = if (mantissa - 2.0).abs() < 1e-9 { 4 } else { 5 };
        (0..=parts).map(|k| y_max * k as f64 / parts as f64).collect()
    };
    for y in y_ticks {
        let (right, row, label_x) = (WIDTH - RIGHT, py(y), LEFT - 6.0);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{right:.1}\" y1=\"{row:.1}\" y2=\"{row:.1}\" stroke=\"#e5e5e5\"/>\
             <text x=\"{label_x:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            row + 4.0,
            esc(&(c.y_format)(y))
        );
    }
    let x_ticks = c.x_ticks.clone().unwrap_or_else(|| (0..=5).map(|k| x_max * k as f64 / 5.0).map(|x| (x, format!("{x:.0}"))).collect());
    for (x, label) in x_ticks {
        let _ = write!(s, "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>", px(x), HEIGHT - BOTTOM + 16.0, esc(&label));
    }
    let _ = write!(
        s,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"none\" stroke=\"#999\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text transform=\"translate(14 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
        LEFT + plot_w / 2.0,
        HEIGHT - 6.0,
        esc(c.x_label),
        TOP + plot_h / 2.0,
        esc(c.y_label)
    );
    for (i, series) in c.series.iter().enumerate() {
        let points: Vec<String> =
            series.points.iter().filter(|(_, y)| y.is_finite()).map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y))).collect();
        if !points.is_empty() {
            let dash = if series.dashed { " stroke-dasharray=\"5 4\"" } else { "" };
            let _ = write!(s, "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\"{dash} points=\"{}\"/>", series.color, points.join(" "));
        }
        let lx = LEFT + 10.0 + 110.0 * i as f64;
        let _ = write!(
            s,
            "<line x1=\"{lx:.1}\" x2=\"{:.1}\" y1=\"14\" y2=\"14\" stroke=\"{}\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"18\">{}</text>",
            lx + 18.0,
            series.color,
            lx + 22.0,
            esc(series.name)
        );
    }
    s.push_str("</svg>");
    s
}

/// The smallest 1, 2 or 5 × 10^k at or above `x` (1 for nothing to show).
fn nice_ceiling(x: f64) -> f64 {
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|v| *v >= x).unwrap_or(10.0 * magnitude)
}

/// Axis labels for latencies: `10µs`, `1ms`, `2.5ms`, `1s` (no trailing zeros).
fn fmt_us_axis(us: f64) -> String {
    let (v, unit) = if us < 1.0 {
        (us * 1_000.0, "ns")
    } else if us < 1_000.0 {
        (us, "µs")
    } else if us < 1_000_000.0 {
        (us / 1_000.0, "ms")
    } else {
        (us / 1_000_000.0, "s")
    };
    let text = format!("{v:.2}");
    format!("{}{unit}", text.trim_end_matches('0').trim_end_matches('.'))
}

fn fmt_count(x: f64) -> String {
    if x >= 1_000_000.0 {
        format!("{:.1}M", x / 1_000_000.0)
    } else if x >= 10_000.0 {
        format!("{:.0}k", x / 1_000.0)
    } else if x >= 1_000.0 {
        format!("{:.1}k", x / 1_000.0)
    } else {
        format!("{x:.0}")
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_helpers() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(1000.0), 1000.0);
        assert_eq!(fmt_count(2_600.0), "2.6k");
        assert_eq!(fmt_count(25_000.0), "25k");
        assert_eq!(fmt_us_axis(0.1), "100ns");
        assert_eq!(fmt_us_axis(10.0), "10µs");
        assert_eq!(fmt_us_axis(2_500.0), "2.5ms");
        assert_eq!(fmt_us_axis(1e6), "1s");
        assert_eq!(esc("<a&\">"), "&lt;a&amp;&quot;&gt;");
    }
}
