//! Who may connect and what a client may send: password authentication (SCRAM-SHA-256 and
//! MD5) for users from CREATE USER and from the users file, the loopback rule, TLS, the
//! limits, and hostile protocol input sent over raw sockets while another session works on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use granary_engine::{Database, Options, ParseLimits};
use granary_server::{Limits, PasswordMethod, ServerConfig};
use pgwire::tokio::tokio_rustls::rustls;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_postgres::NoTls;

struct Server {
    addr: SocketAddr,
    db: Arc<Database>,
    stop: Option<oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
}

async fn start(db: Arc<Database>, config: ServerConfig) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    let server_db = db.clone();
    let handle = tokio::spawn(async move {
        granary_server::serve_with(listener, server_db, config, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Server { addr, db, stop: Some(tx), handle }
}

impl Server {
    async fn connect(&self, user: &str, password: Option<&str>) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let mut conn = format!("host=127.0.0.1 port={} user={user} dbname=default", self.addr.port());
        if let Some(p) = password {
            conn.push_str(&format!(" password='{p}'"));
        }
        let (client, connection) = tokio_postgres::connect(&conn, NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    }

    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        self.handle.await.unwrap();
    }
}

fn code(e: tokio_postgres::Error) -> String {
    e.as_db_error().map(|d| d.code().code().to_string()).unwrap_or_else(|| format!("not a db error: {e}"))
}

async fn one_value(client: &tokio_postgres::Client, sql: &str) -> String {
    let rows = client.simple_query(sql).await.unwrap();
    rows.iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("NULL").to_string()),
            _ => None,
        })
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_passwords_from_create_user_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(Database::open(dir.path()).unwrap(), ServerConfig::default()).await;
    let admin = server.connect("default", None).await.unwrap();
    admin.batch_execute("CREATE USER alice IDENTIFIED BY 's3cret pass'; CREATE USER bob WITH PASSWORD 'hunter2'").await.unwrap();
    assert_eq!(code(admin.batch_execute("CREATE USER alice IDENTIFIED BY 'x'").await.unwrap_err()), "42710");
    admin.batch_execute("CREATE USER IF NOT EXISTS alice IDENTIFIED BY 'x'").await.unwrap();

    let alice = server.connect("alice", Some("s3cret pass")).await.unwrap();
    assert_eq!(one_value(&alice, "SELECT 40 + 2").await, "42");
    let wrong = server.connect("alice", Some("wrong")).await.unwrap_err();
    assert_eq!(wrong.as_db_error().unwrap().message(), "Password authentication failed for user \"alice\"");
    assert_eq!(code(wrong), "28P01");
    assert!(server.connect("alice", None).await.is_err(), "no password to give: the client gives up");
    assert_eq!(code(server.connect("mallory", Some("x")).await.unwrap_err()), "28000");

    // The statements ran as alice, and the query log never shows a password.
    assert_eq!(one_value(&alice, "SELECT user FROM system.query_log WHERE query = 'SELECT 40 + 2'").await, "alice");
    let logged = one_value(&admin, "SELECT query FROM system.query_log WHERE query_kind = 'Create' AND query LIKE '%bob%'").await;
    assert_eq!(logged, "CREATE USER bob IDENTIFIED BY '[HIDDEN]'");

    admin.batch_execute("ALTER USER bob IDENTIFIED BY 'changed'; DROP USER alice").await.unwrap();
    assert_eq!(code(admin.batch_execute("DROP USER alice").await.unwrap_err()), "42704");
    admin.batch_execute("DROP USER IF EXISTS alice").await.unwrap();
    assert_eq!(code(server.connect("alice", Some("s3cret pass")).await.unwrap_err()), "28000");
    drop((admin, alice));
    server.stop().await;

    // Only secrets are on disk, and they are enough after a restart.
    let saved = std::fs::read_to_string(dir.path().join("access/users.json")).unwrap();
    assert!(saved.contains("SCRAM-SHA-256$4096:") && !saved.contains("changed") && !saved.contains("hunter2"));
    let server = start(Database::open(dir.path()).unwrap(), ServerConfig::default()).await;
    let bob = server.connect("bob", Some("changed")).await.unwrap();
    assert_eq!(one_value(&bob, "SELECT 1").await, "1");
    assert_eq!(code(server.connect("bob", Some("hunter2")).await.unwrap_err()), "28P01");
    drop(bob);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md5_and_the_users_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.conf");
    std::fs::write(&file, "# the users file\ndefault = admin pw\ncarol = c4rol\n").unwrap();
    let options = Options { users_file: Some(file), ..Default::default() };
    let db = Database::open_with(dir.path().join("data"), options).unwrap();
    let server = start(db, ServerConfig { password_method: PasswordMethod::Md5, ..Default::default() }).await;
    assert!(server.connect("default", None).await.is_err(), "the file gave default a password");
    assert_eq!(code(server.connect("default", Some("wrong")).await.unwrap_err()), "28P01");
    let admin = server.connect("default", Some("admin pw")).await.unwrap();
    let carol = server.connect("carol", Some("c4rol")).await.unwrap();
    assert_eq!(one_value(&carol, "SELECT 'md5 works'").await, "md5 works");
    // Users of the file are changed in the file, not with SQL.
    assert_eq!(code(admin.batch_execute("DROP USER carol").await.unwrap_err()), "22023");
    admin.batch_execute("CREATE USER dave IDENTIFIED BY 'd'").await.unwrap();
    let dave = server.connect("dave", Some("d")).await.unwrap();
    assert_eq!(one_value(&dave, "SELECT 2").await, "2");
    drop((admin, carol, dave));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_every_user_needs_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let anywhere: SocketAddr = "0.0.0.0:5433".parse().unwrap();
    let refused = granary_server::check_listen_address(anywhere, &db).unwrap_err();
    assert!(refused.contains("default"), "{refused}");
    assert!(granary_server::check_listen_address("127.0.0.1:5433".parse().unwrap(), &db).is_ok());
    // serve_with refuses too.
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let err = granary_server::serve_with(listener, db.clone(), ServerConfig::default(), async {}).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);

    let mut session = db.session();
    session.execute("ALTER USER default IDENTIFIED BY 'pw'; CREATE USER eve NOT IDENTIFIED").unwrap();
    assert!(granary_server::check_listen_address(anywhere, &db).unwrap_err().contains("eve"));
    session.execute("ALTER USER eve IDENTIFIED BY 'pw2'").unwrap();
    granary_server::check_listen_address(anywhere, &db).unwrap();
}

