//! Behaviour of the index through its public API only.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use search::{DocKind, Document, Facet, Query, Results, SearchIndex};

fn doc(kind: DocKind, id: &str, title: &str, body: &str) -> Document {
    Document {
        kind,
        id: id.into(),
        title: title.into(),
        body: body.into(),
        facets: Vec::new(),
        campus: None,
        public: true,
        payload: format!("payload of {id}"),
    }
}

fn formation(id: &str, title: &str) -> Document {
    doc(DocKind::Formation, id, title, "")
}

fn with_facets(mut d: Document, facets: &[(Facet, &str)]) -> Document {
    d.facets = facets.iter().map(|(f, v)| (*f, (*v).to_owned())).collect();
    d
}

fn index_of(docs: Vec<Document>) -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap();
    index.rebuild(docs.into_iter(), 1).unwrap();
    index
}

fn ids(results: &Results) -> Vec<&str> {
    results.hits.iter().map(|h| h.id.as_str()).collect()
}

fn find(index: &SearchIndex, kind: DocKind, text: &str) -> Results {
    index.search(&Query::new(kind, text)).unwrap()
}

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "passerelle-search-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SearchIndex>();
}

#[test]
fn accents_are_ignored_both_ways() {
    let index = index_of(vec![
        formation("1", "Educateur spécialisé / Educatrice spécialisée"),
        formation("2", "Éducateur de jeunes enfants"),
        formation("3", "Moniteur éducateur"),
        formation("9", "Comptable"),
    ]);
    for text in ["educateur", "éducatrice", "ÉDUCATEUR", "Educatrice"] {
        let r = find(&index, DocKind::Formation, text);
        assert!(ids(&r).contains(&"1"), "{text}: {:?}", ids(&r));
        assert!(ids(&r).contains(&"2"), "{text}: {:?}", ids(&r));
        assert!(!ids(&r).contains(&"9"), "{text}: {:?}", ids(&r));
    }
    let r = find(&index, DocKind::Formation, "specialisee");
    assert_eq!(ids(&r), ["1"]);
}

#[test]
fn words_are_stemmed() {
    let index = index_of(vec![
        formation("1", "Diplôme d'État de soin infirmier"),
        formation("2", "Soins esthétiques"),
    ]);
    let r = find(&index, DocKind::Formation, "soins infirmiers");
    assert_eq!(ids(&r), ["1"]);
    assert!(!r.relaxed);
}

#[test]
fn elisions_are_dropped() {
    let index = index_of(vec![
        formation("1", "Assistant d'accueil et d'animation"),
        formation("2", "Métiers de l’enfance"),
    ]);
    assert_eq!(ids(&find(&index, DocKind::Formation, "accueil")), ["1"]);
    assert_eq!(ids(&find(&index, DocKind::Formation, "l'enfance")), ["2"]);
    assert_eq!(ids(&find(&index, DocKind::Formation, "d’animation")), ["1"]);
}

#[test]
fn one_typo_is_tolerated_and_exact_matches_rank_first() {
    let index = index_of(vec![
        formation("1", "Auxiliaire de puériculture"),
        formation("2", "Sondeur de forage"),
        formation("3", "Soudeur en tuyauterie"),
        formation("4", "Auxiliaire de vie sociale"),
    ]);
    let r = find(&index, DocKind::Formation, "auxilliaire");
    assert_eq!(r.total, 2);
    assert!(ids(&r).contains(&"1"));
    // « auxilliaire puericulture »: both words tolerated.
    assert_eq!(
        ids(&find(&index, DocKind::Formation, "auxilliaire puericultur")),
        ["1"]
    );

    let r = find(&index, DocKind::Formation, "soudeur");
    assert_eq!(ids(&r), ["3", "2"], "exact before fuzzy");
    assert!(r.hits[0].score > r.hits[1].score);
}

