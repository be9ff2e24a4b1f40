//! Compiled rule sets. Compilation turns every rule into a small tree over
//! *signals* — cheap per-post facts such as "the folded word `refund`
//! occurs", "a word matches `deliver*`", "the post has `#fail`", "`lang:es`"
//! — and a few *atoms* that need word positions (phrases and NEAR). Signals
//! are shared by all rules: a post is scanned once, each word costing one
//! hash lookup plus one per distinct wildcard prefix length, and only the
//! rules one of whose *trigger* signals is present are evaluated. A rule's
//! triggers are signals at least one of which must be present for it to
//! match (for `a AND (b OR c)`, `{a}` or `{b, c}`); rules without any (say
//! `NOT spam`) are evaluated for every post.

use std::collections::hash_map::Entry;

use super::ast::{Expr, FieldFilter, Near, Term, Wildcard, WordMatch};
use super::error::{RuleError, RuleSetError};
use super::fold::lower_fold;
use super::parser::{MAX_NESTING, parse};
use super::view::PostView;
use crate::hashing::{FastMap as FxHashMap, FastSet as FxHashSet};

/// Deepest syntax tree [`RuleSet::from_exprs`] accepts: what the parser can
/// produce (each nesting level may add an AND/OR level) with some margin.
const MAX_TREE_DEPTH: usize = 2 * MAX_NESTING + 8;

/// Word wildcards are bucketed by (at most) this many leading characters,
/// so each word of a post costs at most this many bucket lookups whatever
/// the wildcards; the few wildcards of a bucket are then checked in full.
const PATTERN_BUCKET_CHARS: usize = 3;

/// What a signal tests.
#[derive(Debug, Clone)]
enum SignalKind {
    /// An exact folded word (key of `words`).
    Word,
    /// A wildcard over folded words (listed in `patterns`).
    Pattern(Wildcard),
    /// A word as written (key of `case_words`).
    CaseWord,
    /// An exact hashtag (key of `hashtags`).
    Hashtag,
    /// A wildcard over hashtags.
    HashtagPattern(Wildcard),
    /// An exact mention (key of `mentions`).
    Mention,
    /// A wildcard over mentions.
    MentionPattern(Wildcard),
    /// A metadata filter.
    Field(FieldFilter),
}

/// A test that needs word positions; evaluated at most once per post.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Atom {
    /// Word signals at consecutive positions within one clause.
    Phrase(Box<[u32]>),
    /// Two groups of word-signal sequences within `distance` words.
    Near { left: Box<[Box<[u32]>]>, right: Box<[Box<[u32]>]>, distance: usize, ordered: bool },
}

/// A compiled rule tree.
#[derive(Debug, Clone)]
enum Node {
    Signal(u32),
    Atom(u32),
    And(Box<[Node]>),
    Or(Box<[Node]>),
    Not(Box<Node>),
}

impl Node {
    /// Rough evaluation cost, so AND/OR try cheap children first.
    fn cost(&self) -> u8 {
        match self {
            Node::Signal(_) => 0,
            Node::Not(child) if matches!(**child, Node::Signal(_)) => 1,
            Node::Atom(_) => 2,
            _ => 3,
        }
    }
}

#[derive(Debug, Clone)]
struct CompiledRule {
    name: String,
    node: Node,
}