/// A startup message for `user` (protocol 3.0).
fn startup_message(user: &str) -> Vec<u8> {
    let mut body = vec![0, 3, 0, 0];
    for s in ["user", user, "database", "default", ""] {
        body.extend_from_slice(s.as_bytes());
        body.push(0);
    }
    let mut msg = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    msg.extend(body);
    msg
}

/// Reads until the server closes the connection (or, as a safety net, 30 s pass).
async fn read_to_close(stream: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut out)).await;
    out
}

/// Sends `bytes` on a fresh raw connection (after a trusted startup when `startup`; then
/// hanging up its sending side when `hang_up`) and returns everything the server said
/// before it closed the connection.
async fn hostile(addr: SocketAddr, startup: bool, bytes: &[u8], hang_up: bool) -> Vec<u8> {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    if startup {
        socket.write_all(&startup_message("default")).await.unwrap();
        // Up to ReadyForQuery ('Z', length 5, status 'I').
        let mut seen = Vec::new();
        while !seen.ends_with(b"Z\0\0\0\x05I") {
            let mut buf = [0u8; 512];
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed during startup");
            seen.extend_from_slice(&buf[..n]);
        }
    }
    socket.write_all(bytes).await.unwrap();
    if hang_up {
        socket.shutdown().await.unwrap();
    }
    read_to_close(&mut socket).await
}

fn is_fatal_protocol_violation(reply: &[u8]) -> bool {
    let text = String::from_utf8_lossy(reply);
    text.contains("FATAL") && text.contains("08P01")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_ends_only_its_own_connection() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits { max_message_size: 1 << 20, ..Default::default() };
    let server = start(Database::open(dir.path()).unwrap(), ServerConfig { limits, ..Default::default() }).await;
    let steady = server.connect("default", None).await.unwrap();
    steady.batch_execute("CREATE TABLE t (x UInt64) ENGINE = MergeTree ORDER BY x; INSERT INTO t VALUES (1), (2), (3)").await.unwrap();

    // (what, after a startup, bytes, then hang up)
    let cases: Vec<(&str, bool, Vec<u8>, bool)> = vec![
        ("startup packet shorter than 8 bytes", false, vec![0, 0, 0, 4], false),
        ("startup packet with a negative length", false, vec![0xff, 0xff, 0xff, 0xf0, 0, 3, 0, 0], false),
        ("startup packet longer than the limit", false, vec![0x7f, 0, 0, 0, 0, 3, 0, 0], false),
        ("startup packet cut short", false, startup_message("default")[..7].to_vec(), true),
        ("not the protocol at all", false, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), false),
        ("unknown message type", true, vec![b'!', 0, 0, 0, 4], false),
        ("message length below 4", true, vec![b'Q', 0, 0, 0, 2], false),
        ("message longer than max_message_size", true, [&[b'Q', 0, 0x20, 0, 0][..], b"SELECT 1"].concat(), false),
        ("query frame cut short", true, [&[b'Q', 0, 0, 0, 100][..], b"SELECT 1"].concat(), true),
        ("bind with a format count past the message", true, [&[b'B', 0, 0, 0, 12][..], &[0, 0, 0, 0xff, 0xff, 0, 0, 0]].concat(), false),
    ];
    for (what, startup, bytes, hang_up) in cases {
        let reply = hostile(server.addr, startup, &bytes, hang_up).await;
        assert!(is_fatal_protocol_violation(&reply), "{what}: {:?}", String::from_utf8_lossy(&reply));
        // The other session is not disturbed.
        assert_eq!(one_value(&steady, "SELECT sum(x) FROM t").await, "6", "after: {what}");
    }

    assert_eq!(one_value(&steady, "SELECT count() FROM t").await, "3");
    let fresh = server.connect("default", None).await.unwrap();
    assert_eq!(one_value(&fresh, "SELECT max(x) FROM t").await, "3");
    drop((steady, fresh));
    server.stop().await;
}

