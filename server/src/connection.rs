//! One client connection, from accept to close: TLS negotiation, the startup handshake and
//! then messages until the client leaves.
//!
//! This is pgwire's own loop with one difference: input that does not follow the protocol
//! (a bad length, a truncated or oversized frame, an unknown message type, a startup
//! packet shorter than 8 bytes) is answered with a FATAL ErrorResponse (SQLSTATE 08P01)
//! and the connection is closed; the other connections never notice.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use std::panic::AssertUnwindSafe;

use futures::{FutureExt, SinkExt, StreamExt};
use pgwire::api::{ClientInfo, ErrorHandler, PgWireConnectionState, PgWireServerHandlers};
use pgwire::error::ErrorInfo;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::tokio::server::{negotiate_tls, process_error, process_message};
use pgwire::tokio::TlsAcceptor;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_util::codec::{Framed, FramedParts};

use crate::limits::FrameGuard;
use crate::metrics::ServerCounters;

/// How long a client may take from connecting to finishing authentication.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The ErrorResponse a misbehaving or unwelcome client gets before the connection closes.
pub(crate) fn fatal_message(code: &str, message: String) -> PgWireBackendMessage {
    PgWireBackendMessage::ErrorResponse(ErrorInfo::new("FATAL".into(), code.into(), message).into())
}

/// Writes one FATAL ErrorResponse straight to a socket no protocol state exists for yet.
pub(crate) async fn refuse(socket: &mut TcpStream, code: &str, message: String) {
    let mut buf = BytesMut::new();
    if fatal_message(code, message).encode(&mut buf).is_ok() {
        let _ = socket.write_all(&buf).await;
    }
    let _ = socket.shutdown().await;
}

/// Waits for the first 4 bytes of a plain-text connection and refuses a first message whose
/// length is below the 8 bytes every startup-phase message has (pgwire would wait for more).
async fn first_length_ok(socket: &TcpStream) -> io::Result<Result<(), i32>> {
    let mut head = [0u8; 4];
    loop {
        let n = socket.peek(&mut head).await?;
        if n == 0 || head[0] == 0x16 {
            return Ok(Ok(())); // closed, or a direct TLS handshake
        }
        if n == 4 {
            let len = i32::from_be_bytes(head);
            return Ok(if len < 8 { Err(len) } else { Ok(()) });
        }
        // Fewer than 4 bytes so far: peek returns at once while any are waiting.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Serves one connection until the client leaves, breaks the protocol or the server stops.
pub(crate) async fn run(mut tcp: TcpStream, tls: Option<TlsAcceptor>, handlers: impl PgWireServerHandlers, max_message_size: usize, counters: Arc<ServerCounters>) -> io::Result<()> {
    let timeout = tokio::time::sleep(STARTUP_TIMEOUT);
    tokio::pin!(timeout);
    let first = tokio::select! {
        _ = &mut timeout => return Ok(()),
        first = first_length_ok(&tcp) => first?,
    };
    if let Err(len) = first {
        counters.protocol_error();
        refuse(&mut tcp, "08P01", format!("invalid length of startup packet: {len}")).await;
        return Ok(());
    }
    let negotiated = tokio::select! {
        _ = &mut timeout => return Ok(()),
        socket = negotiate_tls(tcp, tls) => socket?,
    };
    let Some(socket) = negotiated else { return Ok(()) }; // direct TLS without a certificate
    let old = socket.into_parts();
    let mut guard = FrameGuard::new(old.io, max_message_size);
    let early = guard.observe(&old.read_buf);
    let mut parts = FramedParts::new(guard, old.codec);
    parts.read_buf = old.read_buf;
    parts.write_buf = old.write_buf;
    let mut socket = Framed::from_parts(parts);
    if let Err(e) = early {
        counters.protocol_error();
        let _ = socket.send(fatal_message("08P01", e.to_string())).await;
        return Ok(());
    }

    let startup = handlers.startup_handler();
    let simple = handlers.simple_query_handler();
    let extended = handlers.extended_query_handler();
    let copy = handlers.copy_handler();
    let cancel = handlers.cancel_handler();
    let errors = handlers.error_handler();
    loop {
        let starting = matches!(socket.state(), PgWireConnectionState::AwaitingStartup | PgWireConnectionState::AuthenticationInProgress);
        // pgwire's decoder can panic on some malformed messages; that is this connection's end.
        let next = AssertUnwindSafe(socket.next()).catch_unwind();
        let msg = if starting {
            tokio::select! {
                _ = &mut timeout => Ok(None),
                msg = next => msg,
            }
        } else {
            next.await
        };
        let msg = match msg {
            Ok(None | Some(Ok(PgWireFrontendMessage::Terminate(_)))) => break,
            Ok(Some(Ok(msg))) => msg,
            Ok(Some(Err(e))) => {
                counters.protocol_error();
                let _ = socket.send(fatal_message("08P01", format!("invalid message: {e}"))).await;
                break;
            }
            Err(_panic) => {
                counters.protocol_error();
                let _ = socket.send(fatal_message("08P01", "malformed message".into())).await;
                break;
            }
        };
        let is_extended_query = match socket.state() {
            PgWireConnectionState::CopyInProgress(extended) => extended,
            _ => msg.is_extended_query(),
        };
        let is_cancel_request = matches!(msg, PgWireFrontendMessage::CancelRequest(_));
        if let Err(mut e) = process_message(msg, &mut socket, startup.clone(), simple.clone(), extended.clone(), copy.clone(), cancel.clone()).await {
            errors.on_error(&socket, &mut e);
            let fatal = e.is_fatal();
            process_error(&mut socket, e, is_extended_query).await?;
            if fatal {
                break;
            }
        }
        if is_cancel_request {
            break;
        }
    }
    Ok(())
}
