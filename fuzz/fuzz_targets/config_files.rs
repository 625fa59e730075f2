//! bytes = the text of a configuration file users write: an EventBridge rules file
//! (`serve --rules`, `run --bus`), an `exec:` commands file and a mock config, each parsed.
#![no_main]
use expressway::events::rules_file::RulesFile;
use expressway::tasks::{ExecConfig, MockConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = RulesFile::parse(text, std::path::Path::new("."));
    let _ = ExecConfig::parse(text);
    let _ = MockConfig::parse(text);
});
