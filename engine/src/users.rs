//! Users and the secrets that prove who they are.
//!
//! A password is never stored. Each user with a password keeps a SCRAM-SHA-256 verifier
//! (salt, iteration count, StoredKey and ServerKey: what Postgres keeps in `pg_authid`) and,
//! for MD5 authentication, `md5(password || name)`. Users come from two places: the users file
//! a server is started with (read-only here), and `CREATE USER … IDENTIFIED BY`, kept in
//! `access/users.json` in the data directory (written to a temporary file, fsynced, renamed).
//! The user `default` always exists; it has no password unless one of those places gives it
//! one. Users without a password are trusted, which the server allows only on loopback.

use std::collections::BTreeMap;
use std::fs;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use granary_query::error::bail;
use granary_query::{ErrorKind, QueryError, Result};
use ring::{digest, hmac, pbkdf2, rand::SecureRandom};
use serde::{Deserialize, Serialize};

/// The user every database has, and the one clients get when they name none.
pub const DEFAULT_USER: &str = "default";

/// PBKDF2 rounds of a new SCRAM verifier (Postgres's default).
const SCRAM_ITERATIONS: u32 = 4096;

/// What authenticates one user: a SCRAM-SHA-256 verifier, and the MD5 hash when the
/// password was known in clear (a verifier read from the users file has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Secrets {
    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64, as Postgres writes it.
    pub scram: String,
    /// `md5` + hex of `md5(password || name)`.
    pub md5: Option<String>,
}

/// A parsed SCRAM-SHA-256 verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    /// The salt the client hashes the password with.
    pub salt: Vec<u8>,
    /// PBKDF2 rounds.
    pub iterations: u32,
    /// `SHA-256(HMAC(SaltedPassword, "Client Key"))`: checks the client's proof.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`: signs the server's answer.
    pub server_key: Vec<u8>,
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message).as_ref().to_vec()
}

impl Secrets {
    /// Derives the secrets of `name`'s password with a fresh random salt.
    pub fn from_password(name: &str, password: &str) -> Result<Secrets> {
        let mut salt = [0u8; 16];
        ring::rand::SystemRandom::new().fill(&mut salt).map_err(|_| QueryError::new(ErrorKind::Internal, "no random numbers for a password salt"))?;
        // SASLprep, as clients apply it; a password it rejects is used as it is (as Postgres does).
        let normalized = stringprep::saslprep(password).map(|p| p.into_owned()).unwrap_or_else(|_| password.to_string());
        let mut salted = [0u8; 32];
        let rounds = NonZeroU32::new(SCRAM_ITERATIONS).expect("nonzero rounds");
        pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, rounds, &salt, normalized.as_bytes(), &mut salted);
        let stored_key = digest::digest(&digest::SHA256, &hmac_sha256(&salted, b"Client Key"));
        let server_key = hmac_sha256(&salted, b"Server Key");
        let scram = format!(
            "SCRAM-SHA-256${SCRAM_ITERATIONS}:{}${}:{}",
            STANDARD.encode(salt),
            STANDARD.encode(stored_key.as_ref()),
            STANDARD.encode(server_key)
        );
        Ok(Secrets { scram, md5: Some(format!("md5{:x}", md5::compute(format!("{password}{name}")))) })
    }

    /// The SCRAM verifier, parsed.
    pub fn scram_verifier(&self) -> Result<ScramVerifier> {
        parse_verifier(&self.scram).ok_or_else(|| QueryError::new(ErrorKind::DataCorrupted, "malformed SCRAM-SHA-256 verifier"))
    }

    /// What an MD5 client must answer to `salt`: `md5` + hex of `md5(md5(password || name) || salt)`;
    /// `None` when only a SCRAM verifier is known.
    pub fn md5_answer(&self, salt: &[u8]) -> Option<String> {
        let hash = self.md5.as_deref()?.strip_prefix("md5")?;
        Some(format!("md5{:x}", md5::compute([hash.as_bytes(), salt].concat())))
    }
}

fn parse_verifier(text: &str) -> Option<ScramVerifier> {
    let rest = text.strip_prefix("SCRAM-SHA-256$")?;
    let (params, keys) = rest.split_once('$')?;
    let (iterations, salt) = params.split_once(':')?;
    let (stored, server) = keys.split_once(':')?;
    Some(ScramVerifier {
        salt: STANDARD.decode(salt).ok()?,
        iterations: iterations.parse().ok().filter(|&n| n > 0)?,
        stored_key: STANDARD.decode(stored).ok()?,
        server_key: STANDARD.decode(server).ok()?,
    })
}

