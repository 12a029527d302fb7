//! Each group's distinct `u32` numbers: `uniqExact`'s state for ids that arrive as numbers
//! (`Coding::Numbers`), in one of two forms chosen by the shape of the data.
//!
//! Few groups with many numbers each (distinct users per tenant, per day) keep a `NumberSet`
//! per group: the sets stay in cache or become bitmaps, and an insert is a probe or a bit.
//! Many groups with few numbers each (`uniqExact(user_id)` per tenant, scenario, date and
//! hour: ~216k groups of ~46 mostly distinct ids at 10M rows) would make every insert a cache
//! miss into its own small table and every table grow through several rehashes. There the
//! pairs (group, number) are appended to a log as they come (`NumberRuns`), and only when
//! counted, merged or serialized are they radix-sorted and deduplicated into one sorted run
//! of numbers per group. Another thread's runs merge in without a copy: they stay beside this
//! table's, and only a group found in both is united, when it is counted.
//!
//! Numbers start in sets and move to runs, for good, once there are `RUNS_FROM_GROUPS` groups
//! holding fewer than `SET_NUMBERS_PER_GROUP` numbers each on average. The number of groups
//! tells the two cases apart early even when the data arrives sorted by the groups (a
//! block's rows then fall in few groups whatever the query), and the average keeps the sets
//! where they grow into bitmaps.

use crate::number_set::NumberSet;

/// From this many groups on, runs may pay: the groups' sets no longer stay in cache.
const RUNS_FROM_GROUPS: usize = 4096;
/// Sets this large on average are on their way to bitmaps: they stay.
const SET_NUMBERS_PER_GROUP: usize = 1024;
/// Up to this many groups, sets may become bitmaps early (`NumberSet::insert`'s `few`): at
/// most 16 MiB of such bitmaps per table.
const FEW_GROUPS: usize = 64;
/// The log is sorted into the runs once it holds this many pairs and more than the runs
/// hold numbers: memory stays within a constant factor of the distinct pairs, however many
/// repeats come, and each number is re-copied a bounded number of times.
const SEAL_PAIRS: usize = 1 << 22;

/// Each group's distinct numbers (see the module doc).
pub(crate) enum GroupNumbers {
    /// A set per group, holding `numbers` in all.
    Sets { sets: Vec<NumberSet>, numbers: usize },
    /// A log of pairs sorted into runs when needed.
    Runs(NumberRuns),
}

impl GroupNumbers {
    /// `groups` empty groups, as sets.
    pub(crate) fn new(groups: usize) -> GroupNumbers {
        GroupNumbers::Sets { sets: vec![NumberSet::default(); groups], numbers: 0 }
    }

    /// Makes groups `0..n` exist (the new ones empty).
    pub(crate) fn resize(&mut self, n: usize) {
        match self {
            GroupNumbers::Sets { sets, .. } => sets.resize_with(n, NumberSet::default),
            GroupNumbers::Runs(runs) => runs.groups = n,
        }
    }

    /// Adds `n` to group `g`.
    pub(crate) fn insert(&mut self, g: u32, n: u32) {
        match self {
            GroupNumbers::Sets { sets, numbers } => {
                let few = sets.len() <= FEW_GROUPS;
                *numbers += usize::from(sets[g as usize].insert(n, few));
            }
            GroupNumbers::Runs(runs) => runs.extend(&[g], &[n]),
        }
    }

    /// Adds each number to the group of its row (`groups[row]`), moving from sets to runs
    /// first when the groups have become many and small.
    pub(crate) fn insert_numbers(&mut self, groups: &[u32], numbers: &[u32]) {
        if let GroupNumbers::Sets { sets, numbers: held } = self {
            if sets.len() >= RUNS_FROM_GROUPS && *held < SET_NUMBERS_PER_GROUP * sets.len() {
                self.become_runs();
            }
        }
        match self {
            GroupNumbers::Sets { sets, numbers: held } => {
                let few = sets.len() <= FEW_GROUPS;
                for (g, n) in without_repeats(groups, numbers) {
                    *held += usize::from(sets[g as usize].insert(n, few));
                }
            }
            GroupNumbers::Runs(runs) => runs.extend(groups, numbers),
        }
    }

    /// Moves the sets' numbers into a log of runs.
    fn become_runs(&mut self) {
        let GroupNumbers::Sets { sets, .. } = self else { return };
        let mut runs = NumberRuns { groups: sets.len(), pending: Vec::with_capacity(SEAL_PAIRS), ..NumberRuns::default() };
        for (g, set) in sets.iter().enumerate() {
            set.iter().for_each(|n| runs.pending.push(pair(g as u32, n)));
        }
        *self = GroupNumbers::Runs(runs);
    }