/// An account's named rules, compiled once (at configuration load) and
/// evaluated against each post with [`RuleSet::matching`]. Immutable after
/// compilation, so one set is shared by every worker thread.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// Sorted by name, so matching indexes come out in name order.
    rules: Vec<CompiledRule>,
    signals: Vec<SignalKind>,
    words: FxHashMap<Box<str>, u32>,
    case_words: FxHashMap<Box<str>, u32>,
    /// The case-sensitive words lowercased and folded: only a post with one
    /// of these words needs its original-case forms recovered.
    case_folded: FxHashSet<Box<str>>,
    /// Word wildcards by the first [`PATTERN_BUCKET_CHARS`] characters of
    /// their literal prefix (fewer when the prefix is shorter).
    patterns: FxHashMap<Box<str>, Vec<u32>>,
    /// The distinct lengths, in characters, of the keys of `patterns`.
    prefix_lengths: Vec<usize>,
    hashtags: FxHashMap<Box<str>, u32>,
    hashtag_patterns: Vec<u32>,
    mentions: FxHashMap<Box<str>, u32>,
    mention_patterns: Vec<u32>,
    fields: Vec<u32>,
    atoms: Vec<Atom>,
    /// For each signal, the rules it triggers.
    rules_by_signal: Vec<Vec<u32>>,
    /// Rules evaluated for every post, as a bit set over rule indexes.
    always: Vec<u64>,
}

impl RuleSet {
    /// Parses and compiles named rules, e.g. an account's topics. Fails on
    /// the first rule that does not parse, naming it, or on a name used
    /// twice (matches are reported by name).
    pub fn compile<N, E>(rules: &[(N, E)]) -> Result<Self, RuleSetError>
    where
        N: AsRef<str>,
        E: AsRef<str>,
    {
        let mut parsed = Vec::with_capacity(rules.len());
        for (name, expression) in rules {
            let name = name.as_ref();
            let expr =
                parse(expression.as_ref()).map_err(|error| RuleSetError { rule: name.to_owned(), error })?;
            parsed.push((name.to_owned(), expr));
        }
        Self::from_exprs(parsed)
    }

    /// Compiles already parsed (or programmatically built) rules; for
    /// callers that combine or generate syntax trees. Fails on a name used
    /// twice or a tree nested deeper than the parser would allow.
    pub fn from_exprs(rules: Vec<(String, Expr)>) -> Result<Self, RuleSetError> {
        let mut rules = rules;
        rules.sort_by(|a, b| a.0.cmp(&b.0));
        for pair in rules.windows(2) {
            if let [(first, _), (second, _)] = pair
                && first == second
            {
                return Err(RuleSetError {
                    rule: second.clone(),
                    error: RuleError::new(0, "a rule name used once", "a second rule with this name"),
                });
            }
        }
        let mut builder = Builder::default();
        for (name, expr) in &rules {
            if tree_depth(expr) > MAX_TREE_DEPTH {
                return Err(RuleSetError {
                    rule: name.clone(),
                    error: RuleError::new(
                        0,
                        format!("at most {MAX_NESTING} nested parentheses or NOTs"),
                        "deeper nesting",
                    ),
                });
            }
            let node = builder.node(expr);
            builder.set.rules.push(CompiledRule { name: name.clone(), node });
        }
        Ok(builder.finish())
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rule names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|rule| rule.name.as_str())
    }

    /// Names of the rules `view` matches, sorted.
    pub fn matching(&self, view: &PostView<'_>) -> Vec<&str> {
        self.matching_indexes(view)
            .into_iter()
            .filter_map(|index| self.rules.get(index).map(|rule| rule.name.as_str()))
            .collect()
    }

    /// Whether the rule called `name` matches `view` (false for an unknown
    /// name); for callers that test one condition, e.g. routing.
    pub fn matches(&self, name: &str, view: &PostView<'_>) -> bool {
        let Ok(index) = self.rules.binary_search_by(|rule| rule.name.as_str().cmp(name)) else {
            return false;
        };
        let mut context = Context::new(self, view);
        self.rules.get(index).is_some_and(|rule| context.eval(&rule.node))
    }

    /// Indexes (in name order) of the rules `view` matches, ascending.
    pub(crate) fn matching_indexes(&self, view: &PostView<'_>) -> Vec<usize> {
        if self.rules.is_empty() {
            return Vec::new();
        }
        let mut context = Context::new(self, view);
        let mut candidates = self.always.clone();
        for signal in set_bits(&context.present) {
            if let Some(rules) = self.rules_by_signal.get(signal) {
                for &rule in rules {
                    set_bit(&mut candidates, rule as usize);
                }
            }
        }
        let mut matched = Vec::new();
        for index in set_bits(&candidates) {
            if let Some(rule) = self.rules.get(index)
                && context.eval(&rule.node)
            {
                matched.push(index);
            }
        }
        matched
    }

    fn pattern(&self, signal: u32) -> Option<&Wildcard> {
        match self.signals.get(signal as usize) {
            Some(
                SignalKind::Pattern(pattern)
                | SignalKind::HashtagPattern(pattern)
                | SignalKind::MentionPattern(pattern),
            ) => Some(pattern),
            _ => None,
        }
    }
}

