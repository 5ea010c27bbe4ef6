//! `calc`, `warn` and `crit` expressions: parsed once, evaluated every run.
//!
//! netdata 1.37's parser has a surprising precedence (see [`netdata_parser`]). tributary
//! evaluates with conventional precedence ([`parser`]) but parses every expression both ways:
//! text netdata rejects is rejected (with netdata's reason), and when the two trees differ the
//! expression remembers netdata's tree so that callers can warn, naming file and line.

pub mod ast;
pub mod eval;
pub mod lexer;
pub mod netdata_parser;
pub mod parser;

use std::fmt;

pub use ast::{BinOp, Node, UnOp, format_number};
pub use eval::{EvalError, Evaluation, NoVariables, Variables, truthy};

/// Why an expression could not be parsed, in netdata's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// `missing closing parenthesis`, `unknown operand`, `remaining characters after
    /// expression`, ...
    pub reason: &'static str,
    /// Byte offset where parsing stopped.
    pub position: usize,
    /// The unparsed rest of the text.
    pub rest: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at '{}'", self.reason, self.rest)
    }
}

impl std::error::Error for ParseError {}

/// A compiled expression.
#[derive(Debug, Clone)]
pub struct Expression {
    source: String,
    tree: Node,
    netdata_tree: Option<Node>,
    parsed_as: String,
}

impl Expression {
    /// Parses `source`: it must be accepted by netdata's parser; evaluation uses conventional
    /// precedence.
    pub fn parse(source: &str) -> Result<Expression, ParseError> {
        let netdata = netdata_parser::parse(source)?;
        let tree = parser::parse(source)?;
        let differs = !netdata.same_as(&tree);
        Ok(Expression {
            source: source.to_string(),
            parsed_as: tree.parsed_as(),
            tree,
            netdata_tree: differs.then_some(netdata),
        })
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// How tributary parsed it, printed as netdata's `parsed_as`.
    pub fn parsed_as(&self) -> &str {
        &self.parsed_as
    }

    /// The tree tributary evaluates.
    pub fn tree(&self) -> &Node {
        &self.tree
    }

    /// netdata 1.37's tree, when it differs from tributary's.
    pub fn netdata_tree(&self) -> Option<&Node> {
        self.netdata_tree.as_ref()
    }

    /// Evaluates with conventional precedence.
    pub fn evaluate(&self, vars: &dyn Variables) -> Result<f64, EvalError> {
        Evaluation::new(vars, false).run(&self.tree)
    }

    /// Evaluates and also returns netdata's `[ $name = value ] ` trace of the variables used.
    pub fn evaluate_traced(&self, vars: &dyn Variables) -> (Result<f64, EvalError>, String) {
        let mut e = Evaluation::new(vars, true);
        let r = e.run(&self.tree);
        (r, e.into_trace())
    }

    /// What netdata 1.37 would compute (its own precedence), or `None` when the trees agree.
    pub fn evaluate_as_netdata(&self, vars: &dyn Variables) -> Option<Result<f64, EvalError>> {
        self.netdata_tree
            .as_ref()
            .map(|t| Evaluation::new(vars, false).run(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> Option<f64> {
        Expression::parse(s).unwrap().evaluate(&NoVariables).ok()
    }

    #[test]
    fn conventional_precedence_with_netdata_tree_kept() {
        let e = Expression::parse("8 > 1 + 2 * 3").unwrap();
        assert_eq!(e.parsed_as(), "(8 > (1 + (2 * 3)))");
        assert_eq!(e.evaluate(&NoVariables), Ok(1.0));
        assert_eq!(e.evaluate_as_netdata(&NoVariables), Some(Ok(0.0)));
        assert!(Expression::parse("1 + 2").unwrap().netdata_tree().is_none());
    }

    #[test]
    fn netdata_rejections_are_kept() {
        for bad in [
            "1 <> 2",
            "abs (-2)",
            "5 > 1 ? 10 + 1 : 20",
            "1 AND(1)",
            "",
            "(1",
            "$",
        ] {
            assert!(Expression::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn non_finite_results_fail() {
        for s in [
            "10 / 0",
            "0 / 0",
            "-inf",
            "inf - inf",
            "abs(-inf)",
            "$x + 1",
        ] {
            assert_eq!(value(s), None, "{s}");
        }
        assert_eq!(value("$x > 1"), Some(0.0));
        assert_eq!(value("!$x"), Some(1.0));
        assert_eq!(value("nan == nan"), Some(1.0));
    }
}