    /// Sorts the logged pairs into runs, so that `len` and `for_each` see them. Each scan
    /// thread seals its own before the threads' states merge.
    pub(crate) fn seal(&mut self) {
        if let GroupNumbers::Runs(runs) = self {
            runs.seal();
        }
    }

    /// How many numbers group `g` holds (after `seal`).
    pub(crate) fn len(&self, g: usize) -> usize {
        match self {
            GroupNumbers::Sets { sets, .. } => sets[g].len(),
            GroupNumbers::Runs(runs) => runs.len(g),
        }
    }

    /// Calls `f` with each number of group `g` (after `seal`), in no particular order.
    pub(crate) fn for_each(&self, g: usize, f: impl FnMut(u32)) {
        match self {
            GroupNumbers::Sets { sets, .. } => sets[g].iter().for_each(f),
            GroupNumbers::Runs(runs) => runs.for_each(g, f),
        }
    }

    /// Folds another table's numbers in, theirs group `g` into this one's `groups[g]`; this
    /// table already has every group `groups` names.
    pub(crate) fn merge(&mut self, groups: &[u32], mut other: GroupNumbers) {
        // Sets meeting runs become runs, which take the other's as they are.
        if matches!((&*self, &other), (GroupNumbers::Sets { .. }, GroupNumbers::Runs(_))) {
            self.become_runs();
        }
        match (&mut *self, &mut other) {
            (GroupNumbers::Sets { sets: mine, numbers }, GroupNumbers::Sets { sets: theirs, .. }) => {
                for (set, &g) in std::mem::take(theirs).into_iter().zip(groups) {
                    let before = mine[g as usize].len();
                    mine[g as usize].merge(set);
                    *numbers += mine[g as usize].len() - before;
                }
            }
            (GroupNumbers::Runs(mine), GroupNumbers::Runs(theirs)) => mine.merge(groups, std::mem::take(theirs)),
            // Sets into runs: their numbers are logged one by one.
            _ => {
                for (t, &g) in groups.iter().enumerate() {
                    other.for_each(t, |n| self.insert(g, n));
                }
            }
        }
    }

    /// Bytes held, roughly.
    pub(crate) fn memory_size(&self) -> usize {
        match self {
            GroupNumbers::Sets { sets, .. } => sets.iter().map(NumberSet::memory_size).sum(),
            GroupNumbers::Runs(runs) => runs.memory_size(),
        }
    }
}

/// Each row's (group, number), less a row equal to the one before: runs of one number in one
/// group (data sorted by it) cost one compare.
fn without_repeats<'a>(groups: &'a [u32], numbers: &'a [u32]) -> impl Iterator<Item = (u32, u32)> + 'a {
    let mut last = None;
    groups.iter().zip(numbers).map(|(&g, &n)| (g, n)).filter(move |&row| last.replace(row) != Some(row))
}

/// A pair of the log: the group in the high half, so that pairs sort by group, then number.
fn pair(g: u32, n: u32) -> u64 {
    u64::from(g) << 32 | u64::from(n)
}

/// Each group's distinct numbers as a sorted run, plus a log of pairs not yet sorted in, plus
/// the runs of other tables merged in.
#[derive(Default)]
pub(crate) struct NumberRuns {
    /// Pairs (`pair`) not yet in the runs, in arrival order, repeats included.
    pending: Vec<u64>,
    /// Group `g`'s run is `numbers[starts[g]..starts[g + 1]]`; groups past `starts` (made
    /// since the last seal) have none.
    starts: Vec<usize>,
    numbers: Vec<u32>,
    /// How many groups there are.
    groups: usize,
    /// Other tables' runs, merged in without being copied: group `g` here also holds their
    /// group `from[g]` (none where `from` has `NONE` or ends). A group found in one table
    /// only, most of them when a group's rows lie close together, then costs nothing to
    /// merge or count.
    merged: Vec<(NumberRuns, Vec<u32>)>,
}

/// No group of the other table.
const NONE: u32 = u32::MAX;

impl NumberRuns {
    /// Logs each number for the group of its row; sorts the log in when it has grown.
    fn extend(&mut self, groups: &[u32], numbers: &[u32]) {
        self.pending.extend(without_repeats(groups, numbers).map(|(g, n)| pair(g, n)));
        if self.pending.len() >= SEAL_PAIRS.max(self.numbers.len()) {
            self.sort_in();
        }
    }