/// A single compiled rule, for callers that test one condition (routing,
/// alert filters) rather than a named set.
#[derive(Debug, Clone)]
pub struct Rule {
    expr: Expr,
    set: RuleSet,
}

impl Rule {
    /// Parses and compiles `expression`.
    pub fn parse(expression: &str) -> Result<Self, RuleError> {
        let expr = parse(expression)?;
        let set = RuleSet::from_exprs(vec![(String::new(), expr.clone())]).map_err(|error| error.error)?;
        Ok(Self { expr, set })
    }

    /// Whether the post matches the rule.
    pub fn matches(&self, view: &PostView<'_>) -> bool {
        !self.set.matching_indexes(view).is_empty()
    }

    /// The parsed rule.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }
}

impl std::str::FromStr for Rule {
    type Err = RuleError;

    fn from_str(expression: &str) -> Result<Self, Self::Err> {
        Self::parse(expression)
    }
}

/// Depth of `expr`, computed without recursion (the tree may come from a
/// caller rather than the depth-limited parser).
fn tree_depth(expr: &Expr) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(expr, 1usize)];
    while let Some((expr, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        if depth > MAX_TREE_DEPTH {
            break;
        }
        match expr {
            Expr::And(children) | Expr::Or(children) => {
                stack.extend(children.iter().map(|child| (child, depth + 1)));
            }
            Expr::Not(child) => stack.push((child, depth + 1)),
            Expr::Term(_) | Expr::Near(_) => {}
        }
    }
    deepest
}

fn set_bit(bits: &mut [u64], index: usize) {
    if let Some(word) = bits.get_mut(index / 64) {
        *word |= 1 << (index % 64);
    }
}

fn get_bit(bits: &[u64], index: usize) -> bool {
    bits.get(index / 64).is_some_and(|word| word & (1 << (index % 64)) != 0)
}

fn set_bits(bits: &[u64]) -> impl Iterator<Item = usize> + '_ {
    bits.iter().enumerate().flat_map(|(index, &word)| {
        let mut rest = word;
        std::iter::from_fn(move || {
            if rest == 0 {
                return None;
            }
            let bit = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            Some(index * 64 + bit)
        })
    })
}

/// Interns signals and atoms while rules are compiled.
#[derive(Default)]
struct Builder {
    set: RuleSet,
    pattern_ids: FxHashMap<(u8, Wildcard), u32>,
    field_ids: FxHashMap<FieldFilter, u32>,
    atom_ids: FxHashMap<Atom, u32>,
}

impl Builder {
    fn new_signal(&mut self, kind: SignalKind) -> u32 {
        let id = u32::try_from(self.set.signals.len()).unwrap_or(u32::MAX);
        self.set.signals.push(kind);
        id
    }

