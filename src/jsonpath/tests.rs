//! Unit tests for JSONPath: every feature, every miss message, recorded AWS cases, and
//! no-panic fuzzing of `Path::parse` / `select` / `assign` with a seeded generator.

use super::*;
use crate::value::parse_str;

fn json(text: &str) -> Value {
    parse_str(text).expect("test JSON")
}

fn sel(path: &str, input: &str) -> Result<String, String> {
    let p = Path::parse(path).map_err(|e| format!("syntax: {e}"))?;
    p.select(&json(input)).map(|v| v.to_json()).map_err(|m| m.message)
}

fn ok(path: &str, input: &str) -> String {
    sel(path, input).unwrap_or_else(|e| panic!("{path} on {input}: {e}"))
}

fn err(path: &str, input: &str) -> String {
    match sel(path, input) {
        Ok(v) => panic!("{path} on {input} unexpectedly gave {v}"),
        Err(e) => e,
    }
}

const STORE: &str = r#"{"store":{"book":[
 {"category":"reference","author":"Nigel Rees","title":"Sayings","price":8.95},
 {"category":"fiction","author":"Evelyn Waugh","title":"Sword","price":12.99},
 {"category":"fiction","author":"Herman Melville","title":"Moby Dick","isbn":"0-553","price":8.99},
 {"category":"fiction","author":"J. R. R. Tolkien","title":"LOTR","isbn":"0-395","price":22.99}],
 "bicycle":{"color":"red","price":19.95}},"expensive":10}"#;

