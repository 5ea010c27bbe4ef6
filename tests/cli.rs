use std::process::Command;

use crate::support::TempDir;

fn tributary(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn version_flags_print_name_and_version() {
    for flag in ["-v", "-V"] {
        let out = tributary(&[flag]);
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            text.trim(),
            format!("tributary {}", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn help_prints_usage_and_unknown_options_fail_with_usage_on_stderr() {
    let out = tributary(&["-h"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("-W set SECTION OPTION VALUE"));

    let out = tributary(&["-X"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("usage: tributary"), "{err}");
    assert!(err.contains("-X"), "{err}");
}

#[test]
fn simple_pattern_mode_exits_0_on_match_and_1_otherwise() {
    assert_eq!(
        tributary(&["-W", "simple-pattern", "!*.bad *.good", "x.good"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        tributary(&["-W", "simple-pattern", "!*.bad *", "x.bad"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        tributary(&["-W", "simple-pattern", "a*b", "nothing"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn a_broken_config_file_stops_startup_naming_file_and_line() {
    let dir = TempDir::new("badconf");
    let conf = dir.path().join("netdata.conf");
    std::fs::write(&conf, "[global]\n    hostname = x\n[web\n    mode = none\n").unwrap();
    let out = tributary(&["-D", "-c", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3", conf.display())), "{err}");
}

#[test]
fn a_bad_value_stops_startup_naming_file_line_section_and_key() {
    let dir = TempDir::new("badvalue");
    let conf = dir.path().join("netdata.conf");
    std::fs::write(
        &conf,
        "[global]\n    hostname = x\n\n[db]\n    mode = sometimes\n",
    )
    .unwrap();
    let out = tributary(&["-D", "-c", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:5", conf.display())), "{err}");
    assert!(err.contains("[db] mode = 'sometimes'"), "{err}");

    // The same key set on the command line is reported as such.
    let out = tributary(&["-D", "-W", "set", "web", "default port", "99999"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("command line") && err.contains("[web] default port"),
        "{err}"
    );
}

#[test]
fn a_missing_config_file_is_an_error() {
    let out = tributary(&["-D", "-c", "/nonexistent/tributary/netdata.conf"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/tributary/netdata.conf"));
}

#[test]
fn a_broken_stream_conf_beside_netdata_conf_stops_startup() {
    let dir = TempDir::new("badstream");
    let conf = dir.path().join("netdata.conf");
    std::fs::write(&conf, "[global]\n    hostname = x\n").unwrap();
    std::fs::write(
        dir.path().join("stream.conf"),
        "[stream]\n    enabled = perhaps\n",
    )
    .unwrap();
    let out = tributary(&["-D", "-c", conf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let stream = dir.path().join("stream.conf");
    assert!(err.contains(&format!("{}:2", stream.display())), "{err}");
    assert!(err.contains("[stream] enabled = 'perhaps'"), "{err}");
}
