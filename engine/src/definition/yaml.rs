//! A bounded YAML loader that keeps positions.
//!
//! Definitions come from administrators and, through the API, from the network, so the loader
//! is built for hostile input: it checks the size and the encoding before parsing, walks the
//! parser's event stream with an explicit stack (no recursion), stops at a nesting limit,
//! charges every node an alias expands to against a node budget ("billion laughs"), and
//! reports duplicate keys instead of silently keeping one. Scalars are resolved with the YAML
//! 1.2 core schema (`yes`/`no` stay strings).

use super::diagnostic::{Code, Diagnostic, Pos};
use super::node::resolve_plain;
pub use super::node::{Entry, Node, Value};
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// Resource limits of the loader. The defaults fit any real procedure with a wide margin.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file accepted, in bytes (default 1 MiB).
    pub max_bytes: usize,
    /// Deepest nesting of mappings and sequences (default 64).
    pub max_depth: usize,
    /// Most nodes in the document after alias expansion (default 20,000; the largest shipped
    /// procedure has under 1,000).
    pub max_nodes: usize,
    /// Most bytes of text in the document after alias expansion (default 4 MiB).
    pub max_expanded_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1 << 20,
            max_depth: 64,
            max_nodes: 20_000,
            max_expanded_bytes: 4 << 20,
        }
    }
}

/// The loader's result: the tree if the text could be read, and every finding on the way.
#[derive(Debug)]
pub struct Loaded {
    pub root: Option<Node>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The loader stops after this many findings: hostile input must not flood the report.
const MAX_FINDINGS: usize = 100;

/// Stands for a key that is not a scalar (reported, then left out of the tree).
const COMPLEX_KEY: &str = "\u{0}complex key";

fn pos_of(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

/// Position of a byte offset in `bytes` (1-based line and column, columns in characters).
fn pos_at_byte(bytes: &[u8], offset: usize) -> Pos {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Pos { line, column }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        pos: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        /// Keys already set, so a repeated key is found in constant time.
        seen: HashMap<String, Pos>,
        pos: Pos,
        anchor: usize,
        key: Option<(String, Pos)>,
    },
}

struct Builder {
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, Footprint)>,
    nodes: usize,
    bytes: usize,
    root: Option<Node>,
    documents: usize,
    diagnostics: Vec<Diagnostic>,
}

/// What a subtree costs when an alias copies it: nodes, bytes of text, nesting depth.
#[derive(Debug, Clone, Copy)]
struct Footprint {
    nodes: usize,
    bytes: usize,
    depth: usize,
}

fn footprint(node: &Node) -> Footprint {
    let mut f = Footprint {
        nodes: 0,
        bytes: 0,
        depth: 0,
    };
    let mut todo = vec![(node, 1usize)];
    while let Some((n, depth)) = todo.pop() {
        f.nodes += 1;
        f.depth = f.depth.max(depth);
        match &n.value {
            Value::Seq(items) => todo.extend(items.iter().map(|i| (i, depth + 1))),
            Value::Map(entries) => {
                for e in entries {
                    f.bytes += e.key.len();
                    todo.push((&e.value, depth + 1));
                }
            }
            Value::Str(text) => f.bytes += text.len(),
            _ => {}
        }
    }
    f
}

impl Builder {
    fn charge_bytes(&mut self, n: usize, pos: Pos) -> Result<(), Diagnostic> {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > self.limits.max_expanded_bytes {
            return Err(Diagnostic::new(
                Code::E005,
                pos,
                format!(
                    "the document expands to more than {} bytes of text",
                    self.limits.max_expanded_bytes
                ),
            )
            .hint(
                "aliases (*name) copy whole subtrees; write the values out or use fewer aliases",
            ));
        }
        Ok(())
    }