#[test]
fn short_words_and_codes_are_not_fuzzy() {
    let index = index_of(vec![
        formation("1", "CAP cuisine"),
        formation("2", "CAB"),
        doc(
            DocKind::Occupation,
            "M1805",
            "Études et développement informatique",
            "M1805",
        ),
        doc(
            DocKind::Occupation,
            "M1806",
            "Conseil et maîtrise d'ouvrage",
            "M1806",
        ),
    ]);
    assert_eq!(ids(&find(&index, DocKind::Formation, "cap")), ["1"]);
    assert_eq!(ids(&find(&index, DocKind::Occupation, "M1805")), ["M1805"]);
}

#[test]
fn all_words_must_match_then_any_word() {
    let index = index_of(vec![
        formation("1", "Aide-soignant"),
        formation("2", "Aide à domicile"),
        formation("3", "Soignant en gériatrie"),
    ]);
    let r = find(&index, DocKind::Formation, "aide soignant");
    assert_eq!(ids(&r), ["1"]);
    assert!(!r.relaxed);

    let r = find(&index, DocKind::Formation, "soignant astronaute");
    assert!(r.relaxed);
    assert_eq!(r.total, 2);
    assert!(ids(&r).contains(&"1") && ids(&r).contains(&"3"));

    let r = find(&index, DocKind::Formation, "astronaute");
    assert_eq!(r.total, 0);
    assert!(!r.relaxed);
}

#[test]
fn title_matches_rank_above_body_matches() {
    let index = index_of(vec![
        doc(
            DocKind::Occupation,
            "A",
            "Conduite d'engins",
            "grutier grutière, conducteur de grue",
        ),
        doc(
            DocKind::Occupation,
            "B",
            "Grutier",
            "conduite de grue à tour",
        ),
    ]);
    let r = find(&index, DocKind::Occupation, "grutier");
    assert_eq!(ids(&r), ["B", "A"]);
    // Appellations in the body are searchable.
    assert_eq!(
        ids(&find(&index, DocKind::Occupation, "grutière conducteur")),
        ["A"]
    );
}

#[test]
fn empty_text_lists_the_kind_sorted_by_title() {
    let index = index_of(vec![
        formation("1", "Technicien de maintenance"),
        formation("2", "Éducateur spécialisé"),
        formation("3", "aide-soignant"),
        formation("4", "Boulanger"),
        doc(DocKind::Member, "m", "Lycée Melkior", ""),
    ]);
    for text in ["", "   ", "de la"] {
        let r = find(&index, DocKind::Formation, text);
        assert_eq!(ids(&r), ["3", "4", "2", "1"], "{text:?}");
        assert_eq!(r.total, 4);
        assert!(r.hits.iter().all(|h| h.score == 0.0));
    }
    assert_eq!(ids(&find(&index, DocKind::Member, "")), ["m"]);
}

#[test]
fn kinds_are_separate() {
    let index = index_of(vec![
        formation("1", "Infirmier"),
        doc(DocKind::Occupation, "J1506", "Infirmier", ""),
        doc(
            DocKind::Certification,
            "RNCP1",
            "Diplôme d'État d'infirmier",
            "",
        ),
    ]);
    assert_eq!(
        ids(&find(&index, DocKind::Occupation, "infirmier")),
        ["J1506"]
    );
    assert_eq!(
        ids(&find(&index, DocKind::Certification, "infirmier")),
        ["RNCP1"]
    );
    assert_eq!(
        ids(&find(&index, DocKind::Member, "infirmier")),
        Vec::<&str>::new()
    );
}

