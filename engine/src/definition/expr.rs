//! The condition language of `when:`.
//!
//! A tiny, safe expression language, written here rather than taken from a crate (see
//! ARCHITECTURE.md): comparisons, `&&`, `||`, `!`, `in [list]`, `has(path)`, literals, and
//! dotted paths into the dossier (`form.child.sex`), earlier outputs
//! (`steps.register_birth.personal_id`) and the chosen bundle (`bundle`). There are no loops,
//! no calls into user code and no allocation during evaluation; the text, the nesting and the
//! number of nodes are capped, so every condition evaluates in time linear in its (bounded)
//! size.

use serde_json::Value;
use std::fmt;

/// Longest condition accepted, in bytes.
pub const MAX_LEN: usize = 1024;
/// Deepest nesting of parentheses and operators.
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
}

/// A dotted path and the byte offset where it starts in the condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub segments: Vec<String>,
    pub offset: usize,
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("."))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Lit(Literal),
    Path(Path),
    List(Vec<Literal>),
    Has(Path),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(Op, Box<Expr>, Box<Expr>),
}

/// A condition that does not parse: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the condition.
    pub offset: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Op(&'static str),
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let err = |offset, message: &str| ParseError {
        offset,
        message: message.to_string(),
    };
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push((Tok::Ident(src[start..i].to_string()), start));
            continue;
        }
        if c.is_ascii_digit() || (c == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let n = src[start..i]
                .parse::<f64>()
                .map_err(|_| err(start, "malformed number"))?;
            out.push((Tok::Num(n), start));
            continue;
        }
        if c == b'\'' || c == b'"' {
            i += 1;
            let content_start = i;
            while i < bytes.len() && bytes[i] != c {
                i += 1;
            }
            if i >= bytes.len() {
                return Err(err(start, "string is not closed"));
            }
            out.push((Tok::Str(src[content_start..i].to_string()), start));
            i += 1;
            continue;
        }
        let two = src.get(i..i + 2).unwrap_or("");
        let op = ["==", "!=", "<=", ">=", "&&", "||"]
            .into_iter()
            .find(|o| *o == two);
        if let Some(op) = op {
            out.push((Tok::Op(op), start));
            i += 2;
            continue;
        }
        let one = ["<", ">", "!", "(", ")", "[", "]", ",", "."]
            .into_iter()
            .find(|o| o.as_bytes()[0] == c);
        match one {
            Some(op) => {
                out.push((Tok::Op(op), start));
                i += 1;
            }
            None => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(err(start, &format!("unexpected character `{ch}`")));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
    depth: usize,
    end: usize,
}