    fn charge(&mut self, n: usize, pos: Pos) -> Result<(), Diagnostic> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(Diagnostic::new(
                Code::E005,
                pos,
                format!(
                    "the document expands to more than {} nodes",
                    self.limits.max_nodes
                ),
            )
            .hint(
                "aliases (*name) copy whole subtrees; write the values out or use fewer aliases",
            ));
        }
        Ok(())
    }

    fn push_frame(&mut self, frame: Frame, pos: Pos) -> Result<(), Diagnostic> {
        self.charge(1, pos)?;
        if self.stack.len() >= self.limits.max_depth {
            return Err(Diagnostic::new(
                Code::E004,
                pos,
                format!("nesting deeper than {} levels", self.limits.max_depth),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Attaches a finished node to its parent (or makes it the root).
    fn finish(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            let size = footprint(&node);
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries, seen, key, ..
            }) => match key.take() {
                None => {
                    let text = match node.value {
                        Value::Str(s) => s,
                        Value::Null => "null".to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Int(i) => i.to_string(),
                        Value::Float(f) => f.to_string(),
                        Value::Seq(_) | Value::Map(_) => {
                            self.diagnostics.push(
                                Diagnostic::new(
                                    Code::E007,
                                    node.pos,
                                    "a mapping key must be a scalar",
                                )
                                .hint("keys are plain names such as `steps` or `after`"),
                            );
                            String::from(COMPLEX_KEY)
                        }
                    };
                    *key = Some((text, node.pos));
                }
                Some((k, key_pos)) => {
                    if k == COMPLEX_KEY {
                        // Already reported; the entry is left out.
                    } else if let Some(first) = seen.get(&k) {
                        self.diagnostics.push(
                            Diagnostic::new(Code::E006, key_pos, format!("duplicate key `{k}`"))
                                .hint(format!(
                                    "`{k}` is already set on line {}; keep one of them",
                                    first.line
                                )),
                        );
                    } else {
                        seen.insert(k.clone(), key_pos);
                        entries.push(Entry {
                            key: k,
                            key_pos,
                            value: node,
                        });
                    }
                }
            },
        }
    }

    fn on_event(&mut self, event: Event<'_>, span: &Span) -> Result<(), Diagnostic> {
        let pos = pos_of(span);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Diagnostic::new(
                        Code::E007,
                        pos,
                        "a definition file holds one YAML document",
                    )
                    .hint("put each procedure in its own file"));
                }
            }
            Event::Alias(id) => {
                let unknown = || Diagnostic::new(Code::E005, pos, "alias to an unknown anchor");
                let size = self.anchors.get(&id).map(|(_, s)| *s).ok_or_else(unknown)?;
                // Charge the expansion before copying it, so memory stays within the budget,
                // and refuse copies that would nest deeper than the limit.
                self.charge(size.nodes, pos)?;
                self.charge_bytes(size.bytes, pos)?;
                if self.stack.len() + size.depth > self.limits.max_depth {
                    return Err(Diagnostic::new(
                        Code::E004,
                        pos,
                        format!(
                            "the alias nests deeper than {} levels",
                            self.limits.max_depth
                        ),
                    ));
                }
                let value = self
                    .anchors
                    .get(&id)
                    .map(|(n, _)| n.value.clone())
                    .ok_or_else(unknown)?;
                let node = Node { value, pos };
                self.finish(node, 0);
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.charge(1, pos)?;
                self.charge_bytes(text.len(), pos)?;
                if tag.is_some() {
                    self.diagnostics.push(
                        Diagnostic::new(Code::E007, pos, "YAML tags (`!name`) are not used here")
                            .hint("remove the tag; quote the value if it must stay a string"),
                    );
                }
                let value = match style {
                    ScalarStyle::Plain => resolve_plain(&text),
                    _ => Value::Str(text.into_owned()),
                };
                self.finish(Node { value, pos }, anchor);
            }
            Event::SequenceStart(anchor, tag) => {
                if tag.is_some() {
                    self.diagnostics.push(Diagnostic::new(
                        Code::E007,
                        pos,
                        "YAML tags (`!name`) are not used here",
                    ));
                }
                self.push_frame(
                    Frame::Seq {
                        items: Vec::new(),
                        pos,
                        anchor,
                    },
                    pos,
                )?;
            }
            Event::MappingStart(anchor, tag) => {
                if tag.is_some() {
                    self.diagnostics.push(Diagnostic::new(
                        Code::E007,
                        pos,
                        "YAML tags (`!name`) are not used here",
                    ));
                }
                let frame = Frame::Map {
                    entries: Vec::new(),
                    seen: HashMap::new(),
                    pos,
                    anchor,
                    key: None,
                };
                self.push_frame(frame, pos)?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { items, pos, anchor }) => (
                        Node {
                            value: Value::Seq(items),
                            pos,
                        },
                        anchor,
                    ),
                    Some(Frame::Map {
                        entries,
                        pos,
                        anchor,
                        ..
                    }) => (
                        Node {
                            value: Value::Map(entries),
                            pos,
                        },
                        anchor,
                    ),
                    None => return Ok(()),
                };
                self.finish(node, anchor);
            }
        }
        Ok(())
    }
}

