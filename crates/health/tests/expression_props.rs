//! Properties of the expression parser and evaluator: any text parses or fails without
//! panicking; a printed tree parses back to the same tree; evaluation of any tree terminates
//! with a finite number or an error; both parsers accept the same texts.

use proptest::prelude::*;
use tributary_health::expression::{Expression, NoVariables, Variables};

struct Vars;
impl Variables for Vars {
    fn get(&self, name: &str) -> Option<f64> {
        match name {
            "a" => Some(10.0),
            "b" => Some(-4.0),
            "n" => Some(f64::NAN),
            _ => None,
        }
    }
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..1000).prop_map(|n| n.to_string()),
        Just("$a".to_string()),
        Just("$b".to_string()),
        Just("$n".to_string()),
        Just("$missing".to_string()),
        Just("nan".to_string()),
        Just("inf".to_string()),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    leaf().prop_recursive(5, 40, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(vec![
                    "+", "-", "*", "/", "<", ">", "<=", ">=", "==", "!=", "&&", "||", "AND", "OR"
                ]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("!({a})")),
            inner.clone().prop_map(|a| format!("-({a})")),
            inner.clone().prop_map(|a| format!("abs({a})")),
            (inner.clone(), inner.clone(), inner)
                .prop_map(|(c, t, f)| format!("(({c}) ? ({t}) : ({f}))")),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in ".{0,80}") {
        if let Ok(e) = Expression::parse(&s) {
            let _v = e.evaluate(&Vars);
            let _t = e.evaluate_traced(&NoVariables);
        }
    }

    #[test]
    fn operator_soup_never_panics(s in "[-+*/<>=!&|?:() $a-z0-9.{}]{0,60}") {
        if let Ok(e) = Expression::parse(&s) {
            let _v = e.evaluate(&Vars);
        }
    }

    #[test]
    fn fully_parenthesised_expressions_parse_the_same_both_ways(s in expr()) {
        let e = Expression::parse(&s).expect("generated expressions are valid");
        // With every operation in parentheses, precedence cannot matter.
        prop_assert!(e.netdata_tree().is_none(), "{} vs {:?}", e.parsed_as(), e.netdata_tree());
        if let Ok(v) = e.evaluate(&Vars) {
            prop_assert!(v.is_finite());
        }
    }

    #[test]
    fn printed_trees_parse_back_identically(s in expr()) {
        let e = Expression::parse(&s).expect("valid");
        let again = Expression::parse(e.parsed_as()).expect("parsed_as is valid input");
        prop_assert!(again.tree().same_as(e.tree()), "{} -> {}", e.parsed_as(), again.parsed_as());
    }
}
