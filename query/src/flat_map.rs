//! An open-addressing hash table over small fixed-size keys, built for GROUP BY keys and
//! distinct-value sets far larger than the CPU caches.
//!
//! Why not `hashbrown`: there a lookup into a table that misses the caches costs two misses
//! (the control bytes, then the bucket). Here a slot holds its key, value and occupied flag
//! in 32 bytes, so a lookup touches one cache line, and `get_or_insert_batch` hashes a whole
//! block first and prefetches the slot of the row `PREFETCH_AHEAD` rows on while it probes the
//! current one, so the misses of consecutive rows overlap instead of queueing. Rows equal to
//! the row before (runs in data sorted by the key) skip the table altogether.
//!
//! Linear probing (small tables up to 7/8 full, large ones at most half), with a random seed
//! per process for the multiply-fold hash (keys chosen to collide under one seed do not under
//! another).

use granary_storage::column::prefetch;

/// How many rows ahead a batch lookup prefetches.
pub(crate) const PREFETCH_AHEAD: usize = 8;
/// Tables of up to this many slots fill to 7/8 before they grow, larger ones to 1/2.
const SMALL_SLOTS: usize = 256;
/// Slots from which a table grows fourfold at a time (see `FlatMap::grow`)…
const FAST_GROWTH: usize = 1 << 16;
/// …and from which on twofold again.
const SLOW_GROWTH: usize = 1 << 23;

/// A key the table can hold: plain bytes, compared and hashed as words.
pub(crate) trait FlatKey: Copy + Eq + Default {
    /// The key's hash under `seed`.
    fn hash(&self, seed: u64) -> u64;
}

/// The high and low halves of a 64×64-bit product folded together: the mixing step of the
/// hash (fast, and every input bit reaches every output bit).
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let p = a as u128 * b as u128;
    (p as u64) ^ ((p >> 64) as u64)
}

const K1: u64 = 0x9e37_79b9_7f4a_7c15;
const K2: u64 = 0xc2b2_ae3d_27d4_eb4f;

impl FlatKey for u128 {
    #[inline]
    fn hash(&self, seed: u64) -> u64 {
        fold(fold(*self as u64 ^ seed, (*self >> 64) as u64 ^ K1), K2)
    }
}

impl FlatKey for [u8; 16] {
    #[inline]
    fn hash(&self, seed: u64) -> u64 {
        let word = |i: usize| u64::from_le_bytes(self[i * 8..i * 8 + 8].try_into().unwrap());
        fold(fold(word(0) ^ seed, word(1) ^ K1), K2)
    }
}

impl FlatKey for [u8; 24] {
    #[inline]
    fn hash(&self, seed: u64) -> u64 {
        let word = |i: usize| u64::from_le_bytes(self[i * 8..i * 8 + 8].try_into().unwrap());
        fold(fold(word(0) ^ seed, word(1) ^ K1) ^ word(2), K2)
    }
}

/// One entry: 24 or 32 bytes for the keys and group ids used here, 17 or 25 for a set's keys.
#[derive(Clone, Copy, Default)]
struct Slot<K, V> {
    key: K,
    value: V,
    used: bool,
}

/// Keys to values (see the module doc).
pub(crate) struct FlatMap<K, V> {
    slots: Vec<Slot<K, V>>,
    /// `slots.len() - 1` (a power of two minus one), or 0 while there are no slots.
    mask: usize,
    len: usize,
    seed: u64,
    /// Scratch: the hashes of the current batch.
    hashes: Vec<u64>,
}

/// An empty map, hashing with the process seed (`shared_seed`).
impl<K: FlatKey, V: Copy + Default> Default for FlatMap<K, V> {
    fn default() -> Self {
        FlatMap { slots: Vec::new(), mask: 0, len: 0, seed: shared_seed(), hashes: Vec::new() }
    }
}

/// The hash seed of every map: random, once per process. Maps hash a key alike, so a caller
/// can hash a key once for whichever of them it goes to (`probe`, `prefetch`: `uniqExact`'s
/// per-group sets).
pub(crate) fn shared_seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| ahash::RandomState::new().hash_one(0u64))
}

impl<K: FlatKey, V: Copy + Default> FlatMap<K, V> {
    /// How many keys there are.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes of the slots.
    pub(crate) fn memory_size(&self) -> usize {
        self.slots.len() * std::mem::size_of::<Slot<K, V>>()
    }

    /// The value of `key`, made by `new` when the key is not there yet.
    pub(crate) fn get_or_insert(&mut self, key: K, new: impl FnOnce() -> V) -> V {
        let hash = key.hash(self.seed);
        self.probe(key, hash, new)
    }