fn faceted_index() -> SearchIndex {
    index_of(vec![
        with_facets(
            formation("1", "BTS Maintenance des systèmes"),
            &[
                (Facet::Level, "5"),
                (Facet::Pathway, "apprentissage"),
                (Facet::Departement, "973"),
                (Facet::Modality, "presentiel"),
                (Facet::Modality, "distanciel"),
            ],
        ),
        with_facets(
            formation("2", "Bac pro Maintenance des véhicules"),
            &[
                (Facet::Level, "4"),
                (Facet::Pathway, "scolaire"),
                (Facet::Departement, "973"),
                (Facet::Modality, "presentiel"),
            ],
        ),
        with_facets(
            formation("3", "Licence pro Maintenance industrielle"),
            &[
                (Facet::Level, "6"),
                (Facet::Pathway, "apprentissage"),
                (Facet::Departement, "971"),
            ],
        ),
        with_facets(
            formation("4", "CAP Cuisine"),
            &[
                (Facet::Level, "3"),
                (Facet::Pathway, "scolaire"),
                (Facet::Departement, "971"),
            ],
        ),
    ])
}

#[test]
fn facet_filters_are_exact_and_across_or_within() {
    let index = faceted_index();
    let mut q = Query::new(DocKind::Formation, "maintenance");
    q.filters = vec![(Facet::Pathway, "apprentissage".into())];
    assert_eq!(index.search(&q).unwrap().total, 2);

    q.filters.push((Facet::Departement, "973".into()));
    assert_eq!(ids(&index.search(&q).unwrap()), ["1"]);

    q.filters.push((Facet::Departement, "971".into()));
    assert_eq!(index.search(&q).unwrap().total, 2, "OR within a facet");

    q.filters = vec![(Facet::Pathway, "Apprentissage".into())];
    assert_eq!(index.search(&q).unwrap().total, 0, "exact values");

    let mut q = Query::new(DocKind::Formation, "");
    q.filters = vec![(Facet::Modality, "distanciel".into())];
    assert_eq!(ids(&index.search(&q).unwrap()), ["1"], "multi-valued facet");
}

#[test]
fn facet_counts_cover_the_matched_set() {
    let index = faceted_index();
    let mut q = Query::new(DocKind::Formation, "maintenance");
    q.facets = vec![
        Facet::Departement,
        Facet::Level,
        Facet::Modality,
        Facet::Kind,
    ];
    let r = index.search(&q).unwrap();
    assert_eq!(r.total, 3);
    assert_eq!(
        r.facets,
        vec![
            (
                Facet::Departement,
                vec![("973".into(), 2), ("971".into(), 1)]
            ),
            (
                Facet::Level,
                vec![("4".into(), 1), ("5".into(), 1), ("6".into(), 1)]
            ),
            (
                Facet::Modality,
                vec![("presentiel".into(), 2), ("distanciel".into(), 1)]
            ),
            (Facet::Kind, vec![]),
        ]
    );

    let mut q = Query::new(DocKind::Formation, "");
    q.filters = vec![(Facet::Departement, "971".into())];
    q.facets = vec![Facet::Pathway];
    q.limit = 0;
    let r = index.search(&q).unwrap();
    assert!(r.hits.is_empty());
    assert_eq!(r.total, 2);
    assert_eq!(
        r.facets,
        vec![(
            Facet::Pathway,
            vec![("apprentissage".into(), 1), ("scolaire".into(), 1)]
        )]
    );

    q.facet_limit = 1;
    let r = index.search(&q).unwrap();
    assert_eq!(
        r.facets,
        vec![(Facet::Pathway, vec![("apprentissage".into(), 1)])]
    );
}

#[test]
fn pagination_is_stable_across_segments() {
    let index = SearchIndex::in_memory().unwrap();
    let titles: Vec<String> = (0..60)
        .map(|i| format!("Formation {:02} maintenance", (i * 37) % 60))
        .collect();
    // Several commits give several segments.
    for (chunk, seq) in titles.chunks(15).zip(1..) {
        let docs = chunk.iter().map(|t| formation(&t[10..12], t)).collect();
        index.apply(docs, vec![], seq).unwrap();
    }
    for text in ["", "maintenance"] {
        let mut q = Query::new(DocKind::Formation, text);
        q.limit = 60;
        let all = index.search(&q).unwrap();
        assert_eq!(all.total, 60);
        let mut paged = Vec::new();
        q.limit = 7;
        while q.offset < 60 {
            let page = index.search(&q).unwrap();
            assert_eq!(page.total, 60);
            paged.extend(page.hits.into_iter().map(|h| h.id));
            q.offset += 7;
        }
        assert_eq!(paged, ids(&all));
    }
    let mut q = Query::new(DocKind::Formation, "");
    q.limit = 5;
    q.offset = 10;
    assert_eq!(
        ids(&index.search(&q).unwrap()),
        ["10", "11", "12", "13", "14"]
    );
    q.offset = 100;
    assert!(index.search(&q).unwrap().hits.is_empty());
    q.offset = search::MAX_WINDOW;
    assert!(matches!(
        index.search(&q),
        Err(search::Error::InvalidQuery(_))
    ));
}

