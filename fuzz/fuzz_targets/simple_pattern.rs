//! Any pattern list and any string: matching never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_config::SimplePattern;

fuzz_target!(|data: (&str, &str)| {
    let (pattern, text) = data;
    let _m = SimplePattern::new(pattern).matches(text);
});
