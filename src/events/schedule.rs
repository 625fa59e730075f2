//! EventBridge schedule expressions: `rate(N minute|minutes|hour|hours|day|days)` and
//! `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, in UTC, and when each fires next.
//!
//! Cron fields take numbers, `*`, lists (`,`), ranges (`-`), steps (`/`), month names
//! (`JAN`–`DEC`) and day names (`SUN`–`SAT`, 1 = Sunday); exactly one of day-of-month and
//! day-of-week is `?`. Day-of-month also takes `L` (last day), `nW` (the weekday nearest day n,
//! within the month) and `LW` (the last weekday); day-of-week takes `nL` (the last day n of the
//! month) and `n#k` (the k-th day n of the month). Anything else is refused with AWS's
//! "Parameter ScheduleExpression is not valid." message.
//!
//! Invariant: [`Schedule::next_after`] is strictly later than its argument, on a whole minute
//! (cron) or a whole number of periods after the rule's creation (rate), or `None` when a cron's
//! years run out.

use crate::timestamp::{civil_from_days, days_from_civil};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
/// AWS's cron years.
const FIRST_YEAR: i64 = 1970;
const LAST_YEAR: i64 = 2199;

/// A parsed schedule expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Every `period_ms`, counted from `start_ms` (when the rule was created).
    Rate {
        period_ms: i64,
        start_ms: i64,
    },
    Cron(Box<Cron>),
}

/// The error AWS gives for any schedule expression it cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Parameter ScheduleExpression is not valid.")]
pub struct ScheduleError;

/// How a cron's day is chosen.
#[derive(Debug, Clone, PartialEq)]
enum Days {
    /// Days of the month (bit d = day d), `?` in day-of-week.
    Month(u32),
    LastDayOfMonth,
    NearestWeekday(u32),
    LastWeekday,
    /// Days of the week (bit d: 1 = Sunday … 7 = Saturday), `?` in day-of-month.
    Week(u8),
    /// The last given weekday (1–7) of the month.
    LastOfWeek(u8),
    /// The k-th given weekday of the month: (weekday 1–7, k 1–5).
    NthOfWeek(u8, u8),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    months: u16,
    days: Days,
    /// Bit y - 1970 for each allowed year.
    years: Vec<bool>,
}

impl Schedule {
    /// Parses an expression; `now_ms` starts a rate's periods.
    pub fn parse(text: &str, now_ms: i64) -> Result<Schedule, ScheduleError> {
        let text = text.trim();
        if let Some(body) = text.strip_prefix("rate(").and_then(|t| t.strip_suffix(')')) {
            let (n, unit) = body.trim().split_once(' ').ok_or(ScheduleError)?;
            let n: i64 = n.parse().map_err(|_| ScheduleError)?;
            let unit_ms = match (unit.trim(), n) {
                ("minute", 1) | ("minutes", 2..) => MINUTE_MS,
                ("hour", 1) | ("hours", 2..) => 60 * MINUTE_MS,
                ("day", 1) | ("days", 2..) => DAY_MS,
                _ => return Err(ScheduleError),
            };
            let period_ms = n.checked_mul(unit_ms).ok_or(ScheduleError)?;
            return Ok(Schedule::Rate { period_ms, start_ms: now_ms });
        }
        if let Some(body) = text.strip_prefix("cron(").and_then(|t| t.strip_suffix(')')) {
            return Cron::parse(body).map(|c| Schedule::Cron(Box::new(c)));
        }
        Err(ScheduleError)
    }

    /// The first firing strictly after `after_ms`.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        match self {
            Schedule::Rate { period_ms, start_ms } => {
                let periods = (after_ms - start_ms).div_euclid(*period_ms) + 1;
                Some(start_ms + periods.max(1) * period_ms)
            }
            Schedule::Cron(c) => c.next_after(after_ms),
        }
    }
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// One value of a field: a number in `min..=max`, or a name.
fn value(text: &str, min: u32, max: u32, names: &[&str]) -> Result<u32, ScheduleError> {
    let upper = text.to_ascii_uppercase();
    let n = match names.iter().position(|n| *n == upper) {
        Some(i) => i as u32 + min,
        None => text.parse().map_err(|_| ScheduleError)?,
    };
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(ScheduleError)
    }
}