    /// Group `g`'s sorted distinct numbers in this table's own runs.
    fn run(&self, g: usize) -> &[u32] {
        debug_assert!(self.pending.is_empty(), "runs read before the log was sealed");
        match self.starts.get(g..g + 2) {
            Some(&[start, end]) => &self.numbers[start..end],
            _ => &[],
        }
    }

    /// Group `g`'s runs that hold numbers: its own and those of the tables merged in.
    fn runs(&self, g: usize) -> impl Iterator<Item = &[u32]> {
        let theirs = self.merged.iter().filter_map(move |(runs, from)| from.get(g).filter(|&&t| t != NONE).map(|&t| runs.run(t as usize)));
        std::iter::once(self.run(g)).chain(theirs).filter(|run| !run.is_empty())
    }

    /// How many distinct numbers group `g` holds.
    fn len(&self, g: usize) -> usize {
        let mut runs = self.runs(g);
        match (runs.next(), runs.next()) {
            (None, _) => 0,
            (Some(run), None) => run.len(),
            _ => self.united(g).len(),
        }
    }

    /// Calls `f` with each distinct number of group `g`, in order.
    fn for_each(&self, g: usize, f: impl FnMut(u32)) {
        let mut runs = self.runs(g);
        match (runs.next(), runs.next()) {
            (None, _) => {}
            (Some(run), None) => run.iter().copied().for_each(f),
            _ => self.united(g).into_iter().for_each(f),
        }
    }

    /// The union of group `g`'s runs.
    fn united(&self, g: usize) -> Vec<u32> {
        self.runs(g).fold(Vec::new(), |all, run| {
            let mut out = Vec::with_capacity(all.len() + run.len());
            union_sorted(&all, run, &mut out);
            out
        })
    }

    /// Sorts the log into the runs and lets its memory go.
    fn seal(&mut self) {
        self.sort_in();
        self.pending = Vec::new();
    }

    /// Sorts and deduplicates the log, then unites it with the runs; the emptied log keeps
    /// its memory for the pairs to come.
    ///
    /// The pairs are placed by group first, in one stable counting pass, and then each
    /// group's numbers are sorted on their own. Numbers that arrive in order within their
    /// groups (the table's sort key: `uniqExact(user_id)` per date and hour over rows ordered
    /// by date, then user) come out of the first pass sorted, and sorting them is one check;
    /// a radix sort of the whole log took four or five passes over it (40% of Q16's time).
    fn sort_in(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        let mut starts = vec![0usize; self.groups + 1];
        pending.iter().for_each(|&p| starts[(p >> 32) as usize + 1] += 1);
        for g in 0..self.groups {
            starts[g + 1] += starts[g];
        }
        let mut next = starts.clone();
        let mut numbers = vec![0u32; pending.len()];
        for &p in &pending {
            let at = &mut next[(p >> 32) as usize];
            numbers[*at] = p as u32;
            *at += 1;
        }
        pending.clear();
        // Each group sorted and deduplicated, moved down over the repeats removed before it.
        let mut kept = 0;
        for g in 0..self.groups {
            let (start, end) = (starts[g], starts[g + 1]);
            sort_numbers(&mut numbers[start..end]);
            starts[g] = kept;
            let mut last = None;
            for i in start..end {
                let n = numbers[i];
                if last != Some(n) {
                    numbers[kept] = n;
                    kept += 1;
                    last = Some(n);
                }
            }
        }
        starts[self.groups] = kept;
        numbers.truncate(kept);
        let logged = NumberRuns { starts, numbers, ..NumberRuns::default() };
        (self.starts, self.numbers) = match self.numbers.is_empty() {
            true => (logged.starts, logged.numbers),
            false => unite(self, &logged, None, self.groups),
        };
        self.pending = pending;
    }

    /// Takes another table's runs in, theirs group `t` into this one's `groups[t]`: they are
    /// kept as they are, beside this table's (see `merged`).
    fn merge(&mut self, groups: &[u32], mut other: NumberRuns) {
        other.seal();
        for (runs, from) in std::mem::take(&mut other.merged) {
            (other.starts, other.numbers) = unite(&other, &runs, Some(&from), other.groups);
        }
        let mut from = vec![NONE; self.groups];
        for (t, &g) in groups.iter().enumerate().take(other.starts.len().saturating_sub(1)) {
            from[g as usize] = t as u32;
        }
        self.merged.push((other, from));
    }

