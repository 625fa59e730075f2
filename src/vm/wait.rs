//! When a Wait state ends: `Seconds`, `SecondsPath`, `Timestamp`, `TimestampPath`, with AWS's
//! runtime causes for values that do not fit.

use crate::error::AslError;
use crate::program::WaitSpec;
use crate::value::Value;

use super::context::StateRoots;
use super::io::quote_raw;
use super::jsonata::{self, JEnv};

/// The wall time (epoch ms) the Wait state ends, given when it was entered.
pub(super) fn until_ms(spec: &WaitSpec, roots: &StateRoots, entered_ms: i64) -> Result<i64, AslError> {
    match spec {
        WaitSpec::SecondsExpr(t) => {
            let s = jsonata::eval_integer(t, &JEnv::new(roots, None, None))?;
            if s < 0 {
                return Err(AslError::query_evaluation(format!("The Seconds field must be a non-negative integer but was: {s}")));
            }
            Ok(entered_ms.saturating_add(s.saturating_mul(1000)))
        }
        WaitSpec::TimestampExpr(t) => {
            let text = jsonata::eval_string(t, &JEnv::new(roots, None, None))?;
            crate::timestamp::Timestamp::parse(&text).map(|ts| ts.epoch_millis()).ok_or_else(|| {
                AslError::query_evaluation(format!(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {text}"
                ))
            })
        }
        WaitSpec::Seconds(s) => Ok(entered_ms.saturating_add((*s as i64).saturating_mul(1000))),
        WaitSpec::Timestamp(ms) => Ok(*ms),
        WaitSpec::SecondsPath(p) => {
            let v = p.resolve(roots).map_err(|_| {
                AslError::runtime(format!("The SecondsPath parameter does not reference an input value: {}", p.source()))
            })?;
            let seconds = match &v {
                Value::Number(n) => n.as_i64().or_else(|| match n {
                    crate::value::Number::UInt(u) => i64::try_from(*u).ok(),
                    _ => None,
                }),
                _ => None,
            };
            match seconds {
                Some(s) if s < 0 => Err(AslError::runtime(format!(
                    "The SecondsPath parameter references a negative value: {} == {}",
                    p.source(),
                    quote_raw(&v)
                ))),
                Some(s) => Ok(entered_ms.saturating_add(s.saturating_mul(1000))),
                None => Err(AslError::runtime(format!(
                    "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                    p.source(),
                    quote_raw(&v)
                ))),
            }
        }
        WaitSpec::TimestampPath(p) => {
            let v = p.resolve(roots).map_err(|_| {
                AslError::runtime(format!("The TimestampPath parameter does not reference an input value: {}", p.source()))
            })?;
            match v.as_str().and_then(crate::timestamp::Timestamp::parse) {
                Some(ts) => Ok(ts.epoch_millis()),
                None => Err(AslError::runtime(format!(
                    "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                    p.source(),
                    quote_raw(&v)
                ))),
            }
        }
    }
}