#[test]
fn private_documents_need_include_private_and_their_campus() {
    let mut private_a = formation("pa", "Soudeur privé");
    private_a.campus = Some("guyane".into());
    private_a.public = false;
    let mut public_a = formation("a", "Soudeur public");
    public_a.campus = Some("guyane".into());
    let mut private_b = formation("pb", "Soudeur autre campus");
    private_b.campus = Some("occitanie".into());
    private_b.public = false;
    let reference = formation("r", "Soudeur national");
    let index = index_of(vec![private_a, public_a, private_b, reference]);

    let mut q = Query::new(DocKind::Formation, "soudeur");
    q.facets = vec![Facet::Level];
    let sorted = |q: &Query| {
        let mut v: Vec<String> = index
            .search(q)
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.id)
            .collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&q), ["a", "r"]);
    q.include_private = true;
    assert_eq!(sorted(&q), ["a", "r"], "no campus: public only");
    q.campus = Some("guyane".into());
    assert_eq!(sorted(&q), ["a", "pa"]);
    q.include_private = false;
    assert_eq!(sorted(&q), ["a"]);
    q.text.clear();
    q.include_private = true;
    assert_eq!(sorted(&q), ["a", "pa"], "match-all follows the same rules");
}

#[test]
fn apply_upserts_and_deletes() {
    let index = SearchIndex::in_memory().unwrap();
    assert_eq!(index.last_seq(), 0);
    assert!(index.needs_rebuild());
    index
        .rebuild(
            vec![formation("1", "Plombier"), formation("2", "Électricien")].into_iter(),
            10,
        )
        .unwrap();
    assert!(!index.needs_rebuild());
    assert_eq!(index.last_seq(), 10);

    index
        .apply(
            vec![
                formation("1", "Plombier chauffagiste"),
                formation("3", "Menuisier"),
            ],
            vec![],
            11,
        )
        .unwrap();
    assert_eq!(index.last_seq(), 11);
    let r = find(&index, DocKind::Formation, "plombier");
    assert_eq!(ids(&r), ["1"], "upsert replaces, no duplicate");
    assert_eq!(
        ids(&find(&index, DocKind::Formation, "chauffagiste")),
        ["1"]
    );

    index
        .apply(
            vec![],
            vec![
                (DocKind::Formation, "2".into()),
                (DocKind::Occupation, "1".into()),
            ],
            12,
        )
        .unwrap();
    assert_eq!(find(&index, DocKind::Formation, "").total, 2);

    // Same id in another kind is another document.
    index
        .apply(
            vec![doc(DocKind::Member, "1", "Plomberie SA", "")],
            vec![],
            13,
        )
        .unwrap();
    assert_eq!(ids(&find(&index, DocKind::Formation, "plombier")), ["1"]);
    assert_eq!(find(&index, DocKind::Member, "").total, 1);

    // A rebuild replaces everything.
    index
        .rebuild(vec![formation("9", "Couvreur")].into_iter(), 20)
        .unwrap();
    assert_eq!(ids(&find(&index, DocKind::Formation, "")), ["9"]);
    assert_eq!(find(&index, DocKind::Member, "").total, 0);
}