    /// Bytes held.
    fn memory_size(&self) -> usize {
        let merged: usize = self.merged.iter().map(|(runs, from)| runs.memory_size() + from.capacity() * 4).sum();
        self.pending.capacity() * 8 + self.starts.capacity() * 8 + self.numbers.capacity() * 4 + merged
    }
}

/// The own runs of `a` and `b` united group by group into `groups` groups: `a`'s group `g`
/// takes `b`'s group `from[g]` (`g` itself without `from`). Gives the runs' starts and
/// numbers.
fn unite(a: &NumberRuns, b: &NumberRuns, from: Option<&[u32]>, groups: usize) -> (Vec<usize>, Vec<u32>) {
    let mut starts = Vec::with_capacity(groups + 1);
    let mut numbers = Vec::with_capacity(a.numbers.len() + b.numbers.len());
    starts.push(0);
    for g in 0..groups {
        let x = a.run(g);
        let y = match from.map_or(g as u32, |f| f.get(g).copied().unwrap_or(NONE)) {
            NONE => &[][..],
            t => b.run(t as usize),
        };
        match (x.is_empty(), y.is_empty()) {
            (_, true) => numbers.extend_from_slice(x),
            (true, false) => numbers.extend_from_slice(y),
            (false, false) => union_sorted(x, y, &mut numbers),
        }
        starts.push(numbers.len());
    }
    (starts, numbers)
}

/// A group's numbers this many or more are radix-sorted; fewer sort in cache by comparison.
const RADIX_SORTED_FROM: usize = 4096;

/// Sorts one group's numbers; those already in order (the common case, see `sort_in`) cost
/// one pass that finds them so.
fn sort_numbers(numbers: &mut [u32]) {
    if numbers.is_sorted() {
        return;
    }
    match numbers.len() >= RADIX_SORTED_FROM {
        true => radsort::sort(numbers),
        false => numbers.sort_unstable(),
    }
}

