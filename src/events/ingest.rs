//! NDJSON event lines, as `expressway run --bus` reads them on stdin and `POST /events` takes
//! them on the server: each line is a PutEvents entry (`{"Source", "DetailType", "Detail",
//! "Resources", "Time", "EventBusName"}`, `Detail` as JSON text or as an object) or an event
//! envelope (`{"source", "detail-type", "detail", "resources", "time", ...}`, whose `detail`
//! defaults to `{}`). An envelope names no bus; the reader decides which it goes to.
//!
//! The lines a sidecar sends by the thousand (strings, `Detail` as JSON text, no numbers) are
//! read with the event scanner, building nothing but the entry; every other line goes through
//! serde_json, which decides what is accepted and words the errors. Invariant: for any line
//! the fast reader takes, the result equals serde_json's (a property test checks that).

use std::borrow::Cow;

use serde_json::Value as Json;

use super::bus::EventEntry;
use super::scan::Scanner;
use crate::timestamp::Timestamp;

/// A PutEvents entry, or an event envelope, as one NDJSON line; the error says why the line
/// is neither.
pub fn entry_from_line(line: &str) -> Result<EventEntry, String> {
    match scan_entry(line) {
        Some(entry) => Ok(entry),
        None => entry_from_json(line),
    }
}

/// The members of a line the entry is made from; a later duplicate replaces an earlier one,
/// as in serde_json's map.
#[derive(Default)]
struct Members<'a> {
    // PutEvents entry names.
    source: Member<'a>,
    detail_type: Member<'a>,
    detail: Member<'a>,
    resources: Option<Vec<String>>,
    time: Member<'a>,
    bus: Member<'a>,
    // Envelope names.
    env_source: Member<'a>,
    env_detail_type: Member<'a>,
    env_detail: Member<'a>,
    env_resources: Option<Vec<String>>,
    env_time: Member<'a>,
}

/// A member: absent (`None`), or present with its string (`Some(None)` when not a string).
type Member<'a> = Option<Option<Cow<'a, str>>>;

/// [`entry_from_line`] for the lines the scanner reads exactly as serde_json would; `None`
/// sends the line to serde_json: any syntax error (whose message is serde_json's), a `\u`
/// escape (serde_json refuses lone surrogates), a number (serde_json refuses some the scanner
/// takes, such as `1e400`), a container other than `Resources` (serde_json limits nesting, and
/// an object `Detail` is re-serialised), a non-string `Detail`, or a line that is no entry or
/// whose `Time` does not parse (the error is worded there).
fn scan_entry(line: &str) -> Option<EventEntry> {
    if line.contains("\\u") {
        return None;
    }
    let mut s = Scanner::new(line);
    s.ws();
    if s.peek() != Some(b'{') {
        return None;
    }
    s.open().ok()?;
    let mut m = Members::default();
    if !s.empty(b'}') {
        loop {
            let key = s.key().ok()?;
            match &*key.text {
                "Source" => m.source = Some(scalar(&mut s)?),
                "DetailType" => m.detail_type = Some(scalar(&mut s)?),
                "Detail" => m.detail = Some(Some(scalar(&mut s)??)),
                "Resources" => m.resources = Some(strings(&mut s)?),
                "Time" => m.time = Some(string_or_null(&mut s)?),
                "EventBusName" => m.bus = Some(scalar(&mut s)?),
                "source" => m.env_source = Some(scalar(&mut s)?),
                "detail-type" => m.env_detail_type = Some(scalar(&mut s)?),
                "detail" => m.env_detail = Some(Some(scalar(&mut s)??)),
                "resources" => m.env_resources = Some(strings(&mut s)?),
                "time" => m.env_time = Some(string_or_null(&mut s)?),
                _ => {
                    scalar(&mut s)?;
                }
            }
            if !s.next_or_close(b'}').ok()? {
                break;
            }
        }
    }
    s.ws();
    if s.offset() != line.len() {
        return None;
    }
    let text = |member: Member| member.flatten().map(Cow::into_owned);
    // A `null` time is absent, as in serde_json's reading.
    let time = |member: Member| match member.flatten() {
        None => Some(None),
        Some(t) => Timestamp::parse(&t).map(|t| Some(t.epoch_millis())),
    };
    if m.source.is_some() || m.detail_type.is_some() || m.detail.is_some() {
        Some(EventEntry {
            time_ms: time(m.time)?,
            source: text(m.source),
            detail_type: text(m.detail_type),
            detail: text(m.detail),
            resources: m.resources.unwrap_or_default(),
            event_bus_name: text(m.bus),
        })
    } else if m.env_source.is_some() || m.env_detail_type.is_some() {
        Some(EventEntry {
            time_ms: time(m.env_time)?,
            source: text(m.env_source),
            detail_type: text(m.env_detail_type),
            detail: Some(text(m.env_detail).unwrap_or_else(|| "{}".into())),
            resources: m.env_resources.unwrap_or_default(),
            event_bus_name: None,
        })
    } else {
        None
    }
}