#[test]
fn seq_and_content_survive_reopening() {
    let dir = TempDir::new();
    {
        let index = SearchIndex::open(dir.path()).unwrap();
        assert!(index.needs_rebuild());
        assert_eq!(index.last_seq(), 0);
        // Enough documents for both writer threads to make a segment, so
        // that the final merge runs and must keep the payload.
        let docs = (0..2000).map(|i| formation(&i.to_string(), &format!("Formation numéro {i}")));
        assert_eq!(index.rebuild(docs, 41).unwrap(), 2000);
        let metas = tantivy::Index::open_in_dir(dir.path())
            .unwrap()
            .load_metas()
            .unwrap();
        assert_eq!(metas.segments.len(), 1, "rebuild ends merged");
        assert!(
            metas.payload.unwrap().contains("seq=41"),
            "the merge kept the payload"
        );
        index
            .apply(vec![formation("x", "Charpentier")], vec![], 42)
            .unwrap();
    }
    {
        let index = SearchIndex::open(dir.path()).unwrap();
        assert!(!index.needs_rebuild());
        assert_eq!(index.last_seq(), 42);
        assert_eq!(find(&index, DocKind::Formation, "").total, 2001);
        assert_eq!(ids(&find(&index, DocKind::Formation, "charpentier")), ["x"]);
    }
}

#[test]
fn incremental_changes_alone_do_not_count_as_a_rebuild() {
    let dir = TempDir::new();
    {
        let index = SearchIndex::open(dir.path()).unwrap();
        index
            .apply(vec![formation("1", "Maçon")], vec![], 5)
            .unwrap();
        assert!(index.needs_rebuild());
    }
    let index = SearchIndex::open(dir.path()).unwrap();
    assert!(index.needs_rebuild());
    assert_eq!(index.last_seq(), 5);
}

#[test]
fn an_index_with_another_schema_is_recreated() {
    use tantivy::schema::{Schema, TEXT};

    let dir = TempDir::new();
    std::fs::write(dir.path().join("README"), "not ours").unwrap();
    {
        let mut builder = Schema::builder();
        let title = builder.add_text_field("title", TEXT);
        let index = tantivy::Index::create_in_dir(dir.path(), builder.build()).unwrap();
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut d = tantivy::TantivyDocument::default();
        d.add_text(title, "old");
        writer.add_document(d).unwrap();
        let mut commit = writer.prepare_commit().unwrap();
        commit.set_payload("passerelle-search v0 seq=99 complete=true");
        commit.commit().unwrap();
    }
    let index = SearchIndex::open(dir.path()).unwrap();
    assert!(index.needs_rebuild());
    assert_eq!(index.last_seq(), 0);
    assert_eq!(find(&index, DocKind::Formation, "").total, 0);
    assert!(dir.path().join("README").exists(), "foreign files are kept");
    index
        .rebuild(vec![formation("1", "Peintre")].into_iter(), 3)
        .unwrap();
    assert_eq!(find(&index, DocKind::Formation, "peintre").total, 1);
}

#[test]
fn concurrent_searches_during_writes() {
    let index = std::sync::Arc::new(index_of(
        (0..200)
            .map(|i| formation(&i.to_string(), &format!("Cuisinier {i}")))
            .collect(),
    ));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let index = index.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let r = find(&index, DocKind::Formation, "cuisinier");
                    assert!(r.total >= 200);
                }
            })
        })
        .collect();
    for seq in 2..12 {
        index
            .apply(
                vec![formation(&format!("n{seq}"), "Cuisinier")],
                vec![],
                seq,
            )
            .unwrap();
    }
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(find(&index, DocKind::Formation, "cuisinier").total, 210);
}

#[test]
fn frequent_words_match_exactly_only() {
    let mut docs: Vec<Document> = (0..search::FUZZY_MAX_DOC_FREQ)
        .map(|i| formation(&format!("s{i}"), "Soudeur"))
        .collect();
    docs.push(formation("n", "Sondeur"));
    let index = index_of(docs);
    let r = find(&index, DocKind::Formation, "soudeur");
    assert_eq!(r.total as u64, search::FUZZY_MAX_DOC_FREQ);
    // The rare word still tolerates a typo.
    assert_eq!(ids(&find(&index, DocKind::Formation, "sondeir")), ["n"]);
}

