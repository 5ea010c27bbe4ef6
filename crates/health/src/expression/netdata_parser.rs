//! netdata 1.37's own expression parser (eval.c), reproduced to know what netdata would
//! compute: operands are read one at a time and each new binary operator is combined with
//! the tree built so far by a single one-level rotation when it binds tighter than the tree's
//! top operator. So `8 > 1 + 2 * 3` is `8 > ((1 + 2) * 3)` and `a > b ? c : d` is
//! `a > (b ? c : d)` (`?:` binds tighter than everything), and `&&`/`||` share one level.

use super::ParseError;
use super::ast::Node;
use super::lexer::{Cursor, OperandToken, OperatorToken};

/// `?:`'s precedence in netdata (above all binary operators).
const CONDITIONAL_PRECEDENCE: u8 = 7;

/// Parses the whole text the way netdata does.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut c = Cursor::new(text);
    let node = full_expression(&mut c, 0)?;
    c.skip_spaces();
    if !c.at_end() {
        return Err(c.error("remaining characters after expression"));
    }
    Ok(node)
}

/// Nesting guard: deeper input is rejected instead of exhausting the stack.
const MAX_DEPTH: usize = 200;

fn full_expression(c: &mut Cursor<'_>, depth: usize) -> Result<Node, ParseError> {
    let mut tree = operand(c, depth)?;
    loop {
        let Some(op) = c.operator() else {
            return Ok(tree);
        };
        let (node_prec, right) = match op {
            OperatorToken::Binary(b) => (b.netdata_precedence(), Some(b)),
            OperatorToken::Question => (CONDITIONAL_PRECEDENCE, None),
        };
        let second = operand(c, depth)?;
        let make = |left: Node, second: Node, third: Option<Node>| match right {
            Some(b) => Node::Binary(b, Box::new(left), Box::new(second)),
            None => Node::Conditional(
                Box::new(left),
                Box::new(second),
                Box::new(third.unwrap_or(Node::Number(f64::NAN))),
            ),
        };
        let third = if right.is_none() {
            c.skip_spaces();
            if !c.eat(b':') {
                return Err(c.error("missing second sub-expression of inline conditional"));
            }
            Some(operand(c, depth)?)
        } else {
            None
        };
        tree = match tree {
            Node::Binary(top, l, r) if top.netdata_precedence() < node_prec => {
                Node::Binary(top, l, Box::new(make(*r, second, third)))
            }
            other => make(other, second, third),
        };
    }
}

fn operand(c: &mut Cursor<'_>, depth: usize) -> Result<Node, ParseError> {
    if depth > MAX_DEPTH {
        return Err(c.error("expression nested too deeply"));
    }
    match c.operand()? {
        OperandToken::Unary(op) => {
            let inner = operand(c, depth + 1)?;
            Ok(Node::Unary(op, Box::new(inner)))
        }
        OperandToken::Open => {
            let inner = full_expression(c, depth + 1)?;
            c.skip_spaces();
            if !c.eat(b')') {
                return Err(c.error("missing closing parenthesis"));
            }
            Ok(Node::Paren(Box::new(inner)))
        }
        OperandToken::Variable(name) => Ok(Node::Variable(name)),
        OperandToken::Number(n) => Ok(Node::Number(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_one_level() {
        assert_eq!(
            parse("8 > 1 + 2 * 3").unwrap().parsed_as(),
            "(8 > ((1 + 2) * 3))"
        );
        assert_eq!(
            parse("5 > 1 ? 10 : 20").unwrap().parsed_as(),
            "(5 > (1 ? 10 : 20))"
        );
        assert!(parse("5 > 1 ? 10 + 1 : 20").is_err());
        assert!(parse("abs (-2)").is_err());
    }
}
