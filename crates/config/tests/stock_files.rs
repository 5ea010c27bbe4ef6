//! netdata 1.37.1's stock stream.conf and exporting.conf (copied from Debian's netdata-core
//! into tests/fixtures/) parse, and say what netdata makes of them.

use std::path::PathBuf;

use tributary_config::{Boolean, Config, ReceiverDefaults, SimplePattern, StreamConf};

fn fixture(name: &str) -> Config {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    Config::load(&path).unwrap()
}

#[test]
fn stock_stream_conf_parses_with_netdata_sections() {
    let cfg = fixture("stream.conf");
    assert!(cfg.warnings().is_empty(), "{:?}", cfg.warnings());
    let names: Vec<_> = cfg.sections().map(|s| s.name()).collect();
    assert_eq!(names, ["stream", "API_KEY", "MACHINE_GUID"]);
    assert_eq!(cfg.get("API_KEY", "type"), Some("api"));
    assert_eq!(cfg.get("MACHINE_GUID", "type"), Some("machine"));
    // empty values are kept
    assert_eq!(cfg.get("stream", "destination"), Some(""));
}

#[test]
fn stock_stream_conf_sender_settings() {
    let cfg = fixture("stream.conf");
    let sender = StreamConf::new(&cfg).sender().unwrap();
    assert!(!sender.enabled);
    assert!(!sender.can_send());
    assert!(sender.destinations.is_empty());
    assert_eq!(sender.api_key, "");
    // the stock file says 60; netdata's code default is 600
    assert_eq!(sender.timeout_secs, 60);
    assert_eq!(sender.default_port, 19999);
    assert_eq!(sender.send_charts_matching.as_str(), "*");
    assert_eq!(sender.buffer_size_bytes, 10_485_760);
    assert_eq!(sender.reconnect_delay_secs, 5);
    assert_eq!(sender.initial_clock_resync_iterations, 60);
    assert!(sender.enable_compression);
    assert!(!sender.ssl_skip_certificate_verification);
    assert_eq!(sender.ca_path, None);
}

#[test]
fn stock_stream_conf_receiver_settings_are_the_defaults() {
    let cfg = fixture("stream.conf");
    let stream = StreamConf::new(&cfg);
    // "API_KEY" is a placeholder section name, not a GUID: netdata rejects it
    let guid = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    assert!(stream.check_access("API_KEY", guid, "10.0.0.1").is_err());
    let r = stream
        .receiver("API_KEY", "MACHINE_GUID", &ReceiverDefaults::default())
        .unwrap();
    assert_eq!(r.history, 3600);
    assert_eq!(r.memory_mode, "save");
    assert_eq!(r.health_enabled, Boolean::Yes);
    assert_eq!(r.postpone_alarms_on_connect_secs, 60);
    assert!(!r.proxy_enabled);
    assert!(r.enable_compression);
    assert!(r.enable_replication);
}

#[test]
fn stock_exporting_conf_parses() {
    let cfg = fixture("exporting.conf");
    assert!(cfg.warnings().is_empty(), "{:?}", cfg.warnings());
    let names: Vec<_> = cfg.sections().map(|s| s.name()).collect();
    assert_eq!(names, ["exporting:global", "prometheus:exporter"]);
    assert_eq!(
        cfg.get_bool("exporting:global", "enabled").unwrap(),
        Some(Boolean::No)
    );
}

#[test]
fn stock_files_round_trip_through_render() {
    for name in ["stream.conf", "exporting.conf"] {
        let cfg = fixture(name);
        let again = Config::parse(&cfg.render(), name).unwrap();
        assert_eq!(cfg, again, "{name}");
    }
}

#[test]
fn stock_stream_conf_pattern_default_matches_every_chart() {
    let cfg = fixture("stream.conf");
    let pattern = SimplePattern::new(cfg.get("stream", "send charts matching").unwrap());
    assert!(pattern.matches("system.cpu"));
}