/// A field of `*`, values, ranges and steps, as the set of allowed values.
fn field(text: &str, min: u32, max: u32, names: &[&str]) -> Result<Vec<bool>, ScheduleError> {
    let mut allowed = vec![false; max as usize + 1];
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0).ok_or(ScheduleError)?),
            None => (part, 1),
        };
        let (lo, hi) = match range {
            "*" => (min, max),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a, min, max, names)?, value(b, min, max, names)?),
                // `5/10` runs from 5 to the end, as `5-max/10`.
                None if part.contains('/') => (value(r, min, max, names)?, max),
                None => {
                    let v = value(r, min, max, names)?;
                    (v, v)
                }
            },
        };
        if lo > hi {
            return Err(ScheduleError);
        }
        for v in (lo..=hi).step_by(step as usize) {
            allowed[v as usize] = true;
        }
    }
    Ok(allowed)
}

fn bits(allowed: &[bool]) -> u64 {
    allowed.iter().enumerate().filter(|(_, a)| **a).fold(0, |acc, (i, _)| acc | 1 << i)
}

impl Cron {
    fn parse(body: &str) -> Result<Cron, ScheduleError> {
        let fields: Vec<&str> = body.split_whitespace().collect();
        let [minutes, hours, dom, month, dow, year] = fields[..] else { return Err(ScheduleError) };
        let days = match (dom, dow) {
            ("?", "?") => return Err(ScheduleError),
            ("?", dow) => {
                if let Some(n) = dow.strip_suffix('L') {
                    Days::LastOfWeek(value(n, 1, 7, &WEEKDAYS)? as u8)
                } else if let Some((d, k)) = dow.split_once('#') {
                    let k = k.parse::<u8>().ok().filter(|k| (1..=5).contains(k)).ok_or(ScheduleError)?;
                    Days::NthOfWeek(value(d, 1, 7, &WEEKDAYS)? as u8, k)
                } else {
                    Days::Week(bits(&field(dow, 1, 7, &WEEKDAYS)?) as u8)
                }
            }
            (dom, "?") => match dom {
                "L" => Days::LastDayOfMonth,
                "LW" => Days::LastWeekday,
                d if d.ends_with('W') => Days::NearestWeekday(value(&d[..d.len() - 1], 1, 31, &[])?),
                d => Days::Month(bits(&field(d, 1, 31, &[])?) as u32),
            },
            _ => return Err(ScheduleError),
        };
        let years = field(year, FIRST_YEAR as u32, LAST_YEAR as u32, &[])?.split_off(FIRST_YEAR as usize);
        Ok(Cron {
            minutes: bits(&field(minutes, 0, 59, &[])?),
            hours: bits(&field(hours, 0, 23, &[])?) as u32,
            months: bits(&field(month, 1, 12, &MONTHS)?) as u16,
            days,
            years,
        })
    }

    fn year_allowed(&self, y: i64) -> bool {
        usize::try_from(y - FIRST_YEAR).ok().and_then(|i| self.years.get(i)).copied().unwrap_or(false)
    }

    /// Whether the day `days` (since 1970-01-01) is one the cron fires on.
    fn day_allowed(&self, days: i64) -> bool {
        let (y, m, d) = civil_from_days(days);
        if !self.year_allowed(y) || self.months & (1 << m) == 0 {
            return false;
        }
        let last = days_in_month(y, m);
        // 1 = Sunday … 7 = Saturday; 1970-01-01 was a Thursday.
        let weekday = |day: i64| ((days_from_civil(y, m, day) + 4).rem_euclid(7) + 1) as u8;
        let is_weekday = |day: i64| (2..=6).contains(&weekday(day));
        match self.days {
            Days::Month(set) => set & (1 << d) != 0,
            Days::LastDayOfMonth => d == last,
            Days::NearestWeekday(n) => {
                let n = i64::from(n).min(last);
                let nearest = if is_weekday(n) {
                    n
                } else if weekday(n) == 7 {
                    // Saturday: the Friday before, or the Monday after when n is the 1st.
                    if n == 1 {
                        3
                    } else {
                        n - 1
                    }
                } else if n == last {
                    // Sunday at the month's end: the Friday before.
                    n - 2
                } else {
                    n + 1
                };
                d == nearest
            }
            Days::LastWeekday => d == (last - 2..=last).rev().find(|&day| is_weekday(day)).unwrap_or(last),
            Days::Week(set) => set & (1 << weekday(d)) != 0,
            Days::LastOfWeek(w) => weekday(d) == w && d + 7 > last,
            Days::NthOfWeek(w, k) => weekday(d) == w && (d - 1) / 7 + 1 == i64::from(k),
        }
    }

