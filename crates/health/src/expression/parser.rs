//! The parser tributary evaluates with: the same tokens as netdata, conventional precedence
//! (lowest first): `?:` (right associative), `||`, `&&`, `== !=`, `< > <= >=`, `+ -`, `* /`,
//! unary `! - + abs(`.

use super::ParseError;
use super::ast::{BinOp, Node};
use super::lexer::{Cursor, OperandToken, OperatorToken};

/// Nesting guard: deeper input is rejected instead of exhausting the stack.
const MAX_DEPTH: usize = 200;

/// Parses the whole text with conventional precedence.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let mut p = Parser {
        c: Cursor::new(text),
    };
    let node = p.conditional(0)?;
    p.c.skip_spaces();
    if !p.c.at_end() {
        return Err(p.c.error("remaining characters after expression"));
    }
    Ok(node)
}

struct Parser<'a> {
    c: Cursor<'a>,
}

/// Binary precedence levels, lowest first.
fn level(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Eq | BinOp::Ne => 3,
        BinOp::Lt | BinOp::Gt | BinOp::Le | BinOp::Ge => 4,
        BinOp::Add | BinOp::Sub => 5,
        BinOp::Mul | BinOp::Div => 6,
    }
}

impl Parser<'_> {
    fn peek_operator(&self) -> Option<OperatorToken> {
        let mut probe = self.c.clone();
        probe.operator()
    }

    fn conditional(&mut self, depth: usize) -> Result<Node, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.c.error("expression nested too deeply"));
        }
        let cond = self.binary(1, depth)?;
        if self.peek_operator() == Some(OperatorToken::Question) {
            let _q = self.c.operator();
            let then = self.conditional(depth + 1)?;
            self.c.skip_spaces();
            if !self.c.eat(b':') {
                return Err(self
                    .c
                    .error("missing second sub-expression of inline conditional"));
            }
            let otherwise = self.conditional(depth + 1)?;
            return Ok(Node::Conditional(
                Box::new(cond),
                Box::new(then),
                Box::new(otherwise),
            ));
        }
        Ok(cond)
    }

    fn binary(&mut self, min: u8, depth: usize) -> Result<Node, ParseError> {
        let mut left = self.unary(depth)?;
        loop {
            let Some(OperatorToken::Binary(op)) = self.peek_operator() else {
                return Ok(left);
            };
            let l = level(op);
            if l < min {
                return Ok(left);
            }
            let _op = self.c.operator();
            let right = self.binary(l + 1, depth + 1)?;
            left = Node::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self, depth: usize) -> Result<Node, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.c.error("expression nested too deeply"));
        }
        match self.c.operand()? {
            OperandToken::Unary(op) => Ok(Node::Unary(op, Box::new(self.unary(depth + 1)?))),
            OperandToken::Open => {
                let inner = self.conditional(depth + 1)?;
                self.c.skip_spaces();
                if !self.c.eat(b')') {
                    return Err(self.c.error("missing closing parenthesis"));
                }
                Ok(Node::Paren(Box::new(inner)))
            }
            OperandToken::Variable(name) => Ok(Node::Variable(name)),
            OperandToken::Number(n) => Ok(Node::Number(n)),
        }
    }
}
