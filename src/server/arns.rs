//! ARNs in AWS's formats, and the name rules AWS applies to state machines, executions and
//! aliases.
//!
//! - state machine `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME`, a version `…:NAME:7`, an
//!   alias `…:NAME:ALIAS` (an alias name always holds a non-digit, so the two never collide);
//! - execution `arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME` (STANDARD) or
//!   `…:express:MACHINE:NAME:UUID` (EXPRESS), built by the runtime.
//!
//! Step Functions Local's `#TestCase` suffix on a state machine ARN selects a mock test case; it
//! is split off here, before any other parsing.

use super::protocol::ApiError;

/// Region and account the server's ARNs carry.
#[derive(Clone, Debug)]
pub struct ArnScope {
    pub region: String,
    pub account: String,
}

impl ArnScope {
    pub fn state_machine(&self, name: &str) -> String {
        format!("arn:aws:states:{}:{}:stateMachine:{name}", self.region, self.account)
    }
}

/// What follows `stateMachine:NAME` in a state machine ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Qualifier {
    None,
    Version(u32),
    Alias(String),
}

/// A parsed state machine ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineArn {
    pub name: String,
    pub qualifier: Qualifier,
    /// The `#TestCase` suffix, when present.
    pub test_case: Option<String>,
}

/// The part of an ARN after `arn:PARTITION:states:REGION:ACCOUNT:`, checked against our scope.
fn resource<'a>(arn: &'a str, scope: &ArnScope) -> Result<&'a str, ApiError> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("states"), Some(region), Some(account), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ApiError::invalid_arn(arn));
    };
    if partition.is_empty() || region.is_empty() || account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid_arn(arn));
    }
    // An ARN of another region or account names nothing this server holds; AWS answers
    // "does not exist" for a well-formed ARN it does not know, which callers do on `None`.
    if region != scope.region || account != scope.account {
        return Ok("");
    }
    Ok(rest)
}

/// Parses a state machine (or version, or alias) ARN. `Ok(None)`: well formed, but of another
/// region or account.
pub fn parse_machine_arn(arn: &str, scope: &ArnScope) -> Result<Option<MachineArn>, ApiError> {
    let (base, test_case) = match arn.split_once('#') {
        Some((b, case)) if !case.is_empty() => (b, Some(case.to_string())),
        Some(_) => return Err(ApiError::invalid_arn(arn)),
        None => (arn, None),
    };
    let rest = resource(base, scope)?;
    if rest.is_empty() {
        return Ok(None);
    }
    let (kind, path) = rest.split_once(':').unwrap_or((rest, ""));
    if kind != "stateMachine" {
        return Err(ApiError::resource_type_not_valid(&kind.to_ascii_lowercase()));
    }
    let (name, qualifier) = match path.split_once(':') {
        None => (path, Qualifier::None),
        Some((name, q)) if q.bytes().all(|b| b.is_ascii_digit()) && !q.is_empty() => {
            let n = q.parse().map_err(|_| ApiError::invalid_arn(arn))?;
            (name, Qualifier::Version(n))
        }
        Some((name, q)) if valid_alias_name(q) => (name, Qualifier::Alias(q.to_string())),
        Some(_) => return Err(ApiError::invalid_arn(arn)),
    };
    if !valid_name(name) {
        return Err(ApiError::invalid_arn(arn));
    }
    Ok(Some(MachineArn { name: name.to_string(), qualifier, test_case }))
}

/// A parsed execution ARN: the state machine's name and whether it is an Express one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutionArn {
    pub machine: String,
    pub express: bool,
}

/// Parses an execution ARN. `Ok(None)`: well formed, but of another region or account.
pub fn parse_execution_arn(arn: &str, scope: &ArnScope) -> Result<Option<ExecutionArn>, ApiError> {
    let rest = resource(arn, scope)?;
    if rest.is_empty() {
        return Ok(None);
    }
    let mut parts = rest.splitn(3, ':');
    let (Some(kind), Some(machine), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ApiError::invalid_arn(arn));
    };
    let express = match kind {
        "execution" => false,
        "express" => true,
        other => return Err(ApiError::resource_type_not_valid(&other.to_ascii_lowercase())),
    };
    if machine.is_empty() || name.is_empty() {
        return Err(ApiError::invalid_arn(arn));
    }
    Ok(Some(ExecutionArn { machine: machine.to_string(), express }))
}

/// AWS's rule for state machine and execution names: 1–80 characters, none of whitespace,
/// `< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /`, or control characters.
pub fn valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=80).contains(&n)
        && !name.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(
                    c,
                    '<' | '>'
                        | '{'
                        | '}'
                        | '['
                        | ']'
                        | '?'
                        | '*'
                        | '"'
                        | '#'
                        | '%'
                        | '\\'
                        | '^'
                        | '|'
                        | '~'
                        | '`'
                        | '$'
                        | '&'
                        | ','
                        | ';'
                        | ':'
                        | '/'
                )
        })
}

/// Alias names: `^(?=.*[a-zA-Z_\-\.])[a-zA-Z0-9_\-\.]+$`, at most 80 characters.
pub fn valid_alias_name(name: &str) -> bool {
    name.len() <= 80
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && name.bytes().any(|b| !b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> ArnScope {
        ArnScope { region: "us-east-1".into(), account: "123456789012".into() }
    }

    #[test]
    fn parses_machine_version_alias_and_test_case() {
        let p = |a: &str| parse_machine_arn(a, &scope()).unwrap().unwrap();
        let base = "arn:aws:states:us-east-1:123456789012:stateMachine:Sm";
        assert_eq!(p(base).qualifier, Qualifier::None);
        assert_eq!(p(&format!("{base}:3")).qualifier, Qualifier::Version(3));
        assert_eq!(p(&format!("{base}:prod")).qualifier, Qualifier::Alias("prod".into()));
        assert_eq!(p(&format!("{base}#Happy")).test_case.as_deref(), Some("Happy"));
        assert_eq!(p(&format!("{base}#Happy")).name, "Sm");
    }

    #[test]
    fn rejects_malformed_arns_and_wrong_resource_types() {
        for bad in
            ["nope", "arn:aws:states:us-east-1:1234:stateMachine:S", "arn:aws:states:us-east-1:123456789012:stateMachine:a b"]
        {
            assert_eq!(parse_machine_arn(bad, &scope()).err().unwrap().aws_type(), "InvalidArn", "{bad}");
        }
        let e = parse_machine_arn("arn:aws:states:us-east-1:123456789012:execution:S:e", &scope()).err().unwrap();
        assert_eq!(e.message, "Invalid Arn: 'Resource type not valid in this context: execution'");
        assert_eq!(parse_machine_arn("arn:aws:states:eu-west-1:123456789012:stateMachine:S", &scope()).unwrap(), None);
    }

    #[test]
    fn parses_execution_arns() {
        let e = parse_execution_arn("arn:aws:states:us-east-1:123456789012:express:Sm:n:uuid", &scope()).unwrap().unwrap();
        assert_eq!(e, ExecutionArn { machine: "Sm".into(), express: true });
        assert!(parse_execution_arn("arn:aws:states:us-east-1:123456789012:execution:Sm", &scope()).is_err());
    }

    #[test]
    fn names_follow_aws_rules() {
        assert!(valid_name("Hello-World_1.2"));
        for bad in ["", "a b", "a:b", "a/b", "a#b", "a\u{1}b", &"x".repeat(81)] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(valid_alias_name("prod"));
        assert!(!valid_alias_name("123"));
        assert!(!valid_alias_name("a:b"));
    }
}
