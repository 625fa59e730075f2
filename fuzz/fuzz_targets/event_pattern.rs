//! bytes = pattern text, NUL, event text → `Pattern::parse`; a valid pattern is matched against
//! the event alone and inside a `Matcher` (which skips fields and files rules by selectivity):
//! both must give the same verdict, or the same refusal of a malformed event.
#![no_main]
use expressway::events::{Matcher, Pattern};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (pattern, event) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &br#"{"source":"a","detail":{"n":5,"s":"x","l":[1,"y",{"k":null}]}}"#[..]),
    };
    let (Ok(pattern), Ok(event)) = (std::str::from_utf8(pattern), std::str::from_utf8(event)) else { return };
    let Ok(p) = Pattern::parse(pattern) else { return };
    let alone = p.matches(event);
    let mut matcher = Matcher::new();
    matcher.add_rule(7, &p);
    let together = matcher.matches(event).map(|ids| ids.contains(&7));
    match (&alone, &together) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "pattern {pattern:?} event {event:?}"),
        (Err(_), Err(_)) => {}
        _ => panic!("one refused the event, the other did not: {alone:?} / {together:?} for {pattern:?} {event:?}"),
    }
    assert!(matcher.remove_rule(7));
    assert!(matcher.is_empty());
});