    fn keyed(&mut self, table: Table, key: &str) -> u32 {
        let map = match table {
            Table::Words => &self.set.words,
            Table::CaseWords => &self.set.case_words,
            Table::Hashtags => &self.set.hashtags,
            Table::Mentions => &self.set.mentions,
        };
        if let Some(&id) = map.get(key) {
            return id;
        }
        let kind = match table {
            Table::Words => SignalKind::Word,
            Table::CaseWords => SignalKind::CaseWord,
            Table::Hashtags => SignalKind::Hashtag,
            Table::Mentions => SignalKind::Mention,
        };
        let id = self.new_signal(kind);
        let map = match table {
            Table::Words => &mut self.set.words,
            Table::CaseWords => &mut self.set.case_words,
            Table::Hashtags => &mut self.set.hashtags,
            Table::Mentions => &mut self.set.mentions,
        };
        map.insert(key.into(), id);
        id
    }

    /// `table`: 0 words, 1 hashtags, 2 mentions.
    fn pattern(&mut self, table: u8, pattern: &Wildcard) -> u32 {
        if let Some(&id) = self.pattern_ids.get(&(table, pattern.clone())) {
            return id;
        }
        let id = self.new_signal(match table {
            0 => SignalKind::Pattern(pattern.clone()),
            1 => SignalKind::HashtagPattern(pattern.clone()),
            _ => SignalKind::MentionPattern(pattern.clone()),
        });
        match table {
            0 => {
                let bucket: String = pattern.literal_prefix().chars().take(PATTERN_BUCKET_CHARS).collect();
                self.set.patterns.entry(bucket.into()).or_default().push(id);
            }
            1 => self.set.hashtag_patterns.push(id),
            _ => self.set.mention_patterns.push(id),
        }
        self.pattern_ids.insert((table, pattern.clone()), id);
        id
    }

    fn word(&mut self, word: &WordMatch) -> u32 {
        match word {
            WordMatch::Exact(word) => self.keyed(Table::Words, word),
            WordMatch::Wildcard(pattern) => self.pattern(0, pattern),
            WordMatch::CaseSensitive(word) => {
                self.set.case_folded.insert(lower_fold(word).into());
                self.keyed(Table::CaseWords, word)
            }
        }
    }

    fn tag(&mut self, table: Table, word: &WordMatch) -> u32 {
        match word {
            WordMatch::Wildcard(pattern) => {
                self.pattern(if table == Table::Hashtags { 1 } else { 2 }, pattern)
            }
            WordMatch::Exact(tag) | WordMatch::CaseSensitive(tag) => self.keyed(table, &lower_fold(tag)),
        }
    }

    fn field(&mut self, filter: &FieldFilter) -> u32 {
        if let Some(&id) = self.field_ids.get(filter) {
            return id;
        }
        let id = self.new_signal(SignalKind::Field(filter.clone()));
        self.set.fields.push(id);
        self.field_ids.insert(filter.clone(), id);
        id
    }

    fn atom(&mut self, atom: Atom) -> u32 {
        match self.atom_ids.entry(atom) {
            Entry::Occupied(entry) => *entry.get(),
            Entry::Vacant(entry) => {
                let id = u32::try_from(self.set.atoms.len()).unwrap_or(u32::MAX);
                self.set.atoms.push(entry.key().clone());
                entry.insert(id);
                id
            }
        }
    }

    fn sequence(&mut self, words: &[WordMatch]) -> Box<[u32]> {
        words.iter().map(|word| self.word(word)).collect()
    }

    fn node(&mut self, expr: &Expr) -> Node {
        match expr {
            Expr::Term(Term::Words(words)) => match words.as_slice() {
                [] => Node::Or(Box::new([])),
                [word] => Node::Signal(self.word(word)),
                _ => {
                    let sequence = self.sequence(words);
                    Node::Atom(self.atom(Atom::Phrase(sequence)))
                }
            },
            Expr::Term(Term::Hashtag(word)) => Node::Signal(self.tag(Table::Hashtags, word)),
            Expr::Term(Term::Mention(word)) => Node::Signal(self.tag(Table::Mentions, word)),
            Expr::Term(Term::Field(filter)) => Node::Signal(self.field(filter)),
            Expr::And(children) => Node::And(self.children(children)),
            Expr::Or(children) => Node::Or(self.children(children)),
            Expr::Not(child) => Node::Not(Box::new(self.node(child))),
            Expr::Near(Near { left, right, distance, ordered }) => {
                let mut side = |alternatives: &[Vec<WordMatch>]| -> Box<[Box<[u32]>]> {
                    alternatives
                        .iter()
                        .filter(|words| !words.is_empty())
                        .map(|words| self.sequence(words))
                        .collect()
                };
                let (left, right) = (side(left), side(right));
                if left.is_empty() || right.is_empty() {
                    return Node::Or(Box::new([]));
                }
                let distance = usize::try_from(*distance).unwrap_or(usize::MAX);
                Node::Atom(self.atom(Atom::Near { left, right, distance, ordered: *ordered }))
            }
        }
    }

