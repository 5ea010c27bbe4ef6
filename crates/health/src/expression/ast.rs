//! The expression tree shared by both parsers, and netdata's `parsed_as` printing of it.

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `&&` / `AND`.
    And,
    /// `||` / `OR`.
    Or,
    /// `>=`.
    Ge,
    /// `<=`.
    Le,
    /// `!=`.
    Ne,
    /// `==` / `=`.
    Eq,
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
}

impl BinOp {
    /// netdata's precedence of the operator (eval.c: `&& ||` 2, comparisons 3, `+ -` 4, `* /` 5).
    pub fn netdata_precedence(self) -> u8 {
        match self {
            BinOp::And | BinOp::Or => 2,
            BinOp::Ge | BinOp::Le | BinOp::Ne | BinOp::Eq | BinOp::Lt | BinOp::Gt => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div => 5,
        }
    }

    /// The operator as netdata prints it in `parsed_as`.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::Ge => ">=",
            BinOp::Le => "<=",
            BinOp::Ne => "!=",
            BinOp::Eq => "==",
            BinOp::Lt => "<",
            BinOp::Gt => ">",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
}

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `!` / `NOT`.
    Not,
    /// unary `-`.
    Neg,
    /// unary `+`.
    Plus,
    /// `abs(`.
    Abs,
}

/// A node of a parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A number literal (`nan` and `inf` included).
    Number(f64),
    /// `$name` or `${name}`.
    Variable(String),
    /// A unary operator and its operand.
    Unary(UnOp, Box<Node>),
    /// A binary operator and its operands.
    Binary(BinOp, Box<Node>, Box<Node>),
    /// `condition ? then : else`.
    Conditional(Box<Node>, Box<Node>, Box<Node>),
    /// `( ... )`: kept so that netdata's parser does not rotate through it.
    Paren(Box<Node>),
}

impl Node {
    /// Whether two trees have the same shape and leaves, ignoring parenthesis nodes (NaN
    /// literals are equal to each other).
    pub fn same_as(&self, other: &Node) -> bool {
        match (self, other) {
            (Node::Paren(a), b) | (b, Node::Paren(a)) => a.same_as(b),
            (Node::Number(a), Node::Number(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Node::Variable(a), Node::Variable(b)) => a == b,
            (Node::Unary(o1, a), Node::Unary(o2, b)) => o1 == o2 && a.same_as(b),
            (Node::Binary(o1, a1, b1), Node::Binary(o2, a2, b2)) => {
                o1 == o2 && a1.same_as(a2) && b1.same_as(b2)
            }
            (Node::Conditional(c1, t1, f1), Node::Conditional(c2, t2, f2)) => {
                c1.same_as(c2) && t1.same_as(t2) && f1.same_as(f2)
            }
            _ => false,
        }
    }

    /// Prints the tree as netdata's `parsed_as` (API `calc_parsed`): `(L op R)`, `!X`, `-X`,
    /// `abs(X)`, `(C ? T : F)`, `${name}`, numbers with at most 7 decimals.
    pub fn parsed_as(&self) -> String {
        let mut out = String::new();
        self.print(&mut out);
        out
    }

    fn print(&self, out: &mut String) {
        match self {
            Node::Number(n) => out.push_str(&format_number(*n)),
            Node::Variable(name) => {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
            }
            Node::Unary(op, a) => {
                match op {
                    UnOp::Not => out.push('!'),
                    UnOp::Neg => out.push('-'),
                    UnOp::Plus => out.push('+'),
                    UnOp::Abs => out.push_str("abs("),
                }
                a.print(out);
                if *op == UnOp::Abs {
                    out.push(')');
                }
            }
            Node::Binary(op, a, b) => {
                out.push('(');
                a.print(out);
                out.push(' ');
                out.push_str(op.symbol());
                out.push(' ');
                b.print(out);
                out.push(')');
            }
            Node::Conditional(c, t, f) => {
                out.push('(');
                c.print(out);
                out.push_str(" ? ");
                t.print(out);
                out.push_str(" : ");
                f.print(out);
                out.push(')');
            }
            Node::Paren(inner) => inner.print(out),
        }
    }
}

/// A number as netdata prints it in expressions and traces: `%0.7Lf` with trailing zeros and a
/// trailing `.` removed; `nan`, `inf`, `-inf`.
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        return "nan".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let mut s = format!("{n:.7}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}
