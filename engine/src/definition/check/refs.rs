//! References from steps to data: `when:` conditions, `reads:`, the form and output schemas.

use super::Ctx;
use crate::definition::diagnostic::{Code, Diagnostic};
use crate::definition::expr::{Expr, Literal, Op};
use crate::definition::fields;
use crate::definition::schema::suggest;
use serde_json::Value;

/// What a path names, once resolved.
enum Target<'v> {
    /// A form field or a step output, with its schema.
    Field(&'v Value),
    /// The chosen bundle's id.
    Bundle,
}

/// Resolves `form.…`, `steps.<id>.<output>` or `bundle` as read by step `at`.
fn resolve<'v>(
    ctx: &'v Ctx<'_>,
    at: usize,
    path: &[String],
) -> Result<Target<'v>, (String, Option<String>)> {
    let p = ctx.p;
    match path.first().map(String::as_str) {
        Some("form") => fields::resolve(&p.form, &path[1..])
            .map(Target::Field)
            .map_err(|k| {
                let Some(missing) = path.get(k + 1) else {
                    return (
                        "the form schema cannot be resolved (its `$ref` leads nowhere)".to_string(),
                        None,
                    );
                };
                let names = fields::names_at(&p.form, &path[1..k + 1]);
                let hint = suggest(missing, names.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| {
                        (!names.is_empty()).then(|| format!("fields here: {}", names.join(", ")))
                    });
                (
                    format!("the form has no field `{}`", path[..k + 2].join(".")),
                    hint,
                )
            }),
        Some("steps") => {
            let (Some(step), Some(output)) = (path.get(1), path.get(2)) else {
                return Err(("write steps.<step>.<output>".into(), None));
            };
            let Some(&j) = ctx.index.get(step.as_str()) else {
                let hint = suggest(step, p.steps.iter().map(|s| s.id.as_str()))
                    .map(|s| format!("did you mean `{s}`?"));
                return Err((format!("no step `{step}`"), hint));
            };
            // With a cycle the order is unknown; the cycle itself is reported.
            if ctx.ancestors.is_some() && !ctx.is_ancestor(j, at) {
                return Err((
                    format!("`{step}` does not finish before this step"),
                    Some(format!("add `{step}` (or a step after it) to after:")),
                ));
            }
            let Some(schema) = p.steps[j].writes.get(output.as_str()) else {
                let hint = suggest(output, p.steps[j].writes.keys().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"));
                return Err((format!("step `{step}` writes no output `{output}`"), hint));
            };
            let rest = &path[3..];
            if rest.is_empty() {
                Ok(Target::Field(schema))
            } else {
                fields::resolve(schema, rest)
                    .map(Target::Field)
                    .map_err(|_| {
                        (
                            format!("output `{output}` has no field `{}`", rest.join(".")),
                            None,
                        )
                    })
            }
        }
        Some("bundle") if path.len() == 1 => {
            if p.bundles.is_some() {
                Ok(Target::Bundle)
            } else {
                Err((
                    "`bundle` is only defined when the procedure has bundles".into(),
                    None,
                ))
            }
        }
        _ => Err((
            format!("`{}` is not a known name", path.join(".")),
            Some("start with form., steps.<step>. or use bundle".into()),
        )),
    }
}

fn literal_type(l: &Literal) -> &'static str {
    match l {
        Literal::Null => "null",
        Literal::Bool(_) => "boolean",
        Literal::Num(_) => "number",
        Literal::Str(_) => "string",
    }
}

