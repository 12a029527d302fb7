//! The synthetic behaviour dataset (`docs/dataset.md`): recommendation and e-commerce events
//! with the skew of real traffic (Zipf-distributed tenants, users, items and cities; users
//! who keep their device, city, IP and experiment; a daily and weekly rhythm that grows over
//! 90 days), generated deterministically from a seed, in timestamp order, a day at a time.

/// Users (`u0`..), items (`i0`..), tenants (`t00`..) and days covered.
pub const USERS: usize = 2_000_000;
/// Distinct items.
pub const ITEMS: usize = 200_000;
/// Distinct tenants.
pub const TENANTS: usize = 20;
/// Days the events span, ending on the end date.
pub const DAYS: i64 = 90;
/// The benchmark's end date, 2026-11-20 (days since the Unix epoch): the dates and the heavy
/// users and items `bench/queries/queries.sql` names exist at every size.
pub const BENCH_END_DAY: i64 = 20_777;

/// The scenarios and their shares.
pub const SCENARIOS: [(&str, f64); 5] = [("feed", 0.45), ("search", 0.20), ("detail", 0.20), ("cart", 0.10), ("push", 0.05)];
/// The action types, in Enum8 order (values 1..=7), and their shares.
pub const ACTIONS: [(&str, f64); 7] = [("impression", 0.70), ("click", 0.15), ("view", 0.08), ("like", 0.03), ("share", 0.01), ("add_cart", 0.02), ("order", 0.01)];
/// (device type, OS, share).
pub const DEVICE_OS: [(&str, &str, f64); 13] = [
    ("ios", "iOS 16", 0.08),
    ("ios", "iOS 17", 0.15),
    ("ios", "iOS 18", 0.12),
    ("android", "Android 12", 0.07),
    ("android", "Android 13", 0.12),
    ("android", "Android 14", 0.14),
    ("android", "Android 15", 0.07),
    ("web", "Windows 10", 0.04),
    ("web", "Windows 11", 0.05),
    ("web", "macOS", 0.04),
    ("web", "Linux", 0.01),
    ("mini_program", "WeChat iOS", 0.06),
    ("mini_program", "WeChat Android", 0.05),
];
const CITY_PREFIX: [&str; 20] = ["Bei", "Nan", "Dong", "Xi", "Shang", "Guang", "Hang", "Su", "Wu", "Chang", "Zheng", "Fu", "Lan", "Tian", "Qing", "Jin", "Hai", "Shen", "Ning", "Gui"];
const CITY_SUFFIX: [&str; 15] = ["jing", "zhou", "hai", "an", "sha", "du", "yang", "ning", "chun", "men", "shan", "chang", "tai", "de", "yuan"];
/// The item categories of `items.csv`.
pub const CATEGORIES: [&str; 40] = [
    "apparel", "shoes", "bags", "jewelry", "watches", "beauty", "skincare", "fragrance", "baby", "toys", "books", "music", "movies", "games",
    "phones", "laptops", "tablets", "cameras", "audio", "tv", "appliances", "kitchen", "furniture", "bedding", "decor", "tools", "garden",
    "pets", "sports", "outdoor", "fitness", "auto", "snacks", "beverages", "fresh", "grocery", "health", "office", "stationery", "travel",
];
/// Brands of `items.csv` (`brand_000`..).
pub const BRANDS: u32 = 500;
const REFS: [&str; 8] = ["home", "search", "push", "share", "profile", "category", "recommend", "ad"];
const FIRST_OCTETS: [u8; 39] = [36, 39, 42, 58, 59, 60, 61, 101, 106, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 175, 180, 182, 183, 202, 203, 210, 211, 218, 219, 220, 221, 222, 223];
const HOUR_WEIGHTS: [f64; 24] = [3.0, 2.0, 1.2, 0.8, 0.7, 0.9, 1.8, 3.5, 5.0, 5.5, 5.8, 6.2, 7.0, 6.5, 5.8, 5.5, 5.6, 6.0, 6.8, 7.8, 9.0, 9.5, 8.0, 5.5];