/// Appends the union of two sorted runs of distinct numbers, sorted.
fn union_sorted(x: &[u32], y: &[u32], out: &mut Vec<u32>) {
    let (mut i, mut j) = (0, 0);
    while i < x.len() && j < y.len() {
        let (a, b) = (x[i], y[j]);
        out.push(a.min(b));
        i += usize::from(a <= b);
        j += usize::from(b <= a);
    }
    out.extend_from_slice(&x[i..]);
    out.extend_from_slice(&y[j..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Each group's numbers, sorted.
    fn contents(numbers: &mut GroupNumbers, groups: usize) -> Vec<Vec<u32>> {
        numbers.seal();
        (0..groups)
            .map(|g| {
                let mut all = Vec::new();
                numbers.for_each(g, |n| all.push(n));
                all.sort_unstable();
                assert_eq!(all.len(), numbers.len(g));
                all
            })
            .collect()
    }

    /// Rows of `groups` groups: group `g` gets numbers from a window that overlaps its
    /// neighbours', with repeats, in a scrambled order.
    fn rows(groups: u32, rows: u32, seed: u32) -> (Vec<u32>, Vec<u32>) {
        (0..rows)
            .map(|i| {
                let x = i.wrapping_mul(2_654_435_761).wrapping_add(seed);
                let g = x % groups;
                (g, g * 7 + (x >> 8) % 40)
            })
            .unzip()
    }

    #[test]
    fn runs_and_sets_hold_the_same_numbers_alone_and_merged() {
        let groups = 5000;
        let mut reference = vec![BTreeSet::new(); groups as usize];
        // Many groups per row: the log of runs. Few: sets.
        let mut many = GroupNumbers::new(groups as usize);
        let mut few = GroupNumbers::new(100);
        // Two blocks of 10 rows per group into `many` (the second after a seal); into `few`
        // one of 1 row per group, which moves nothing while there are 100 groups, then one
        // of 3,000 rows per group.
        for seed in [1, 2] {
            let (g, n) = rows(groups, 50_000, seed);
            g.iter().zip(&n).for_each(|(&g, &n)| _ = reference[g as usize].insert(n));
            many.insert_numbers(&g, &n);
            many.seal();
        }
        assert!(matches!(many, GroupNumbers::Runs(_)));
        let (g, n) = rows(100, 100, 3);
        few.insert_numbers(&g, &n);
        let (g2, n2) = rows(100, 300_000, 4);
        few.insert_numbers(&g2, &n2);
        assert!(matches!(few, GroupNumbers::Sets { .. }));
        let expected = |r: &[BTreeSet<u32>]| r.iter().map(|s| s.iter().copied().collect::<Vec<_>>()).collect::<Vec<_>>();
        assert_eq!(contents(&mut many, groups as usize), expected(&reference));

        // `few`'s group t is `many`'s group 4999 - t: a merge across forms.
        let mut other_reference = vec![BTreeSet::new(); 100];
        g.iter().chain(&g2).zip(n.iter().chain(&n2)).for_each(|(&g, &n)| _ = other_reference[g as usize].insert(n));
        let map: Vec<u32> = (groups - 100..groups).rev().collect();
        for (t, set) in other_reference.iter().enumerate() {
            reference[map[t] as usize].extend(set);
        }
        let mut runs_copy = GroupNumbers::Runs(NumberRuns::default());
        runs_copy.resize(groups as usize);
        runs_copy.merge(&(0..groups).collect::<Vec<_>>(), many);
        runs_copy.merge(&map, few);
        assert_eq!(contents(&mut runs_copy, groups as usize), expected(&reference));

        // Two logs of runs merge run by run, into a table with more groups than theirs.
        let mut a = GroupNumbers::new(0);
        a.resize(RUNS_FROM_GROUPS);
        a.insert_numbers(&[0; 4096], &(0..4096).map(|i| i % 5).collect::<Vec<_>>());
        assert!(matches!(a, GroupNumbers::Runs(_)));
        let mut b = GroupNumbers::Runs(NumberRuns::default());
        b.resize(2);
        b.insert_numbers(&[0, 1, 1], &[4, 9, 2]);
        a.merge(&[2, 0], b);
        assert_eq!(contents(&mut a, 3), [vec![0, 1, 2, 3, 4, 9], vec![], vec![4]]);
        // A table that holds another's runs merges whole into a third: its groups 0, 1, 2
        // are that one's 1, 2, 0.
        let mut c = GroupNumbers::Runs(NumberRuns::default());
        c.resize(RUNS_FROM_GROUPS);
        c.insert_numbers(&[3], &[7]);
        let map: Vec<u32> = [1, 2, 0].into_iter().chain(3..RUNS_FROM_GROUPS as u32).collect();
        c.merge(&map, a);
        assert_eq!(contents(&mut c, 4), [vec![4], vec![0, 1, 2, 3, 4, 9], vec![], vec![7]]);
        // Sets taking runs in become runs.
        let mut d = GroupNumbers::new(RUNS_FROM_GROUPS);
        d.insert(0, 5);
        d.insert(0, 6);
        d.merge(&(0..RUNS_FROM_GROUPS as u32).collect::<Vec<_>>(), c);
        assert!(matches!(d, GroupNumbers::Runs(_)));
        assert_eq!(contents(&mut d, 4), [vec![4, 5, 6], vec![0, 1, 2, 3, 4, 9], vec![], vec![7]]);
    }

    #[test]
    fn the_log_sorts_into_runs_whether_numbers_arrive_in_order_or_not() {
        // Group 0: many numbers, scrambled, with repeats (radix-sorted); group 1: ascending
        // with repeats (in order already); group 2: a few, scrambled (sorted by comparison);
        // group 3: none. Two logs, the second united with the runs of the first.
        let mut numbers = GroupNumbers::Runs(NumberRuns::default());
        numbers.resize(4);
        let mut reference = vec![BTreeSet::new(); 4];
        for half in 0..2u32 {
            let mut rows = Vec::new();
            for i in half * 20_000..(half + 1) * 20_000 {
                rows.push((0, i.wrapping_mul(2_654_435_761) % 7_000));
                rows.push((1, i / 2));
                if i % 200 == 0 {
                    rows.push((2, i.wrapping_mul(40_503) % 50));
                }
            }
            rows.iter().for_each(|&(g, n)| _ = reference[g as usize].insert(n));
            let (g, n): (Vec<u32>, Vec<u32>) = rows.into_iter().unzip();
            numbers.insert_numbers(&g, &n);
            numbers.seal();
        }
        let expected: Vec<Vec<u32>> = reference.iter().map(|s| s.iter().copied().collect()).collect();
        assert!(expected[0].len() >= RADIX_SORTED_FROM && expected[3].is_empty());
        assert_eq!(contents(&mut numbers, 4), expected);
    }

    #[test]
    fn union_of_sorted_runs_keeps_each_number_once() {
        let mut out = Vec::new();
        union_sorted(&[1, 3, 5, 9], &[2, 3, 9, 10, 11], &mut out);
        assert_eq!(out, [1, 2, 3, 5, 9, 10, 11]);
    }
}
