//! The form in which the ring of finished executions keeps a history: one byte buffer per
//! execution instead of the engine's tree of shared values.
//!
//! Why: a recorded history holds every state's input and output, hundreds of small `Arc`
//! allocations per execution. Kept for 10,000 executions they are cold by the time the ring
//! evicts them, and freeing a cold tree walks every node; holding them also keeps each
//! execution's intermediate documents alive. Encoding walks the values once while they are
//! still in cache (no number formatting or string escaping, unlike JSON text), and the ring
//! then holds and frees one allocation. GetExecutionHistory decodes on demand.
//!
//! Invariants:
//! - `decode(encode(events))` gives back the same events: ids, kinds, timestamps, state names,
//!   details with their key order and number identity (`1` stays `1`, `1.0` stays `1.0`).
//! - An array, object or long string held more than once (the same `Arc`: a state's output is
//!   the next state's input, and untouched subtrees are shared between them) is written once
//!   and referred back to afterwards, so a history costs about what its distinct nodes cost;
//!   decoding shares those nodes again. Short strings (keys, mostly) are written in place:
//!   copying a few bytes is cheaper than looking them up.
//! - Shared nodes are numbered in post-order (a node gets its number when it is complete), on
//!   both sides: a value cannot contain itself, so every back reference names a finished node.
//! - The buffer never leaves the process, so it has no version; a buffer that does not decode
//!   is a bug here, reported as `None`, never a panic.

use std::cell::RefCell;
use std::sync::Arc;

use crate::value::{Map, Number, Str, Value};
use crate::vm::HistoryEvent;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const UINT: u8 = 4;
const FLOAT: u8 = 5;
const STRING: u8 = 6;
const ARRAY: u8 = 7;
const OBJECT: u8 = 8;
const BACK_REF: u8 = 9;
/// An event without a state name or without details.
const ABSENT: u8 = 10;
/// A string long enough to be numbered and shared (`STRING`s are not).
const LONG_STRING: u8 = 11;
/// Strings from this length on are shared by reference.
const LONG: usize = 64;
/// Slots of the encoder's table of nodes written (a power of two).
const SLOTS: usize = 256;
/// The scratch buffer a thread keeps between encodings, at most (a larger one is dropped).
const SCRATCH_KEPT: usize = 64 * 1024;

thread_local! {
    /// Encodings are written here, then copied into an exactly sized buffer: no growth and no
    /// shrinking per execution.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// An execution's recorded history, encoded.
#[derive(Debug, Default)]
pub struct CompactHistory {
    bytes: Box<[u8]>,
    events: u32,
}

impl CompactHistory {
    pub fn encode(events: &[HistoryEvent]) -> CompactHistory {
        let mut out = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        out.clear();
        let mut e = Encoder { out, seen: [(0, 0); SLOTS], nodes: 0 };
        let mut last_ms = 0i64;
        for event in events {
            e.varint(event.id);
            e.bytes(event.kind.as_bytes());
            e.varint(zigzag(event.timestamp_ms.wrapping_sub(last_ms)));
            last_ms = event.timestamp_ms;
            match &event.state {
                Some(s) => e.str(s),
                None => e.out.push(ABSENT),
            }
            match &event.details {
                Some(v) => e.value(v),
                None => e.out.push(ABSENT),
            }
        }
        let bytes = Box::from(e.out.as_slice());
        if e.out.capacity() <= SCRATCH_KEPT {
            SCRATCH.with(|s| *s.borrow_mut() = e.out);
        }
        CompactHistory { bytes, events: events.len() as u32 }
    }

    /// The events, rebuilt; `None` only if the buffer is corrupt (a bug).
    pub fn decode(&self) -> Option<Vec<HistoryEvent>> {
        let mut d = Decoder { bytes: &self.bytes, pos: 0, nodes: Vec::new() };
        let mut events = Vec::with_capacity(self.events as usize);
        let mut last_ms = 0i64;
        for _ in 0..self.events {
            let id = d.varint()?;
            let kind = std::str::from_utf8(d.bytes()?).ok()?.to_string().into();
            let timestamp_ms = last_ms.wrapping_add(unzigzag(d.varint()?));
            last_ms = timestamp_ms;
            let state = match d.peek()? {
                ABSENT => d.skip(),
                _ => Some(d.str()?),
            };
            let details = match d.peek()? {
                ABSENT => d.skip(),
                _ => Some(d.value()?),
            };
            events.push(HistoryEvent { id, kind, timestamp_ms, state, details });
        }
        (d.pos == self.bytes.len()).then_some(events)
    }

    pub fn len(&self) -> usize {
        self.events as usize
    }

    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// Bytes held (the ring's byte bound counts these).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.len()
    }
}

fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

struct Encoder {
    out: Vec<u8>,
    /// Shared nodes written so far, `(address, number)`, in a direct-mapped table: a lookup is
    /// one load, where a hash map cost more than the encoding itself. A node whose slot was
    /// taken over is written again when met again (a second copy, never a wrong reference:
    /// every address stays valid, and so unique, while the events are borrowed).
    seen: [(usize, u32); SLOTS],
    nodes: u32,
}

fn slot(addr: usize) -> usize {
    // Allocations are at least 8-aligned; mix in higher bits so neighbours spread.
    ((addr >> 3) ^ (addr >> 11)) & (SLOTS - 1)
}

impl Encoder {
    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.out.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.out.push(n as u8);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.varint(b.len() as u64);
        self.out.extend_from_slice(b);
    }

    /// Writes a back reference when the node at `addr` was written before; otherwise answers
    /// false and the caller writes it (then calls `done`).
    fn back_ref(&mut self, addr: usize) -> bool {
        let (seen, n) = self.seen[slot(addr)];
        if seen != addr {
            return false;
        }
        self.out.push(BACK_REF);
        self.varint(n as u64);
        true
    }

    /// Numbers the node just written (the decoder numbers every shared node it reads alike).
    fn done(&mut self, addr: usize) {
        self.seen[slot(addr)] = (addr, self.nodes);
        self.nodes += 1;
    }

    fn str(&mut self, s: &Str) {
        if s.len() < LONG {
            self.out.push(STRING);
            self.bytes(s.as_bytes());
            return;
        }
        let addr = Arc::as_ptr(s) as *const u8 as usize;
        if !self.back_ref(addr) {
            self.out.push(LONG_STRING);
            self.bytes(s.as_bytes());
            self.done(addr);
        }
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.out.push(NULL),
            Value::Bool(false) => self.out.push(FALSE),
            Value::Bool(true) => self.out.push(TRUE),
            Value::Number(Number::Int(i)) => {
                self.out.push(INT);
                self.varint(zigzag(*i));
            }
            Value::Number(Number::UInt(u)) => {
                self.out.push(UINT);
                self.varint(*u);
            }
            Value::Number(Number::Float(f)) => {
                self.out.push(FLOAT);
                self.out.extend_from_slice(&f.to_le_bytes());
            }
            Value::String(s) => self.str(s),
            Value::Array(items) => {
                let addr = Arc::as_ptr(items) as usize;
                if !self.back_ref(addr) {
                    self.out.push(ARRAY);
                    self.varint(items.len() as u64);
                    for item in items.iter() {
                        self.value(item);
                    }
                    self.done(addr);
                }
            }
            Value::Object(map) => {
                let addr = Arc::as_ptr(map) as usize;
                if !self.back_ref(addr) {
                    self.out.push(OBJECT);
                    self.varint(map.len() as u64);
                    for (k, item) in map.iter() {
                        self.str(k);
                        self.value(item);
                    }
                    self.done(addr);
                }
            }
        }
    }
}

struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Every shared node decoded so far, by number.
    nodes: Vec<Value>,
}

