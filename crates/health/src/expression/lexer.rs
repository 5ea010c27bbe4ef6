//! netdata's expression tokens, read from a cursor that knows whether an operand or an
//! operator is expected (the same characters mean different things in the two positions:
//! `-` is a sign or a subtraction, `!` a negation or the start of `!=`).

use super::ParseError;
use super::ast::{BinOp, UnOp};

/// Longest variable name netdata accepts.
const MAX_VARIABLE: usize = 300;

/// What an operand position starts with.
#[derive(Debug, Clone, PartialEq)]
pub enum OperandToken {
    /// A unary operator (for `abs` only the word `abs` is consumed; the `(` follows).
    Unary(UnOp),
    /// `(`.
    Open,
    /// A variable name.
    Variable(String),
    /// A number.
    Number(f64),
}

/// What an operator position holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OperatorToken {
    /// A binary operator.
    Binary(BinOp),
    /// `?` of an inline conditional.
    Question,
}

/// A position in the expression text.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    text: &'a [u8],
    source: &'a str,
    pos: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn is_var_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'_'
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `source`.
    pub fn new(source: &'a str) -> Cursor<'a> {
        Cursor {
            text: source.as_bytes(),
            source,
            pos: 0,
        }
    }

    /// Byte offset.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The unread rest.
    pub fn rest(&self) -> &'a str {
        self.source.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn at(&self, off: usize) -> Option<u8> {
        self.text.get(self.pos + off).copied()
    }

    /// Skips whitespace.
    pub fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
    }

    /// True at the end of the text.
    pub fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    /// Consumes `c` when it is next.
    pub fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Whether the character after a word operator allows the word: whitespace, `(`, `$`, `!`,
    /// `-`, `+`, a digit or the end.
    fn word_end_ok(&self, off: usize) -> bool {
        match self.at(off) {
            None => true,
            Some(b) => {
                is_space(b) || matches!(b, b'(' | b'$' | b'!' | b'-' | b'+') || b.is_ascii_digit()
            }
        }
    }

    /// Same for symbolic operators, which may also be followed by a letter.
    fn symbol_end_ok(&self, off: usize) -> bool {
        self.word_end_ok(off) || self.at(off).is_some_and(|b| b.is_ascii_alphabetic())
    }

    fn word_is(&self, word: &str) -> bool {
        let w = word.as_bytes();
        self.text.len() >= self.pos + w.len()
            && self.text[self.pos..self.pos + w.len()].eq_ignore_ascii_case(w)
    }

    /// Reads an operand token, or fails with netdata's reason.
    pub fn operand(&mut self) -> Result<OperandToken, ParseError> {
        self.skip_spaces();
        let Some(b) = self.peek() else {
            return Err(self.error("expected operand"));
        };
        match b {
            b'!' => {
                self.pos += 1;
                return Ok(OperandToken::Unary(UnOp::Not));
            }
            b'-' => {
                self.pos += 1;
                return Ok(OperandToken::Unary(UnOp::Neg));
            }
            b'+' => {
                self.pos += 1;
                return Ok(OperandToken::Unary(UnOp::Plus));
            }
            b'(' => {
                self.pos += 1;
                return Ok(OperandToken::Open);
            }
            b'$' => return self.variable(),
            _ => {}
        }
        if self.word_is("not") && self.word_end_ok(3) {
            self.pos += 3;
            return Ok(OperandToken::Unary(UnOp::Not));
        }
        if self.word_is("abs(") {
            self.pos += 3;
            return Ok(OperandToken::Unary(UnOp::Abs));
        }
        if self.text[self.pos..].starts_with(b"nan") {
            self.pos += 3;
            return Ok(OperandToken::Number(f64::NAN));
        }
        if self.text[self.pos..].starts_with(b"inf") {
            self.pos += 3;
            return Ok(OperandToken::Number(f64::INFINITY));
        }
        if b.is_ascii_digit() || b == b'.' {
            return self.number();
        }
        Err(self.error("unknown operand"))
    }

    fn variable(&mut self) -> Result<OperandToken, ParseError> {
        let start = self.pos;
        self.pos += 1; // '$'
        let name = if self.eat(b'{') {
            let from = self.pos;
            while self.peek().is_some_and(|b| b != b'}') {
                self.pos += 1;
            }
            let name = &self.source[from..self.pos];
            let _closed = self.eat(b'}');
            name
        } else {
            let from = self.pos;
            while self.peek().is_some_and(is_var_char) {
                self.pos += 1;
            }
            &self.source[from..self.pos]
        };
        if name.is_empty() || name.len() > MAX_VARIABLE {
            self.pos = start;
            return Err(self.error("unknown operand"));
        }
        Ok(OperandToken::Variable(name.to_string()))
    }

    fn number(&mut self) -> Result<OperandToken, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.eat(b'.') {
            while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let mut off = 1;
            if matches!(self.at(1), Some(b'+' | b'-')) {
                off = 2;
            }
            if self.at(off).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += off;
                while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
        }
        let text = &self.source[start..self.pos];
        match text.parse::<f64>() {
            Ok(v) => Ok(OperandToken::Number(v)),
            Err(_) => {
                self.pos = start;
                Err(self.error("unknown operand"))
            }
        }
    }

    /// Reads an operator when one is next (consuming it), as netdata's `parse_operator`.
    /// `AND` and `OR` consume one more character (netdata's quirk).
    pub fn operator(&mut self) -> Option<OperatorToken> {
        self.skip_spaces();
        let b = self.peek()?;
        let two = |c: u8| self.at(1) == Some(c);
        let (tok, len) = match b {
            b'&' if two(b'&') => (OperatorToken::Binary(BinOp::And), 2),
            b'|' if two(b'|') => (OperatorToken::Binary(BinOp::Or), 2),
            b'>' if two(b'=') => (OperatorToken::Binary(BinOp::Ge), 2),
            b'<' if two(b'=') => (OperatorToken::Binary(BinOp::Le), 2),
            b'!' if two(b'=') => (OperatorToken::Binary(BinOp::Ne), 2),
            b'=' if two(b'=') => (OperatorToken::Binary(BinOp::Eq), 2),
            b'=' => (OperatorToken::Binary(BinOp::Eq), 1),
            b'<' => (OperatorToken::Binary(BinOp::Lt), 1),
            b'>' => (OperatorToken::Binary(BinOp::Gt), 1),
            b'+' => (OperatorToken::Binary(BinOp::Add), 1),
            b'-' => (OperatorToken::Binary(BinOp::Sub), 1),
            b'*' => (OperatorToken::Binary(BinOp::Mul), 1),
            b'/' => (OperatorToken::Binary(BinOp::Div), 1),
            b'?' => (OperatorToken::Question, 1),
            _ => {
                if self.word_is("and") && self.word_end_ok(3) {
                    self.pos += if self.at(3).is_some() { 4 } else { 3 };
                    return Some(OperatorToken::Binary(BinOp::And));
                }
                if self.word_is("or") && self.word_end_ok(2) {
                    self.pos += if self.at(2).is_some() { 3 } else { 2 };
                    return Some(OperatorToken::Binary(BinOp::Or));
                }
                return None;
            }
        };
        if !self.symbol_end_ok(len) {
            return None;
        }
        self.pos += len;
        Some(tok)
    }

    /// A parse error at the current position.
    pub fn error(&self, reason: &'static str) -> ParseError {
        ParseError {
            reason,
            position: self.pos,
            rest: self.rest().to_string(),
        }
    }
}