impl Parser {
    fn offset(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |t| t.1)
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            offset: self.offset(),
            message: message.into(),
        })
    }

    fn peek_op(&self, op: &str) -> bool {
        matches!(self.toks.get(self.at), Some((Tok::Op(o), _)) if *o == op)
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.toks.get(self.at), Some((Tok::Ident(w), _)) if w == word)
    }

    fn expect_op(&mut self, op: &str) -> Result<(), ParseError> {
        if self.peek_op(op) {
            self.at += 1;
            Ok(())
        } else {
            self.fail(format!("expected `{op}`"))
        }
    }

    fn nest(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail(format!("condition nested deeper than {MAX_DEPTH}"));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        self.nest()?;
        let mut left = self.and()?;
        while self.peek_op("||") || self.peek_word("or") {
            self.at += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.not()?;
        while self.peek_op("&&") || self.peek_word("and") {
            self.at += 1;
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.peek_op("!") || self.peek_word("not") {
            self.at += 1;
            self.nest()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, ParseError> {
        let left = self.primary()?;
        let op = match self.toks.get(self.at) {
            Some((Tok::Op("=="), _)) => Op::Eq,
            Some((Tok::Op("!="), _)) => Op::Ne,
            Some((Tok::Op("<"), _)) => Op::Lt,
            Some((Tok::Op("<="), _)) => Op::Le,
            Some((Tok::Op(">"), _)) => Op::Gt,
            Some((Tok::Op(">="), _)) => Op::Ge,
            Some((Tok::Ident(w), _)) if w == "in" => Op::In,
            _ => return Ok(left),
        };
        self.at += 1;
        let right = self.primary()?;
        if op == Op::In && !matches!(right, Expr::List(_)) {
            return Err(ParseError {
                offset: self.offset(),
                message: "`in` takes a list such as ['a', 'b']".into(),
            });
        }
        Ok(Expr::Cmp(op, Box::new(left), Box::new(right)))
    }

    fn literal(&mut self) -> Result<Literal, ParseError> {
        let lit = match self.toks.get(self.at) {
            Some((Tok::Str(s), _)) => Literal::Str(s.clone()),
            Some((Tok::Num(n), _)) => Literal::Num(*n),
            Some((Tok::Ident(w), _)) if w == "true" => Literal::Bool(true),
            Some((Tok::Ident(w), _)) if w == "false" => Literal::Bool(false),
            Some((Tok::Ident(w), _)) if w == "null" => Literal::Null,
            _ => return self.fail("expected a literal (string, number, true, false or null)"),
        };
        self.at += 1;
        Ok(lit)
    }

    fn path(&mut self) -> Result<Path, ParseError> {
        let offset = self.offset();
        let mut segments = Vec::new();
        loop {
            match self.toks.get(self.at) {
                Some((Tok::Ident(w), _)) => segments.push(w.clone()),
                _ => return self.fail("expected a field name"),
            }
            self.at += 1;
            if !self.peek_op(".") {
                break;
            }
            self.at += 1;
        }
        Ok(Path { segments, offset })
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        if self.peek_op("(") {
            self.at += 1;
            let inner = self.or()?;
            self.expect_op(")")?;
            return Ok(inner);
        }
        if self.peek_op("[") {
            self.at += 1;
            let mut items = Vec::new();
            while !self.peek_op("]") {
                items.push(self.literal()?);
                if !self.peek_op("]") {
                    self.expect_op(",")?;
                }
            }
            self.at += 1;
            return Ok(Expr::List(items));
        }
        let word = match self.toks.get(self.at) {
            Some((Tok::Ident(w), _)) => w.clone(),
            Some(_) => return Ok(Expr::Lit(self.literal()?)),
            None => return self.fail("condition ends too early"),
        };
        match word.as_str() {
            "true" | "false" | "null" => Ok(Expr::Lit(self.literal()?)),
            "has" if matches!(self.toks.get(self.at + 1), Some((Tok::Op("("), _))) => {
                self.at += 2;
                let path = self.path()?;
                self.expect_op(")")?;
                Ok(Expr::Has(path))
            }
            "and" | "or" | "not" | "in" => {
                self.fail(format!("`{word}` needs an operand before it"))
            }
            _ => Ok(Expr::Path(self.path()?)),
        }
    }
}

/// Parses a condition.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    if src.len() > MAX_LEN {
        return Err(ParseError {
            offset: MAX_LEN,
            message: format!("condition longer than {MAX_LEN} bytes"),
        });
    }
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        at: 0,
        depth: 0,
        end: src.len(),
    };
    if p.toks.is_empty() {
        return p.fail("empty condition");
    }
    let e = p.or()?;
    if p.at < p.toks.len() {
        return p.fail("unexpected text after the condition");
    }
    Ok(e)
}

/// Where conditions read their values from.
pub trait Scope {
    /// The value at a path, or `None` when it is absent.
    fn lookup(&self, path: &[String]) -> Option<&Value>;
}