impl Decoder<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Steps over an ABSENT marker.
    fn skip<T>(&mut self) -> Option<T> {
        self.pos += 1;
        None
    }

    fn byte(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return Some(n);
            }
        }
        None
    }

    fn bytes(&mut self) -> Option<&[u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        let end = self.pos.checked_add(len)?;
        let b = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    fn node(&mut self, v: Value) -> Value {
        self.nodes.push(v.clone());
        v
    }

    fn str(&mut self) -> Option<Str> {
        match self.value()? {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    fn value(&mut self) -> Option<Value> {
        Some(match self.byte()? {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            INT => Value::Number(Number::Int(unzigzag(self.varint()?))),
            UINT => Value::Number(Number::UInt(self.varint()?)),
            FLOAT => {
                let end = self.pos.checked_add(8)?;
                let raw: [u8; 8] = self.bytes.get(self.pos..end)?.try_into().ok()?;
                self.pos = end;
                Value::Number(Number::Float(f64::from_le_bytes(raw)))
            }
            STRING => Value::String(Str::from(std::str::from_utf8(self.bytes()?).ok()?)),
            LONG_STRING => {
                let s = Str::from(std::str::from_utf8(self.bytes()?).ok()?);
                self.node(Value::String(s))
            }
            ARRAY => {
                let n = usize::try_from(self.varint()?).ok()?;
                let mut items = Vec::with_capacity(n.min(self.bytes.len()));
                for _ in 0..n {
                    items.push(self.value()?);
                }
                self.node(Value::array(items))
            }
            OBJECT => {
                let n = usize::try_from(self.varint()?).ok()?;
                let mut map = Map::with_capacity(n.min(self.bytes.len()));
                for _ in 0..n {
                    let k = self.str()?;
                    let v = self.value()?;
                    map.insert(k, v);
                }
                self.node(Value::Object(Arc::new(map)))
            }
            BACK_REF => {
                let n = usize::try_from(self.varint()?).ok()?;
                self.nodes.get(n)?.clone()
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_str;

    fn ev(id: u64, kind: &'static str, ts: i64, state: Option<&str>, details: Option<Value>) -> HistoryEvent {
        HistoryEvent { id, kind: kind.into(), timestamp_ms: ts, state: state.map(Str::from), details }
    }

    fn same(a: &[HistoryEvent], b: &[HistoryEvent]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert_eq!((x.id, &x.kind, x.timestamp_ms, &x.state), (y.id, &y.kind, y.timestamp_ms, &y.state));
            // Text comparison checks key order and number identity too.
            assert_eq!(x.details.as_ref().map(Value::to_json), y.details.as_ref().map(Value::to_json));
        }
    }

    #[test]
    fn round_trips_every_kind_of_value_and_event() {
        let input = parse_str(
            r#"{"i":1,"neg":-7,"big":18446744073709551615,"f":1.0,"g":-2.5e-9,"s":"é\"x","n":null,"b":[true,false,[]],"o":{}}"#,
        )
        .unwrap();
        let long = Str::from("z".repeat(LONG * 2));
        let events = vec![
            ev(1, "ExecutionStarted", 1_700_000_000_000, None, Some(Value::object([("input", input.clone())]))),
            ev(2, "PassStateEntered", 1_700_000_000_003, Some("P"), Some(Value::object([("input", input.clone())]))),
            ev(3, "ParallelStateStarted", 1_699_999_999_000, Some("P"), None),
            ev(4, "TaskSucceeded", 1_700_000_000_004, Some("P"), Some(Value::object([("output", Value::from(long.clone()))]))),
            ev(5, "TaskSucceeded", 1_700_000_000_004, Some("P"), Some(Value::object([("output", Value::from(long))]))),
            ev(6, "ExecutionSucceeded", i64::MIN, None, Some(Value::object([("output", Value::from("x"))]))),
        ];
        let compact = CompactHistory::encode(&events);
        assert_eq!(compact.len(), 6);
        same(&events, &compact.decode().unwrap());
        assert!(CompactHistory::encode(&[]).decode().unwrap().is_empty());
    }

    /// Ten events whose details are distinct objects around one shared 1,000-byte payload.
    fn sharing_events() -> Vec<HistoryEvent> {
        let big = parse_str(&format!(r#"{{"payload":"{}"}}"#, "x".repeat(1000))).unwrap();
        (1..=10).map(|i| ev(i, "PassStateExited", 0, Some("P"), Some(Value::object([("output", big.clone())])))).collect()
    }

    /// Whether the encoder's table slots of the shared string, the shared object and the ten
    /// wrapping objects are all distinct. The table is direct-mapped by address, so a collision
    /// legitimately costs a second copy (see `Encoder::seen`); which happens depends on where the
    /// allocator put the nodes.
    fn slots_distinct(events: &[HistoryEvent]) -> bool {
        let addr = |v: &Value| match v {
            Value::Object(map) => Arc::as_ptr(map) as usize,
            Value::String(s) => Arc::as_ptr(s) as *const u8 as usize,
            _ => unreachable!("only objects and the long string are looked at"),
        };
        let mut slots = Vec::new();
        for e in events {
            let wrapper = e.details.as_ref().unwrap();
            let big = wrapper.get("output").unwrap();
            slots.extend([wrapper, big, big.get("payload").unwrap()].map(|v| slot(addr(v))));
        }
        slots.sort_unstable();
        slots.dedup();
        // Ten wrappers, the shared object and the shared string.
        slots.len() == 12
    }

    /// Builds `sharing_events` until their slots are (or are not) all distinct; earlier tries
    /// stay allocated so that each try gets fresh addresses.
    fn sharing_events_with_distinct_slots(distinct: bool) -> Vec<HistoryEvent> {
        let mut tries = Vec::new();
        for _ in 0..500 {
            let events = sharing_events();
            if slots_distinct(&events) == distinct {
                return events;
            }
            tries.push(events);
        }
        panic!("no allocation with distinct slots == {distinct} in 500 tries");
    }

    #[test]
    fn shared_nodes_are_written_once_and_shared_again() {
        let events = sharing_events_with_distinct_slots(true);
        let compact = CompactHistory::encode(&events);
        // Ten copies would be over 10,000 bytes; one copy plus ten small events is what it holds.
        assert!(compact.heap_bytes() < 2000, "{} bytes", compact.heap_bytes());
        let decoded = compact.decode().unwrap();
        same(&events, &decoded);
        let first = decoded[0].details.as_ref().and_then(|d| d.get("output")).and_then(Value::as_object).unwrap();
        let last = decoded[9].details.as_ref().and_then(|d| d.get("output")).and_then(Value::as_object).unwrap();
        assert!(std::ptr::eq(first, last));
    }

    #[test]
    fn a_node_whose_slot_was_taken_over_is_written_again_not_misreferenced() {
        let events = sharing_events_with_distinct_slots(false);
        let compact = CompactHistory::encode(&events);
        same(&events, &compact.decode().unwrap());
    }

    #[test]
    fn a_corrupt_buffer_is_none_not_a_panic() {
        let events = vec![ev(1, "ExecutionStarted", 5, None, Some(parse_str(r#"{"a":[1,2,{"b":"c"}]}"#).unwrap()))];
        let good = CompactHistory::encode(&events);
        for cut in 0..good.bytes.len() {
            let truncated = CompactHistory { bytes: good.bytes[..cut].into(), events: 1 };
            assert!(truncated.decode().is_none());
        }
        for i in 0..good.bytes.len() {
            let mut bytes = good.bytes.to_vec();
            bytes[i] = bytes[i].wrapping_add(0x5a);
            let _ = CompactHistory { bytes: bytes.into(), events: 1 }.decode();
        }
    }
}
