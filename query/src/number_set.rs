//! A set of `u32` numbers: `uniqExact`'s per-group state for ids that arrive as numbers
//! (`Coding::Numbers`, `u1489982` as 1489982).
//!
//! While its numbers are few and far apart the set is an open-addressing hash table of
//! 4-byte slots (16 numbers of an hourly group fit in a cache line). When the table is due
//! to grow and at least half of its numbers fall below the end of a bitmap no larger than
//! the grown table, the numbers move to a bitmap (reaching past the largest of them when
//! that at most doubles it): a daily-active-users set over two million ids is then 256 KiB
//! of bits, an insert sets a bit, and two threads' sets merge by OR-ing words. Numbers past
//! the bitmap's end stay in the table, which may move them into a longer bitmap later.

use crate::flat_map::shared_seed;

/// A free slot. The number `u32::MAX` itself is `has_empty`.
const EMPTY: u32 = u32::MAX;
/// The smallest table: one cache line.
const MIN_SLOTS: usize = 16;
/// Tables below this many slots grow fourfold at a time, larger ones twofold.
const SMALL_SLOTS: usize = 64;
/// The largest bitmap (256 KiB: ids below 2,097,152) that one of few sets takes on early.
const EARLY_BITMAP_WORDS: usize = 1 << 15;
/// How many times the table's bytes such an early bitmap may be.
const EARLY_BITMAP_RATIO: usize = 32;

/// Distinct `u32` numbers (see the module doc).
#[derive(Clone, Default)]
pub(crate) struct NumberSet {
    /// Numbers at or past the bitmap's end, by linear probing; empty, or a power of two long.
    slots: Vec<u32>,
    in_slots: usize,
    /// Bit `n % 64` of word `n / 64` is set for each number `n` in the set below
    /// `64 × bits.len()`.
    bits: Vec<u64>,
    in_bits: usize,
    /// Whether `u32::MAX` is in the set.
    has_empty: bool,
}

impl NumberSet {
    /// How many numbers the set holds.
    pub(crate) fn len(&self) -> usize {
        self.in_slots + self.in_bits + usize::from(self.has_empty)
    }

    /// Adds `n`; true when it was not in the set. `few`: the set is one of few (distinct users
    /// per tenant or per day), which may become a bitmap early (see `grow`).
    #[inline]
    pub(crate) fn insert(&mut self, n: u32, few: bool) -> bool {
        let i = n as usize;
        if let Some(word) = self.bits.get_mut(i / 64) {
            let bit = 1u64 << (i % 64);
            let new = *word & bit == 0;
            *word |= bit;
            self.in_bits += usize::from(new);
            return new;
        }
        self.insert_past_bits(n, few)
    }

    /// `insert` of a number the bitmap does not reach: kept out of line, so that the bitmap's
    /// few instructions inline into the callers' loops.
    #[inline(never)]
    fn insert_past_bits(&mut self, n: u32, few: bool) -> bool {
        if n == EMPTY {
            return !std::mem::replace(&mut self.has_empty, true);
        }
        if self.full() {
            self.grow(few);
            if n as usize / 64 < self.bits.len() {
                return self.insert(n, few);
            }
        }
        self.insert_slot(n)
    }

    /// Bytes held: the table, the bitmap and the set itself.
    pub(crate) fn memory_size(&self) -> usize {
        self.slots.capacity() * 4 + self.bits.capacity() * 8 + std::mem::size_of::<NumberSet>()
    }

