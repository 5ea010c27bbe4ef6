//! Any health.d text parses without panicking; every error names the file and a line of it;
//! every kept entity is valid (has `on` and something to evaluate).

use std::path::Path;

use proptest::prelude::*;
use tributary_health::config_file::{self, Kind};

fn line() -> impl Strategy<Value = String> {
    let keys = prop::sample::select(vec![
        "alarm",
        "template",
        "on",
        "lookup",
        "calc",
        "warn",
        "crit",
        "every",
        "delay",
        "repeat",
        "options",
        "green",
        "red",
        "units",
        "info",
        "to",
        "exec",
        "os",
        "hosts",
        "families",
        "charts",
        "plugin",
        "module",
        "host labels",
        "class",
        "type",
        "component",
        "bogus",
    ]);
    let values = prop::sample::select(vec![
        "x",
        "a.b",
        "average -10m unaligned of a,b",
        "max -1m at -10s foreach *",
        "bogus 1",
        "$this > 10",
        "1 <> 2",
        "(",
        "1s",
        "-",
        "never",
        "up 1m down 2m multiplier 1.5 max 1h",
        "up x",
        "warning 10s critical 5s",
        "off",
        "no-clear-notification",
        "weird",
        "7abc",
        "linux",
        "*",
        "!x *",
        "1 + \\",
        "",
    ]);
    prop_oneof![
        (keys, values).prop_map(|(k, v)| format!("{k}: {v}")),
        "[ -~]{0,40}",
        Just("# comment".to_string()),
        Just(String::new()),
    ]
}

proptest! {
    #[test]
    fn any_text_parses_and_errors_name_their_line(lines in prop::collection::vec(line(), 0..40)) {
        let text = lines.join("\n");
        let n = text.lines().count();
        let p = config_file::parse(&text, Path::new("prop.conf"));
        for e in &p.errors {
            prop_assert_eq!(e.file.as_path(), Path::new("prop.conf"));
            prop_assert!(e.line >= 1 && e.line <= n.max(1), "{e}");
        }
        for d in &p.entities {
            prop_assert!(!d.on.is_empty());
            prop_assert!(d.every != 0 || d.lookup.is_some());
            prop_assert!(d.lookup.is_some() || d.calc.is_some() || d.warn.is_some() || d.crit.is_some());
            if d.kind == Kind::Alarm {
                prop_assert!(d.families.is_none() && d.charts.is_none());
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(text in "\\PC{0,300}") {
        let _p = config_file::parse(&text, Path::new("bytes.conf"));
    }
}
