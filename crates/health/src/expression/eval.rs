//! Evaluation with netdata's rules (eval.c): NaN propagates, any infinity in arithmetic gives
//! +inf, comparisons with NaN are false, `==` treats NaN==NaN and inf==inf as true and other
//! numbers as equal within 1e-7; an unknown variable is NaN and only fails the evaluation when
//! the final result is not a finite number.

use std::fmt::Write as _;

use super::ast::{BinOp, Node, UnOp, format_number};

/// Where variables come from while evaluating.
pub trait Variables {
    /// The value of `name`, or `None` when there is no such variable.
    fn get(&self, name: &str) -> Option<f64>;
}

/// No variables at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoVariables;

impl Variables for NoVariables {
    fn get(&self, _name: &str) -> Option<f64> {
        None
    }
}

/// Why an evaluation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalError {
    /// The result was NaN.
    ValueIsNan,
    /// The result was infinite.
    ValueIsInfinite,
    /// The result was not finite and a variable was unknown.
    UnknownVariable,
}

impl EvalError {
    /// netdata's words for the error.
    pub fn as_str(self) -> &'static str {
        match self {
            EvalError::ValueIsNan => "value is NaN",
            EvalError::ValueIsInfinite => "value is infinite",
            EvalError::UnknownVariable => "undefined variable",
        }
    }
}

/// Truthiness: NaN is false, infinities are true, 0 is false.
pub fn truthy(v: f64) -> bool {
    !v.is_nan() && v != 0.0
}

fn arith(a: f64, b: f64, f: impl Fn(f64, f64) -> f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a.is_infinite() || b.is_infinite() {
        f64::INFINITY
    } else {
        f(a, b)
    }
}

fn equal(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a.is_infinite() && b.is_infinite() {
        return true;
    }
    if a.is_nan() || b.is_nan() || a.is_infinite() || b.is_infinite() {
        return false;
    }
    (a - b).abs() < 1e-7
}

fn bool_value(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// One evaluation: the variables seen (for netdata's `[ $name = value ]` trace) and whether
/// one was unknown.
pub struct Evaluation<'v> {
    vars: &'v dyn Variables,
    unknown: bool,
    trace: Option<String>,
}

impl std::fmt::Debug for Evaluation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluation")
            .field("unknown", &self.unknown)
            .field("trace", &self.trace)
            .finish_non_exhaustive()
    }
}

impl<'v> Evaluation<'v> {
    /// Evaluates with `vars`; `trace` keeps the `[ $name = value ] ` text.
    pub fn new(vars: &'v dyn Variables, trace: bool) -> Evaluation<'v> {
        Evaluation {
            vars,
            unknown: false,
            trace: trace.then(String::new),
        }
    }

    /// The trace text collected so far (empty when not tracing).
    pub fn into_trace(self) -> String {
        self.trace.unwrap_or_default()
    }

    /// Evaluates `node` and applies netdata's final checks.
    pub fn run(&mut self, node: &Node) -> Result<f64, EvalError> {
        let v = self.value(node);
        if v.is_finite() {
            Ok(v)
        } else if self.unknown {
            Err(EvalError::UnknownVariable)
        } else if v.is_nan() {
            Err(EvalError::ValueIsNan)
        } else {
            Err(EvalError::ValueIsInfinite)
        }
    }

    fn value(&mut self, node: &Node) -> f64 {
        match node {
            Node::Number(n) => *n,
            Node::Variable(name) => {
                let v = self.vars.get(name);
                if v.is_none() {
                    self.unknown = true;
                }
                let v = v.unwrap_or(f64::NAN);
                if let Some(t) = &mut self.trace {
                    let _w = write!(t, "[ ${name} = {} ] ", format_number(v));
                }
                v
            }
            Node::Paren(inner) => self.value(inner),
            Node::Unary(op, a) => {
                let a = self.value(a);
                match op {
                    UnOp::Not => bool_value(!truthy(a)),
                    UnOp::Plus => a,
                    UnOp::Neg => {
                        if a.is_nan() {
                            a
                        } else if a.is_infinite() {
                            f64::INFINITY
                        } else {
                            -a
                        }
                    }
                    UnOp::Abs => {
                        if a.is_infinite() {
                            f64::INFINITY
                        } else {
                            a.abs()
                        }
                    }
                }
            }
            Node::Binary(op, a, b) => match op {
                BinOp::And => {
                    let a = self.value(a);
                    if !truthy(a) {
                        return 0.0;
                    }
                    bool_value(truthy(self.value(b)))
                }
                BinOp::Or => {
                    let a = self.value(a);
                    if truthy(a) {
                        return 1.0;
                    }
                    bool_value(truthy(self.value(b)))
                }
                _ => {
                    let a = self.value(a);
                    let b = self.value(b);
                    match op {
                        BinOp::Add => arith(a, b, |x, y| x + y),
                        BinOp::Sub => arith(a, b, |x, y| x - y),
                        BinOp::Mul => arith(a, b, |x, y| x * y),
                        BinOp::Div => arith(a, b, |x, y| x / y),
                        BinOp::Lt => bool_value(a < b),
                        BinOp::Gt => bool_value(a > b),
                        BinOp::Le => bool_value(a <= b),
                        BinOp::Ge => bool_value(a >= b),
                        BinOp::Eq => bool_value(equal(a, b)),
                        BinOp::Ne => bool_value(!equal(a, b)),
                        BinOp::And | BinOp::Or => unreachable_logic(),
                    }
                }
            },
            Node::Conditional(c, t, f) => {
                if truthy(self.value(c)) {
                    self.value(t)
                } else {
                    self.value(f)
                }
            }
        }
    }
}

/// `&&`/`||` are handled before the arithmetic match; this keeps the match exhaustive.
fn unreachable_logic() -> f64 {
    f64::NAN
}