/// Type-checks `path <op> literal` (and `path in [..]`) against the field's schema.
fn check_types(ctx: &Ctx<'_>, at: usize, e: &Expr, bad: &mut Vec<String>) {
    let mut todo = vec![e];
    while let Some(e) = todo.pop() {
        match e {
            Expr::Not(a) => todo.push(a),
            Expr::And(a, b) | Expr::Or(a, b) => {
                todo.push(a);
                todo.push(b);
            }
            Expr::Cmp(op, a, b) => {
                let (Expr::Path(path), other) = (a.as_ref(), b.as_ref()) else {
                    continue;
                };
                let lits: Vec<&Literal> = match (op, other) {
                    (Op::In, Expr::List(items)) => items.iter().collect(),
                    (_, Expr::Lit(l)) => vec![l],
                    _ => continue,
                };
                // The values a string may take: a field's `enum`, or the bundle ids.
                let (allowed, values): (Vec<&str>, Option<Vec<String>>) =
                    match resolve(ctx, at, &path.segments) {
                        Ok(Target::Field(schema)) => (
                            fields::types_of(schema),
                            schema.get("enum").and_then(|e| e.as_array()).map(|e| {
                                e.iter()
                                    .filter_map(|v| v.as_str().map(str::to_string))
                                    .collect()
                            }),
                        ),
                        Ok(Target::Bundle) => (
                            vec!["string"],
                            ctx.p
                                .bundles
                                .as_ref()
                                .map(|b| b.options.iter().map(|o| o.id.clone()).collect()),
                        ),
                        Err(_) => continue,
                    };
                for l in &lits {
                    if let (Literal::Str(text), Some(values)) = (l, &values)
                        && !values.iter().any(|v| v == text)
                    {
                        bad.push(format!(
                            "`{path}` is never '{text}': it is one of {}",
                            values
                                .iter()
                                .map(|v| format!("'{v}'"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                }
                for l in lits {
                    let t = literal_type(l);
                    let fits = allowed.is_empty()
                        || t == "null"
                        || allowed.contains(&t)
                        || (t == "number" && allowed.contains(&"integer"));
                    if !fits {
                        bad.push(format!(
                            "`{path}` is {} but is compared with a {t}",
                            allowed.join(" or ")
                        ));
                    }
                }
            }
            Expr::Lit(_) | Expr::Path(_) | Expr::List(_) | Expr::Has(_) => {}
        }
    }
}

/// Parses and checks every `when:`; returns, per step, whether its condition is always false.
pub(super) fn conditions(ctx: &mut Ctx<'_>) -> Vec<bool> {
    let p = ctx.p;
    let mut never = vec![false; p.steps.len()];
    let mut found = Vec::new();
    // Each step's own condition, and the conditions of its dated rules.
    let conds: Vec<_> = p
        .steps
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let own = s
                .when
                .iter()
                .map(move |c| (i, format!("/steps/{i}/when"), c, true));
            let dated = s.rules.iter().enumerate().filter_map(move |(k, r)| {
                let pointer = format!("/steps/{i}/rules/{k}/when");
                r.when.as_ref().map(|c| (i, pointer, c, false))
            });
            own.chain(dated)
        })
        .collect();
    for (i, pointer, c, own) in conds {
        let s = &p.steps[i];
        let src = c.source();
        let pos = ctx.pos(&pointer);
        let e = match c.parsed() {
            Ok(e) => e,
            Err(err) => {
                found.push(
                    Diagnostic::new(
                        Code::E050,
                        pos,
                        format!(
                            "condition does not parse at character {}: {}",
                            src.get(..err.offset)
                                .map_or(err.offset, |p| p.chars().count())
                                + 1,
                            err.message
                        ),
                    )
                    .step(&s.id),
                );
                continue;
            }
        };
        let mut path_errors = false;
        for path in e.paths() {
            if let Err((msg, hint)) = resolve(ctx, i, &path.segments) {
                path_errors = true;
                found.push(with_hint(
                    Diagnostic::new(
                        Code::E051,
                        pos,
                        format!(
                            "condition, at character {}: {msg}",
                            src.get(..path.offset)
                                .map_or(path.offset, |p| p.chars().count())
                                + 1
                        ),
                    )
                    .step(&s.id),
                    hint,
                ));
            }
        }
        if !path_errors {
            let mut bad = Vec::new();
            check_types(ctx, i, e, &mut bad);
            for msg in bad {
                found.push(
                    Diagnostic::new(Code::E052, pos, format!("condition: {msg}")).step(&s.id),
                );
            }
        }
        if e.constant() == Some(false) {
            never[i] |= own;
            found.push(
                Diagnostic::new(
                    Code::E030,
                    pos,
                    "the condition is always false, so the step can never run",
                )
                .step(&s.id)
                .hint("a condition must read a field of the form, an output or the bundle"),
            );
        }
    }
    ctx.out.extend(found);
    never
}

/// Every `reads:` entry names a form field or an output of a step that finishes first.
pub(super) fn reads(ctx: &mut Ctx<'_>) {
    let mut found = Vec::new();
    for (i, s) in ctx.p.steps.iter().enumerate() {
        for (k, r) in s.reads.iter().enumerate() {
            let segments: Vec<String> = r.source().split('.').map(str::to_string).collect();
            let pos = ctx.pos(&format!("/steps/{i}/reads/{k}"));
            if let Err((msg, hint)) = resolve(ctx, i, &segments) {
                found.push(with_hint(
                    Diagnostic::new(Code::E060, pos, format!("reads: {msg}")).step(&s.id),
                    hint,
                ));
            }
        }
    }
    ctx.out.extend(found);
}

/// The form and every output schema must themselves be valid JSON Schemas.
pub(super) fn schemas(ctx: &mut Ctx<'_>) {
    let p = ctx.p;
    if let Err(e) = jsonschema::meta::validate(&p.form) {
        let pointer = format!("/form{}", e.instance_path());
        ctx.push(Diagnostic::new(
            Code::E062,
            ctx.pos(&pointer),
            format!("the form is not a valid JSON Schema: {e}"),
        ));
    } else if let Err(e) = compile(&p.form) {
        ctx.push(Diagnostic::new(
            Code::E062,
            ctx.pos("/form"),
            format!("the form schema cannot be used: {e}"),
        ).hint("references must stay inside the form (`#/$defs/...`); patterns must be valid regular expressions"));
    } else if p.form.get("type").and_then(Value::as_str) != Some("object") {
        ctx.push(Diagnostic::new(
            Code::E062,
            ctx.pos("/form/type"),
            "the form must be a schema of `type: object`",
        ));
    }
    for (i, s) in p.steps.iter().enumerate() {
        for (name, schema) in &s.writes {
            let problem = match jsonschema::meta::validate(schema) {
                Err(e) => Some((
                    format!("/steps/{i}/writes/{name}{}", e.instance_path()),
                    e.to_string(),
                )),
                Ok(()) => compile(schema)
                    .err()
                    .map(|e| (format!("/steps/{i}/writes/{name}"), e)),
            };
            if let Some((pointer, e)) = problem {
                ctx.push(
                    Diagnostic::new(
                        Code::E061,
                        ctx.pos(&pointer),
                        format!("output `{name}` has an invalid schema: {e}"),
                    )
                    .step(&s.id),
                );
            }
        }
    }
}

/// Builds a validator the way the engine will, with no remote references: a schema that
/// passes the meta-schema can still fail here (a bad regular expression, a `$ref` to a file or
/// to a definition that does not exist).
fn compile(schema: &Value) -> Result<(), String> {
    crate::machine::schema_options()
        .build(schema)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn with_hint(d: Diagnostic, hint: Option<String>) -> Diagnostic {
    match hint {
        Some(h) => d.hint(h),
        None => d,
    }
}