/// One user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The name clients log in with.
    pub name: String,
    /// The password's secrets; `None`: no password (trusted on loopback only).
    pub secrets: Option<Secrets>,
}

/// The users of one database directory.
#[derive(Debug)]
pub struct Users {
    path: PathBuf,
    /// Users created with SQL, as saved.
    created: RwLock<BTreeMap<String, User>>,
    /// Users of the users file; they shadow created ones of the same name.
    configured: RwLock<BTreeMap<String, User>>,
}

fn io_error(what: &str, path: &Path, e: impl std::fmt::Display) -> QueryError {
    QueryError::new(ErrorKind::Io, format!("{what} {}: {e}", path.display()))
}

impl Users {
    /// Loads the users saved in `dir/access/users.json` (none if the file does not exist).
    pub(crate) fn open(dir: &Path) -> Result<Users> {
        let path = dir.join("access").join("users.json");
        let created = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<Vec<User>>(&bytes)
                .map_err(|e| QueryError::new(ErrorKind::DataCorrupted, format!("users file {}: {e}", path.display())))?
                .into_iter()
                .map(|u| (u.name.clone(), u))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(io_error("cannot read", &path, e)),
        };
        Ok(Users { path, created: RwLock::new(created), configured: RwLock::new(BTreeMap::new()) })
    }

    /// Reads a users file: one user per line, `name = password`, where the password is
    /// plain text (hashed as it is read), a `SCRAM-SHA-256$…` verifier, or empty for no
    /// password; blank lines and lines starting with `#` are skipped.
    pub fn load_file(&self, path: &Path) -> Result<()> {
        let text = fs::read_to_string(path).map_err(|e| io_error("cannot read", path, e))?;
        let mut users = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, password)) = line.split_once('=') else {
                bail!(InvalidParameter, "{} line {}: expected `name = password`", path.display(), n + 1);
            };
            let (name, password) = (name.trim(), password.trim());
            if name.is_empty() {
                bail!(InvalidParameter, "{} line {}: the user needs a name", path.display(), n + 1);
            }
            let secrets = match password {
                "" => None,
                verifier if verifier.starts_with("SCRAM-SHA-256$") => {
                    if parse_verifier(verifier).is_none() {
                        bail!(InvalidParameter, "{} line {}: malformed SCRAM-SHA-256 verifier", path.display(), n + 1);
                    }
                    Some(Secrets { scram: verifier.to_string(), md5: None })
                }
                plain => Some(Secrets::from_password(name, plain)?),
            };
            users.insert(name.to_string(), User { name: name.to_string(), secrets });
        }
        *self.configured.write().expect("users lock") = users;
        Ok(())
    }

    /// The user called `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<User> {
        let configured = self.configured.read().expect("users lock").get(name).cloned();
        configured
            .or_else(|| self.created.read().expect("users lock").get(name).cloned())
            .or_else(|| (name == DEFAULT_USER).then(|| User { name: DEFAULT_USER.into(), secrets: None }))
    }

    /// Every user, sorted by name.
    pub fn all(&self) -> Vec<User> {
        let mut all = self.created.read().expect("users lock").clone();
        all.extend(self.configured.read().expect("users lock").clone());
        all.entry(DEFAULT_USER.into()).or_insert_with(|| User { name: DEFAULT_USER.into(), secrets: None });
        all.into_values().collect()
    }

    /// `CREATE USER`; false if the user existed and `if_not_exists` was given.
    pub(crate) fn create(&self, name: &str, password: Option<&str>, if_not_exists: bool) -> Result<bool> {
        self.check_writable(name)?;
        let mut created = self.created.write().expect("users lock");
        if created.contains_key(name) || name == DEFAULT_USER {
            if if_not_exists {
                return Ok(false);
            }
            bail!(DuplicateObject, "user {name} already exists");
        }
        let secrets = password.map(|p| Secrets::from_password(name, p)).transpose()?;
        let mut next = created.clone();
        next.insert(name.to_string(), User { name: name.to_string(), secrets });
        self.save(&next)?;
        *created = next;
        Ok(true)
    }

    /// `ALTER USER … IDENTIFIED BY`: a new password (or none).
    pub(crate) fn alter(&self, name: &str, password: Option<&str>) -> Result<()> {
        self.check_writable(name)?;
        let mut created = self.created.write().expect("users lock");
        if !created.contains_key(name) && name != DEFAULT_USER {
            bail!(UndefinedObject, "user {name} does not exist");
        }
        let secrets = password.map(|p| Secrets::from_password(name, p)).transpose()?;
        let mut next = created.clone();
        next.insert(name.to_string(), User { name: name.to_string(), secrets });
        self.save(&next)?;
        *created = next;
        Ok(())
    }

    /// `DROP USER`; false if there was none and `if_exists` was given.
    pub(crate) fn drop_user(&self, name: &str, if_exists: bool) -> Result<bool> {
        if name == DEFAULT_USER {
            bail!(InvalidParameter, "the default user cannot be dropped; ALTER USER default IDENTIFIED BY '…' gives it a password");
        }
        self.check_writable(name)?;
        let mut created = self.created.write().expect("users lock");
        if !created.contains_key(name) {
            if if_exists {
                return Ok(false);
            }
            bail!(UndefinedObject, "user {name} does not exist");
        }
        let mut next = created.clone();
        next.remove(name);
        self.save(&next)?;
        *created = next;
        Ok(true)
    }

    fn check_writable(&self, name: &str) -> Result<()> {
        if self.configured.read().expect("users lock").contains_key(name) {
            bail!(InvalidParameter, "user {name} is defined in the users file; change it there");
        }
        Ok(())
    }

    /// Writes the created users: a temporary file, fsynced, renamed over the old one.
    fn save(&self, users: &BTreeMap<String, User>) -> Result<()> {
        let dir = self.path.parent().expect("access directory");
        fs::create_dir_all(dir).map_err(|e| io_error("cannot create", dir, e))?;
        let tmp = self.path.with_extension("json.tmp");
        let list: Vec<&User> = users.values().collect();
        let bytes = serde_json::to_vec_pretty(&list).map_err(|e| io_error("cannot encode", &self.path, e))?;
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&tmp)?;
            std::io::Write::write_all(&mut file, &bytes)?;
            file.sync_all()?;
            fs::rename(&tmp, &self.path)?;
            fs::File::open(dir)?.sync_all()
        };
        write().map_err(|e| io_error("cannot write", &self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_keep_no_password_and_answer_md5_as_postgres_does() {
        let secrets = Secrets::from_password("alice", "s3cret").unwrap();
        assert!(!secrets.scram.contains("s3cret"));
        // Postgres: md5(md5("s3cret" || "alice") || salt), prefixed with "md5".
        let inner = format!("{:x}", md5::compute("s3cretalice"));
        let expected = format!("md5{:x}", md5::compute([inner.as_bytes(), b"salt"].concat()));
        assert_eq!(secrets.md5_answer(b"salt").unwrap(), expected);
        let v = secrets.scram_verifier().unwrap();
        assert_eq!((v.iterations, v.salt.len(), v.stored_key.len(), v.server_key.len()), (4096, 16, 32, 32));
        // A fresh salt each time.
        assert_ne!(Secrets::from_password("alice", "s3cret").unwrap().scram, secrets.scram);
    }

    #[test]
    fn users_file_and_created_users() {
        let dir = tempfile::tempdir().unwrap();
        let users = Users::open(dir.path()).unwrap();
        assert_eq!(users.get("default").unwrap().secrets, None);
        assert!(users.create("bob", Some("pw"), false).unwrap());
        assert_eq!(users.create("bob", Some("pw"), false).unwrap_err().kind, ErrorKind::DuplicateObject);
        let file = dir.path().join("users.conf");
        let verifier = Secrets::from_password("carol", "x").unwrap().scram;
        fs::write(&file, format!("# users\ndefault = top secret\ncarol = {verifier}\n\nbob=\n")).unwrap();
        users.load_file(&file).unwrap();
        assert!(users.get("default").unwrap().secrets.unwrap().md5.is_some());
        assert_eq!(users.get("carol").unwrap().secrets.unwrap().md5, None);
        assert_eq!(users.get("bob").unwrap().secrets, None, "the file shadows the created user");
        assert_eq!(users.drop_user("bob", false).unwrap_err().kind, ErrorKind::InvalidParameter);
        fs::write(&file, "nobody\n").unwrap();
        assert_eq!(users.load_file(&file).unwrap_err().kind, ErrorKind::InvalidParameter);
        // Created users survive a reopen.
        let again = Users::open(dir.path()).unwrap();
        assert!(again.get("bob").unwrap().secrets.is_some());
        assert_eq!(again.all().iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["bob", "default"]);
    }
}