/// Reads `bytes` as one YAML document within `limits`.
pub fn load(bytes: &[u8], limits: Limits) -> Loaded {
    let fatal = |d: Diagnostic| Loaded {
        root: None,
        diagnostics: vec![d],
    };
    if bytes.len() > limits.max_bytes {
        return fatal(
            Diagnostic::new(
                Code::E001,
                Pos { line: 1, column: 1 },
                format!(
                    "file is {} bytes, more than the {} allowed",
                    bytes.len(),
                    limits.max_bytes
                ),
            )
            .hint("a procedure definition is a few kilobytes; split or trim the file"),
        );
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let pos = pos_at_byte(bytes, e.valid_up_to());
            return fatal(
                Diagnostic::new(Code::E002, pos, "the file is not valid UTF-8")
                    .hint("save the file as UTF-8 (Vietnamese text included)"),
            );
        }
    };
    let mut builder = Builder {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        bytes: 0,
        root: None,
        documents: 0,
        diagnostics: Vec::new(),
    };
    for item in Parser::new_from_str(text) {
        let step = match item {
            Ok((event, span)) => builder.on_event(event, &span),
            Err(e) => {
                let m = e.marker();
                let pos = Pos {
                    line: m.line(),
                    column: m.col() + 1,
                };
                // The scanner has its own limit on flow nesting; report it as nesting.
                if e.info().contains("recursion limit") {
                    Err(Diagnostic::new(
                        Code::E004,
                        pos,
                        format!("nesting deeper than the parser allows ({})", e.info()),
                    ))
                } else {
                    Err(Diagnostic::new(
                        Code::E003,
                        pos,
                        format!("YAML syntax: {}", e.info()),
                    ))
                }
            }
        };
        if let Err(d) = step {
            builder.diagnostics.push(d);
            return Loaded {
                root: None,
                diagnostics: builder.diagnostics,
            };
        }
        if builder.diagnostics.len() >= MAX_FINDINGS {
            let pos = builder
                .diagnostics
                .last()
                .map_or_else(Pos::default, |d| Pos {
                    line: d.line,
                    column: d.column,
                });
            builder.diagnostics.push(
                Diagnostic::new(
                    Code::E007,
                    pos,
                    format!("more than {MAX_FINDINGS} problems; reading stopped"),
                )
                .hint("fix the problems above and validate again"),
            );
            return Loaded {
                root: None,
                diagnostics: builder.diagnostics,
            };
        }
    }
    Loaded {
        root: builder.root,
        diagnostics: builder.diagnostics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        let loaded = load(text.as_bytes(), Limits::default());
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.root.expect("a root")
    }

    #[test]
    fn core_schema_scalars() {
        let json =
            root("a: 1\nb: 1.5\nc: yes\nd: ~\ne: '1'\nf: true\ng: 2024-07-01\nh: 1e3\n").to_json();
        assert_eq!(
            json,
            serde_json::json!({"a":1,"b":1.5,"c":"yes","d":null,"e":"1","f":true,"g":"2024-07-01","h":1000.0})
        );
    }

    #[test]
    fn positions_of_keys_and_values() {
        let node = root("steps:\n  - id: a\n    after: [b]\n");
        assert_eq!(
            node.locate("/steps/0/after/0"),
            Pos {
                line: 3,
                column: 13
            }
        );
        assert_eq!(
            node.locate_key("/steps/0", "after"),
            Pos { line: 3, column: 5 }
        );
        // A list under a key is placed on the key.
        assert_eq!(node.locate("/steps/0/after"), Pos { line: 3, column: 5 });
        assert_eq!(node.locate("/steps"), Pos { line: 1, column: 1 });
    }

    #[test]
    fn duplicate_keys_are_reported_with_both_lines() {
        let loaded = load(b"a: 1\nb: 2\na: 3\n", Limits::default());
        assert_eq!(loaded.diagnostics.len(), 1);
        let d = &loaded.diagnostics[0];
        assert_eq!((d.code, d.line), (Code::E006, 3));
        assert!(d.hint.as_deref().unwrap_or("").contains("line 1"));
    }

    #[test]
    fn aliases_expand_within_budget() {
        let node = root("x: &v [1, 2]\ny: *v\n");
        assert_eq!(node.to_json(), serde_json::json!({"x":[1,2],"y":[1,2]}));
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"));
        }
        let loaded = load(text.as_bytes(), Limits::default());
        assert!(loaded.root.is_none());
        assert_eq!(loaded.diagnostics[0].code, Code::E005);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(10_000);
        let loaded = load(text.as_bytes(), Limits::default());
        assert!(loaded.root.is_none());
        assert_eq!(loaded.diagnostics[0].code, Code::E004);
    }

    #[test]
    fn bad_utf8_names_the_position() {
        let loaded = load(b"a: 1\nb: \xff\n", Limits::default());
        let d = &loaded.diagnostics[0];
        assert_eq!((d.code, d.line, d.column), (Code::E002, 2, 4));
    }
}