#[test]
fn facet_counts_add_up_across_segments_and_deletes() {
    let index = SearchIndex::in_memory().unwrap();
    let first = with_facets(
        formation("1", "Peintre"),
        &[
            (Facet::Modality, "presentiel"),
            (Facet::Modality, "distanciel"),
        ],
    );
    let second = with_facets(
        formation("2", "Peintre"),
        &[(Facet::Modality, "distanciel")],
    );
    let third = with_facets(formation("3", "Peintre"), &[(Facet::Modality, "hybride")]);
    let bare = formation("4", "Peintre");
    index.apply(vec![first, bare], vec![], 1).unwrap();
    index.apply(vec![second, third], vec![], 2).unwrap();
    let mut q = Query::new(DocKind::Formation, "peintre");
    q.facets = vec![Facet::Modality];
    let r = index.search(&q).unwrap();
    assert_eq!(r.total, 4);
    assert_eq!(
        r.facets,
        vec![(
            Facet::Modality,
            vec![
                ("distanciel".into(), 2),
                ("hybride".into(), 1),
                ("presentiel".into(), 1)
            ]
        )]
    );
    index
        .apply(vec![], vec![(DocKind::Formation, "1".into())], 3)
        .unwrap();
    let r = index.search(&q).unwrap();
    assert_eq!(
        r.facets,
        vec![(
            Facet::Modality,
            vec![("distanciel".into(), 1), ("hybride".into(), 1)]
        )]
    );
}

#[test]
fn narrow_and_broad_audiences_give_the_same_rules() {
    // Many public documents make the campus scopes narrow, which the index
    // handles differently from the broad public scope.
    let mut docs: Vec<Document> = (0..40)
        .map(|i| {
            let mut d = formation(&format!("p{i}"), "Soudeur public");
            d.campus = Some("occitanie".into());
            d
        })
        .collect();
    let mut private = formation("x", "Soudeur privé");
    private.campus = Some("guyane".into());
    private.public = false;
    let mut public = formation("y", "Soudeur guyanais");
    public.campus = Some("guyane".into());
    docs.push(private);
    docs.push(public);
    let index = index_of(docs);

    let mut q = Query::new(DocKind::Formation, "soudeur");
    assert_eq!(index.search(&q).unwrap().total, 41);
    q.campus = Some("guyane".into());
    assert_eq!(ids(&index.search(&q).unwrap()), ["y"]);
    q.include_private = true;
    let r = index.search(&q).unwrap();
    assert_eq!(r.total, 2);
    assert!(ids(&r).contains(&"x"));
    q.text = "prive".into();
    assert_eq!(ids(&index.search(&q).unwrap()), ["x"]);
    q.campus = Some("occitanie".into());
    assert_eq!(index.search(&q).unwrap().total, 0);
}

