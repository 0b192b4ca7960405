//! Indexes N synthetic formations and times typical queries.
//!
//! ```text
//! cargo run --release -p search --example bulk -- 200000 [--dir PATH] [--keep]
//! cargo run --release -p search --example bulk -- --search-only PATH [--only NAME]
//! ```
//!
//! The build runs in this process; the timings run in a fresh child process
//! that only opens the index, so its RSS is what a serving process pays and
//! not the indexer's leftovers. It prints, without the answer cache:
//! single-threaded mean/p50/p99 per query type, a two-thread closed-loop
//! throughput over those queries, then an open-loop run at 1,000 requests/s
//! over 5,000 distinct queries, without and with the answer cache.
//! `--only diag` runs cost breakdowns (no facet, one facet, count only…).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use search::{DocKind, Document, Facet, Query, SearchIndex};

const DIPLOMAS: &[(&str, &str)] = &[
    ("CAP", "3"),
    ("Titre professionnel", "3"),
    ("Bac pro", "4"),
    ("Brevet professionnel", "4"),
    ("Mention complémentaire", "4"),
    ("BTS", "5"),
    ("Titre professionnel", "5"),
    ("BUT", "6"),
    ("Licence professionnelle", "6"),
    ("Master", "7"),
    ("Diplôme d'ingénieur", "7"),
    ("Doctorat", "8"),
];

const SPECIALTIES: &[&str] = &[
    "Maintenance des systèmes de production",
    "Maintenance des véhicules",
    "Technicien de maintenance industrielle",
    "Électrotechnique",
    "Cuisine",
    "Commercialisation et services en restauration",
    "Boulanger",
    "Pâtissier",
    "Accompagnement, soins et services à la personne",
    "Auxiliaire de puériculture",
    "Aide-soignant",
    "Soins infirmiers",
    "Éducateur spécialisé",
    "Éducatrice de jeunes enfants",
    "Gestion des entreprises et des administrations",
    "Comptabilité et gestion",
    "Management commercial opérationnel",
    "Négociation et digitalisation de la relation client",
    "Logistique et transport",
    "Conducteur routier de marchandises",
    "Services informatiques aux organisations",
    "Développeur web et web mobile",
    "Cybersécurité, informatique et réseaux",
    "Systèmes numériques",
    "Menuisier fabricant",
    "Charpentier bois",
    "Maçon",
    "Plombier chauffagiste",
    "Électricien d'équipement du bâtiment",
    "Bâtiment, travaux publics",
    "Génie civil et construction durable",
    "Énergies renouvelables",
    "Métiers de l'eau",
    "Gestion et maîtrise de l'eau",
    "Agronomie, productions végétales",
    "Aquaculture",
    "Technicien en agroéquipement",
    "Hôtellerie restauration",
    "Tourisme",
    "Métiers de la mode, vêtement",
    "Audiovisuel, métiers du son",
    "Design graphique",
    "Chimie, biologie",
    "Bioanalyses et contrôles",
    "Aéronautique, avionique",
    "Mécanique navale",
    "Soudeur en tuyauterie industrielle",
    "Chaudronnerie industrielle",
    "Usinage, productique",
    "Sécurité, prévention",
];

const PATHWAYS: &[&str] = &["scolaire", "apprentissage", "continue", "vae"];
const MODALITIES: &[&str] = &["presentiel", "distanciel", "hybride"];

const SYLLABLES: &[&str] = &[
    "ba", "be", "bi", "bo", "ca", "ce", "ci", "co", "da", "de", "di", "do", "fa", "fe", "fi", "ga",
    "la", "le", "li", "lo", "ma", "me", "mi", "mo", "na", "ne", "ni", "no", "pa", "pe", "pi", "po",
    "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te", "ti", "to", "va", "ve", "vi", "vo",
    "tion", "ment", "eur", "ique", "age", "ance", "eau", "ier", "on", "an", "in", "ou",
];

/// Small deterministic generator: the same N gives the same index.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Log-uniform index in `0..n`: few frequent values, a long tail, like
    /// words in real text.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn pseudo_word(mut n: usize) -> String {
    let mut word = String::new();
    loop {
        word.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
        if n == 0 {
            break;
        }
    }
    word
}