/// The string, `true`, `false` or `null` at the cursor (`Some(None)` for the last three); `None`
/// for anything else, which serde_json must read.
fn scalar<'a>(s: &mut Scanner<'a>) -> Option<Option<Cow<'a, str>>> {
    match s.peek()? {
        b'"' => s.string().ok().map(Some),
        b't' => s.literal("true").ok().map(|_| None),
        b'f' => s.literal("false").ok().map(|_| None),
        b'n' => s.literal("null").ok().map(|_| None),
        _ => None,
    }
}

/// A time member: its string, or `Some(None)` for `null`; `None` for anything else.
fn string_or_null<'a>(s: &mut Scanner<'a>) -> Option<Option<Cow<'a, str>>> {
    match s.peek()? {
        b'"' => s.string().ok().map(Some),
        b'n' => s.literal("null").ok().map(|_| None),
        _ => None,
    }
}

/// `Resources`: the strings of an array of scalars (others are dropped, as serde_json's reading
/// drops them), or none for a scalar; `None` for anything serde_json must read.
fn strings(s: &mut Scanner) -> Option<Vec<String>> {
    if s.peek()? != b'[' {
        return scalar(s).map(|_| Vec::new());
    }
    s.open().ok()?;
    let mut out = Vec::new();
    if s.empty(b']') {
        return Some(out);
    }
    loop {
        s.ws();
        if let Some(text) = scalar(s)? {
            out.push(text.into_owned());
        }
        if !s.next_or_close(b']').ok()? {
            return Some(out);
        }
    }
}