    fn next_after(&self, after_ms: i64) -> Option<i64> {
        let start = after_ms.div_euclid(MINUTE_MS) + 1;
        let mut day = start.div_euclid(1440);
        let mut from_minute = start.rem_euclid(1440);
        let last_day = days_from_civil(LAST_YEAR, 12, 31);
        while day <= last_day {
            if self.day_allowed(day) {
                for minute_of_day in from_minute..1440 {
                    let (h, m) = (minute_of_day / 60, minute_of_day % 60);
                    if self.hours & (1 << h) != 0 && self.minutes & (1 << m) != 0 {
                        return Some((day * 1440 + minute_of_day) * MINUTE_MS);
                    }
                }
            }
            day += 1;
            from_minute = 0;
        }
        None
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    let next = if m == 12 { days_from_civil(y + 1, 1, 1) } else { days_from_civil(y, m + 1, 1) };
    next - days_from_civil(y, m, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timestamp::Timestamp;

    fn ms(iso: &str) -> i64 {
        Timestamp::parse(iso).unwrap().epoch_millis()
    }

    fn next(expr: &str, after: &str) -> String {
        let s = Schedule::parse(expr, ms("2024-01-01T00:00:00Z")).unwrap();
        crate::timestamp::format_iso(s.next_after(ms(after)).unwrap())
    }

    #[test]
    fn rates_count_periods_from_creation() {
        assert_eq!(next("rate(5 minutes)", "2024-01-01T00:00:00Z"), "2024-01-01T00:05:00.000Z");
        assert_eq!(next("rate(5 minutes)", "2024-01-01T00:07:30Z"), "2024-01-01T00:10:00.000Z");
        assert_eq!(next("rate(1 hour)", "2023-12-31T00:00:00Z"), "2024-01-01T01:00:00.000Z");
        assert_eq!(next("rate(2 days)", "2024-01-02T12:00:00Z"), "2024-01-03T00:00:00.000Z");
    }

    #[test]
    fn crons_fire_on_the_next_matching_minute() {
        for (expr, after, want) in [
            ("cron(0 12 * * ? *)", "2024-01-01T12:00:00Z", "2024-01-02T12:00:00.000Z"),
            ("cron(0/15 * * * ? *)", "2024-01-01T10:16:00Z", "2024-01-01T10:30:00.000Z"),
            ("cron(0 18 ? * MON-FRI *)", "2024-01-05T18:00:00Z", "2024-01-08T18:00:00.000Z"),
            ("cron(0 8 1 * ? *)", "2024-01-15T00:00:00Z", "2024-02-01T08:00:00.000Z"),
            ("cron(0 0 L * ? *)", "2024-02-01T00:00:00Z", "2024-02-29T00:00:00.000Z"),
            ("cron(0 0 LW * ? *)", "2024-03-01T00:00:00Z", "2024-03-29T00:00:00.000Z"),
            ("cron(0 0 1W * ? *)", "2024-05-15T00:00:00Z", "2024-06-03T00:00:00.000Z"),
            ("cron(0 0 ? * 6L *)", "2024-01-01T00:00:00Z", "2024-01-26T00:00:00.000Z"),
            ("cron(0 10 ? * 2#1 *)", "2024-01-01T10:00:00Z", "2024-02-05T10:00:00.000Z"),
            ("cron(30 9 ? JAN,JUL SUN 2025)", "2024-01-01T00:00:00Z", "2025-01-05T09:30:00.000Z"),
        ] {
            assert_eq!(next(expr, after), want, "{expr}");
        }
        let ended = Schedule::parse("cron(0 0 1 1 ? 2020)", 0).unwrap();
        assert_eq!(ended.next_after(ms("2024-01-01T00:00:00Z")), None);
    }

    #[test]
    fn invalid_expressions_are_refused() {
        for bad in [
            "rate(1 minutes)",
            "rate(5 minute)",
            "rate(0 minutes)",
            "rate(-1 minutes)",
            "rate(5 weeks)",
            "rate(5)",
            "cron(0 12 * * * *)",
            "cron(0 12 ? * ? *)",
            "cron(0 12 * *)",
            "cron(60 * * * ? *)",
            "cron(0 24 * * ? *)",
            "cron(0 0 32 * ? *)",
            "cron(0 0 ? * 8 *)",
            "cron(0 0 ? * 2#6 *)",
            "cron(0 0 * * ? 1969)",
            "cron(5-1 * * * ? *)",
            "every 5 minutes",
        ] {
            assert_eq!(Schedule::parse(bad, 0), Err(ScheduleError), "{bad}");
        }
    }
}