/// One event; strings are indexes into the vocabularies (`Vocabulary`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    /// Unique id, printed as 16 hex digits.
    pub event_id: u64,
    /// Tenant number (`t{:02}`).
    pub tenant: u8,
    /// Index into `SCENARIOS`.
    pub scenario: u8,
    /// User number (`u{}`).
    pub user: u32,
    /// Item number (`i{}`).
    pub item: u32,
    /// Index into `ACTIONS`.
    pub action: u8,
    /// Index into `DEVICE_OS`.
    pub device_os: u8,
    /// Index into the city names.
    pub city: u16,
    /// IPv4 octets.
    pub ip: [u8; 4],
    /// Index into the `extra_data` JSON strings.
    pub extra: u8,
    /// Seconds watched.
    pub watch_duration: i32,
    /// Share of the item completed, 3 decimals.
    pub completion_rate: f32,
    /// Experiment 0 (none) or 1..=8.
    pub experiment: u8,
    /// Group 0 (none), 1 (control), 2 (treatment).
    pub group: u8,
    /// Unix milliseconds.
    pub timestamp_ms: i64,
}

/// The text values events refer to.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    /// 300 city names.
    pub cities: Vec<String>,
    /// 88 JSON objects.
    pub extra: Vec<String>,
}

impl Default for Vocabulary {
    fn default() -> Self {
        let cities = CITY_PREFIX.iter().flat_map(|p| CITY_SUFFIX.iter().map(move |s| format!("{p}{s}"))).collect();
        let mut extra: Vec<String> = REFS.iter().map(|r| format!("{{\"ref\":\"{r}\"}}")).collect();
        extra.extend(REFS.iter().flat_map(|r| (0..10).map(move |p| format!("{{\"ref\":\"{r}\",\"pos\":{p}}}"))));
        Vocabulary { cities, extra }
    }
}

/// SplitMix64: a fast, well-mixed deterministic generator.
#[derive(Debug, Clone)]
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
}

fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A cumulative distribution to sample indexes from, with a guide table: `guide[k]` is the
/// first index whose cumulative share passes k / guide size, so a sample searches only the
/// few indexes of its bucket (the same answer as a search of the whole table).
#[derive(Debug, Clone)]
struct Cdf {
    cumulative: Vec<f64>,
    guide: Vec<u32>,
}

impl Cdf {
    fn from_weights(weights: impl Iterator<Item = f64>) -> Cdf {
        let mut total = 0.0;
        let mut c: Vec<f64> = weights.map(|w| {
            total += w;
            total
        })
        .collect();
        c.iter_mut().for_each(|x| *x /= total);
        let buckets = (c.len() * 4).next_power_of_two().clamp(16, 1 << 16);
        let mut guide: Vec<u32> = (0..buckets).map(|k| c.partition_point(|&x| x <= k as f64 / buckets as f64) as u32).collect();
        guide.push(c.len() as u32);
        Cdf { cumulative: c, guide }
    }

    fn zipf(n: usize, s: f64) -> Cdf {
        Cdf::from_weights((1..=n).map(|k| (k as f64).powf(-s)))
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        let k = (u * (self.guide.len() - 1) as f64) as usize;
        let (lo, hi) = (self.guide[k] as usize, self.guide[k + 1] as usize);
        (lo + self.cumulative[lo..hi].partition_point(|&c| c <= u)).min(self.cumulative.len() - 1)
    }
}

/// Attributes fixed per user and item (independent of how many events are generated).
#[derive(Debug)]
struct Population {
    user_rank: Vec<u32>,
    item_rank: Vec<u32>,
    user_city: Vec<u16>,
    user_device: Vec<u8>,
    user_ip: Vec<[u8; 4]>,
}

fn permutation(n: usize, rng: &mut Rng) -> Vec<u32> {
    let mut p: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        p.swap(i, rng.below(i as u64 + 1) as usize);
    }
    p
}

