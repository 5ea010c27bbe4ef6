//! Debian's netdata 1.37.1 stock health.d (76 files, 44 alarms and 240 templates) loads with
//! no error, and every stock expression means the same under netdata's precedence and ours.

use std::path::Path;

use tributary_health::config_file::Kind;
use tributary_health::loader::HealthConfig;

const STOCK: &str = "/usr/lib/netdata/conf.d/health.d";

fn stock_dir() -> &'static Path {
    let p = Path::new(STOCK);
    assert!(
        p.is_dir(),
        "{STOCK} is missing: install netdata 1.37.1 (Debian: apt-get install netdata-core netdata-plugins-bash)"
    );
    p
}

#[test]
fn all_stock_files_load_without_errors() {
    let empty = tempdir();
    let cfg = HealthConfig::load(&empty, Some(stock_dir()));
    assert_eq!(cfg.files.len(), 76);
    assert!(cfg.errors.is_empty(), "{:#?}", cfg.errors);
    let alarms = cfg.defs.iter().filter(|d| d.kind == Kind::Alarm).count();
    let templates = cfg.defs.iter().filter(|d| d.kind == Kind::Template).count();
    assert_eq!((alarms, templates), (44, 240));
    assert!(
        cfg.precedence_warnings.is_empty(),
        "stock expressions whose value would differ from netdata's: {:#?}",
        cfg.precedence_warnings
    );
    let cpu = cfg
        .defs
        .iter()
        .find(|d| d.name == "10min_cpu_usage")
        .expect("cpu.conf");
    assert_eq!(cpu.source(), format!("4@{STOCK}/cpu.conf"));
    assert_eq!(cpu.every, 60);
    assert_eq!((cpu.delay.down, cpu.delay.max), (900, 3600));
    let _removed = std::fs::remove_dir_all(&empty);
}

#[test]
fn a_user_file_shadows_the_stock_file_of_the_same_name() {
    let user = tempdir();
    std::fs::write(
        user.join("cpu.conf"),
        "template: user_cpu_override\n on: system.cpu\n calc: 1\n every: 10s\n",
    )
    .expect("write");
    let cfg = HealthConfig::load(&user, Some(stock_dir()));
    assert_eq!(cfg.files.len(), 76);
    let names: Vec<&str> = cfg
        .defs
        .iter()
        .filter(|d| d.on == "system.cpu")
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ["user_cpu_override"]);
    let _removed = std::fs::remove_dir_all(&user);
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "tributary-health-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