    /// For each key in order, its value (made by `new(i)` for a key `keys[i]` not there yet),
    /// appended to `out`.
    pub(crate) fn get_or_insert_batch(&mut self, keys: &[K], out: &mut Vec<V>, mut new: impl FnMut(usize) -> V) {
        let seed = self.seed;
        let mut hashes = std::mem::take(&mut self.hashes);
        hashes.clear();
        hashes.extend(keys.iter().map(|k| k.hash(seed)));
        out.reserve(keys.len());
        let mut last: Option<(K, V)> = None;
        for (i, (&key, &hash)) in keys.iter().zip(&hashes).enumerate() {
            if let Some((k, v)) = last {
                if k == key {
                    out.push(v);
                    continue;
                }
            }
            if let Some(&ahead) = hashes.get(i + PREFETCH_AHEAD) {
                self.prefetch(ahead);
            }
            let v = self.probe(key, hash, || new(i));
            last = Some((key, v));
            out.push(v);
        }
        self.hashes = hashes;
    }

    /// Looks every key of `other` up here, as one batch: a key not here
    /// yet gets the value `new(theirs)` makes from its value there; `found(theirs, ours)`
    /// gets each key's two values.
    pub(crate) fn merge(&mut self, other: &FlatMap<K, V>, mut new: impl FnMut(V) -> V, mut found: impl FnMut(V, V)) {
        let (keys, theirs): (Vec<K>, Vec<V>) = other.iter().map(|(k, v)| (*k, v)).unzip();
        let mut ours = Vec::with_capacity(keys.len());
        self.get_or_insert_batch(&keys, &mut ours, |i| new(theirs[i]));
        theirs.into_iter().zip(ours).for_each(|(t, o)| found(t, o));
    }

    /// Every `(key, value)`, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&K, V)> {
        self.slots.iter().filter(|s| s.used).map(|s| (&s.key, s.value))
    }

    /// Finds `key` (hashing to `hash` under this map's seed) or inserts it with the value
    /// `new` makes.
    #[inline]
    pub(crate) fn probe(&mut self, key: K, hash: u64, new: impl FnOnce() -> V) -> V {
        if self.full() {
            self.grow();
        }
        let mut pos = self.home(hash);
        loop {
            let slot = &mut self.slots[pos];
            if !slot.used {
                let value = new();
                *slot = Slot { key, value, used: true };
                self.len += 1;
                return value;
            }
            if slot.key == key {
                return slot.value;
            }
            pos = (pos + 1) & self.mask;
        }
    }

    /// Whether one more key would overfill the slots: a small table (a few cache lines, where
    /// a longer probe costs next to nothing) fills to 7/8, a large one to 1/2, where a probe
    /// past the first slot may be another miss. A map per group (a `uniqExact` set of a few
    /// dozen values each for 200,000 groups) so stays about as small as its keys.
    fn full(&self) -> bool {
        let size = self.slots.len();
        match size <= SMALL_SLOTS {
            true => (self.len + 1) * 8 > size * 7,
            false => (self.len + 1) * 2 > size,
        }
    }

    /// Makes room for `keys` keys in all, so that inserting them never grows the slots.
    pub(crate) fn reserve(&mut self, keys: usize) {
        let mut size = self.slots.len().max(4);
        while match size <= SMALL_SLOTS {
            true => (keys + 1) * 8 > size * 7,
            false => (keys + 1) * 2 > size,
        } {
            size *= 2;
        }
        if size > self.slots.len() {
            self.resize(size);
        }
    }

    /// Doubles the slots (4 at first), or quadruples them from `FAST_GROWTH` slots on up to
    /// `SLOW_GROWTH`, as ClickHouse's tables grow: a set that ends with millions of keys
    /// (`uniqExact(user_id)` per tenant) places its keys again half as often, while the many
    /// small sets of a GROUP BY of many groups stay as tight as before.
    fn grow(&mut self) {
        let size = self.slots.len();
        self.resize(if (FAST_GROWTH..SLOW_GROWTH).contains(&size) { size * 4 } else { (size * 2).max(4) });
    }

    /// Moves to `size` slots (a power of two, more than there are keys), placing every key
    /// again.
    fn resize(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.slots, empty_slots(size));
        self.mask = size - 1;
        for slot in old.into_iter().filter(|s| s.used) {
            let mut pos = self.home(slot.key.hash(self.seed));
            while self.slots[pos].used {
                pos = (pos + 1) & self.mask;
            }
            self.slots[pos] = slot;
        }
    }

    /// The slot a hash starts probing at: its low bits.
    #[inline]
    fn home(&self, hash: u64) -> usize {
        hash as usize & self.mask
    }

    /// Asks the CPU to start loading the slot a hash (under this map's seed) lands on.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        if !self.slots.is_empty() {
            prefetch(&self.slots[self.home(hash)]);
        }
    }
}

