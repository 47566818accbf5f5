use std::path::PathBuf;

use super::*;

fn delivery() -> Delivery {
    Delivery {
        report: "quarterly".to_string(),
        period: "2018Q4".into(),
        municipality: Some(350),
        recipient: "Projektleder <pl@lejre.example>".into(),
        file_name: "statusrapport_2018Q4_lejre.pdf".into(),
        pdf: b"%PDF-1.7 test".to_vec(),
        pdf_sha256: sha256_hex(b"%PDF-1.7 test"),
        data_sha256: "d".into(),
        update_note: None,
        subject: "Månedsbog for november 2018, Lejre Kommune".into(),
        body: "Kære projektleder\n\nHermed statusrapporten.\n".into(),
    }
}

fn mail() -> MailConfig {
    MailConfig {
        from: "I mål med integration <maaltal@imi.example>".into(),
        reply_to: "sekretariat@imi.example".into(),
        url: None,
        password_env: None,
        outbox: PathBuf::from("outbox"),
        timeout: Duration::from_secs(5),
        retries: 1,
        backoff: Duration::from_millis(1),
    }
}

#[test]
fn a_mail_has_one_recipient_danish_headers_and_the_pdf() {
    let now = DateTime::parse_from_rfc3339("2019-02-01T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let m = compose(&delivery(), &mail(), now).unwrap();
    let text = String::from_utf8(m.formatted()).unwrap();
    assert!(
        text.contains("To: \"Projektleder\" <pl@lejre.example>")
            || text.contains("To: Projektleder <pl@lejre.example>"),
        "{text}"
    );
    assert!(text.contains("Reply-To: sekretariat@imi.example"), "{text}");
    // The Danish subject is RFC 2047-encoded, never raw 8-bit in a header.
    let subject = text.lines().find(|l| l.starts_with("Subject:")).unwrap();
    assert!(subject.contains("=?utf-8?"), "{subject}");
    assert!(
        text.contains("filename=\"statusrapport_2018Q4_lejre.pdf\""),
        "{text}"
    );
    assert!(text.contains("Content-Type: application/pdf"), "{text}");
    assert_eq!(m.envelope().to().len(), 1);
}

#[tokio::test]
async fn a_bad_address_fails_that_recipient_and_the_others_still_go_out() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut bad = delivery();
    bad.recipient = "not an address".into();
    bad.file_name = "other.pdf".into();
    let mailer = OutboxMailer {
        dir: dir.path().join("outbox"),
    };
    let retry = Retry {
        retries: 0,
        backoff: Duration::from_millis(1),
    };
    let summary = deliver(
        &lake,
        "t",
        &mail(),
        &mailer,
        &[bad, delivery()],
        retry,
        Mode::Once,
        Utc::now,
    )
    .await
    .unwrap();
    assert_eq!(summary.delivered.len(), 1);
    assert_eq!(summary.failed.len(), 1);
    assert!(
        summary.failed[0].1.contains("not an address"),
        "{:?}",
        summary.failed
    );
    let states: Vec<String> = ledger(&lake).into_iter().map(|o| o.state).collect();
    assert_eq!(states, ["failed", "delivered"], "both recorded");
}

#[test]
fn the_message_id_follows_the_content() {
    let a = delivery();
    let mut b = delivery();
    assert_eq!(
        message_id(&a, "x@imi.example"),
        message_id(&b, "x@imi.example")
    );
    b.pdf_sha256 = "other".into();
    assert_ne!(
        message_id(&a, "x@imi.example"),
        message_id(&b, "x@imi.example")
    );
    assert!(message_id(&a, "x@imi.example").ends_with("@imi.example>"));
}

#[tokio::test]
async fn an_interrupted_attempt_is_sent_again_and_marked_in_doubt() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mailer = OutboxMailer {
        dir: dir.path().join("outbox"),
    };
    let retry = Retry {
        retries: 0,
        backoff: Duration::from_millis(1),
    };
    let (done, interrupted) = (delivery(), {
        let mut d = delivery();
        d.recipient = "Leder <leder@lejre.example>".into();
        d
    });
    // A run killed mid-dialogue left the intent of one mail and no outcome.
    intent::begin(&lake, &interrupted, "<x@imi.example>", Utc::now()).unwrap();
    assert!(intent::interrupted(&lake, &interrupted).is_some());
    assert!(intent::interrupted(&lake, &done).is_none());
    assert_eq!(
        intent::pending(&lake),
        [("quarterly".to_string(), "2018Q4".to_string())],
        "the status page counts it as pending"
    );
    let (cfg, both) = (mail(), [done.clone(), interrupted.clone()]);
    let run = || {
        deliver(
            &lake,
            "t",
            &cfg,
            &mailer,
            &both,
            retry,
            Mode::Once,
            Utc::now,
        )
    };
    let summary = run().await.unwrap();
    assert_eq!(summary.delivered.len(), 2, "never lost");
    assert_eq!(summary.in_doubt.len(), 1, "{:?}", summary.in_doubt);
    assert_eq!(summary.in_doubt[0].0, interrupted.recipient);
    let replies: Vec<String> = ledger(&lake)
        .into_iter()
        .map(|o| o.last_reply.unwrap_or_default())
        .collect();
    assert_eq!(
        replies.iter().filter(|r| r.contains(IN_DOUBT)).count(),
        1,
        "{replies:?}"
    );
    // Its outcome is recorded: the intent is gone, and a rerun sends nothing.
    assert!(intent::interrupted(&lake, &interrupted).is_none());
    assert!(intent::pending(&lake).is_empty());
    let again = run().await.unwrap();
    assert_eq!((again.delivered.len(), again.in_doubt.len()), (0, 0));
}
