//! Mail: reset links, invitations, join requests, and sending through SMTP.

use crate::support::*;

crate::on_both_backends!(mail_flows);

async fn mail_flows(d: &Demo) {
    let r = &d.router;
    // Forgotten password: the same answer for any address; a single-use,
    // expiring link; every session ends with the new password.
    let email = "observation.demo@example.org";
    let old = d.browser(email).await;
    let known = Call::post("/mot-de-passe-oublie")
        .form(vec![("email", email)])
        .send(r)
        .await;
    let unknown = Call::post("/mot-de-passe-oublie")
        .form(vec![("email", "personne@example.org")])
        .send(r)
        .await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(known.body, unknown.body);
    let (mail, token) = last_mail(d, email).await;
    assert!(mail.body.contains("/reinitialisation?jeton="));
    assert_eq!(
        Call::get(&format!("/reinitialisation?jeton={token}"))
            .send(r)
            .await
            .status,
        StatusCode::OK
    );
    let weak = Call::post("/reinitialisation")
        .form(vec![("jeton", &token), ("mot_de_passe", "court")])
        .send(r)
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = Call::post("/reinitialisation")
        .form(vec![
            ("jeton", &token),
            ("mot_de_passe", "un tout nouveau mot de passe"),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        Call::get("/compte")
            .cookie(old.cookie.as_deref())
            .send(r)
            .await
            .status,
        StatusCode::SEE_OTHER,
        "sessions ended"
    );
    let again = Call::post("/reinitialisation")
        .form(vec![
            ("jeton", &token),
            ("mot_de_passe", "encore un autre mot de passe"),
        ])
        .send(r)
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "single use");
    sign_in(d, email, "un tout nouveau mot de passe").await;
    let refused = Call::post("/connexion")
        .form(vec![
            ("email", email),
            ("mot_de_passe", &d.passwords[email]),
        ])
        .send(r)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the old password is gone"
    );
    Call::post("/mot-de-passe-oublie")
        .form(vec![("email", email)])
        .send(r)
        .await;
    let (_, late) = last_mail(d, email).await;
    d.app.config.clock.advance(chrono::Duration::minutes(61));
    let res = Call::post("/reinitialisation")
        .form(vec![
            ("jeton", &late),
            ("mot_de_passe", "un mot de passe trop tardif"),
        ])
        .send(r)
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "expired after an hour"
    );

    // Invitation of a member editor by a campus manager.
    let a = d.app.campus("demo").await.unwrap();
    let support = a.support_member_id.unwrap();
    let manager = d.browser("equipe.demo@example.org").await;
    let invited = "nouvelle.redaction@example.org";
    let res = Call::post(&format!("/membres/{support}/inviter"))
        .cookie(manager.cookie.as_deref())
        .form(vec![("csrf", &manager.csrf), ("email", invited)])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let (_, token) = last_mail(d, invited).await;
    let page = Call::get(&format!("/invitation?jeton={token}"))
        .send(r)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Lycée polyvalent Bertène Juminer"));
    let res = Call::post("/invitation")
        .form(vec![
            ("jeton", &token),
            ("nom", "Nouvelle rédaction (fictive)"),
            ("mot_de_passe", "un mot de passe pour la fiche"),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let editor = sign_in(d, invited, "un mot de passe pour la fiche").await;
    let form = Call::get(&format!("/membres/{support}/modifier"))
        .cookie(editor.cookie.as_deref())
        .send(r)
        .await;
    assert_eq!(
        form.status,
        StatusCode::OK,
        "the invitation granted the member editor role"
    );
    assert_eq!(
        Call::get(&format!("/invitation?jeton={token}"))
            .send(r)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "used once"
    );

    // An organisation asks to join; the manager accepts; its contact is invited.
    let res = Call::post("/campus/demo/rejoindre")
        .form(vec![
            ("nom", "Crèche Les Lucioles (fictive)"),
            ("type", "etablissement-medico-social"),
            ("siret", "99100004300000"),
            ("code_insee", "97302"),
            ("contact_email", "direction.lucioles@example.org"),
            ("message", "Nous accueillons des stagiaires du CAP AEPE."),
        ])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("Demande envoyée"));
    let requests = d.app.store().join_requests(a.id).await.unwrap();
    let req = requests
        .iter()
        .find(|q| q.name == "Crèche Les Lucioles (fictive)")
        .unwrap();
    let uri = format!("/campus/demo/demandes/{}", req.id);
    let other = d.browser("equipe.demo-b@example.org").await;
    assert_eq!(
        Call::get("/campus/demo/demandes")
            .cookie(other.cookie.as_deref())
            .send(r)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let res = Call::post(&uri)
        .cookie(other.cookie.as_deref())
        .form(vec![("csrf", &other.csrf), ("decision", "accepter")])
        .send(r)
        .await;
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "another campus' manager cannot decide"
    );
    let list = Call::get("/campus/demo/demandes")
        .cookie(manager.cookie.as_deref())
        .send(r)
        .await;
    assert!(list.body.contains("Crèche Les Lucioles"));
    let res = Call::post(&uri)
        .cookie(manager.cookie.as_deref())
        .form(vec![("csrf", &manager.csrf), ("decision", "accepter")])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let decided = d.app.store().join_request(req.id).await.unwrap().unwrap();
    assert_eq!(decided.decision.as_deref(), Some("acceptee"));
    assert!(
        decided.contact_email.is_none(),
        "the contact address is not kept after the decision"
    );
    let member = d
        .app
        .store()
        .member(decided.member_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(member.status, "brouillon");
    last_mail(d, "direction.lucioles@example.org").await;
    let res = Call::post(&uri)
        .cookie(manager.cookie.as_deref())
        .form(vec![("csrf", &manager.csrf), ("decision", "refuser")])
        .send(r)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "decided once");
}