/// Bytes of a huge page (x86-64 and most of aarch64 Linux).
const HUGE_PAGE: usize = 2 << 20;

/// `size` empty slots. A table of several huge pages asks the kernel for them (transparent
/// huge pages, on Linux): a lookup into a table of tens of megabytes then misses the cache
/// but not the TLB as well, and the table takes one page fault per 2 MiB instead of per
/// 4 KiB (Q08, 1.4M groups per thread in 96 MiB: 370 → 310 ms).
fn empty_slots<T: Clone + Default>(size: usize) -> Vec<T> {
    let mut slots: Vec<T> = Vec::with_capacity(size);
    #[cfg(target_os = "linux")]
    {
        let (at, bytes) = (slots.as_mut_ptr() as usize, size * std::mem::size_of::<T>());
        let (start, end) = ((at + HUGE_PAGE - 1) & !(HUGE_PAGE - 1), (at + bytes) & !(HUGE_PAGE - 1));
        if end >= start + HUGE_PAGE {
            // SAFETY: the range lies inside the vector's own allocation, and the advice
            // changes how the kernel backs those pages, never what they hold. A refusal
            // (huge pages off) leaves ordinary pages, which is fine.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    slots.resize(size, T::default());
    slots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_and_single_lookups_agree_with_a_std_map_through_growth() {
        let mut map: FlatMap<u128, u32> = FlatMap::default();
        let mut reference = std::collections::HashMap::new();
        let mut next = 0u32;
        let mut out = Vec::new();
        for round in 0..20u128 {
            // Runs of equal keys, keys that differ only in the high word, and repeats.
            let keys: Vec<u128> = (0..1000u128).map(|i| ((i / 3 + round * 500) % 7000) | ((i % 2) << 100)).collect();
            out.clear();
            map.get_or_insert_batch(&keys, &mut out, |_| {
                next += 1;
                next - 1
            });
            for (k, &v) in keys.iter().zip(&out) {
                assert_eq!(*reference.entry(*k).or_insert(v), v, "key {k}");
            }
        }
        assert_eq!(map.len(), reference.len());
        assert_eq!(next as usize, reference.len(), "one new value per distinct key");
        assert_eq!(map.get_or_insert(5 | (1 << 100), || unreachable!()), reference[&(5 | (1 << 100))]);
        let mut seen: Vec<_> = map.iter().map(|(k, v)| (*k, v)).collect();
        seen.sort();
        let mut expected: Vec<_> = reference.into_iter().collect();
        expected.sort();
        assert_eq!(seen, expected);
    }

    #[test]
    fn a_reserved_map_takes_its_keys_without_growing() {
        let mut map: FlatMap<u128, u32> = FlatMap::default();
        map.get_or_insert(u128::MAX, || 7);
        map.reserve(100_000);
        let slots = map.slots.len();
        assert!(slots >= 200_000 && slots.is_power_of_two(), "{slots}");
        let keys: Vec<u128> = (0..99_999u128).map(|i| i * 1_000_003).collect();
        let mut out = Vec::new();
        map.get_or_insert_batch(&keys, &mut out, |i| i as u32);
        assert_eq!((map.slots.len(), map.len()), (slots, 100_000), "no growth");
        assert_eq!(out, (0..99_999).collect::<Vec<u32>>());
        assert_eq!(map.get_or_insert(u128::MAX, || unreachable!()), 7, "a key from before the reserve is still found");
        map.reserve(10);
        assert_eq!(map.slots.len(), slots, "a reserve never shrinks");
    }

    #[test]
    fn byte_keys_differing_in_any_byte_are_distinct() {
        let mut map: FlatMap<[u8; 24], ()> = FlatMap::default();
        let base = [7u8; 24];
        let mut keys = vec![base];
        for i in 0..24 {
            let mut k = base;
            k[i] ^= 1;
            keys.push(k);
        }
        let mut out = Vec::new();
        let mut inserted = 0;
        map.get_or_insert_batch(&keys, &mut out, |_| inserted += 1);
        map.get_or_insert_batch(&keys, &mut out, |_| inserted += 1);
        assert_eq!((inserted, map.len()), (25, 25));
    }
}
