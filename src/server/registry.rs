//! State machines the server holds: each one's current revision, its published versions, its
//! aliases and tags.
//!
//! Invariants:
//! - A [`Revision`] is immutable and compiled once; executions hold an `Arc` to the revision
//!   they started with, so updating or deleting a machine never changes a running execution,
//!   and DescribeStateMachineForExecution reports what actually ran.
//! - Version numbers count up from 1 and are never reused, even after a version is deleted
//!   (as on AWS). Publishing a revision that already has a version returns that version.
//! - Definitions are validated and compiled outside the lock; the lock is held only to look up
//!   or swap `Arc`s.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::asl::StateMachineType;
use crate::machine::StateMachine;
use crate::program::Program;
use crate::value::Str;

use super::arns::{parse_machine_arn, ArnScope, MachineArn, Qualifier};
use super::logging::LoggingConfig;
use super::protocol::{ApiError, ErrorCode};

/// How many state machines one server holds at most (AWS's default quota is 10,000).
pub const MAX_STATE_MACHINES: usize = 100_000;
/// Versions per state machine (AWS's quota).
pub const MAX_VERSIONS: usize = 1_000;
/// Tags per resource (AWS's quota).
pub const MAX_TAGS: usize = 50;

/// The settings of a revision besides its definition.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub role_arn: String,
    pub logging: LoggingConfig,
    pub tracing_enabled: bool,
}

/// One revision of a state machine: what an execution runs and what Describe* report.
#[derive(Debug)]
pub struct Revision {
    pub machine_arn: Str,
    pub name: Str,
    pub kind: StateMachineType,
    pub definition: Str,
    pub program: Arc<Program>,
    pub role_arn: Str,
    pub logging: LoggingConfig,
    pub tracing_enabled: bool,
    pub revision_id: Str,
    pub update_ms: i64,
}

impl Revision {
    pub fn is_express(&self) -> bool {
        self.kind == StateMachineType::Express
    }
}

#[derive(Debug, Clone)]
pub struct Version {
    pub arn: Str,
    pub number: u32,
    pub revision: Arc<Revision>,
    pub description: Option<String>,
    pub creation_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub version_arn: String,
    pub weight: u32,
}

#[derive(Debug, Clone)]
pub struct Alias {
    pub arn: Str,
    pub name: String,
    pub description: Option<String>,
    pub routing: Vec<Route>,
    pub creation_ms: i64,
    pub update_ms: i64,
}

#[derive(Debug)]
pub struct Machine {
    pub current: Arc<Revision>,
    pub creation_ms: i64,
    pub versions: BTreeMap<u32, Version>,
    next_version: u32,
    pub aliases: BTreeMap<String, Alias>,
    pub tags: Vec<(String, String)>,
}

impl Machine {
    /// Publishes the current revision as a version, or returns the version it already has.
    pub fn publish(&mut self, description: Option<String>, now_ms: i64) -> Result<&Version, ApiError> {
        let current = &self.current;
        if let Some(n) = self.versions.iter().find(|(_, v)| Arc::ptr_eq(&v.revision, current)).map(|(n, _)| *n) {
            return self.versions.get(&n).ok_or_else(|| ApiError::new(ErrorCode::InternalFailure, "version vanished"));
        }
        if self.versions.len() >= MAX_VERSIONS {
            return Err(ApiError::new(
                ErrorCode::ServiceQuotaExceededException,
                format!("The maximum number of versions ({MAX_VERSIONS}) for this state machine has been reached."),
            ));
        }
        let number = self.next_version;
        self.next_version += 1;
        let version = Version {
            arn: Str::from(format!("{}:{number}", current.machine_arn)),
            number,
            revision: Arc::clone(current),
            description,
            creation_ms: now_ms,
        };
        Ok(self.versions.entry(number).or_insert(version))
    }
}

/// What a start request runs: the revision, and the version/alias it was reached through.
#[derive(Clone, Debug)]
pub struct Target {
    pub revision: Arc<Revision>,
    pub version_arn: Option<Str>,
    pub alias_arn: Option<Str>,
    pub test_case: Option<String>,
}

/// Every state machine, by name (names are unique per account and region).
pub struct Registry {
    pub scope: ArnScope,
    machines: RwLock<BTreeMap<String, Machine>>,
}

