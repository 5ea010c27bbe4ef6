//! Any config file text parses or is refused with a line number; a parsed file renders to text
//! that parses again to the same values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_config::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cfg) = Config::parse(text, "fuzz.conf") {
        let rendered = cfg.render();
        let again = Config::parse(&rendered, "rendered.conf").expect("rendered config parses");
        for e in cfg.iter() {
            assert_eq!(again.get(e.section(), e.key()), Some(e.value()));
        }
    }
});