#[test]
fn connection_query_and_depth_limits() {
    // Statements run on the server's runtime, whose threads have the stack deep expressions need.
    granary_server::runtime().unwrap().block_on(limits());
}

async fn limits() {
    let dir = tempfile::tempdir().unwrap();
    let parse = ParseLimits { max_query_size: 4096, max_expression_depth: 300 };
    let db = Database::open_with(dir.path(), Options { limits: parse, ..Default::default() }).unwrap();
    let limits = Limits { max_connections: 2, max_message_size: 16 << 10 };
    let server = start(db, ServerConfig { limits, ..Default::default() }).await;
    let first = server.connect("default", None).await.unwrap();
    let second = server.connect("default", None).await.unwrap();
    assert_eq!(code(server.connect("default", None).await.unwrap_err()), "53300");
    drop(second);
    // The slot frees once the server has seen the connection end.
    let mut third = None;
    for _ in 0..500 {
        match server.connect("default", None).await {
            Ok(c) => {
                third = Some(c);
                break;
            }
            Err(e) => assert_eq!(code(e), "53300"),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let third = third.expect("a connection slot freed");

    let long = format!("SELECT '{}'", "x".repeat(5000));
    assert_eq!(code(first.simple_query(&long).await.unwrap_err()), "54000");
    let deep = format!("SELECT {}1", "1 + ".repeat(400));
    assert_eq!(code(first.simple_query(&deep).await.unwrap_err()), "54000");
    let nested = format!("SELECT {}1{}", "(".repeat(200), ")".repeat(200));
    assert!(first.simple_query(&nested).await.is_err());
    let fine = format!("SELECT {}1", "1 + ".repeat(250));
    assert_eq!(one_value(&first, &fine).await, "251");
    // Past max_message_size the connection itself ends.
    let huge = format!("SELECT '{}'", "y".repeat(20 << 10));
    assert!(third.simple_query(&huge).await.is_err());
    assert!(third.is_closed() || third.simple_query("SELECT 1").await.is_err());
    assert_eq!(one_value(&first, "SELECT 7").await, "7");
    drop((first, third));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let tls_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls");
    let acceptor = granary_server::tls_acceptor(&tls_dir.join("server.crt"), &tls_dir.join("server.key")).unwrap();
    let server = start(Database::open(dir.path()).unwrap(), ServerConfig { tls: Some(acceptor), ..Default::default() }).await;
    let db = server.db.clone();
    db.session().execute("CREATE USER tls_user IDENTIFIED BY 'pw'").unwrap();

    // SSLRequest, then a TLS handshake against the test CA, then a startup inside TLS.
    let mut socket = TcpStream::connect(server.addr).await.unwrap();
    socket.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]).await.unwrap();
    let mut answer = [0u8; 1];
    socket.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"S");
    let mut roots = rustls::RootCertStore::empty();
    let ca = std::fs::read(tls_dir.join("ca.crt")).unwrap();
    use rustls::pki_types::pem::PemObject;
    roots.add(rustls::pki_types::CertificateDer::from_pem_slice(&ca).unwrap()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = pgwire::tokio::tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut tls = connector.connect("localhost".try_into().unwrap(), socket).await.unwrap();
    tls.write_all(&startup_message("tls_user")).await.unwrap();
    let mut reply = [0u8; 9];
    tls.read_exact(&mut reply).await.unwrap();
    // AuthenticationSASL: 'R', then code 10; the password exchange runs inside TLS.
    assert_eq!((reply[0], &reply[5..9]), (b'R', &[0, 0, 0, 10][..]));
    expect_closed(&mut tls).await;

    // Plain connections still work when TLS is configured.
    let plain = server.connect("default", None).await.unwrap();
    assert_eq!(one_value(&plain, "SELECT 1").await, "1");
    drop(plain);
    server.stop().await;
}

async fn expect_closed(stream: &mut (impl AsyncRead + AsyncWrite + Unpin)) {
    stream.shutdown().await.unwrap();
    read_to_close(stream).await;
}