/// [`entry_from_line`] through serde_json: the reference reading, for every line.
fn entry_from_json(line: &str) -> Result<EventEntry, String> {
    let v: Json = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    let obj = v.as_object().ok_or("an event must be a JSON object")?;
    let text = |key: &str| obj.get(key).and_then(Json::as_str).map(str::to_string);
    let time = |key: &str| -> Result<Option<i64>, String> {
        match obj.get(key) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Number(n)) => n.as_f64().map(|s| Some((s * 1000.0) as i64)).ok_or_else(|| format!("{key} is not a time")),
            Some(Json::String(s)) => {
                Timestamp::parse(s).map(|t| Some(t.epoch_millis())).ok_or_else(|| format!("{key} is not an ISO 8601 time: {s}"))
            }
            Some(_) => Err(format!("{key} is not a time")),
        }
    };
    let resources = |key: &str| -> Vec<String> {
        obj.get(key)
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(|r| r.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    let detail = |key: &str| match obj.get(key) {
        Some(Json::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
        None => None,
    };
    if obj.contains_key("Source") || obj.contains_key("DetailType") || obj.contains_key("Detail") {
        Ok(EventEntry {
            source: text("Source"),
            detail_type: text("DetailType"),
            detail: detail("Detail"),
            resources: resources("Resources"),
            time_ms: time("Time")?,
            event_bus_name: text("EventBusName"),
        })
    } else if obj.contains_key("source") || obj.contains_key("detail-type") {
        Ok(EventEntry {
            source: text("source"),
            detail_type: text("detail-type"),
            detail: detail("detail").or_else(|| Some("{}".into())),
            resources: resources("resources"),
            time_ms: time("time")?,
            event_bus_name: None,
        })
    } else {
        Err("a line must be a PutEvents entry (Source, DetailType, Detail) or an event (source, detail-type, detail)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The fast reader either declines or agrees with serde_json.
    fn check_agrees(line: &str) -> Option<EventEntry> {
        let fast = scan_entry(line);
        if let Some(entry) = &fast {
            assert_eq!(Ok(entry), entry_from_json(line).as_ref(), "{line}");
        }
        fast
    }

    #[test]
    fn the_fast_reader_agrees_with_serde_json_or_declines() {
        let taken = [
            r#"{"Source": "iot", "DetailType": "t", "Detail": "{\"n\": 1}", "EventBusName": "b", "Time": "2020-01-01T00:00:00.5Z"}"#,
            r#" {"Source":"a","Resources":["r1",null,true,"r2"],"Time":null,"x":false,"Source":"b"} "#,
            r#"{"DetailType": "t", "Resources": "r"}"#,
            r#"{"Detail": "not an object, PutEvents says so"}"#,
            r#"{"source": "a", "detail-type": "t", "detail": "{}", "resources": [], "time": "2020-01-01T00:00:00Z"}"#,
            r#"{"source": null, "Other": "x"}"#,
            r#"{"Source": "tab\t and quote\" and slash\/", "Detail": "{\"a\":\"\\\\\"}"}"#,
        ];
        for line in taken {
            assert!(check_agrees(line).is_some(), "the fast reader declined {line}");
        }
        let declined = [
            "nope",
            "[1]",
            "{}",
            r#"{"x": 1}"#,
            r#"{"Source": "a", "Time": 1}"#,
            r#"{"Source": "a", "Time": true}"#,
            r#"{"Source": "a", "Time": "yesterday"}"#,
            r#"{"Source": "a", "Detail": {"n": 1}}"#,
            r#"{"Source": "a", "Detail": null}"#,
            r#"{"Source": "a", "x": [[[]]]}"#,
            r#"{"Source": "a", "x": 1e400}"#,
            r#"{"Source": "\ud800"}"#,
            r#"{"Source": "a"} x"#,
            r#"{"Source": "a",}"#,
            r#"{"Source": "a""#,
            r#"{"Source": "a", "Resources": [1]}"#,
        ];
        for line in declined {
            assert!(check_agrees(line).is_none(), "the fast reader took {line}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn the_fast_reader_never_disagrees(
            members in proptest::collection::vec((
                prop::sample::select(vec!["Source", "DetailType", "Detail", "Resources", "Time", "EventBusName",
                    "source", "detail-type", "detail", "resources", "time", "other"]),
                prop::sample::select(vec!["\"a\"", "\"{}\"", "\"{\\\"n\\\":1}\"", "\"[1]\"", "null", "true", "1",
                    "\"2020-01-01T00:00:00Z\"", "\"bad time\"", "[\"r\", 2, null]", "[]", "{\"k\": [1]}", "\"\\u00e9\"",
                    "\"\\n\"", "\"x", "tru"]),
            ), 0..6),
            spaces in prop::sample::select(vec!["", " ", "\t", " \r\n "]),
        ) {
            let body: Vec<String> = members.iter().map(|(k, v)| format!("{spaces}\"{k}\"{spaces}:{spaces}{v}{spaces}")).collect();
            check_agrees(&format!("{spaces}{{{}}}{spaces}", body.join(",")));
        }
    }

    #[test]
    fn entries_and_envelopes() {
        let e =
            entry_from_line(r#"{"Source": "a", "DetailType": "t", "Detail": {"n": 1}, "EventBusName": "b", "Time": 1}"#).unwrap();
        assert_eq!(
            (e.source.as_deref(), e.detail.as_deref(), e.event_bus_name.as_deref(), e.time_ms),
            (Some("a"), Some(r#"{"n":1}"#), Some("b"), Some(1000))
        );
        let e = entry_from_line(r#"{"source": "a", "detail-type": "t", "resources": ["r"], "time": "2020-01-01T00:00:00Z"}"#)
            .unwrap();
        assert_eq!((e.detail.as_deref(), e.resources.len(), e.event_bus_name), (Some("{}"), 1, None));
        for bad in ["nope", "[1]", r#"{"x": 1}"#, r#"{"source": "a", "time": "yesterday"}"#] {
            assert!(entry_from_line(bad).is_err(), "{bad}");
        }
    }
}