    fn children(&mut self, children: &[Expr]) -> Box<[Node]> {
        let mut nodes: Vec<Node> = children.iter().map(|child| self.node(child)).collect();
        nodes.sort_by_key(Node::cost);
        nodes.into_boxed_slice()
    }

    fn is_pattern(&self, signal: u32) -> bool {
        matches!(self.set.signals.get(signal as usize), Some(SignalKind::Pattern(_)))
    }

    /// The signal of a sequence that best stands for it: an exact word
    /// rather than a wildcard, which matches more often.
    fn representative(&self, sequence: &[u32]) -> Option<u32> {
        sequence
            .iter()
            .copied()
            .find(|&signal| !self.is_pattern(signal))
            .or_else(|| sequence.first().copied())
    }

    /// Signals one of which must be present for `node` to be true; `None`
    /// when there is no such set (a negation).
    fn trigger(&self, node: &Node) -> Option<Vec<u32>> {
        match node {
            Node::Signal(signal) => Some(vec![*signal]),
            Node::Atom(atom) => match self.set.atoms.get(*atom as usize)? {
                Atom::Phrase(sequence) => Some(self.representative(sequence).into_iter().collect()),
                Atom::Near { left, right, .. } => {
                    let side = |alternatives: &[Box<[u32]>]| -> Vec<u32> {
                        alternatives.iter().filter_map(|sequence| self.representative(sequence)).collect()
                    };
                    let (left, right) = (side(left), side(right));
                    Some(if left.len() <= right.len() { left } else { right })
                }
            },
            Node::And(children) => {
                children.iter().filter_map(|child| self.trigger(child)).min_by_key(Vec::len)
            }
            Node::Or(children) => {
                let mut all = Vec::new();
                for child in children.iter() {
                    all.extend(self.trigger(child)?);
                }
                all.sort_unstable();
                all.dedup();
                Some(all)
            }
            Node::Not(_) => None,
        }
    }

    fn finish(mut self) -> RuleSet {
        let mut rules_by_signal: Vec<Vec<u32>> = vec![Vec::new(); self.set.signals.len()];
        let mut always = vec![0u64; self.set.rules.len().div_ceil(64)];
        for (index, rule) in self.set.rules.iter().enumerate() {
            match self.trigger(&rule.node) {
                Some(signals) => {
                    for signal in signals {
                        if let Some(rules) = rules_by_signal.get_mut(signal as usize) {
                            rules.push(u32::try_from(index).unwrap_or(u32::MAX));
                        }
                    }
                }
                None => set_bit(&mut always, index),
            }
        }
        let mut prefix_lengths: Vec<usize> =
            self.set.patterns.keys().map(|prefix| prefix.chars().count()).collect();
        prefix_lengths.sort_unstable();
        prefix_lengths.dedup();
        self.set.prefix_lengths = prefix_lengths;
        self.set.rules_by_signal = rules_by_signal;
        self.set.always = always;
        self.set
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Words,
    CaseWords,
    Hashtags,
    Mentions,
}

/// Per-post evaluation state: which signals are present (and where), and
/// the memoised atoms.
struct Context<'s, 'v> {
    set: &'s RuleSet,
    view: &'v PostView<'v>,
    /// `(signal, position)` of every word signal, sorted.
    hits: Vec<(u32, usize)>,
    /// Bit set over signals.
    present: Vec<u64>,
    /// Per atom: 0 not yet evaluated, 1 false, 2 true.
    memo: Vec<u8>,
}

impl<'s, 'v> Context<'s, 'v> {
    fn new(set: &'s RuleSet, view: &'v PostView<'v>) -> Self {
        let mut context = Self {
            set,
            view,
            hits: Vec::with_capacity(view.word_count().min(32)),
            present: vec![0; set.signals.len().div_ceil(64)],
            memo: vec![0; set.atoms.len()],
        };
        context.collect();
        context
    }