    /// Every number, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let bits = self.bits.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros();
                    rest &= rest - 1;
                    (w * 64) as u32 + bit
                })
            })
        });
        let slots = self.slots.iter().copied().filter(|&n| n != EMPTY);
        bits.chain(slots).chain(self.has_empty.then_some(EMPTY))
    }

    /// Adds every number of `other` to the larger of the two sets: words OR-ed where both have
    /// a bitmap, the rest one by one into a table grown once for them.
    pub(crate) fn merge(&mut self, mut other: NumberSet) {
        if self.len() < other.len() {
            std::mem::swap(self, &mut other);
        }
        if other.len() == 0 {
            return;
        }
        if !other.bits.is_empty() {
            self.extend_bits(other.bits.len());
            self.bits.iter_mut().zip(&other.bits).for_each(|(mine, theirs)| *mine |= theirs);
            self.in_bits = self.bits.iter().map(|w| w.count_ones() as usize).sum();
        }
        self.reserve(other.in_slots);
        other.slots.iter().filter(|&&n| n != EMPTY).for_each(|&n| {
            self.insert(n, false);
        });
        self.has_empty |= other.has_empty;
    }

    /// Grows the table once so that `more` numbers fit without growing again one by one.
    fn reserve(&mut self, more: usize) {
        let wanted = ((self.in_slots + more) * 2).next_power_of_two().max(MIN_SLOTS);
        if wanted > self.slots.len() {
            self.rehash(wanted);
        }
    }

    /// True when the table must grow before it takes another number: it fills to half, where
    /// linear probing still finds a free slot in a few steps.
    fn full(&self) -> bool {
        (self.in_slots + 1) * 2 > self.slots.len()
    }

    /// Makes room in the table: moves its numbers below `64 × slots` to a bitmap of that many
    /// bits (no more bytes than the table grown twofold) when at least half of them are
    /// there, else grows the table (fourfold while small, else twofold). The bitmap reaches
    /// past the table's largest number when that at most doubles it: ids spread evenly over
    /// their range then all land in it, instead of the upper half filling a table again.
    ///
    /// One of `few` sets takes on a bitmap reaching its largest number sooner: when that is
    /// at most `EARLY_BITMAP_WORDS` long and `EARLY_BITMAP_RATIO` times the table's bytes.
    /// Such a set (two million ids, a tenant's users) would otherwise grow its table through
    /// every size up to the bitmap's, a rehash each time, on every scan thread; few sets keep
    /// the memory this costs bounded.
    fn grow(&mut self, few: bool) {
        let words = self.slots.len();
        // Branch-free, so that it vectorizes: a free slot (`EMPTY`) counts as neither below
        // nor towards the largest.
        let (mut below, mut max) = (0, 0);
        for &n in &self.slots {
            below += usize::from((n != EMPTY) & ((n as usize) < words * 64));
            max = max.max(if n == EMPTY { 0 } else { n });
        }
        let covering = max as usize / 64 + 1;
        if few && covering > self.bits.len() && covering <= EARLY_BITMAP_WORDS && covering * 8 <= EARLY_BITMAP_RATIO * words * 4 {
            return self.extend_bits(covering);
        }
        if words > self.bits.len() && below * 2 >= self.in_slots {
            return self.extend_bits(if covering <= 2 * words { covering } else { words });
        }
        let len = self.slots.len();
        self.rehash(if len < SMALL_SLOTS { len * 4 } else { len * 2 }.max(MIN_SLOTS));
    }

    /// Makes the bitmap at least `words` long, moving the table's numbers below its new end
    /// into it.
    fn extend_bits(&mut self, words: usize) {
        if words <= self.bits.len() {
            return;
        }
        self.bits.resize(words, 0);
        let len = self.slots.len();
        self.rehash(len);
    }

    /// Places the table's numbers again in a table of `len` slots, or in the bitmap when they
    /// fall below its end.
    fn rehash(&mut self, len: usize) {
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; len]);
        self.in_slots = 0;
        for n in old.into_iter().filter(|&n| n != EMPTY) {
            match self.bits.get_mut(n as usize / 64) {
                Some(word) => {
                    *word |= 1 << (n % 64);
                    self.in_bits += 1;
                }
                None => {
                    self.insert_slot(n);
                }
            }
        }
    }

    /// Adds `n` (not `EMPTY`, past the bitmap) to the table, which has a free slot.
    #[inline]
    fn insert_slot(&mut self, n: u32) -> bool {
        let mask = self.slots.len() - 1;
        let h = (u64::from(n) ^ shared_seed()).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut at = (h ^ (h >> 32)) as usize & mask;
        loop {
            match self.slots[at] {
                EMPTY => {
                    self.slots[at] = n;
                    self.in_slots += 1;
                    return true;
                }
                m if m == n => return false,
                _ => at = (at + 1) & mask,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Inserts `numbers` into a set (one of many) and a reference set, checking every
    /// answer, and returns the set.
    fn filled(numbers: impl IntoIterator<Item = u32>, reference: &mut BTreeSet<u32>) -> NumberSet {
        filled_as(numbers, reference, false)
    }

    /// `filled`, the set one of `few` or not.
    fn filled_as(numbers: impl IntoIterator<Item = u32>, reference: &mut BTreeSet<u32>, few: bool) -> NumberSet {
        let mut set = NumberSet::default();
        for n in numbers {
            assert_eq!(set.insert(n, few), reference.insert(n), "insert {n}");
        }
        set
    }

    #[test]
    fn one_of_few_sets_takes_a_bitmap_before_its_table_grows_large() {
        // 3,000 ids spread over 0..2M: one of few sets moves to a bitmap when its table of
        // 2,048 slots fills; one of many grows its table instead (the bitmap would be 61
        // times the table's bytes).
        let ids = || (0..3_000u32).map(|i| (i * 7919 % 3_000) * 666);
        let (mut few_reference, mut many_reference) = (BTreeSet::new(), BTreeSet::new());
        let few = filled_as(ids(), &mut few_reference, true);
        let many = filled_as(ids(), &mut many_reference, false);
        assert!(few.bits.len() > 31_000 && few.in_slots < 100 && few.slots.len() == 2_048, "{} words, {} in {} slots", few.bits.len(), few.in_slots, few.slots.len());
        assert!(many.bits.is_empty() && many.slots.len() == 8_192);
        assert_eq!((few.len(), few.iter().collect::<BTreeSet<u32>>()), (few_reference.len(), few_reference));
        assert_eq!(many.len(), many_reference.len());
    }

    #[test]
    fn sparse_dense_and_extreme_numbers_match_a_reference_set() {
        let mut reference = BTreeSet::new();
        // Spread out (stays a table), then dense below 100,000 (moves to a bitmap), then far
        // past the bitmap again, and the numbers at both ends of the range.
        let spread = (0..500u32).map(|i| i.wrapping_mul(2_654_435_761));
        let dense = (0..200_000u32).map(|i| i.wrapping_mul(7919) % 100_000);
        let far = (0..300u32).map(|i| 3_000_000_000 + i * 1_000_003);
        let set = filled(spread.chain(dense).chain(far).chain([0, u32::MAX, u32::MAX - 1, 0]), &mut reference);
        assert!(!set.bits.is_empty() && set.in_slots > 0, "both forms in use");
        assert_eq!(set.len(), reference.len());
        assert_eq!(set.iter().collect::<BTreeSet<u32>>(), reference);
    }

    #[test]
    fn ids_spread_evenly_over_their_range_all_land_in_the_bitmap() {
        // 6,000 ids over 0..1M, the largest first: when the table first makes room, the
        // bitmap reaches it (the upper half would otherwise fill a table again).
        let mut reference = BTreeSet::new();
        let ids = std::iter::once(5_999 * 166).chain((0..6_000u32).map(|i| (i * 7919 % 6_000) * 166));
        let set = filled(ids, &mut reference);
        assert_eq!((set.in_slots, set.len()), (0, reference.len()));
        assert_eq!(set.iter().collect::<BTreeSet<u32>>(), reference);
    }

    #[test]
    fn merging_sets_of_either_form_is_their_union() {
        let (mut a_ref, mut b_ref) = (BTreeSet::new(), BTreeSet::new());
        let mut a = filled((0..50_000u32).map(|i| i * 3 % 70_000), &mut a_ref);
        let b = filled((0..40_000u32).map(|i| i * 5 % 300_000).chain([4_000_000_000]), &mut b_ref);
        let small = filled([7, 1 << 30], &mut BTreeSet::new());
        a.merge(b);
        a.merge(small);
        let union: BTreeSet<u32> = a_ref.union(&b_ref).copied().chain([7, 1 << 30]).collect();
        assert_eq!((a.len(), a.iter().collect::<BTreeSet<u32>>()), (union.len(), union));
        let mut empty = NumberSet::default();
        empty.merge(a.clone());
        assert_eq!(empty.len(), a.len());
        // The smaller set merging the larger one takes the larger one's storage.
        let mut b_ref = BTreeSet::new();
        let mut small = filled([7, 1 << 30, 3_000_000_000], &mut b_ref);
        small.merge(a.clone());
        b_ref.extend(a.iter());
        assert_eq!((small.len(), small.iter().collect::<BTreeSet<u32>>()), (b_ref.len(), b_ref));
    }
}
