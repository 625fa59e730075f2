//! NDJSON event lines, as `expressway run --bus` reads them on stdin and `POST /events` takes
//! them on the server: each line is a PutEvents entry (`{"Source", "DetailType", "Detail",
//! "Resources", "Time", "EventBusName"}`, `Detail` as JSON text or as an object) or an event
//! envelope (`{"source", "detail-type", "detail", "resources", "time", ...}`, whose `detail`
//! defaults to `{}`). An envelope names no bus; the reader decides which it goes to.

use serde_json::Value as Json;

use super::bus::EventEntry;
use crate::timestamp::Timestamp;

/// A PutEvents entry, or an event envelope, as one NDJSON line; the error says why the line
/// is neither.
pub fn entry_from_line(line: &str) -> Result<EventEntry, String> {
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
