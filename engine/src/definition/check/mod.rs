//! Semantic checks: what the schema cannot say (the step graph, references between steps,
//! conditions, agencies, deadlines, bundles, schedules). Every check pushes diagnostics and
//! goes on, so a definition's errors come all at once.

mod dated;
mod graph;
mod members;
mod refs;
mod rules;

use super::catalog::Catalog;
use super::diagnostic::{Diagnostic, Pos};
use super::model::Procedure;
use super::yaml::Node;
use std::collections::{BTreeSet, HashMap};

pub(super) struct Ctx<'a> {
    pub p: &'a Procedure,
    pub root: &'a Node,
    /// The built-in catalogue with the definition's own `agencies:`.
    pub catalog: Catalog,
    /// The catalogue before the definition's declarations.
    pub builtin: &'a Catalog,
    /// Step id → index of its first declaration.
    pub index: HashMap<&'a str, usize>,
    /// Prerequisites of each step (indices), dangling references left out.
    pub preds: Vec<Vec<usize>>,
    /// Transitive prerequisites of each step; `None` when the graph has a cycle.
    pub ancestors: Option<Vec<BTreeSet<usize>>>,
    pub out: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    fn new(p: &'a Procedure, root: &'a Node, catalog: &'a Catalog) -> Self {
        let mut index = HashMap::new();
        for (i, s) in p.steps.iter().enumerate() {
            index.entry(s.id.as_str()).or_insert(i);
        }
        let preds = p
            .steps
            .iter()
            .map(|s| {
                s.after
                    .iter()
                    .filter_map(|a| index.get(a.as_str()).copied())
                    .collect()
            })
            .collect();
        Ctx {
            p,
            root,
            catalog: catalog.for_procedure(p),
            builtin: catalog,
            index,
            preds,
            ancestors: None,
            out: Vec::new(),
        }
    }

    pub fn pos(&self, pointer: &str) -> Pos {
        self.root.locate(pointer)
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    /// Whether step `a` is sure to have finished before step `b` starts.
    pub fn is_ancestor(&self, a: usize, b: usize) -> bool {
        self.ancestors
            .as_ref()
            .is_some_and(|anc| anc[b].contains(&a))
    }
}

/// Runs every semantic check on a definition that passed the schema.
pub fn run(p: &Procedure, root: &Node, catalog: &Catalog) -> Vec<Diagnostic> {
    let mut ctx = Ctx::new(p, root, catalog);
    graph::structure(&mut ctx);
    let never = refs::conditions(&mut ctx);
    refs::reads(&mut ctx);
    refs::schemas(&mut ctx);
    rules::declared_agencies(&mut ctx);
    rules::agencies(&mut ctx);
    rules::deadlines(&mut ctx);
    dated::windows(&mut ctx);
    dated::step_rules(&mut ctx);
    rules::bundles(&mut ctx);
    members::procedures(&mut ctx);
    rules::schedules(&mut ctx);
    rules::identity(&mut ctx);
    graph::reachability(&mut ctx, &never);
    rules::critical_path(&mut ctx);
    ctx.out
}
