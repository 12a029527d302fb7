//! Who may connect: the startup handshake, with password authentication by SCRAM-SHA-256
//! (the default) or MD5 for users that have a password, and trust for users that have none.
//!
//! Secrets come from the engine's `Users` (the users file and `CREATE USER`); no password is
//! ever kept. A wrong password ends the connection with SQLSTATE 28P01, an unknown user with
//! 28000. Users without a password are trusted only because the server refuses to listen
//! beyond loopback while any user lacks one (`check_listen_address`).

use std::fmt::Debug;
use std::net::SocketAddr;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;

use async_trait::async_trait;
use futures::Sink;
use granary_engine::users::Secrets;
use granary_engine::{Database, Session};
use pgwire::api::auth::driver::{AuthDriver, AuthOutcome};
use pgwire::api::ConnectionManager;
use pgwire::api::auth::md5pass::Md5PasswordAuth;
use pgwire::api::auth::mechanism::{AuthMechanism, AuthMechanismFactory};
use pgwire::api::auth::sasl::scram::{ScramAuth, ScramSecret};
use pgwire::api::auth::{protocol_negotiation, save_startup_parameters_to_metadata, AuthSource, LoginInfo, Password, StartupHandler};
use pgwire::api::{ClientInfo, METADATA_USER};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::SecretKey;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use ring::rand::SecureRandom;

use crate::handlers::ServerParams;
use crate::metrics::ServerCounters;

/// How users with a password prove it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PasswordMethod {
    /// SCRAM-SHA-256 (RFC 7677), Postgres's default: the password never crosses the wire.
    #[default]
    ScramSha256,
    /// Postgres's older MD5 challenge, for clients that know nothing else.
    Md5,
}

/// The users' secrets, as pgwire's mechanisms ask for them.
#[derive(Debug)]
struct UserSecrets {
    db: Arc<Database>,
}

impl UserSecrets {
    fn secrets(&self, login: &LoginInfo) -> PgWireResult<Secrets> {
        let name = login.user().unwrap_or_default();
        self.db.users().get(name).and_then(|u| u.secrets).ok_or_else(|| PgWireError::InvalidPassword(name.to_string()))
    }
}

#[async_trait]
impl AuthSource for UserSecrets {
    /// For MD5: a fresh salt and the answer a client who knows the password gives to it.
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let mut salt = [0u8; 4];
        ring::rand::SystemRandom::new().fill(&mut salt).map_err(|_| PgWireError::ApiError("no random numbers for an MD5 salt".into()))?;
        let answer = self.secrets(login)?.md5_answer(&salt).ok_or_else(|| {
            fatal("28000", format!("user \"{}\" has only a SCRAM-SHA-256 verifier and cannot log in with MD5", login.user().unwrap_or_default()))
        })?;
        Ok(Password::new(Some(salt.to_vec()), answer.into_bytes()))
    }

    async fn get_scram_secret(&self, login: &LoginInfo) -> PgWireResult<(ScramSecret, Option<()>)> {
        let v = self.secrets(login)?.scram_verifier().map_err(|e| fatal("XX000", e.message))?;
        Ok((ScramSecret::Verifier { salt: v.salt, iterations: v.iterations as usize, stored_key: v.stored_key, server_key: v.server_key }, None))
    }
}

fn fatal(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("FATAL".into(), code.into(), message)))
}

/// What every connection's handshake shares: the users and the password mechanism.
pub struct Authenticator {
    db: Arc<Database>,
    /// Every authenticated connection's cancel handle, by its process id and secret key:
    /// what a CancelRequest names.
    pub(crate) connections: Arc<ConnectionManager>,
    /// Every authenticated connection's statement-cancel flag, by the same keys.
    cancel_flags: Arc<CancelFlags>,
    driver: AuthDriver<ServerParams>,
    mechanism: Box<dyn AuthMechanismFactory>,
    counters: Arc<ServerCounters>,
}

impl Authenticator {
    /// Authenticates against `db`'s users with `method`, counting failures in `counters`.
    pub fn new(db: Arc<Database>, method: PasswordMethod, counters: Arc<ServerCounters>) -> Authenticator {
        let source = Arc::new(UserSecrets { db: db.clone() });
        let mechanism: Box<dyn AuthMechanismFactory> = match method {
            PasswordMethod::ScramSha256 => Box::new(ScramAuth::new(source)),
            PasswordMethod::Md5 => Box::new(Md5PasswordAuth::new(source)),
        };
        let connections = Arc::new(ConnectionManager::new());
        let driver = AuthDriver::new(ServerParams).with_connection_manager(connections.clone());
        Authenticator { db, connections, cancel_flags: Arc::default(), driver, mechanism, counters }
    }