impl Expr {
    /// Every path the condition reads, in order.
    pub fn paths(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        let mut todo = vec![self];
        while let Some(e) = todo.pop() {
            match e {
                Expr::Path(p) | Expr::Has(p) => out.push(p),
                Expr::Not(a) => todo.push(a),
                Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) => {
                    todo.push(b);
                    todo.push(a);
                }
                Expr::Lit(_) | Expr::List(_) => {}
            }
        }
        out
    }

    /// The value of a condition that reads no field, if it is a boolean.
    pub fn constant(&self) -> Option<bool> {
        if !self.paths().is_empty() {
            return None;
        }
        struct Empty;
        impl Scope for Empty {
            fn lookup(&self, _: &[String]) -> Option<&Value> {
                None
            }
        }
        Some(self.eval(&Empty))
    }

    /// Evaluates to a boolean; absent fields read as `null`, and a non-boolean result is false.
    pub fn eval(&self, scope: &dyn Scope) -> bool {
        matches!(self.value(scope), Value::Bool(true))
    }

    fn value(&self, scope: &dyn Scope) -> Value {
        match self {
            Expr::Lit(l) => lit_value(l),
            Expr::Path(p) => scope.lookup(&p.segments).cloned().unwrap_or(Value::Null),
            Expr::List(items) => Value::Array(items.iter().map(lit_value).collect()),
            Expr::Has(p) => Value::Bool(scope.lookup(&p.segments).is_some_and(|v| !v.is_null())),
            Expr::Not(a) => Value::Bool(!a.eval(scope)),
            Expr::And(a, b) => Value::Bool(a.eval(scope) && b.eval(scope)),
            Expr::Or(a, b) => Value::Bool(a.eval(scope) || b.eval(scope)),
            Expr::Cmp(op, a, b) => Value::Bool(compare(*op, &a.value(scope), &b.value(scope))),
        }
    }
}

fn lit_value(l: &Literal) -> Value {
    match l {
        Literal::Null => Value::Null,
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Num(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        Literal::Str(s) => Value::String(s.clone()),
    }
}

fn compare(op: Op, a: &Value, b: &Value) -> bool {
    use std::cmp::Ordering;
    let order = match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .zip(y.as_f64())
            .and_then(|(x, y)| x.partial_cmp(&y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ => None,
    };
    match op {
        Op::Eq => order == Some(Ordering::Equal),
        Op::Ne => order != Some(Ordering::Equal),
        Op::Lt => order == Some(Ordering::Less),
        Op::Le => matches!(order, Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => order == Some(Ordering::Greater),
        Op::Ge => matches!(order, Some(Ordering::Greater | Ordering::Equal)),
        Op::In => match b {
            Value::Array(items) => items.iter().any(|i| compare(Op::Eq, a, i)),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Json(Value);
    impl Scope for Json {
        fn lookup(&self, path: &[String]) -> Option<&Value> {
            path.iter().try_fold(&self.0, |v, s| v.get(s.as_str()))
        }
    }

    fn eval(src: &str, data: Value) -> bool {
        parse(src).expect("parses").eval(&Json(data))
    }

    #[test]
    fn evaluates_comparisons_and_logic() {
        let d = json!({"form": {"deceased": {"insured": true, "age": 70, "status": "meritorious"}}, "bundle": "four"});
        assert!(eval("form.deceased.insured == true", d.clone()));
        assert!(eval(
            "form.deceased.age >= 60 && bundle in ['three', 'four']",
            d.clone()
        ));
        assert!(!eval(
            "not (form.deceased.age > 60) or bundle == 'two'",
            d.clone()
        ));
        assert!(eval(
            "has(form.deceased.status) and !has(form.deceased.spouse)",
            d.clone()
        ));
        assert!(eval("form.missing == null", d.clone()));
        assert!(!eval("form.deceased.age == '70'", d));
    }

    #[test]
    fn reports_where_parsing_fails() {
        let e = parse("form.a == ").unwrap_err();
        assert_eq!(e.offset, 10);
        let e = parse("form.a = 1").unwrap_err();
        assert_eq!(e.offset, 7);
        assert!(parse("form.a in 'x'").is_err());
        assert!(parse(&"(".repeat(40)).is_err());
        assert!(parse(&"a".repeat(MAX_LEN + 1)).is_err());
    }

    #[test]
    fn finds_constants_and_paths() {
        assert_eq!(parse("1 == 2").unwrap().constant(), Some(false));
        assert_eq!(parse("false || form.x").unwrap().constant(), None);
        let e = parse("form.a.b == 1 && steps.s.o != 'x'").unwrap();
        let paths: Vec<String> = e.paths().iter().map(|p| p.to_string()).collect();
        assert_eq!(paths, ["form.a.b", "steps.s.o"]);
    }
}
