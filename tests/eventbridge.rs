//! The EventBridge pattern cases (`../shared/eventbridge/cases`, labelled by aws/event-ruler):
//! every case's validity and verdict, once with the pattern alone and once inside a matcher that
//! holds every other valid pattern of the corpus at the same time (so conditions and paths are
//! shared between rules). Needs the shared data; without it the test says so and checks nothing
//! (set `EXPRESSWAY_EVENTBRIDGE_DIR` to point elsewhere).

use std::path::PathBuf;

use expressway::events::{Matcher, Pattern, RuleId};

struct Case {
    name: String,
    pattern: String,
    event: String,
    valid: bool,
    matches: bool,
}

fn cases_dir() -> PathBuf {
    std::env::var_os("EXPRESSWAY_EVENTBRIDGE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eventbridge/cases"))
}

fn load_cases() -> Option<Vec<Case>> {
    let dir = cases_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("eventbridge cases not found at {}: skipping", dir.display());
        return None;
    };
    let mut files: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable case file");
        let list: serde_json::Value = serde_json::from_str(&text).expect("case file is JSON");
        for c in list.as_array().expect("case file is an array") {
            cases.push(Case {
                name: c["name"].as_str().expect("name").to_string(),
                pattern: c["pattern"].as_str().expect("pattern").to_string(),
                event: c["event"].as_str().expect("event").to_string(),
                valid: c["valid"].as_bool().expect("valid"),
                matches: c["matches"].as_bool().expect("matches"),
            });
        }
    }
    Some(cases)
}

#[test]
fn every_case_alone() {
    let Some(cases) = load_cases() else { return };
    assert!(cases.len() >= 2217, "expected the full corpus, found {}", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        match Pattern::parse(&c.pattern) {
            Err(e) if c.valid => failures.push(format!("{}: rejected valid pattern: {}", c.name, e.message)),
            Err(_) => {}
            Ok(_) if !c.valid => failures.push(format!("{}: accepted invalid pattern", c.name)),
            Ok(p) => match p.matches(&c.event) {
                Ok(m) if m != c.matches => failures.push(format!("{}: matches={m}, expected {}", c.name, c.matches)),
                Ok(_) => {}
                Err(e) => failures.push(format!("{}: event error {e}", c.name)),
            },
        }
    }
    assert!(failures.is_empty(), "{} of {} cases fail:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn every_case_among_all_other_rules() {
    let Some(cases) = load_cases() else { return };
    let mut matcher = Matcher::new();
    let mut ids: Vec<Option<RuleId>> = Vec::new();
    let mut distinct: Vec<String> = Vec::new();
    for c in &cases {
        let id = match Pattern::parse(&c.pattern) {
            Ok(p) => {
                let id = match distinct.iter().position(|d| *d == c.pattern) {
                    Some(i) => i,
                    None => {
                        distinct.push(c.pattern.clone());
                        matcher.add_rule((distinct.len() - 1) as RuleId, &p);
                        distinct.len() - 1
                    }
                };
                Some(id as RuleId)
            }
            Err(_) => None,
        };
        ids.push(id);
    }
    assert!(matcher.len() > 200, "the shared matcher should hold hundreds of rules, holds {}", matcher.len());
    let mut failures = Vec::new();
    for (c, id) in cases.iter().zip(&ids) {
        let Some(id) = id else { continue };
        let got = matcher.matches(&c.event).expect("event parses").contains(id);
        if got != c.matches {
            failures.push(format!("{}: matches={got}, expected {}", c.name, c.matches));
        }
    }
    assert!(failures.is_empty(), "{} cases fail in the shared matcher:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn removing_rules_leaves_the_others_intact() {
    let Some(cases) = load_cases() else { return };
    let valid: Vec<&Case> = cases.iter().filter(|c| c.valid).collect();
    let mut matcher = Matcher::new();
    for (i, c) in valid.iter().enumerate() {
        matcher.add_rule(i as RuleId, &Pattern::parse(&c.pattern).expect("valid"));
    }
    // Remove every other rule, then check the remaining ones still give their verdicts.
    for i in (0..valid.len()).step_by(2) {
        assert!(matcher.remove_rule(i as RuleId));
    }
    for (i, c) in valid.iter().enumerate().skip(1).step_by(2) {
        let got = matcher.matches(&c.event).expect("event parses").contains(&(i as RuleId));
        assert_eq!(got, c.matches, "{}", c.name);
    }
}