    fn begin(&self) -> Box<dyn AuthMechanism> {
        self.mechanism.create()
    }
}

/// Each connection's statement-cancel flag by the process id and secret key a CancelRequest
/// names. A statement runs in place on its connection's thread (`handlers::with_session`), so
/// a cancel must reach the engine's flag directly: nothing else polls while it runs. Entries
/// are weak: a closed connection's session drops its flag, and the entry goes at the next
/// registration.
#[derive(Default)]
pub struct CancelFlags(Mutex<HashMap<(i32, Bytes), Weak<AtomicBool>>>);

impl CancelFlags {
    fn register(&self, pid: i32, key: &SecretKey, flag: &Arc<AtomicBool>) {
        let mut flags = self.0.lock().unwrap_or_else(|p| p.into_inner());
        flags.retain(|_, f| f.strong_count() > 0);
        flags.insert((pid, key.to_bytes()), Arc::downgrade(flag));
    }

    /// Sets the flag of the session `pid` and `key` name, if it is still open.
    pub fn cancel(&self, pid: i32, key: &SecretKey) {
        let flag = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(&(pid, key.to_bytes())).and_then(Weak::upgrade);
        if let Some(flag) = flag {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

/// One connection's handshake; on success its session runs as the authenticated user.
pub struct AuthStartup {
    auth: Arc<Authenticator>,
    session: Arc<Mutex<Session>>,
}

impl AuthStartup {
    /// The handshake of the connection whose statements run in `session`.
    pub fn new(auth: Arc<Authenticator>, session: Arc<Mutex<Session>>) -> AuthStartup {
        AuthStartup { auth, session }
    }

    /// The registry CancelRequests are looked up in.
    pub fn connections(&self) -> Arc<ConnectionManager> {
        self.auth.connections.clone()
    }

    /// The sessions' cancel flags CancelRequests set.
    pub fn cancel_flags(&self) -> Arc<CancelFlags> {
        self.auth.cancel_flags.clone()
    }

    async fn step<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<Option<AuthOutcome>>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        Ok(Some(match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                let name = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
                match self.auth.db.users().get(&name) {
                    None => return Err(fatal("28000", format!("role \"{name}\" does not exist"))),
                    Some(user) if user.secrets.is_none() => AuthOutcome::Authenticated { identity: None, final_message: None },
                    Some(_) => self.auth.driver.begin_authentication(client, self.auth.begin()).await?,
                }
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => self.auth.driver.advance_authentication(client, message).await?,
            _ => return Ok(None),
        }))
    }
}

#[async_trait]
impl StartupHandler for AuthStartup {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match self.step(client, message).await {
            Ok(Some(AuthOutcome::Authenticated { final_message, .. })) => {
                let user = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
                self.session.lock().unwrap_or_else(|p| p.into_inner()).set_user(&user);
                self.auth.driver.complete_authentication(client, final_message).await?;
                // The process id and secret key the client was just sent name this session.
                let (pid, key) = client.pid_and_secret_key();
                let flag = self.session.lock().unwrap_or_else(|p| p.into_inner()).cancel_flag();
                self.auth.cancel_flags.register(pid, &key, &flag);
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(e) => {
                self.auth.counters.auth_failed();
                // SCRAM clients leave the name in their messages empty: report the startup's.
                let user = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
                Err(match e {
                    PgWireError::InvalidPassword(_) => PgWireError::InvalidPassword(user),
                    other => other,
                })
            }
        }
    }
}

/// Refuses a listen address beyond loopback while some user has no password: such users
/// are trusted, which is safe only when nobody else can reach the port.
pub fn check_listen_address(addr: SocketAddr, db: &Database) -> Result<(), String> {
    if addr.ip().is_loopback() {
        return Ok(());
    }
    let open: Vec<String> = db.users().all().into_iter().filter(|u| u.secrets.is_none()).map(|u| u.name).collect();
    if open.is_empty() {
        return Ok(());
    }
    Err(format!(
        "refusing to listen on {addr}, which is not loopback, while users have no password: {} (give them one in the users file, or with ALTER USER … IDENTIFIED BY)",
        open.join(", ")
    ))
}