/// A minimal SMTP server for one message: answers like a relay and hands
/// back what it received.
async fn fake_smtp() -> (u16, tokio::sync::oneshot::Receiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 test ESMTP\r\n").await.unwrap();
        let mut transcript = String::new();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            transcript.push_str(&line);
            transcript.push('\n');
            let reply: &[u8] = if in_data {
                if line == "." {
                    in_data = false;
                    b"250 queued\r\n"
                } else {
                    continue;
                }
            } else if line.starts_with("EHLO") || line.starts_with("HELO") {
                b"250 test\r\n"
            } else if line == "DATA" {
                in_data = true;
                b"354 go ahead\r\n"
            } else if line == "QUIT" {
                write.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            write.write_all(reply).await.unwrap();
        }
        let _ = tx.send(transcript);
    });
    (port, rx)
}

/// With an SMTP server configured, the outbox is sent and marked sent.
#[tokio::test]
async fn mail_goes_out_through_smtp() {
    let (port, received) = fake_smtp().await;
    let mut config = app::Config::new(store::testing::sqlite_url("smtp"), data_dir());
    config.password_cost = app::config::PasswordCost::for_tests();
    config.smtp = Some(app::config::Smtp {
        url: format!("smtp://127.0.0.1:{port}"),
        from: "Passerelle <ne-pas-repondre@example.org>".into(),
    });
    let app = app::App::open(config).await.unwrap();
    network_admin(&app, "dominique@example.org", "Dominique (fictive)").await;
    app.request_password_reset("dominique@example.org", &Default::default())
        .await
        .unwrap();
    assert_eq!(app.send_outbox().await.unwrap(), 1);
    let transcript = tokio::time::timeout(std::time::Duration::from_secs(10), received)
        .await
        .unwrap()
        .unwrap();
    assert!(
        transcript.contains("RCPT TO:<dominique@example.org>"),
        "{transcript}"
    );
    assert!(
        transcript.contains("reinitialisation?jeton="),
        "{transcript}"
    );
    let outbox = app.store().outbox(10).await.unwrap();
    assert!(outbox[0].sent_at.is_some());
    assert_eq!(app.send_outbox().await.unwrap(), 0, "sent once");
}
