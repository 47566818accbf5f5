//! Where mails go: SMTP (lettre, a pooled transport rebuilt after a timeout) or `.eml`
//! files in an outbox; each says whether a failure is worth trying again.

use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use super::{DeliverError, Delivery};
use crate::config::{Config, SmtpTls, SmtpUrl};

/// Why a send failed.
#[derive(Debug, Clone)]
pub struct SendFailure {
    /// Worth trying again (connection refused or reset, timeout, a 4xx reply).
    pub transient: bool,
    /// The server's reply, or what went wrong.
    pub reply: String,
}

/// Where mails go.
pub trait Mailer {
    /// `smtp` or `outbox`.
    fn kind(&self) -> &'static str;
    /// Sends one message; the server's reply on success.
    fn send(
        &self,
        message: &Message,
        d: &Delivery,
    ) -> impl Future<Output = Result<String, SendFailure>> + Send;
}

/// SMTP with lettre: STARTTLS required unless configured otherwise, AUTH with the
/// password from the environment, pooled connections, a timeout around every send.
pub struct SmtpMailer {
    /// The pool in use; replaced after a timeout (see `send`).
    transport: std::sync::Mutex<AsyncSmtpTransport<Tokio1Executor>>,
    builder: Box<lettre::transport::smtp::AsyncSmtpTransportBuilder>,
    pub(super) timeout: Duration,
}

impl SmtpMailer {
    /// A mailer for `url`, with the password (if any) from `password`.
    pub fn new(
        url: &SmtpUrl,
        password: Option<SecretString>,
        timeout: Duration,
    ) -> Result<Self, DeliverError> {
        let tls_err = |e: lettre::transport::smtp::Error| DeliverError::Setup {
            field: "mail.url".into(),
            message: e.to_string(),
        };
        let builder = match url.tls {
            SmtpTls::Required => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&url.host).map_err(tls_err)?
            }
            SmtpTls::Wrapper => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&url.host).map_err(tls_err)?
            }
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(url.host.clone())
            }
        };
        let mut builder = builder.port(url.port).timeout(Some(timeout));
        match (&url.user, password) {
            (Some(user), Some(pw)) => {
                builder = builder.credentials(Credentials::new(
                    user.clone(),
                    pw.expose_secret().to_string(),
                ));
            }
            (Some(user), None) => {
                return Err(DeliverError::Setup {
                    field: "mail.password_env".into(),
                    message: format!(
                        "the SMTP URL names user `{user}` but no password variable is set"
                    ),
                });
            }
            _ => {}
        }
        Ok(Self {
            transport: std::sync::Mutex::new(builder.clone().build()),
            builder: Box::new(builder),
            timeout,
        })
    }
}

impl SmtpMailer {
    /// The pool in use (a cheap handle).
    pub(super) fn pool(&self) -> AsyncSmtpTransport<Tokio1Executor> {
        match self.transport.lock() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl Mailer for SmtpMailer {
    fn kind(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, message: &Message, _d: &Delivery) -> Result<String, SendFailure> {
        // lettre's timeout bounds the connect only; a server that stops answering must
        // not hold the run, so the whole send is bounded here.
        let transport = self.pool();
        match tokio::time::timeout(self.timeout, transport.send(message.clone())).await {
            Err(_) => {
                // lettre puts a connection whose send was cut off back into its pool,
                // and the next send would wait on that silent server again: start a
                // new pool instead.
                if let Ok(mut t) = self.transport.lock() {
                    *t = (*self.builder).clone().build();
                }
                Err(SendFailure {
                    transient: true,
                    reply: format!("no reply within {} s", self.timeout.as_secs()),
                })
            }
            Ok(Ok(resp)) => Ok(format!(
                "{} {}",
                resp.code(),
                resp.message().collect::<Vec<_>>().join(" ")
            )),
            Ok(Err(e)) => Err(SendFailure {
                // A 5xx reply or a TLS problem will not change by trying again; a 4xx, a
                // timeout, a refused or reset connection may.
                transient: !(e.is_permanent() || e.is_tls()),
                reply: e.to_string(),
            }),
        }
    }
}

/// The embedded default's mailer: every mail written as an `.eml` file.
pub struct OutboxMailer {
    /// The folder.
    pub dir: PathBuf,
}

impl Mailer for OutboxMailer {
    fn kind(&self) -> &'static str {
        "outbox"
    }

    async fn send(&self, message: &Message, d: &Delivery) -> Result<String, SendFailure> {
        let fail = |e: std::io::Error| SendFailure {
            transient: false,
            reply: e.to_string(),
        };
        std::fs::create_dir_all(&self.dir).map_err(fail)?;
        let stem = d.file_name.trim_end_matches(".pdf");
        let who = crate::render::file_part(&d.recipient);
        // An updated version gets a file of its own beside the first.
        let version = if d.update_note.is_some() {
            format!(
                "__opdateret_{}",
                &d.data_sha256[..8.min(d.data_sha256.len())]
            )
        } else {
            String::new()
        };
        let path = self.dir.join(format!("{stem}__{who}{version}.eml"));
        let tmp = self.dir.join(format!(".{stem}__{who}{version}.eml.tmp"));
        std::fs::write(&tmp, message.formatted()).map_err(fail)?;
        std::fs::rename(&tmp, &path).map_err(fail)?;
        Ok(format!("written {}", path.display()))
    }
}

/// The mailer the config asks for: `MAALTAL_SMTP_URL` or `mail.url`, else the outbox.
pub fn mailer_from(config: &Config, env_url: Option<String>) -> Result<Either, DeliverError> {
    let url = match env_url.filter(|u| !u.trim().is_empty()) {
        Some(u) => {
            Some(
                crate::config::parse_smtp_url(&u).map_err(|message| DeliverError::Setup {
                    field: "MAALTAL_SMTP_URL".into(),
                    message,
                })?,
            )
        }
        None => config.mail.url.clone(),
    };
    let Some(url) = url else {
        return Ok(Either::Outbox(OutboxMailer {
            dir: config.mail.outbox.clone(),
        }));
    };
    let password = config
        .mail
        .password_env
        .as_ref()
        .and_then(|v| std::env::var(v).ok())
        .filter(|p| !p.is_empty())
        .map(SecretString::from);
    Ok(Either::Smtp(
        SmtpMailer::new(&url, password, config.mail.timeout)?,
        url,
    ))
}

/// The configured mailer.
pub enum Either {
    /// SMTP, and where to.
    Smtp(SmtpMailer, SmtpUrl),
    /// `.eml` files.
    Outbox(OutboxMailer),
}

impl Either {
    /// Where mails go, for the log.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp(_, url) => format!("sending over {url}"),
            Self::Outbox(m) => format!("writing mails to {}", m.dir.display()),
        }
    }
}

impl Mailer for Either {
    fn kind(&self) -> &'static str {
        match self {
            Self::Smtp(m, _) => m.kind(),
            Self::Outbox(m) => m.kind(),
        }
    }

    async fn send(&self, message: &Message, d: &Delivery) -> Result<String, SendFailure> {
        match self {
            Self::Smtp(m, _) => m.send(message, d).await,
            Self::Outbox(m) => m.send(message, d).await,
        }
    }
}