    /// Scans the post once and records every present signal.
    fn collect(&mut self) {
        let (set, view) = (self.set, self.view);
        let scan_words = !set.words.is_empty() || !set.prefix_lengths.is_empty();
        let scan_case = !set.case_words.is_empty();
        if scan_words || scan_case {
            for position in 0..view.word_count() {
                let word = view.folded(position);
                if let Some(&signal) = set.words.get(word) {
                    self.hits.push((signal, position));
                }
                if !set.prefix_lengths.is_empty() {
                    self.scan_patterns(word, position);
                }
                if scan_case
                    && set.case_folded.contains(word)
                    && let Some(original) = view.original(position)
                    && let Some(&signal) = set.case_words.get(original)
                {
                    self.hits.push((signal, position));
                }
            }
        }
        self.hits.sort_unstable();
        for &(signal, _) in &self.hits {
            set_bit(&mut self.present, signal as usize);
        }
        self.collect_tags(view.hashtags(), &set.hashtags, &set.hashtag_patterns);
        self.collect_tags(view.mentions(), &set.mentions, &set.mention_patterns);
        for &signal in &set.fields {
            if let Some(SignalKind::Field(filter)) = set.signals.get(signal as usize)
                && view.field_matches(filter)
            {
                set_bit(&mut self.present, signal as usize);
            }
        }
    }

    /// Looks up each prefix of `word` whose length some wildcard's literal
    /// prefix has, then checks the candidate wildcards in full.
    fn scan_patterns(&mut self, word: &str, position: usize) {
        let set = self.set;
        let mut lengths = set.prefix_lengths.iter().copied().peekable();
        let check = |prefix: &str, hits: &mut Vec<(u32, usize)>| {
            if let Some(signals) = set.patterns.get(prefix) {
                for &signal in signals {
                    if set.pattern(signal).is_some_and(|pattern| pattern.matches(word)) {
                        hits.push((signal, position));
                    }
                }
            }
        };
        if lengths.peek() == Some(&0) {
            check("", &mut self.hits);
            lengths.next();
        }
        for (count, (index, c)) in word.char_indices().enumerate() {
            let Some(&wanted) = lengths.peek() else {
                break;
            };
            if count + 1 < wanted {
                continue;
            }
            if let Some(prefix) = word.get(..index + c.len_utf8()) {
                check(prefix, &mut self.hits);
            }
            lengths.next();
        }
    }

    fn collect_tags<'t>(
        &mut self,
        tags: impl Iterator<Item = &'t str>,
        exact: &FxHashMap<Box<str>, u32>,
        patterns: &[u32],
    ) {
        if exact.is_empty() && patterns.is_empty() {
            return;
        }
        for tag in tags {
            if let Some(&signal) = exact.get(tag) {
                set_bit(&mut self.present, signal as usize);
            }
            for &signal in patterns {
                if self.set.pattern(signal).is_some_and(|pattern| pattern.matches(tag)) {
                    set_bit(&mut self.present, signal as usize);
                }
            }
        }
    }

    fn is_present(&self, signal: u32) -> bool {
        get_bit(&self.present, signal as usize)
    }