#[test]
fn narrow_and_broad_filters_give_the_same_rules() {
    let mut docs: Vec<Document> = (0..100)
        .map(|i| {
            with_facets(
                formation(&format!("p{i}"), "Cuisinier"),
                &[(Facet::Departement, "31"), (Facet::Level, "3")],
            )
        })
        .collect();
    docs.push(with_facets(
        formation("g", "Aide cuisinier"),
        &[(Facet::Departement, "973"), (Facet::Level, "3")],
    ));
    docs.push(with_facets(
        formation("h", "Cuisinier boulanger"),
        &[(Facet::Departement, "973"), (Facet::Level, "4")],
    ));
    let index = index_of(docs);
    let total = |filters: &[(Facet, &str)]| {
        let mut q = Query::new(DocKind::Formation, "cuisinier");
        q.filters = filters.iter().map(|(f, v)| (*f, (*v).to_owned())).collect();
        let with_text = index.search(&q).unwrap().total;
        q.text.clear();
        assert_eq!(index.search(&q).unwrap().total, with_text, "{filters:?}");
        with_text
    };
    assert_eq!(total(&[(Facet::Departement, "973")]), 2);
    assert_eq!(total(&[(Facet::Departement, "31")]), 100);
    assert_eq!(
        total(&[(Facet::Departement, "31"), (Facet::Departement, "973")]),
        102
    );
    assert_eq!(
        total(&[(Facet::Departement, "973"), (Facet::Level, "3")]),
        1
    );
    assert_eq!(total(&[(Facet::Departement, "31"), (Facet::Level, "4")]), 0);
    assert_eq!(total(&[(Facet::Level, "3"), (Facet::Level, "4")]), 102);

    // Listings of few documents and of many pick their page differently.
    let mut q = Query::new(DocKind::Formation, "");
    q.filters = vec![(Facet::Departement, "973".into())];
    assert_eq!(ids(&index.search(&q).unwrap()), ["g", "h"]);
    q.filters = vec![(Facet::Level, "3".into())];
    q.limit = 3;
    let r = index.search(&q).unwrap();
    assert_eq!(r.hits.len(), 3);
    assert_eq!(r.hits[0].id, "g");
}

#[test]
fn cached_answers_follow_commits() {
    let index = index_of(vec![formation("1", "Fleuriste")]);
    let mut q = Query::new(DocKind::Formation, "fleuriste");
    q.facets = vec![Facet::Level];
    assert_eq!(index.search(&q).unwrap().total, 1);
    assert_eq!(index.search(&q).unwrap().total, 1);
    index
        .apply(
            vec![with_facets(
                formation("2", "Fleuriste"),
                &[(Facet::Level, "3")],
            )],
            vec![],
            2,
        )
        .unwrap();
    let r = index.search(&q).unwrap();
    assert_eq!(r.total, 2);
    assert_eq!(r.facets, vec![(Facet::Level, vec![("3".into(), 1)])]);
    index.set_cache_capacity(0);
    assert_eq!(index.search(&q).unwrap().total, 2);
}

#[test]
fn pages_reuse_cached_facet_counts_exactly() {
    let docs = (0..30)
        .map(|i| {
            with_facets(
                formation(&i.to_string(), &format!("Maçon {i:02}")),
                &[(Facet::Level, if i % 3 == 0 { "3" } else { "4" })],
            )
        })
        .collect();
    let index = index_of(docs);
    for text in ["", "macon"] {
        let mut q = Query::new(DocKind::Formation, text);
        q.facets = vec![Facet::Level];
        q.limit = 5;
        let first = index.search(&q).unwrap();
        q.offset = 5;
        let second = index.search(&q).unwrap();
        index.set_cache_capacity(0);
        assert_eq!(index.search(&q).unwrap(), second);
        q.offset = 0;
        assert_eq!(index.search(&q).unwrap(), first);
        index.set_cache_capacity(1024);
        assert_eq!(second.total, 30);
        assert_eq!(
            second.facets,
            vec![(Facet::Level, vec![("4".into(), 20), ("3".into(), 10)])]
        );
        assert_ne!(first.hits, second.hits);
    }
}

#[test]
fn hits_carry_their_payload_across_segments() {
    let index = index_of(vec![
        formation("1", "Aide-soignant"),
        formation("2", "Auxiliaire de puériculture"),
    ]);
    // A second commit makes a second segment: the page is merged across both.
    index
        .apply(vec![formation("3", "Aide à domicile")], Vec::new(), 2)
        .unwrap();
    let results = find(&index, DocKind::Formation, "aide");
    let mut got: Vec<(&str, &str)> = results
        .hits
        .iter()
        .map(|h| (h.id.as_str(), h.payload.as_str()))
        .collect();
    got.sort_unstable();
    assert_eq!(got, vec![("1", "payload of 1"), ("3", "payload of 3")]);
}