impl Registry {
    pub fn new(scope: ArnScope) -> Registry {
        Registry { scope, machines: RwLock::new(BTreeMap::new()) }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Machine>> {
        self.machines.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, BTreeMap<String, Machine>> {
        self.machines.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Validates and compiles a definition into a revision (no lock held).
    pub fn build_revision(
        &self,
        name: &str,
        definition: &str,
        kind: StateMachineType,
        settings: Settings,
        now_ms: i64,
    ) -> Result<Revision, ApiError> {
        let machine =
            StateMachine::new(name, definition, kind).map_err(|e| ApiError::new(ErrorCode::InvalidDefinition, e.message))?;
        Ok(Revision {
            machine_arn: Str::from(self.scope.state_machine(name)),
            name: Str::from(name),
            kind,
            definition: machine.definition,
            program: machine.program,
            role_arn: Str::from(settings.role_arn),
            logging: settings.logging,
            tracing_enabled: settings.tracing_enabled,
            revision_id: Str::from(crate::ids::uuid_v4()),
            update_ms: now_ms,
        })
    }

    /// Adds a machine; idempotent for an identical definition, type, logging and tracing (as
    /// AWS: role and tags of the repeat are ignored). Returns the machine's ARN, creation time
    /// and, with `publish`, its version ARN.
    pub fn create(
        &self,
        revision: Revision,
        tags: Vec<(String, String)>,
        publish: Option<Option<String>>,
        now_ms: i64,
    ) -> Result<(Str, i64, Option<Str>), ApiError> {
        let mut machines = self.write();
        if let Some(existing) = machines.get(&*revision.name) {
            let c = &existing.current;
            if c.definition == revision.definition
                && c.kind == revision.kind
                && c.logging == revision.logging
                && c.tracing_enabled == revision.tracing_enabled
            {
                let version = existing.versions.values().find(|v| Arc::ptr_eq(&v.revision, c)).map(|v| v.arn.clone());
                return Ok((c.machine_arn.clone(), existing.creation_ms, version));
            }
            return Err(ApiError::new(
                ErrorCode::StateMachineAlreadyExists,
                format!("State Machine Already Exists: '{}'", c.machine_arn),
            ));
        }
        if machines.len() >= MAX_STATE_MACHINES {
            return Err(ApiError::new(
                ErrorCode::StateMachineLimitExceeded,
                format!("State machine limit exceeded: a server holds at most {MAX_STATE_MACHINES} state machines"),
            ));
        }
        let arn = revision.machine_arn.clone();
        let mut machine = Machine {
            current: Arc::new(revision),
            creation_ms: now_ms,
            versions: BTreeMap::new(),
            next_version: 1,
            aliases: BTreeMap::new(),
            tags,
        };
        let version = match publish {
            Some(description) => Some(machine.publish(description, now_ms)?.arn.clone()),
            None => None,
        };
        machines.insert(machine.current.name.to_string(), machine);
        Ok((arn, now_ms, version))
    }

    /// Parses an ARN that must name an unqualified state machine (no version, alias or test
    /// case) and that exists, for operations on the machine itself.
    pub fn machine_name(&self, arn: &str) -> Result<String, ApiError> {
        match parse_machine_arn(arn, &self.scope)? {
            Some(MachineArn { name, qualifier: Qualifier::None, test_case: None }) => Ok(name),
            Some(_) => Err(ApiError::invalid_arn(arn)),
            None => Err(ApiError::state_machine_does_not_exist(arn)),
        }
    }

    /// Resolves what a start request names: a machine (its current revision), a version, or an
    /// alias (one of its versions, picked by weight).
    pub fn resolve(&self, arn: &str) -> Result<Target, ApiError> {
        let Some(parsed) = parse_machine_arn(arn, &self.scope)? else {
            return Err(ApiError::state_machine_does_not_exist(arn));
        };
        let machines = self.read();
        let machine = machines.get(&parsed.name).ok_or_else(|| ApiError::state_machine_does_not_exist(strip_test_case(arn)))?;
        let (revision, version_arn, alias_arn) = match &parsed.qualifier {
            Qualifier::None => (Arc::clone(&machine.current), None, None),
            Qualifier::Version(n) => {
                let v = machine.versions.get(n).ok_or_else(|| ApiError::state_machine_does_not_exist(strip_test_case(arn)))?;
                (Arc::clone(&v.revision), Some(v.arn.clone()), None)
            }
            Qualifier::Alias(a) => {
                let alias = machine.aliases.get(a).ok_or_else(|| ApiError::state_machine_does_not_exist(strip_test_case(arn)))?;
                let version_arn = pick_route(&alias.routing);
                let v = machine
                    .versions
                    .values()
                    .find(|v| *v.arn == *version_arn)
                    .ok_or_else(|| ApiError::state_machine_does_not_exist(version_arn))?;
                (Arc::clone(&v.revision), Some(v.arn.clone()), Some(alias.arn.clone()))
            }
        };
        Ok(Target { revision, version_arn, alias_arn, test_case: parsed.test_case })
    }
}

/// The ARN without Step Functions Local's `#TestCase` suffix.
pub fn strip_test_case(arn: &str) -> &str {
    arn.split_once('#').map_or(arn, |(base, _)| base)
}

/// Picks an alias route by weight (weights sum to 100, checked when the alias was written).
fn pick_route(routing: &[Route]) -> &str {
    let mut roll = (crate::ids::next_u64() % 100) as u32;
    for r in routing {
        if roll < r.weight {
            return &r.version_arn;
        }
        roll -= r.weight;
    }
    routing.last().map_or("", |r| r.version_arn.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEF: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;

    fn registry() -> Registry {
        Registry::new(ArnScope { region: "us-east-1".into(), account: "123456789012".into() })
    }

    fn revision(r: &Registry, def: &str) -> Revision {
        let settings = Settings { role_arn: "arn:aws:iam::123456789012:role/R".into(), ..Settings::default() };
        r.build_revision("Sm", def, StateMachineType::Express, settings, 1).unwrap()
    }

    #[test]
    fn create_is_idempotent_for_the_same_definition_only() {
        let r = registry();
        let (arn, _, _) = r.create(revision(&r, DEF), vec![], None, 1).unwrap();
        assert_eq!(&*arn, "arn:aws:states:us-east-1:123456789012:stateMachine:Sm");
        assert_eq!(r.create(revision(&r, DEF), vec![], None, 2).unwrap().1, 1);
        let other = DEF.replace("\"P\"", "\"Q\"");
        assert_eq!(r.create(revision(&r, &other), vec![], None, 3).err().unwrap().aws_type(), "StateMachineAlreadyExists");
    }

    #[test]
    fn bad_definitions_are_invalid_definition() {
        let r = registry();
        let e = r.build_revision("Sm", "{}", StateMachineType::Express, Settings::default(), 1).err().unwrap();
        assert_eq!(e.aws_type(), "InvalidDefinition");
        assert!(e.message.starts_with("Invalid State Machine Definition: '"), "{}", e.message);
    }

    #[test]
    fn versions_count_up_and_publishing_twice_returns_the_same_version() {
        let r = registry();
        r.create(revision(&r, DEF), vec![], Some(None), 1).unwrap();
        let mut machines = r.write();
        let m = machines.get_mut("Sm").unwrap();
        assert_eq!(m.publish(None, 2).unwrap().number, 1);
        m.current = Arc::new(revision(&r, DEF));
        assert_eq!(m.publish(Some("two".into()), 3).unwrap().number, 2);
        m.versions.remove(&2);
        m.current = Arc::new(revision(&r, DEF));
        assert_eq!(m.publish(None, 4).unwrap().number, 3);
    }

    #[test]
    fn resolves_versions_aliases_and_test_cases() {
        let r = registry();
        let (arn, _, v) = r.create(revision(&r, DEF), vec![], Some(None), 1).unwrap();
        let v = v.unwrap();
        r.write().get_mut("Sm").unwrap().aliases.insert(
            "live".into(),
            Alias {
                arn: Str::from(format!("{arn}:live")),
                name: "live".into(),
                description: None,
                routing: vec![Route { version_arn: v.to_string(), weight: 100 }],
                creation_ms: 1,
                update_ms: 1,
            },
        );
        assert!(r.resolve(&arn).unwrap().version_arn.is_none());
        assert_eq!(r.resolve(&v).unwrap().version_arn.as_deref(), Some(&*v));
        let t = r.resolve(&format!("{arn}:live#Case")).unwrap();
        assert_eq!(t.alias_arn.as_deref(), Some(&*format!("{arn}:live")));
        assert_eq!(t.test_case.as_deref(), Some("Case"));
        assert_eq!(r.resolve(&format!("{arn}:9")).err().unwrap().aws_type(), "StateMachineDoesNotExist");
        assert_eq!(r.resolve(&format!("{arn}x")).err().unwrap().aws_type(), "StateMachineDoesNotExist");
    }
}