/// Generates events in timestamp order, one day at a time.
#[derive(Debug)]
pub struct Generator {
    rng: Rng,
    population: Population,
    tenants: Cdf,
    scenarios: Cdf,
    users: Cdf,
    items: Cdf,
    cities: Cdf,
    actions: Cdf,
    devices: Cdf,
    hours: Cdf,
    /// Events still to generate per day, first day first.
    per_day: Vec<usize>,
    first_day: i64,
    day: usize,
    /// The current day's events, sorted, consumed from the back.
    pending: Vec<Event>,
    next_id: u64,
}

impl Generator {
    /// A generator of `rows` events over the `DAYS` days ending on `end_day` (days since the
    /// Unix epoch), more of them on later days and weekends.
    pub fn new(rows: usize, end_day: i64) -> Generator {
        let mut stat = Rng(20_261_120);
        let user_rank = permutation(USERS, &mut stat);
        let item_rank = permutation(ITEMS, &mut stat);
        let city_rank = permutation(300, &mut stat);
        let cities = Cdf::zipf(300, 1.0);
        let devices = Cdf::from_weights(DEVICE_OS.iter().map(|d| d.2));
        let user_city = (0..USERS).map(|_| city_rank[cities.sample(&mut stat)] as u16).collect();
        let user_device = (0..USERS).map(|_| devices.sample(&mut stat) as u8).collect();
        let user_ip = (0..USERS)
            .map(|_| [FIRST_OCTETS[stat.below(FIRST_OCTETS.len() as u64) as usize], stat.below(256) as u8, stat.below(256) as u8, 1 + stat.below(254) as u8])
            .collect();
        let first_day = end_day - DAYS + 1;
        let weights: Vec<f64> = (0..DAYS)
            .map(|d| {
                let weekday = (first_day + d + 3).rem_euclid(7); // 0 = Monday
                (1.0 + 0.5 * d as f64 / (DAYS - 1) as f64) * if weekday >= 5 { 1.15 } else { 1.0 }
            })
            .collect();
        let total: f64 = weights.iter().sum();
        let mut per_day: Vec<usize> = weights.iter().map(|w| (rows as f64 * w / total) as usize).collect();
        let short = rows - per_day.iter().sum::<usize>();
        *per_day.last_mut().expect("days") += short;
        Generator {
            rng: Rng(7),
            population: Population { user_rank, item_rank, user_city, user_device, user_ip },
            tenants: Cdf::zipf(TENANTS, 1.0),
            scenarios: Cdf::from_weights(SCENARIOS.iter().map(|s| s.1)),
            users: Cdf::zipf(USERS, 0.7),
            items: Cdf::zipf(ITEMS, 0.8),
            cities,
            actions: Cdf::from_weights(ACTIONS.iter().map(|a| a.1)),
            devices,
            hours: Cdf::from_weights(HOUR_WEIGHTS.iter().copied()),
            per_day,
            first_day,
            day: 0,
            pending: Vec::new(),
            next_id: 1,
        }
    }

    fn fill_day(&mut self) -> bool {
        while self.pending.is_empty() {
            let Some(&count) = self.per_day.get(self.day) else { return false };
            let day_ms = (self.first_day + self.day as i64) * 86_400_000;
            self.day += 1;
            let mut stamps: Vec<i64> = (0..count).map(|_| day_ms + self.hours.sample(&mut self.rng) as i64 * 3_600_000 + self.rng.below(3_600_000) as i64).collect();
            stamps.sort_unstable_by(|a, b| b.cmp(a));
            self.pending = stamps.into_iter().map(|ts| self.event(ts)).collect();
        }
        true
    }

