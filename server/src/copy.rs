//! COPY over the wire: `COPY … FROM STDIN` data flows from pgwire's CopyData messages through a
//! bounded channel to a thread that parses and writes it (the engine's `CopyIn`), and
//! `COPY … TO STDOUT` results go out as one CopyData message per row in text or CSV.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::{stream, Sink};
use pgwire::api::copy::CopyHandler;
use pgwire::api::results::{CopyResponse, Tag};
use pgwire::api::ClientInfo;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use pgwire::messages::PgWireBackendMessage;
use futures::SinkExt;
use tokio::sync::{mpsc, oneshot};

use granary_engine::{Block, CopyIn, CopyOptions, Error as EngineError, Field, Value};

use crate::pgtypes::{pg_error, write_text};
use crate::sqlstate::sqlstate;

/// Data is handed to the parsing thread in chunks of about this size, however small the
/// client's CopyData messages are.
const CHUNK_BYTES: usize = 256 << 10;
/// Chunks in flight between the connection and the parsing thread: the memory bound of a COPY
/// on the network side.
const CHUNKS_IN_FLIGHT: usize = 8;

/// What the connection tells the parsing thread.
enum CopyMessage {
    Data(Bytes),
    /// The client sent CopyDone: commit. A channel closed without it means abort.
    Done,
}

/// A running `COPY … FROM STDIN` of one connection.
struct CopyTask {
    sender: mpsc::Sender<CopyMessage>,
    pending: BytesMut,
    result: oneshot::Receiver<Result<u64, EngineError>>,
}

/// The COPY slot of a connection: empty unless a COPY FROM STDIN is receiving data.
#[derive(Clone, Default)]
pub struct CopySlot(Arc<Mutex<Option<CopyTask>>>);

impl CopySlot {
    /// Starts the thread that loads the data of `copy`; the client's CopyData goes to it.
    pub fn start(&self, copy: CopyIn) {
        let (sender, mut receiver) = mpsc::channel::<CopyMessage>(CHUNKS_IN_FLIGHT);
        let (done, result) = oneshot::channel();
        std::thread::Builder::new()
            .name("granary-copy-parser".into())
            .spawn(move || {
                let mut copy = copy;
                let mut outcome = Ok(());
                while let Some(message) = receiver.blocking_recv() {
                    match message {
                        // After an error the rest of the data is only drained: the client
                        // hears of the error when it finishes sending.
                        CopyMessage::Data(chunk) if outcome.is_ok() => outcome = copy.write(&chunk),
                        CopyMessage::Data(_) => {}
                        CopyMessage::Done => {
                            let _ = done.send(outcome.and_then(|()| copy.finish()));
                            return;
                        }
                    }
                }
                // The connection went away or the client sent CopyFail: `copy` drops
                // uncommitted and its parts are removed.
            })
            .expect("spawn the COPY parser thread");
        *self.lock() = Some(CopyTask { sender, pending: BytesMut::new(), result });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CopyTask>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Buffers a CopyData message; returns a full chunk and where to send it.
    fn buffer(&self, data: &[u8], flush: bool) -> Option<(mpsc::Sender<CopyMessage>, Bytes)> {
        let mut slot = self.lock();
        let task = slot.as_mut()?;
        task.pending.extend_from_slice(data);
        if !flush && task.pending.len() < CHUNK_BYTES {
            return None;
        }
        let chunk = task.pending.split().freeze();
        task.pending.reserve(CHUNK_BYTES + CHUNK_BYTES / 4);
        Some((task.sender.clone(), chunk))
    }
}

#[async_trait]
impl CopyHandler for CopySlot {
    async fn on_copy_data<C>(&self, _client: &mut C, copy_data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let Some((sender, chunk)) = self.buffer(&copy_data.data, false) {
            // A closed channel means the thread is gone; CopyDone reports why.
            let _ = sender.send(CopyMessage::Data(chunk)).await;
        }
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some((sender, chunk)) = self.buffer(&[], true) else {
            return Err(pg_error("08P01", "CopyDone without a COPY in progress"));
        };
        let task = self.lock().take().expect("the task buffer() found");
        let _ = sender.send(CopyMessage::Data(chunk)).await;
        let _ = sender.send(CopyMessage::Done).await;
        drop((sender, task.sender));
        match task.result.await {
            Ok(Ok(rows)) => {
                client.send(PgWireBackendMessage::CommandComplete(Tag::new("COPY").with_rows(rows as usize).into())).await?;
                Ok(())
            }
            Ok(Err(e)) => Err(pg_error(sqlstate(e.kind), e.message)),
            Err(_) => Err(pg_error("XX000", "the COPY parser thread stopped")),
        }
    }

    async fn on_copy_fail<C>(&self, _client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // Dropping the task closes the channel without Done: nothing is committed.
        self.lock().take();
        pg_error("57014", format!("COPY from stdin failed: {}", fail.message))
    }
}

/// The CopyOut response of `COPY … TO STDOUT`: an optional header line, then one CopyData
/// message per row.
pub fn copy_out(fields: &[Field], blocks: &[Block], options: &CopyOptions) -> CopyResponse {
    let mut messages = Vec::with_capacity(blocks.iter().map(Block::rows).sum::<usize>() + 1);
    let mut line = Vec::new();
    let mut text = String::new();
    if options.header {
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                line.push(options.delimiter);
            }
            write_field(field.name.as_bytes(), options, &mut line);
        }
        line.push(b'\n');
    }
    for block in blocks {
        for row in 0..block.rows() {
            for (c, column) in block.columns.iter().enumerate() {
                if c > 0 {
                    line.push(options.delimiter);
                }
                match column.value(row) {
                    Value::Null => line.extend_from_slice(options.null.as_bytes()),
                    value => {
                        text.clear();
                        write_text(&fields[c].ty, &value, &mut text);
                        write_field(text.as_bytes(), options, &mut line);
                    }
                }
            }
            line.push(b'\n');
            // The header rides with the first row: pgwire counts messages as rows.
            messages.push(Ok(CopyData::new(Bytes::from(std::mem::take(&mut line)))));
        }
    }
    if !line.is_empty() {
        messages.push(Ok(CopyData::new(Bytes::from(line))));
    }
    CopyResponse::new(0, fields.len(), stream::iter(messages))
}

/// One non-NULL field: CSV quotes it when it holds a delimiter, quote, newline or could read
/// as NULL; the text format escapes backslashes, delimiters and newlines.
fn write_field(value: &[u8], options: &CopyOptions, out: &mut Vec<u8>) {
    if options.csv {
        let quote = value.is_empty()
            || value == options.null.as_bytes()
            || value.iter().any(|&b| b == options.delimiter || b == options.quote || b == b'\n' || b == b'\r');
        if !quote {
            out.extend_from_slice(value);
            return;
        }
        out.push(options.quote);
        for &b in value {
            if b == options.quote || b == options.escape {
                out.push(options.escape);
            }
            out.push(b);
        }
        out.push(options.quote);
        return;
    }
    for &b in value {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' if options.delimiter == b'\t' => out.extend_from_slice(b"\\t"),
            b if b == options.delimiter => {
                out.push(b'\\');
                out.push(b);
            }
            b => out.push(b),
        }
    }
}
