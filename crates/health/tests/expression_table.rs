//! netdata 1.37.1's expression results (../shared/fixtures/health/expression-results.json,
//! captured from the real binary on chart `lab.expr` with a=10, b[name bee]=−4, c=0):
//! netdata's own tree must print as `calc_parsed` and evaluate to the captured value; where
//! tributary's conventional tree gives another value the expression must carry netdata's tree
//! (so the loader warns); text netdata rejected must be rejected.

use std::collections::HashMap;

use tributary_health::expression::{Evaluation, Expression, Variables};
use tributary_health::status::Status;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/health/expression-results.json"
);

/// The variables of `lab.expr` at the capture (NOW = the captured `$now`).
struct LabExpr(HashMap<&'static str, f64>);

const NOW: f64 = 1_795_574_231.0;

impl LabExpr {
    fn new() -> LabExpr {
        let mut m = HashMap::new();
        for (k, v) in [
            ("a", 10.0),
            ("b", -4.0),
            ("bee", -4.0),
            ("c", 0.0),
            ("a_raw", 10000.0),
            ("b_raw", -4000.0),
            ("bee_raw", -4000.0),
            ("lab.expr.a", 10.0),
            ("lab.expr.bee", -4.0),
            ("lab.expr.a_raw", 10000.0),
            ("lab.expr.e_ok_ref", 42.0),
            ("e_ok_ref", 42.0),
            ("green", 7.0),
            ("red", 9.0),
            ("update_every", 1.0),
            ("now", NOW),
            ("last_collected_t", NOW),
            ("a_last_collected_t", NOW),
            ("status", 1.0),
            ("this", f64::NAN),
            ("after", f64::NAN),
            ("before", f64::NAN),
        ] {
            m.insert(k, v);
        }
        LabExpr(m)
    }
}

impl Variables for LabExpr {
    fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied().or_else(|| Status::constant(name))
    }
}

#[test]
fn every_captured_expression_matches_netdata() {
    let text = std::fs::read_to_string(FIXTURE).expect("fixture readable");
    let rows: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
    let vars = LabExpr::new();
    let mut checked = 0;
    let mut differing = Vec::new();
    for row in rows.as_array().expect("array") {
        let src = row["expr"].as_str().expect("expr");
        let loaded = row["loaded_calc"].as_bool().expect("loaded_calc");
        let parsed = Expression::parse(src);
        assert_eq!(parsed.is_ok(), loaded, "{src}: {parsed:?}");
        let Ok(e) = parsed else { continue };
        let netdata_tree = e.netdata_tree().unwrap_or(e.tree());
        assert_eq!(
            Some(netdata_tree.parsed_as().as_str()),
            row["parsed_as"].as_str(),
            "{src}"
        );
        let netdata_value = Evaluation::new(&vars, false).run(netdata_tree).ok();
        let want = row["value"].as_f64();
        assert_eq!(netdata_value, want, "{src}");
        let ours = e.evaluate(&vars).ok();
        if ours != want {
            assert!(
                e.netdata_tree().is_some(),
                "{src}: value differs from netdata's without a precedence warning"
            );
            differing.push(src);
        }
        checked += 1;
    }
    assert_eq!(checked, 66);
    // The rows where conventional precedence gives another value than netdata's.
    assert_eq!(
        differing,
        [
            "8 > 1 + 2 * 3",
            "2 > 1 AND 3 > 2 + 5 * 0",
            "5 > 1 ? 10 : 20",
            "1 || 0 && 0",
            "1 OR 0 AND 0"
        ]
    );
}