#[test]
fn roots() {
    let p = Path::parse("$").unwrap();
    assert_eq!(p.root(), &Root::Input);
    assert!(p.is_definite() && p.is_root_only());
    assert_eq!(ok("$", r#"{"a":1}"#), r#"{"a":1}"#);
    assert_eq!(Path::parse("$$").unwrap().root(), &Root::Context);
    assert_eq!(Path::parse("$$.Execution.Id").unwrap().root(), &Root::Context);
    assert_eq!(Path::parse("$myVar.a").unwrap().root(), &Root::Variable("myVar".into()));
    assert_eq!(Path::parse("$x").unwrap().root(), &Root::Variable("x".into()));
    assert_eq!(Path::parse("$über_1").unwrap().root(), &Root::Variable("über_1".into()));
    assert!(Path::parse("a.b").is_err());
    assert!(Path::parse("").is_err());
}

#[test]
fn display_and_normalized() {
    let p = Path::parse("$.a['b c'][0].d").unwrap();
    assert_eq!(p.to_string(), "$.a['b c'][0].d");
    assert_eq!(p.source(), "$.a['b c'][0].d");
    assert_eq!(p.jayway_normalized(), "$['a']['b c'][0]['d']");
    assert_eq!(Path::parse("$$.Execution.Input").unwrap().jayway_normalized(), "$['Execution']['Input']");
}

#[test]
fn members_dot_and_bracket() {
    let input = r#"{"a":{"b":1},"a b":2,"x":3,"a-b":4,"é":5,"$":6,"k.l":7}"#;
    assert_eq!(ok("$.a.b", input), "1");
    assert_eq!(ok("$['a']['b']", input), "1");
    assert_eq!(ok("$['a b']", input), "2");
    assert_eq!(ok(r#"$["x"]"#, input), "3");
    assert_eq!(ok("$.a-b", input), "4");
    assert_eq!(ok("$.é", input), "5");
    assert_eq!(ok("$['é']", input), "5");
    assert_eq!(ok("$['$']", input), "6");
    assert_eq!(ok("$['k.l']", input), "7");
    assert_eq!(ok("$[ 'a' ].b", input), "1");
    assert_eq!(ok("$.['a'].b", input), "1");
}

#[test]
fn bracket_names_keep_backslashes_like_aws() {
    // Recorded: test_escape_sequence_parsing__ESCAPE_SEQUENCES_JSONPATH.
    let input = r#"{"Test\\\"\"Name\"": "Value\"\\"}"#;
    assert_eq!(ok(r#"$['Test\""Name"']"#, input), r#""Value\"\\""#);
}

#[test]
fn indices() {
    let input = r#"{"items":[{"k":0},{"k":1},{"k":2}]}"#;
    assert_eq!(ok("$.items[0]", input), r#"{"k":0}"#);
    assert_eq!(ok("$.items[2].k", input), "2");
    assert_eq!(ok("$.items[-1].k", input), "2");
    assert_eq!(ok("$.items[-3].k", input), "0");
    assert_eq!(ok("$[1]", "[5,6]"), "6");
    assert_eq!(err("$.items[3]", input), "No results for path: $['items'][3]");
    assert_eq!(err("$.items[-4]", input), "No results for path: $['items'][-4]");
    assert_eq!(err("$.items[5].k", input), "No results for path: $['items'][5]['k']");
}

#[test]
fn unions() {
    let input = r#"{"a":1,"b":2,"arr":[10,20,30]}"#;
    assert_eq!(ok("$.arr[0,2]", input), "[10,30]");
    assert_eq!(ok("$.arr[2, 0, 9]", input), "[30,10]");
    // Jayway merges a trailing name union into one object (and calls it definite).
    assert!(Path::parse("$['a','b']").unwrap().is_definite());
    assert_eq!(ok("$['a','b']", input), r#"{"a":1,"b":2}"#);
    assert_eq!(ok("$['a','zz']", input), r#"{"a":1}"#);
    assert_eq!(ok(r#"$[*]['x','y']"#, r#"[{"x":1,"y":2,"z":3},{"x":4}]"#), r#"[{"x":1,"y":2},{"x":4}]"#);
    assert_eq!(ok("$['a','b'].c", r#"{"a":{"c":1},"b":{"c":2}}"#), "[1,2]");
}

#[test]
fn slices() {
    let input = r#"{"a":[0,1,2,3,4,5,6]}"#;
    assert_eq!(ok("$.a[1:5]", input), "[1,2,3,4]");
    assert_eq!(ok("$.a[:2]", input), "[0,1]");
    assert_eq!(ok("$.a[-2:]", input), "[5,6]");
    assert_eq!(ok("$.a[5:]", input), "[5,6]");
    assert_eq!(ok("$.a[:-5]", input), "[0,1]");
    assert_eq!(ok("$.a[2:100]", input), "[2,3,4,5,6]");
    assert_eq!(ok("$.a[-100:2]", input), "[0,1]");
    assert_eq!(ok("$.a[4:2]", input), "[]");
    assert_eq!(ok("$.a[0:6:2]", input), "[0,1,2,3,4,5]"); // step ignored, as Jayway
    assert!(!Path::parse("$.a[1:2]").unwrap().is_definite());
}

#[test]
fn wildcards() {
    let input = r#"{"o":{"x":1,"y":[2]},"a":[{"v":1},{"v":2},{"w":3}]}"#;
    assert_eq!(ok("$.o.*", input), "[1,[2]]");
    assert_eq!(ok("$.o[*]", input), "[1,[2]]");
    assert_eq!(ok("$.a[*].v", input), "[1,2]");
    assert_eq!(ok("$.a.*.v", input), "[1,2]");
    assert_eq!(ok("$.o.x.*", input), "[]");
    assert_eq!(ok("$[*]", "{}"), "[]");
}

#[test]
fn indefinite_paths_on_missing_input_give_empty_arrays() {
    // Recorded: test_json_path_array_wildcard_or_slice_with_no_input__* (all on input {}).
    for path in [
        "$.item.items[1:5].itemValue",
        "$.item.items[1:5]",
        "$.item.items[1:]",
        "$.item.items[:1]",
        "$.item.items[*]",
        "$.items[1:].itemValue",
        "$.items[1:]",
        "$.items[*].itemValue",
        "$.items[:1].itemValue",
        "$.items[:1]",
        "$.items[*]",
        "$[*]",
    ] {
        assert_eq!(ok(path, "{}"), "[]", "{path}");
    }
    assert_eq!(ok("$.a.b[*]", r#"{"a":"str"}"#), "[]");
}

#[test]
fn deep_scan() {
    assert_eq!(
        ok("$..author", STORE),
        r#"["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]"#
    );
    assert_eq!(ok("$.store..price", STORE), "[8.95,12.99,8.99,22.99,19.95]");
    assert_eq!(ok("$..book[2].title", STORE), r#"["Moby Dick"]"#);
    assert_eq!(ok("$..book[-1].isbn", STORE), r#"["0-395"]"#);
    assert_eq!(ok("$..['color','price']", r#"{"b":{"color":"red","price":1}}"#), r#"[{"color":"red","price":1}]"#);
    assert_eq!(ok("$..[0]", r#"{"a":[1,[2,3]],"b":{"c":[4]}}"#), "[1,2,4]");
    assert_eq!(ok("$..*", r#"{"a":{"b":1},"c":[2]}"#), r#"[{"b":1},[2],1,2]"#);
    assert_eq!(ok("$..missing", STORE), "[]");
    assert_eq!(ok("$..book[?(@.isbn)].title", STORE), r#"["Moby Dick","LOTR"]"#);
    assert_eq!(ok("$..[?(@.price > 20)].title", STORE), r#"["LOTR"]"#);
}

#[test]
fn filters() {
    // Recorded: test_state_pass_regex_json_path_base.
    let users = r#"{"users":[{"year":1997,"status":0},{"year":1998,"status":1}]}"#;
    assert_eq!(ok("$.users[?(@.status == 0)]", users), r#"[{"year":1997,"status":0}]"#);
    assert_eq!(ok("$.users[?(@.status==0)].year", users), "[1997]");
    assert_eq!(ok("$.users[?(@.status != 0)].year", users), "[1998]");
    assert_eq!(ok("$.users[?(@.year < 1998)].year", users), "[1997]");
    assert_eq!(ok("$.users[?(@.year <= 1998)].year", users), "[1997,1998]");
    assert_eq!(ok("$.users[?(@.year > 1997)].year", users), "[1998]");
    assert_eq!(ok("$.users[?(@.year >= 1999)].year", users), "[]");
    assert_eq!(ok("$.users[?(@.year > 1996 && @.status == 1)].year", users), "[1998]");
    assert_eq!(ok("$.users[?(@.year == 1997 || @.status == 1)].year", users), "[1997,1998]");
    assert_eq!(ok("$.users[?(!(@.status == 0))].year", users), "[1998]");
    assert_eq!(ok("$.users[?((@.status == 0 || @.status == 1) && @.year > 1997)].year", users), "[1998]");
    assert_eq!(ok("$.store.book[?(@.isbn)].title", STORE), r#"["Moby Dick","LOTR"]"#);
    assert_eq!(ok("$.store.book[?(!@.isbn)].title", STORE), r#"["Sayings","Sword"]"#);
    assert_eq!(ok("$.store.book[?(@.category == 'reference')].title", STORE), r#"["Sayings"]"#);
    assert_eq!(ok(r#"$.store.book[?(@.category == "reference")].title"#, STORE), r#"["Sayings"]"#);
    assert_eq!(ok("$.store.book[?(@.price < $.expensive)].price", STORE), "[8.95,8.99]");
    assert_eq!(ok("$.store.book[?(@.author in ['Nigel Rees','x'])].price", STORE), "[8.95]");
    assert_eq!(ok("$.store.book[?(@.price nin [8.95, 8.99])].price", STORE), "[12.99,22.99]");
    let mixed = r#"[{"v":true},{"v":null},{"v":"a"},{"v":1},{"v":1.0},{"v":"1"},{}]"#;
    assert_eq!(ok("$[?(@.v == true)]", mixed), r#"[{"v":true}]"#);
    assert_eq!(ok("$[?(@.v == null)]", mixed), r#"[{"v":null}]"#);
    assert_eq!(ok("$[?(@.v == 1)]", mixed), r#"[{"v":1},{"v":1.0},{"v":"1"}]"#);
    assert_eq!(ok("$[?(@.v > 'a')]", mixed), "[]");
    assert_eq!(ok("$[?(@.v >= 'a')]", mixed), r#"[{"v":"a"}]"#);
    // A missing operand is undefined: only != holds.
    assert_eq!(ok("$[?(@.v != 1)]", mixed), r#"[{"v":true},{"v":null},{"v":"a"},{}]"#);
    assert_eq!(ok("$[?(@ > 2)]", "[1,2,3,4]"), "[3,4]");
    // On an object the filter tests the object itself.
    assert_eq!(ok("$.o[?(@.a == 1)]", r#"{"o":{"a":1}}"#), r#"[{"a":1}]"#);
    assert_eq!(ok("$.x[?(@.a == 1)]", r#"{"x":5}"#), "[]");
    assert!(Path::parse("$[?(@.a =~ /x/)]").is_err());
    assert!(Path::parse("$[?(@.a == )]").is_err());
    assert!(Path::parse("$[?(@.a == 1]").is_err());
}

#[test]
fn functions_are_plain_names_like_aws() {
    // awsdocs/aws-step-functions-developer-guide PR #5: AWS answers "Property ['length()'] not
    // found" for `$.list.length()`; functions select nothing.
    assert!(err("$.list.length()", r#"{"list":[1,2]}"#).contains("['length()']"));
    assert_eq!(err("$.o.length()", r#"{"o":{"a":1}}"#), "No results for path: $['o']['length()']");
    assert_eq!(ok("$[?(@.length > 1)]", "[[1,2,3]]"), "[]");
}

#[test]
fn miss_messages_match_aws() {
    // Recorded: test_invalid_jsonpath__ST.INVALID_JSONPATH_IN_INPUTPATH / _OUTPUTPATH.
    assert_eq!(err("$.NoSuchInputPath", r#"{"int-literal":0}"#), "No results for path: $['NoSuchInputPath']");
    // Recorded: test_catch_states_runtime (OutputPath on a missing chain).
    assert_eq!(err("$.no.such.result.path", "{}"), "Missing property in path $['no']");
    assert_eq!(err("$.a.b.c", r#"{"a":{}}"#), "Missing property in path $['a']['b']");
    assert_eq!(err("$.a.b", r#"{"a":{}}"#), "No results for path: $['a']['b']");
    assert_eq!(
        err("$.a.b", r#"{"a":"str"}"#),
        "Expected to find an object with property ['b'] in path $['a'] but found 'java.lang.String'. \
         This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'."
    );
    assert!(err("$.a.b", r#"{"a":null}"#).contains("but found 'null'"));
    assert!(err("$.a", "[1]").contains("in path $ but found 'java.util.ArrayList'"));
    assert!(err("$.a.b", r#"{"a":1}"#).contains("'java.lang.Integer'"));
    assert_eq!(err("$.a[0]", r#"{"a":{"x":1}}"#), "Filter: [0] can only be applied to arrays. Current context is: {x=1}");
    assert_eq!(err("$.a[0]", r#"{"a":null}"#), "The path $['a'] is null");
}

#[test]
fn resolve_uses_roots() {
    struct R(Value, Value);
    impl Roots for R {
        fn input(&self) -> &Value {
            &self.0
        }
        fn context(&self) -> Value {
            self.1.clone()
        }
        fn variable(&self, name: &str) -> Option<Value> {
            (name == "v").then(|| json(r#"{"k":[7]}"#))
        }
    }
    let roots = R(json(r#"{"a":1}"#), json(r#"{"Execution":{"Name":"n"}}"#));
    assert_eq!(Path::parse("$.a").unwrap().resolve(&roots).unwrap().to_json(), "1");
    assert_eq!(Path::parse("$$.Execution.Name").unwrap().resolve(&roots).unwrap().to_json(), r#""n""#);
    assert_eq!(Path::parse("$v.k[0]").unwrap().resolve(&roots).unwrap().to_json(), "7");
    assert_eq!(Path::parse("$v").unwrap().resolve(&roots).unwrap().to_json(), r#"{"k":[7]}"#);
    assert!(Path::parse("$w").unwrap().resolve(&roots).is_err());
}

#[test]
fn selection_shares_storage() {
    let input = json(r#"{"a":{"b":[1,2,3]}}"#);
    let picked = Path::parse("$.a.b").unwrap().select(&input).unwrap();
    match (&picked, input.get("a").and_then(|a| a.get("b"))) {
        (Value::Array(x), Some(Value::Array(y))) => assert!(std::sync::Arc::ptr_eq(x, y)),
        _ => panic!("not arrays"),
    }
}

fn assign(path: &str, target: &str, value: &str) -> Result<String, String> {
    Path::parse(path).unwrap().assign(json(target), json(value)).map(|v| v.to_json()).map_err(|(m, _)| m.message)
}

#[test]
fn result_path_assignment() {
    assert_eq!(assign("$", r#"{"a":1}"#, "[1]").unwrap(), "[1]");
    assert_eq!(assign("$.r", r#"{"a":1}"#, "2").unwrap(), r#"{"a":1,"r":2}"#);
    assert_eq!(assign("$.a", r#"{"a":1,"b":2}"#, "3").unwrap(), r#"{"a":3,"b":2}"#);
    assert_eq!(assign("$.x.y.z", r#"{"a":1}"#, "true").unwrap(), r#"{"a":1,"x":{"y":{"z":true}}}"#);
    assert_eq!(assign("$.x.y", r#"{"x":{"k":0}}"#, "1").unwrap(), r#"{"x":{"k":0,"y":1}}"#);
    assert_eq!(assign("$['a b'].c", "{}", "1").unwrap(), r#"{"a b":{"c":1}}"#);
    assert_eq!(assign("$.l[1]", r#"{"l":[0,0]}"#, "9").unwrap(), r#"{"l":[0,9]}"#);
    assert_eq!(
        assign("$.x.y", r#"{"x":"s"}"#, "1").unwrap_err(),
        "Expected to find an object with property ['y'] in path $['x'] but found 'java.lang.String'. \
         This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'."
    );
    assert!(assign("$.a", "[1,2]", "1").unwrap_err().contains("in path $ but found 'java.util.ArrayList'"));
    assert!(assign("$.a", r#""text""#, "1").unwrap_err().contains("'java.lang.String'"));
    assert_eq!(assign("$.l[5]", r#"{"l":[0]}"#, "1").unwrap_err(), "No results for path: $['l'][5]");
    assert!(Path::parse("$$.x").unwrap().assign(json("{}"), json("1")).is_err());
}

#[test]
fn a_failed_assignment_hands_back_the_unchanged_target() {
    for (path, target) in [("$.a.b[0]", r#"{"a":{"c":1}}"#), ("$.new.x[1].y", r#"{"k":1}"#), ("$.l[5].z", r#"{"l":[0]}"#)] {
        let (miss, back) = Path::parse(path).unwrap().assign(json(target), json("1")).unwrap_err();
        assert_eq!(back.to_json(), target, "{path}: {}", miss.message);
    }
    // A missing name followed by an index fails at the index, on the object that would be made.
    assert_eq!(assign("$.a.b[0]", r#"{"a":{}}"#, "1").unwrap_err(), "Filter: [0] can only be applied to arrays. Current context is: {}");
}

#[test]
fn assignment_is_copy_on_write() {
    let original = json(r#"{"a":{"b":1},"c":[1]}"#);
    let updated = Path::parse("$.a.z").unwrap().assign(original.clone(), json("2")).unwrap();
    assert_eq!(original.to_json(), r#"{"a":{"b":1},"c":[1]}"#);
    assert_eq!(updated.to_json(), r#"{"a":{"b":1,"z":2},"c":[1]}"#);
    // The untouched sibling is still shared.
    match (original.get("c"), updated.get("c")) {
        (Some(Value::Array(x)), Some(Value::Array(y))) => assert!(std::sync::Arc::ptr_eq(x, y)),
        _ => panic!("not arrays"),
    }
}

#[test]
fn syntax_errors() {
    for bad in ["$.", "$..", "$.a.", "$[", "$['a'", "$['a'x]", "$[a]", "$[]", "$.a b", "$[1:2,3]", "$[?(@.a)", "x", "$ .a"] {
        assert!(Path::parse(bad).is_err(), "{bad} should not parse");
    }
}

#[test]
fn definiteness() {
    for (p, d) in [
        ("$", true),
        ("$.a[0]['b']", true),
        ("$.a[*]", false),
        ("$..a", false),
        ("$.a[0,1]", false),
        ("$.a[1:]", false),
        ("$.a[?(@.x)]", false),
        ("$['a','b']", true),
        ("$['a','b'].c", false),
    ] {
        assert_eq!(Path::parse(p).unwrap().is_definite(), d, "{p}");
    }
}

/// Small deterministic generator (xorshift) so the fuzz tests need no extra crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PATH_PIECES: &[&str] = &[
    "$", "$$", "$v", ".", "..", "[", "]", "*", "?", "(", ")", "@", "'", "\"", "\\", ",", ":", "-", "1", "0",
    "-1", "a", "b", "é", " ", "==", "!=", "<", ">=", "&&", "||", "!", "true", "null", "in", "[?(@.a == 1)]",
    "['x']", "[0]", "[1:2]", ".a", "{", "}", "\u{1F197}",
];

fn random_path(rng: &mut Rng) -> String {
    let mut s = String::new();
    if rng.below(4) != 0 {
        s.push('$');
    }
    for _ in 0..rng.below(12) {
        s.push_str(PATH_PIECES[rng.below(PATH_PIECES.len())]);
    }
    s
}

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    match if depth > 3 { rng.below(4) } else { rng.below(6) } {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from(rng.below(5) as i64 - 2),
        3 => Value::from(["a", "b", "1", ""][rng.below(4)]),
        4 => Value::array((0..rng.below(4)).map(|_| random_value(rng, depth + 1)).collect()),
        _ => Value::object((0..rng.below(4)).map(|_| (["a", "b", "x"][rng.below(3)], random_value(rng, depth + 1)))),
    }
}

#[test]
fn fuzz_parse_select_assign_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let fixed: Vec<Path> = ["$..a", "$.a[*].b", "$..[?(@.a)]", "$.a[-1:]", "$['a','b']", "$..*", "$.a.b[0]"]
        .iter()
        .map(|p| Path::parse(p).unwrap())
        .collect();
    for _ in 0..20_000 {
        let text = random_path(&mut rng);
        let doc = random_value(&mut rng, 0);
        if let Ok(path) = Path::parse(&text) {
            let _ = path.select(&doc);
            let _ = path.jayway_normalized();
            if path.root() == &Root::Input && path.is_definite() {
                let _ = path.assign(doc.clone(), Value::Null);
            }
        }
        for path in &fixed {
            let _ = path.select(&doc);
        }
    }
}
