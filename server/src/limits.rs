//! Limits that keep one client from hurting the others: how many connections are open at
//! once, and how long one protocol message may be.
//!
//! `FrameGuard` sits under the protocol decoder and reads the length of every message as its
//! header goes by, so a message that claims too many (or too few) bytes ends its connection
//! before anything is buffered for it. Limits on a statement's text (`max_query_size`,
//! `max_expression_depth`) are the engine's, applied to every session.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The server's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once; one more is answered with SQLSTATE 53300 and closed.
    pub max_connections: usize,
    /// Bytes one protocol message may have (its length field); past it the connection ends.
    pub max_message_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_connections: 100, max_message_size: 64 << 20 }
    }
}

/// Where the guard is in the stream of messages.
#[derive(Debug, Clone, Copy)]
enum Frame {
    /// Reading a header: the startup message's is a 4-byte length alone (`typed` false),
    /// every later one a type byte and then the length.
    Header { typed: bool, buf: [u8; 5], have: usize },
    /// Inside a message body with this many bytes to go.
    Body { left: usize },
}

/// A byte stream whose message lengths are checked as they arrive.
pub(crate) struct FrameGuard<S> {
    inner: S,
    max: usize,
    frame: Frame,
}

impl<S> FrameGuard<S> {
    /// Guards `inner`, whose next message is the startup message.
    pub(crate) fn new(inner: S, max: usize) -> FrameGuard<S> {
        FrameGuard { inner, max, frame: Frame::Header { typed: false, buf: [0; 5], have: 0 } }
    }

    /// Follows `bytes` through the message framing; an error names the first bad length.
    pub(crate) fn observe(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match &mut self.frame {
                Frame::Body { left } => {
                    let n = (*left).min(bytes.len());
                    *left -= n;
                    bytes = &bytes[n..];
                    if *left == 0 {
                        self.frame = Frame::Header { typed: true, buf: [0; 5], have: 0 };
                    }
                }
                Frame::Header { typed, buf, have } => {
                    let size = if *typed { 5 } else { 4 };
                    let n = (size - *have).min(bytes.len());
                    buf[*have..*have + n].copy_from_slice(&bytes[..n]);
                    *have += n;
                    bytes = &bytes[n..];
                    if *have == size {
                        let at = size - 4;
                        let len = i32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
                        // A length counts itself; a startup message also has its protocol version.
                        let least = if *typed { 4 } else { 8 };
                        if len < least || len as usize > self.max {
                            return Err(io::Error::new(
                                io::ErrorKind::InvalidData,
                                format!("invalid message length {len} (the limit is {} bytes)", self.max),
                            ));
                        }
                        let left = len as usize - 4;
                        self.frame = match left {
                            0 => Frame::Header { typed: true, buf: [0; 5], have: 0 },
                            left => Frame::Body { left },
                        };
                    }
                }
            }
        }
        Ok(())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FrameGuard<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => Poll::Ready(this.observe(&buf.filled()[before..])),
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FrameGuard<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_checked_across_reads() {
        let mut guard = FrameGuard::new((), 100);
        // Startup: length 9 (version + one byte), then a query of length 6 split in two reads.
        guard.observe(&[0, 0, 0, 9, 0, 3, 0, 0, 0]).unwrap();
        guard.observe(&[b'Q', 0, 0]).unwrap();
        guard.observe(&[0, 6, b'x', 0]).unwrap();
        guard.observe(&[b'S', 0, 0, 0, 4]).unwrap();
        assert!(guard.observe(&[b'Q', 0, 0, 1, 0]).is_err(), "256 bytes is over the limit");
        let mut short = FrameGuard::new((), 100);
        assert!(short.observe(&[0, 0, 0, 4]).is_err(), "a startup message has at least 8 bytes");
        let mut negative = FrameGuard::new((), 100);
        negative.observe(&[0, 0, 0, 8, 0, 3, 0, 0]).unwrap();
        assert!(negative.observe(&[b'Q', 0xff, 0xff, 0xff, 0xff]).is_err());
    }
}
