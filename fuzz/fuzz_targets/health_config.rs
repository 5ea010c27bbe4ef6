//! Any health.d file text: parsing never panics, and every expression it compiled evaluates
//! without panicking; any text as an expression parses or fails cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_health::config_file;
use tributary_health::expression::{Expression, NoVariables};

fuzz_target!(|data: &str| {
    let parsed = config_file::parse(data, std::path::Path::new("fuzz.conf"));
    for def in &parsed.entities {
        for e in [&def.calc, &def.warn, &def.crit].into_iter().flatten() {
            let _v = e.evaluate(&NoVariables);
        }
    }
    if let Ok(e) = Expression::parse(data) {
        let _v = e.evaluate(&NoVariables);
        let _n = e.evaluate_as_netdata(&NoVariables);
    }
});