    fn event(&mut self, timestamp_ms: i64) -> Event {
        let r = &mut self.rng;
        let p = &self.population;
        let user = p.user_rank[self.users.sample(r)];
        let action = self.actions.sample(r) as u8;
        let device_os = if r.unit() < 0.10 { self.devices.sample(r) as u8 } else { p.user_device[user as usize] };
        let city = if r.unit() < 0.10 { self.cities.sample(r) as u16 } else { p.user_city[user as usize] };
        let mut ip = p.user_ip[user as usize];
        if r.unit() < 0.15 {
            ip[2] = r.below(256) as u8;
            ip[3] = 1 + r.below(254) as u8;
        }
        let (mut watch_duration, mut completion_rate) = (0, 0.0f64);
        if action == 2 {
            // view: exponential watch time, mean 60 s, Beta(2,2)-like completion
            watch_duration = (1.0 - 60.0 * (1.0 - r.unit()).ln()).min(600.0) as i32;
            completion_rate = (r.unit() + r.unit() + r.unit()) / 3.0;
        } else if action == 1 && r.unit() < 0.2 {
            watch_duration = 1 + r.below(30) as i32;
            completion_rate = r.unit() * 0.2;
        }
        let h = mix(user as u64);
        let in_experiment = h % 100 < 40;
        let event_id = self.next_id.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5dee_ce66_d123_4567;
        self.next_id += 1;
        Event {
            event_id,
            tenant: self.tenants.sample(r) as u8,
            scenario: self.scenarios.sample(r) as u8,
            user,
            item: p.item_rank[self.items.sample(r)],
            action,
            device_os,
            city,
            ip,
            extra: r.below(88) as u8,
            watch_duration,
            completion_rate: ((completion_rate * 1000.0).round() / 1000.0) as f32,
            experiment: if in_experiment { 1 + ((h >> 8) % 8) as u8 } else { 0 },
            group: if in_experiment { 1 + ((h >> 16) & 1) as u8 } else { 0 },
            timestamp_ms,
        }
    }
}

impl Iterator for Generator {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if !self.fill_day() {
            return None;
        }
        self.pending.pop()
    }
}

/// One row of `items.csv`, the item dimension.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Item {
    /// Item number (`i{}`).
    pub item: u32,
    /// Index into `CATEGORIES`.
    pub category: u8,
    /// Brand number (`brand_{:03}`).
    pub brand: u16,
    /// Log-normal around 80, at least 0.5, in cents.
    pub price_cents: u64,
}

/// The `ITEMS` items, deterministic and independent of the event count.
pub fn items() -> impl Iterator<Item = Item> {
    let mut rng = Rng(20_261_121);
    (0..ITEMS as u32).map(move |item| {
        // Box-Muller: a standard normal from two uniforms.
        let normal = (-2.0 * (1.0 - rng.unit()).ln()).sqrt() * (std::f64::consts::TAU * rng.unit()).cos();
        let price = (80f64.ln() + normal).exp().max(0.5);
        Item { item, category: rng.below(CATEGORIES.len() as u64) as u8, brand: rng.below(BRANDS as u64) as u16, price_cents: (price * 100.0).round() as u64 }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_deterministic_sorted_and_skewed() {
        let a: Vec<Event> = Generator::new(20_000, 20_412).collect();
        let b: Vec<Event> = Generator::new(20_000, 20_412).collect();
        assert_eq!(a.len(), 20_000);
        assert_eq!(a, b);
        assert!(a.windows(2).all(|w| w[0].timestamp_ms <= w[1].timestamp_ms));
        let first = (20_412 - DAYS + 1) * 86_400_000;
        assert!(a[0].timestamp_ms >= first && a[19_999].timestamp_ms < (20_412 + 1) * 86_400_000);
        let t00 = a.iter().filter(|e| e.tenant == 0).count() as f64 / 20_000.0;
        assert!((0.24..0.32).contains(&t00), "t00 share {t00}");
        let impressions = a.iter().filter(|e| e.action == 0).count() as f64 / 20_000.0;
        assert!((0.67..0.73).contains(&impressions), "impression share {impressions}");
        let ids: std::collections::HashSet<u64> = a.iter().map(|e| e.event_id).collect();
        assert_eq!(ids.len(), 20_000);
    }

    #[test]
    fn the_query_constants_are_the_heavy_hitters() {
        // bench/queries/queries.sql names the rank-1 and rank-1000 users and the rank-100 item.
        let g = Generator::new(0, BENCH_END_DAY);
        let p = &g.population;
        assert_eq!((p.user_rank[0], p.user_rank[999], p.item_rank[99]), (1_489_982, 1_975_066, 47_219));
    }
}
