//! The authorization matrix: every route × every role on two campuses,
//! generated from the route table (a route without an expectation fails).

use crate::support::*;

crate::on_both_backends!(authorization_matrix);

/// What each role gets on a route, as status codes.
struct Expect {
    visitor: u16,
    learner_a: u16,
    observer_a: u16,
    editor_a: u16,
    manager_a: u16,
    manager_b: u16,
    editor_b: u16,
    admin: u16,
}

impl Expect {
    fn all(s: u16) -> Self {
        Self::signed(s, s)
    }

    /// `visitor` for visitors, `signed` for everyone signed in.
    fn signed(visitor: u16, signed: u16) -> Self {
        Self {
            visitor,
            learner_a: signed,
            observer_a: signed,
            editor_a: signed,
            manager_a: signed,
            manager_b: signed,
            editor_b: signed,
            admin: signed,
        }
    }

    fn get(&self, role: &str) -> u16 {
        match role {
            "visitor" => self.visitor,
            "learner_a" => self.learner_a,
            "observer_a" => self.observer_a,
            "editor_a" => self.editor_a,
            "manager_a" => self.manager_a,
            "manager_b" => self.manager_b,
            "editor_b" => self.editor_b,
            _ => self.admin,
        }
    }
}

async fn authorization_matrix(d: &Demo) -> usize {
    let r = &d.router;
    let store = d.app.store();
    let a = d.app.campus("demo").await.unwrap();
    let support = a.support_member_id.unwrap();
    let draft_member = store
        .members(a.id, false)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.status == "brouillon")
        .expect("a draft member on demo");
    let drafts: Vec<_> = store
        .formations(a.id, store::Visibility::All, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|f| f.status == "brouillon")
        .collect();
    // A draft of the member the editor edits, and one of another member.
    let own_draft = drafts.iter().find(|f| f.provider_id == support);
    let other_draft = drafts
        .iter()
        .find(|f| f.provider_id != support)
        .expect("draft");
    let roles = [
        ("visitor", None),
        ("learner_a", Some("apprenant.demo@example.org")),
        ("observer_a", Some("observation.demo@example.org")),
        ("editor_a", Some("redaction.demo@example.org")),
        ("manager_a", Some("equipe.demo@example.org")),
        ("manager_b", Some("equipe.demo-b@example.org")),
        ("editor_b", Some("redaction.demo-b@example.org")),
        ("admin", Some("admin.reseau@example.org")),
    ];
    let support_member = store.member(support).await.unwrap().unwrap();
    let member_update = json!({
        "name": support_member.name, "kind": support_member.kind, "uai": support_member.uai,
        "code_insee": support_member.code_insee, "status": support_member.status,
        "postcode": support_member.postcode, "description": support_member.description,
        "joined_on": support_member.joined_on
    });
    let formation_write = json!({
        "key": "matrice-1", "title": "Formation de la matrice d'autorisation", "certification_code": 113050,
        "pathway": "scolaire", "modality": "presentiel", "provider_id": support, "status": "brouillon"
    });
    let member_form: Vec<(&str, String)> = vec![
        ("nom", support_member.name.clone()),
        ("type", support_member.kind.clone()),
        ("uai", support_member.uai.clone().unwrap_or_default()),
        (
            "code_insee",
            support_member.code_insee.clone().unwrap_or_default(),
        ),
        (
            "code_postal",
            support_member.postcode.clone().unwrap_or_default(),
        ),
        (
            "description",
            support_member.description.clone().unwrap_or_default(),
        ),
        (
            "date_adhesion",
            support_member.joined_on.clone().unwrap_or_default(),
        ),
        ("statut", support_member.status.clone()),
    ];
    let formation_form: Vec<(&str, String)> = vec![
        ("intitule", other_draft.title.clone()),
        (
            "certifinfo",
            other_draft
                .certification_code
                .map(|c| c.to_string())
                .unwrap_or_default(),
        ),
        ("voie", other_draft.pathway.clone()),
        ("modalite", other_draft.modality.clone()),
        (
            "code_insee_lieu",
            other_draft.site_code_insee.clone().unwrap_or_default(),
        ),
        (
            "capacite",
            other_draft
                .capacity
                .map(|c| c.to_string())
                .unwrap_or_default(),
        ),
        ("statut", other_draft.status.clone()),
    ];
    let campus_form: Vec<(&str, String)> = vec![
        ("nom", a.name.clone()),
        ("filiere", a.sector.clone()),
        ("theme", a.theme.clone().unwrap_or_default()),
        ("label_debut", a.label_start.clone().unwrap_or_default()),
        ("label_fin", a.label_end.clone().unwrap_or_default()),
        ("fuseau", a.time_zone.clone()),
        ("support", support.to_string()),
        ("perimetre", "departement:973".to_owned()),
    ];
    // An account for the management routes to act on.
    let (target, _) = d
        .app
        .create_account(
            &app::Actor::operator(),
            &app::accounts::NewAccount {
                email: "cible.matrice@example.org".into(),
                display_name: "Cible (fictive)".into(),
                password: None,
                grants: vec![app::policy::Grant {
                    role: domain::accounts::Role::Learner,
                    campus_id: Some(a.id),
                    member_id: None,
                }],
            },
        )
        .await
        .unwrap();
    let campaign = store
        .create_campaign(a.id, "Campagne de la matrice", "2020-01-01", "2099-12-31")
        .await
        .unwrap();
    let support_text = support.to_string();
    let mut cases = 0;
    let mut routes = web::route_list();
    // Signing out last, so that each role keeps its session for the others.
    routes.sort_by_key(|r| r.path == "/deconnexion");
    // What each role gets on each route, for the readable table below.
    let mut table: Vec<Vec<String>> = vec![Vec::new(); routes.len()];
    for (role, email) in roles {
        // Each role fails its sign-in on its own address, so that the
        // failures do not add up to the throttling limit.
        let fake_email = format!("inconnu.{role}@example.org");
        let mut b = match email {
            Some(e) => d.browser(e).await,
            None => Browser::default(),
        };
        // A token of this role's own, to revoke.
        let own_token = match email {
            Some(e) => {
                d.app.create_token_for(e, "matrice", false).await.unwrap();
                let user = store.user_by_email(e).await.unwrap().unwrap();
                store.tokens(user.id).await.unwrap()[0].id.to_string()
            }
            None => "1".to_owned(),
        };
        for (row, route) in routes.iter().enumerate() {
            let (uri, expect): (String, Expect) = match (route.method, route.path.as_str()) {
                (
                    "GET",
                    "/healthz"
                    | "/static/style.css"
                    | "/"
                    | "/membres"
                    | "/formations"
                    | "/metiers"
                    | "/donnees"
                    | "/connexion"
                    | "/api/v1/openapi.json"
                    | "/api/v1/formations"
                    | "/api/v1/occupations"
                    | "/api/v1/members"
                    | "/api/v1/campuses",
                ) => (route.path.clone(), Expect::all(200)),
                (
                    "GET",
                    "/inscription" | "/confidentialite" | "/mentions-legales" | "/accessibilite",
                ) => (route.path.clone(), Expect::all(200)),
                ("GET", "/mot-de-passe-oublie" | "/reinitialisation") => {
                    (route.path.clone(), Expect::all(200))
                }
                // The same answer whether or not the address has an account.
                ("POST", "/mot-de-passe-oublie") => (route.path.clone(), Expect::all(200)),
                ("POST", "/reinitialisation") => (route.path.clone(), Expect::all(422)),
                // A link that does not exist.
                ("GET", "/invitation") => ("/invitation?jeton=inconnu".into(), Expect::all(404)),
                ("POST", "/invitation") => (route.path.clone(), Expect::all(404)),
                ("POST", "/membres/{id}/inviter") => (
                    format!("/membres/{support}/inviter"),
                    Expect {
                        visitor: 401,
                        manager_a: 303,
                        admin: 303,
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/campus/{slug}/rejoindre") => {
                    ("/campus/demo/rejoindre".into(), Expect::all(200))
                }
                // A wrong SIRET: refused for everyone.
                ("POST", "/campus/{slug}/rejoindre") => {
                    ("/campus/demo/rejoindre".into(), Expect::all(422))
                }
                ("GET", "/campus/{slug}/demandes") => (
                    "/campus/demo/demandes".into(),
                    Expect {
                        visitor: 401,
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                // A request that does not exist (real decisions: `mail_flows`).
                ("POST", "/campus/{slug}/demandes/{id}") => {
                    ("/campus/demo/demandes/999999".into(), Expect::all(404))
                }
                ("GET" | "POST", "/campus/{slug}/modifier") => (
                    "/campus/demo/modifier".into(),
                    Expect {
                        visitor: 401,
                        manager_a: if route.method == "GET" { 200 } else { 303 },
                        admin: if route.method == "GET" { 200 } else { 303 },
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/admin/pages/{slug}") => (
                    "/admin/pages/mentions-legales".into(),
                    Expect {
                        visitor: 401,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                // Too short a text: refused even for the admin, nothing changed.
                ("POST", "/admin/pages/{slug}") => (
                    "/admin/pages/mentions-legales".into(),
                    Expect {
                        visitor: 401,
                        admin: 422,
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/admin/comptes") => (
                    route.path.clone(),
                    Expect {
                        visitor: 401,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                ("POST", "/admin/comptes/{id}/desactiver" | "/admin/comptes/{id}/reactiver") => (
                    route.path.replace("{id}", &target.to_string()),
                    Expect {
                        visitor: 401,
                        admin: 303,
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/campus/{slug}/comptes") => (
                    "/campus/demo/comptes".into(),
                    Expect {
                        visitor: 401,
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                ("POST", "/campus/{slug}/comptes") => (
                    "/campus/demo/comptes".into(),
                    Expect {
                        visitor: 401,
                        manager_a: 303,
                        admin: 303,
                        ..Expect::all(403)
                    },
                ),
                // A role that does not exist (real removals: `account_admin`).
                ("POST", "/roles/{id}/retirer") => {
                    ("/roles/999999/retirer".into(), Expect::all(404))
                }
                // An empty registration: refused for everyone, nothing created.
                ("POST", "/inscription") => (route.path.clone(), Expect::all(422)),
                ("GET", "/compte/donnees" | "/compte/profil") => {
                    (route.path.clone(), Expect::signed(303, 200))
                }
                ("GET", "/compte/donnees.json" | "/compte/donnees.csv") => {
                    (route.path.clone(), Expect::signed(401, 200))
                }
                // An empty name, a wrong password: refused, nothing changed.
                ("POST", "/compte/profil" | "/compte/supprimer") => {
                    (route.path.clone(), Expect::signed(401, 422))
                }
                ("GET", "/registre-rgpd") => (
                    route.path.clone(),
                    Expect {
                        visitor: 401,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/campus/{slug}" | "/campus/{slug}/membres") => {
                    (route.path.replace("{slug}", "demo"), Expect::all(200))
                }
                // Editing the support member (published): its editors, its campus, the network.
                ("GET" | "POST", "/membres/{id}/modifier") => (
                    format!("/membres/{support}/modifier"),
                    Expect {
                        visitor: 401,
                        editor_a: if route.method == "GET" { 200 } else { 303 },
                        manager_a: if route.method == "GET" { 200 } else { 303 },
                        admin: if route.method == "GET" { 200 } else { 303 },
                        ..Expect::all(403)
                    },
                ),
                // Editing a draft of another provider: invisible to everyone else.
                ("GET" | "POST", "/formations/{id}/modifier") => (
                    format!("/formations/{}/modifier", other_draft.id),
                    Expect {
                        manager_a: if route.method == "GET" { 200 } else { 303 },
                        admin: if route.method == "GET" { 200 } else { 303 },
                        ..Expect::all(404)
                    },
                ),
                // The audit log of campus A: its managers and the network.
                ("GET", "/campus/{slug}/journal") => (
                    "/campus/demo/journal".into(),
                    Expect {
                        visitor: 401,
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                // The observatory's sector mapping: an empty one restores the
                // filière's defaults (its managers and the network).
                ("POST", "/campus/{slug}/observatoire/secteur") => (
                    "/campus/demo/observatoire/secteur".into(),
                    Expect {
                        visitor: 401,
                        manager_a: 303,
                        admin: 303,
                        ..Expect::all(403)
                    },
                ),
                // The needs survey of campus A: campaigns and results for
                // its team and observers; opening one for its managers (an
                // empty form is refused); answering for a member employer.
                ("POST", "/campus/{slug}/enquetes") => (
                    "/campus/demo/enquetes".into(),
                    Expect {
                        visitor: 401,
                        manager_a: 422,
                        admin: 422,
                        ..Expect::all(403)
                    },
                ),
                // The observatory of campus A (page, exports, JSON) and its
                // survey's campaigns and results: aggregates for its managers
                // and observers, and the network.
                (
                    "GET",
                    "/campus/{slug}/observatoire"
                    | "/campus/{slug}/observatoire/{table}"
                    | "/api/v1/campuses/{slug}/observatory"
                    | "/campus/{slug}/enquetes"
                    | "/campus/{slug}/enquetes/{id}"
                    | "/campus/{slug}/enquetes/{id}/resultats.csv",
                ) => (
                    route
                        .path
                        .replace("{slug}", "demo")
                        .replace("{table}", "ecart.csv")
                        .replace("{id}", &campaign.to_string()),
                    Expect {
                        visitor: 401,
                        observer_a: 200,
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/campus/{slug}/enquetes/{id}/reponse") => (
                    format!("/campus/demo/enquetes/{campaign}/reponse"),
                    Expect {
                        visitor: 401,
                        editor_a: 200,
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                // For the support lycée, which is not an employer: refused
                // (422) for those who may write for it, 403 for the others.
                ("POST", "/campus/{slug}/enquetes/{id}/reponse") => (
                    format!("/campus/demo/enquetes/{campaign}/reponse"),
                    Expect {
                        visitor: 401,
                        editor_a: 422,
                        manager_a: 422,
                        admin: 422,
                        ..Expect::all(403)
                    },
                ),
                ("GET", "/metiers/{code}") => ("/metiers/K1207".into(), Expect::all(200)),
                ("GET", "/api/v1/occupations/{code_rome}") => {
                    ("/api/v1/occupations/K1207".into(), Expect::all(200))
                }
                ("GET", "/certifications/{code}" | "/api/v1/certifications/{code}") => {
                    (route.path.replace("{code}", "111669"), Expect::all(200))
                }
                // A draft member of campus A: its team and the network only.
                ("GET", "/membres/{id}" | "/api/v1/members/{id}") => (
                    route.path.replace("{id}", &draft_member.id.to_string()),
                    Expect {
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(404)
                    },
                ),
                // A draft formation of another provider than the editor's.
                ("GET", "/formations/{id}" | "/api/v1/formations/{id}") => (
                    route.path.replace("{id}", &other_draft.id.to_string()),
                    Expect {
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(404)
                    },
                ),
                ("GET", "/compte") => ("/compte".into(), Expect::signed(303, 200)),
                ("GET", "/api/v1/me") => ("/api/v1/me".into(), Expect::signed(401, 200)),
                ("POST", "/connexion") => ("/connexion".into(), Expect::all(422)),
                // Only a session awaiting its second factor has anything to do here.
                ("GET" | "POST", "/connexion/code") => ("/connexion/code".into(), Expect::all(303)),
                ("GET", "/compte/double-authentification") => {
                    (route.path.clone(), Expect::signed(303, 200))
                }
                // A wrong code: refused, unless the second factor is already on.
                ("POST", "/compte/double-authentification") => (
                    route.path.clone(),
                    Expect {
                        visitor: 401,
                        manager_a: 303,
                        manager_b: 303,
                        admin: 303,
                        ..Expect::all(422)
                    },
                ),
                ("POST", "/deconnexion") => ("/deconnexion".into(), Expect::all(303)),
                ("POST", "/compte/sessions/terminer") => {
                    ("/compte/sessions/terminer".into(), Expect::signed(401, 303))
                }
                ("POST", "/compte/jetons") => ("/compte/jetons".into(), Expect::signed(401, 200)),
                ("POST", "/compte/jetons/{id}/revoquer") => (
                    route.path.replace("{id}", &own_token),
                    Expect::signed(401, 303),
                ),
                // Updating the support member: its editors, its campus, the network.
                ("POST", "/api/v1/campuses/{slug}/members") => (
                    "/api/v1/campuses/demo/members".into(),
                    Expect {
                        visitor: 401,
                        editor_a: 200,
                        manager_a: 200,
                        admin: 200,
                        ..Expect::all(403)
                    },
                ),
                ("POST", "/api/v1/campuses/{slug}/formations") => (
                    "/api/v1/campuses/demo/formations".into(),
                    Expect {
                        visitor: 401,
                        editor_a: 0,
                        manager_a: 0,
                        admin: 0,
                        ..Expect::all(403)
                    },
                ),
                (m, p) => panic!("route {m} {p} has no entry in the authorization matrix"),
            };
            let mut call = if route.method == "GET" {
                Call::get(&uri)
            } else {
                Call::post(&uri)
            };
            call = call.cookie(b.cookie.as_deref());
            if uri.starts_with("/api/") && route.method == "POST" {
                let body = if uri.ends_with("/members") {
                    member_update.clone()
                } else {
                    formation_write.clone()
                };
                call = call.json(body).header("x-csrf-token", &b.csrf);
            } else if route.method == "POST" {
                let mut form = vec![("csrf", b.csrf.as_str())];
                match route.path.as_str() {
                    "/connexion" => form.extend([
                        ("email", fake_email.as_str()),
                        ("mot_de_passe", "mauvais mot de passe"),
                    ]),
                    "/compte/sessions/terminer" => form.push(("session", "inconnue")),
                    "/connexion/code" | "/compte/double-authentification" => {
                        form.push(("code", "000000"))
                    }
                    "/compte/profil" => form.push(("nom", "")),
                    "/campus/{slug}/comptes" => {
                        form.extend([("email", "cible.matrice@example.org"), ("role", "observer")])
                    }
                    "/admin/pages/{slug}" => form.push(("texte", "court")),
                    "/campus/{slug}/modifier" => {
                        form.extend(campus_form.iter().map(|(k, v)| (*k, v.as_str())))
                    }
                    "/mot-de-passe-oublie" | "/membres/{id}/inviter" => {
                        form.push(("email", fake_email.as_str()))
                    }
                    "/reinitialisation" => form.extend([
                        ("jeton", "inconnu"),
                        ("mot_de_passe", "une phrase de passe assez longue"),
                    ]),
                    "/invitation" => form.push(("jeton", "inconnu")),
                    "/campus/{slug}/rejoindre" => form.extend([
                        ("nom", "Organisation fictive"),
                        ("type", "employeur"),
                        ("siret", "123"),
                        ("contact_email", "contact@example.org"),
                    ]),
                    "/campus/{slug}/demandes/{id}" => form.push(("decision", "accepter")),
                    "/campus/{slug}/enquetes/{id}/reponse" => form.extend([
                        ("membre", support_text.as_str()),
                        ("code_rome", "J1501"),
                        ("recrutements", "2"),
                    ]),
                    "/compte/supprimer" => form.push(("mot_de_passe", "pas le bon mot de passe")),
                    "/compte/jetons" => form.push(("nom", "matrice")),
                    "/membres/{id}/modifier" => {
                        form.extend(member_form.iter().map(|(k, v)| (*k, v.as_str())))
                    }
                    "/formations/{id}/modifier" => {
                        form.extend(formation_form.iter().map(|(k, v)| (*k, v.as_str())))
                    }
                    _ => {}
                }
                call = call.form(form);
            }
            let res = call.send(r).await;
            let want = expect.get(role);
            let got = res.status.as_u16();
            // 0: created the first time, unchanged afterwards.
            let ok = if want == 0 {
                got == 201 || got == 200
            } else {
                got == want
            };
            assert!(
                ok,
                "{role} {} {uri}: got {got}, want {want}\n{}",
                route.method,
                &res.body[..res.body.len().min(300)]
            );
            table[row].push(if want == 0 {
                "2xx".to_owned()
            } else {
                want.to_string()
            });
            cases += 1;
        }
        b.cookie = None;
    }
    // The whole matrix as one table, reviewed in
    // `snapshots/web__matrix__authorization_matrix.snap`: a change of any
    // role's access to any route shows there.
    let names: Vec<&str> = roles.iter().map(|(role, _)| *role).collect();
    let mut text = format!("{:<52} {}\n", "route", names.join(" "));
    for (route, statuses) in routes.iter().zip(&table) {
        let cells: Vec<String> = statuses
            .iter()
            .zip(&names)
            .map(|(s, n)| format!("{s:<w$}", w = n.len()))
            .collect();
        let line = format!("{} {}", route.method, route.path);
        text.push_str(&format!("{line:<52} {}\n", cells.join(" ").trim_end()));
    }
    insta::assert_snapshot!("authorization_matrix", text);
    // Guessing the ids of another campus gives nothing either.
    let b = d.browser("equipe.demo-b@example.org").await;
    if let Some(own) = own_draft {
        let uri = format!("/formations/{}", own.id);
        assert_eq!(
            Call::get(&uri)
                .cookie(b.cookie.as_deref())
                .send(r)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
    let page = Call::get(&format!("/membres/{support}"))
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert!(
        !page.body.contains("example.org"),
        "contacts of campus A stay private"
    );
    let listed = Call::get("/api/v1/formations?campus=demo&q=matrice")
        .cookie(b.cookie.as_deref())
        .send(r)
        .await;
    assert_eq!(
        listed.json()["total"],
        0,
        "campus A's drafts are not searchable from B"
    );
    let editor = d.browser("redaction.demo@example.org").await;
    let own = Call::get(&format!("/membres/{support}"))
        .cookie(editor.cookie.as_deref())
        .send(r)
        .await;
    assert!(
        own.body.contains("example.org"),
        "an editor sees their own organisation's contacts"
    );
    cases
}