    /// Positions of a word signal, ascending.
    fn positions(&self, signal: u32) -> &[(u32, usize)] {
        let start = self.hits.partition_point(|&(s, _)| s < signal);
        let end = self.hits.partition_point(|&(s, _)| s <= signal);
        self.hits.get(start..end).unwrap_or(&[])
    }

    fn has(&self, signal: u32, position: usize) -> bool {
        self.hits.binary_search(&(signal, position)).is_ok()
    }

    fn eval(&mut self, node: &Node) -> bool {
        match node {
            Node::Signal(signal) => self.is_present(*signal),
            Node::Atom(atom) => {
                let index = *atom as usize;
                match self.memo.get(index) {
                    Some(1) => false,
                    Some(2) => true,
                    _ => {
                        let value = self.eval_atom(index);
                        if let Some(slot) = self.memo.get_mut(index) {
                            *slot = if value { 2 } else { 1 };
                        }
                        value
                    }
                }
            }
            Node::And(children) => {
                for child in children.iter() {
                    if !self.eval(child) {
                        return false;
                    }
                }
                true
            }
            Node::Or(children) => {
                for child in children.iter() {
                    if self.eval(child) {
                        return true;
                    }
                }
                false
            }
            Node::Not(child) => !self.eval(child),
        }
    }

    fn eval_atom(&self, index: usize) -> bool {
        match self.set.atoms.get(index) {
            Some(Atom::Phrase(sequence)) => !self.sequence_spans(sequence).is_empty(),
            Some(Atom::Near { left, right, distance, ordered }) => {
                self.near(left, right, *distance, *ordered)
            }
            None => false,
        }
    }

    /// Whether `sequence` occurs starting at `start`, within one clause.
    fn sequence_at(&self, sequence: &[u32], start: usize) -> bool {
        sequence.iter().enumerate().skip(1).all(|(offset, &signal)| {
            let position = start + offset;
            !self.view.clause_start(position) && self.has(signal, position)
        })
    }

    /// `(first, last)` word positions of each occurrence of `sequence`.
    fn sequence_spans(&self, sequence: &[u32]) -> Vec<(usize, usize)> {
        let Some(&first) = sequence.first() else {
            return Vec::new();
        };
        if !sequence.iter().all(|&signal| self.is_present(signal)) {
            return Vec::new();
        }
        let last = sequence.len() - 1;
        self.positions(first)
            .iter()
            .filter(|&&(_, start)| self.sequence_at(sequence, start))
            .map(|&(_, start)| (start, start + last))
            .collect()
    }

    fn spans(&self, alternatives: &[Box<[u32]>]) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        for sequence in alternatives {
            spans.extend(self.sequence_spans(sequence));
        }
        spans
    }

    /// Whether a left span and a right span, not overlapping, have at most
    /// `distance` words between them (left first when `ordered`). Sorted
    /// right-hand starts and ends make it O((l + r) log r).
    fn near(&self, left: &[Box<[u32]>], right: &[Box<[u32]>], distance: usize, ordered: bool) -> bool {
        let left = self.spans(left);
        if left.is_empty() {
            return false;
        }
        let right = self.spans(right);
        if right.is_empty() {
            return false;
        }
        let mut starts: Vec<usize> = right.iter().map(|span| span.0).collect();
        let mut ends: Vec<usize> = right.iter().map(|span| span.1).collect();
        starts.sort_unstable();
        ends.sort_unstable();
        left.iter().any(|&(left_start, left_end)| {
            let after = left_end + 1;
            let first_after = starts.partition_point(|&start| start < after);
            if starts.get(first_after).is_some_and(|&start| start - after <= distance) {
                return true;
            }
            if ordered || left_start == 0 {
                return false;
            }
            let before = left_start - 1;
            let lowest = before.saturating_sub(distance);
            let first_before = ends.partition_point(|&end| end < lowest);
            ends.get(first_before).is_some_and(|&end| end <= before)
        })
    }
}