fn formations(n: usize) -> impl Iterator<Item = Document> {
    let vocabulary: Vec<String> = (0..40_000).map(|i| pseudo_word(i + 61)).collect();
    let communes: Vec<String> = (0..3_000)
        .map(|i| format!("Saint-{}", pseudo_word(i * 7 + 300)))
        .collect();
    let providers: Vec<String> = (0..5_000)
        .map(|i| format!("Lycée {}", pseudo_word(i * 13 + 900)))
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..n).map(move |i| {
        let (diploma, level) = DIPLOMAS[rng.below(DIPLOMAS.len())];
        let specialty = SPECIALTIES[rng.skewed(SPECIALTIES.len())];
        let provider = &providers[rng.skewed(providers.len())];
        let commune = &communes[rng.below(communes.len())];
        let mut body = format!("{provider} {commune} {specialty}");
        for _ in 0..(20 + rng.below(40)) {
            body.push(' ');
            body.push_str(&vocabulary[rng.skewed(vocabulary.len())]);
        }
        let mut facets = vec![
            (Facet::Level, level.to_owned()),
            (Facet::Pathway, rng.pick(PATHWAYS).to_owned()),
            (Facet::Modality, rng.pick(MODALITIES).to_owned()),
            (Facet::Departement, format!("{:02}", 1 + rng.below(95))),
            (Facet::Provider, provider.clone()),
        ];
        if rng.below(5) == 0 {
            facets.push((Facet::Modality, "distanciel".to_owned()));
        }
        let title = format!("{diploma} {specialty}");
        // About the size of the JSON row the application stores for a result.
        let payload = format!(
            "{{\"id\":{i},\"title\":\"{title}\",\"provider_name\":\"{provider}\",\"body\":\"{}\"}}",
            body.chars().take(400).collect::<String>()
        );
        Document {
            kind: DocKind::Formation,
            id: format!("F{i:07}"),
            title,
            body,
            facets,
            campus: Some(format!("campus-{}", rng.below(20))),
            public: rng.below(10) != 0,
            payload,
        }
    })
}

fn query(text: &str, filters: &[(Facet, &str)]) -> Query {
    let mut q = Query::new(DocKind::Formation, text);
    q.filters = filters.iter().map(|(f, v)| (*f, (*v).to_owned())).collect();
    q.facets = vec![
        Facet::Level,
        Facet::Pathway,
        Facet::Modality,
        Facet::Departement,
        Facet::Provider,
    ];
    q.facet_limit = 20;
    q
}

fn with_facets(mut q: Query, facets: &[Facet]) -> Query {
    q.facets = facets.to_vec();
    q
}

/// Breakdowns of the costs, run only when named with `--only diag`.
fn diagnostics() -> Vec<(&'static str, Vec<Query>)> {
    vec![
        (
            "diag: match-all, no facet",
            vec![with_facets(query("", &[]), &[])],
        ),
        (
            "diag: match-all, level",
            vec![with_facets(query("", &[]), &[Facet::Level])],
        ),
        (
            "diag: match-all, modality (multi)",
            vec![with_facets(query("", &[]), &[Facet::Modality])],
        ),
        (
            "diag: match-all, provider",
            vec![with_facets(query("", &[]), &[Facet::Provider])],
        ),
        (
            "diag: match-all, count only",
            vec![{
                let mut q = with_facets(query("", &[]), &[]);
                q.limit = 0;
                q
            }],
        ),
        (
            "diag: maintenance, no facet",
            vec![with_facets(query("maintenance", &[]), &[])],
        ),
        (
            "diag: maintenance, count only",
            vec![{
                let mut q = with_facets(query("maintenance", &[]), &[]);
                q.limit = 0;
                q
            }],
        ),
        (
            "diag: bts (no fuzzy), no facet",
            vec![with_facets(query("bts", &[]), &[])],
        ),
    ]
}

