//! PLACEHOLDER until the timestamp module lands from its branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(i64);
impl Timestamp {
    pub fn parse(_s: &str) -> Option<Timestamp> { todo!() }
    pub fn epoch_millis(self) -> i64 { self.0 }
}
pub fn format_iso(_ms: i64) -> String { todo!() }