fn workload() -> Vec<(&'static str, Vec<Query>)> {
    vec![
        ("match-all + 5 facets", vec![query("", &[])]),
        (
            "match-all + filter + facets",
            vec![
                query(
                    "",
                    &[(Facet::Departement, "973"), (Facet::Departement, "13")],
                ),
                query("", &[(Facet::Level, "5")]),
            ],
        ),
        (
            "one word",
            vec![
                query("maintenance", &[]),
                query("cuisine", &[]),
                query("soudeur", &[]),
            ],
        ),
        (
            "one rare word",
            vec![query("aquaculture", &[]), query("chaudronnerie", &[])],
        ),
        (
            "fuzzy word",
            vec![
                query("maintenence", &[]),
                query("auxilliaire", &[]),
                query("electrotecnique", &[]),
            ],
        ),
        (
            "two words",
            vec![
                query("technicien maintenance", &[]),
                query("soins infirmiers", &[]),
                query("bts comptabilite", &[]),
            ],
        ),
        (
            "two words + filter",
            vec![query(
                "technicien maintenance",
                &[(Facet::Pathway, "apprentissage")],
            )],
        ),
        (
            "page 10 of one word",
            vec![{
                let mut q = query("maintenance", &[]);
                q.offset = 180;
                q
            }],
        ),
    ]
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_else(|| "n/a".to_owned())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn bench(dir: &Path, only: Option<&str>) {
    let index = Arc::new(SearchIndex::open(dir).expect("open index"));
    // Per-query figures measure the search itself, not the answer cache.
    index.set_cache_capacity(0);
    println!(
        "opened: {} docs at seq {}, RSS {}",
        index.search(&query("", &[])).unwrap().total,
        index.last_seq(),
        status("VmRSS")
    );
    let mut workload = workload();
    if let Some(only) = only {
        workload.extend(diagnostics());
        workload.retain(|(name, _)| name.contains(only));
    }
    // Warm the page cache and lazily opened structures once.
    for (_, queries) in &workload {
        for q in queries {
            index.search(q).unwrap();
        }
    }
    println!(
        "{:<30} {:>9} {:>9} {:>9} {:>9}",
        "query (single thread)", "mean ms", "p50 ms", "p99 ms", "hits"
    );
    for (name, queries) in &workload {
        let rounds = if only.is_some() { 3000 } else { 300 };
        let mut times = Vec::with_capacity(rounds);
        let mut total = 0;
        for i in 0..rounds {
            let q = &queries[i % queries.len()];
            let start = Instant::now();
            let r = index.search(q).unwrap();
            times.push(start.elapsed());
            total = r.total;
        }
        times.sort();
        let mean = times.iter().sum::<Duration>() / times.len() as u32;
        println!(
            "{name:<30} {:>9.2} {:>9.2} {:>9.2} {total:>9}",
            ms(mean),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        );
    }
    if only.is_some() {
        return;
    }
    // Closed-loop throughput on two threads over the mixed workload, first
    // computing every answer, then with the answer cache on.
    let mixed: Arc<Vec<Query>> = Arc::new(workload.into_iter().flat_map(|(_, q)| q).collect());
    for (capacity, label) in [(0, "no cache"), (1024, "cache on")] {
        index.set_cache_capacity(capacity);
        throughput(&index, &mixed, label);
    }
    // Open loop at a fixed rate over thousands of distinct queries, the
    // shape of real traffic: latency counts from the scheduled start, so
    // queueing behind slow requests shows.
    let varied = Arc::new(varied_queries(5_000));
    index.set_cache_capacity(0);
    let mut by_kind: Vec<(&str, Vec<Duration>)> = vec![
        ("listing", vec![]),
        ("one word", vec![]),
        ("two words", vec![]),
    ];
    for q in varied.iter() {
        let start = Instant::now();
        index.search(q).unwrap();
        let kind = if q.text.is_empty() {
            0
        } else if q.text.contains(' ') {
            2
        } else {
            1
        };
        by_kind[kind].1.push(start.elapsed());
    }
    for (name, mut times) in by_kind {
        times.sort();
        let mean = times.iter().sum::<Duration>() / times.len().max(1) as u32;
        println!(
            "varied {name:<10} x{:<5} single thread: mean {:.2} ms, p99 {:.2} ms",
            times.len(),
            ms(mean),
            ms(percentile(&times, 0.99))
        );
    }
    for (capacity, label) in [(0, "no cache"), (1024, "cache on")] {
        index.set_cache_capacity(capacity);
        paced(&index, &varied, 1_000, label);
    }
    println!(
        "serving process: RSS {}, peak {}",
        status("VmRSS"),
        status("VmHWM")
    );
}

/// Distinct queries like a portal's: listings with random filters and pages,
/// single words, pairs of words, words with a typo; all with five facets.
fn varied_queries(n: usize) -> Vec<Query> {
    let words: Vec<String> = SPECIALTIES
        .iter()
        .flat_map(|s| s.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .collect();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    (0..n)
        .map(|_| {
            let word = words[rng.below(words.len())].clone();
            let mut q = match rng.below(20) {
                0..=3 => query("", &[]),
                4..=13 => query(&word, &[]),
                14..=16 => query(&format!("{word} {}", words[rng.below(words.len())]), &[]),
                _ => {
                    // One substituted letter.
                    let mut chars: Vec<char> = word.chars().collect();
                    let at = rng.below(chars.len());
                    chars[at] = (b'a' + rng.below(26) as u8) as char;
                    query(&chars.into_iter().collect::<String>(), &[])
                }
            };
            if rng.below(3) == 0 {
                q.filters
                    .push((Facet::Departement, format!("{:02}", 1 + rng.below(95))));
            }
            if rng.below(4) == 0 {
                q.filters.push((
                    Facet::Level,
                    DIPLOMAS[rng.below(DIPLOMAS.len())].1.to_owned(),
                ));
            }
            q.offset = 20 * rng.skewed(10);
            q
        })
        .collect()
}

/// Sends `rate` requests per second from two threads for a few seconds and
/// reports latencies measured from each request's scheduled time.
fn paced(index: &Arc<SearchIndex>, queries: &Arc<Vec<Query>>, rate: u32, label: &str) {
    let run_for = Duration::from_secs(10);
    let threads = 2;
    let interval = Duration::from_secs(1) * threads / rate;
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let index = index.clone();
            let queries = queries.clone();
            std::thread::spawn(move || {
                let mut times = Vec::new();
                let offset = interval / threads * t;
                let mut i = 0u32;
                loop {
                    let scheduled = start + offset + interval * i;
                    if scheduled > start + run_for {
                        break;
                    }
                    if let Some(wait) = scheduled.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let q = &queries[(i as usize * threads as usize + t as usize) % queries.len()];
                    index.search(q).unwrap();
                    times.push(scheduled.elapsed());
                    i += 1;
                }
                times
            })
        })
        .collect();
    let mut times: Vec<Duration> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "open loop {rate} req/s over {} distinct queries, {label}: mean {:.2} ms, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        queries.len(),
        ms(mean),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(percentile(&times, 1.0))
    );
}

fn throughput(index: &Arc<SearchIndex>, mixed: &Arc<Vec<Query>>, label: &str) {
    let run_for = Duration::from_secs(5);
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let index = index.clone();
            let mixed = mixed.clone();
            std::thread::spawn(move || {
                let mut times = Vec::new();
                let start = Instant::now();
                let mut i = t;
                while start.elapsed() < run_for {
                    let begin = Instant::now();
                    index.search(&mixed[i % mixed.len()]).unwrap();
                    times.push(begin.elapsed());
                    i += 1;
                }
                times
            })
        })
        .collect();
    let mut times: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    times.sort();
    println!(
        "mixed, 2 threads, closed loop, {label}: {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms",
        times.len() as f64 / run_for.as_secs_f64(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99))
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(dir) = args
        .iter()
        .position(|a| a == "--search-only")
        .and_then(|i| args.get(i + 1))
    {
        let only = args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1));
        bench(Path::new(dir), only.map(String::as_str));
        return;
    }
    let n: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(200_000);
    let keep = args.iter().any(|a| a == "--keep");
    let dir = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("passerelle-search-bench-{n}")));

    let index = SearchIndex::open(&dir).expect("open index");
    if index.needs_rebuild() || index.search(&query("", &[])).map(|r| r.total).unwrap_or(0) == 0 {
        let start = Instant::now();
        let count = index.rebuild(formations(n), 1).expect("rebuild");
        println!(
            "indexed {count} formations in {:.1} s (merged), indexer peak RSS {}",
            start.elapsed().as_secs_f64(),
            status("VmHWM")
        );
    } else {
        println!("reusing the index in {}", dir.display());
    }
    drop(index);
    println!("index size on disk: {:.1} MB", dir_size(&dir) as f64 / 1e6);

    let exe = std::env::current_exe().expect("current exe");
    let status = Command::new(exe)
        .arg("--search-only")
        .arg(&dir)
        .status()
        .expect("run bench child");
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(status.success());
}
