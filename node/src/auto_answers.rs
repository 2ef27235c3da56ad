//! hyper answers a request it cannot parse by itself, before the node sees it: 400 for bytes
//! that are not HTTP (a control character in a header), 414 for a URI over its fixed 65534
//! bytes, 431 for a head over its buffer (input_limits.rs), each with an empty body. No hook of
//! hyper's changes that answer, so each connection's bytes pass through [`JsonAutoAnswers`],
//! which writes those answers in the API's JSON error shape instead.
//!
//! How an automatic answer is told from the node's own: hyper calls the service once per request
//! it parsed ([`Requests::count`]), and the node's answers each follow one such call. A response
//! head that starts when every parsed request already has its answer is hyper's own. Response
//! bodies are skipped by their `content-length` (the API's answers always have one); anything
//! else (chunked bodies, HTTP/2) makes the connection pass through untouched.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::ApiError;
use crate::input_limits::{HYPER_MAX_BUF_BYTES, HYPER_MAX_HEADERS, MAX_URI_BYTES};

/// How every HTTP/1.1 response head starts.
const HTTP1: &[u8] = b"HTTP/1.1 ";
/// Longest response head followed; hyper's own are a few hundred bytes.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How many requests hyper handed to the service on one connection.
#[derive(Clone, Default)]
pub struct Requests(Arc<AtomicU64>);

impl Requests {
    pub fn count(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }

    fn seen(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

enum Framing {
    /// At or inside a response head: the bytes of it so far; `automatic` when it answers no
    /// parsed request (held back, never written as they are).
    Head { bytes: Vec<u8>, automatic: bool },
    /// Inside a response body, with this many bytes left.
    Body(u64),
    /// Not followed any further (or the replacement is written): bytes go as they are.
    Pass,
}

/// An IO whose writes have hyper's automatic answers replaced by JSON ones.
pub struct JsonAutoAnswers<I> {
    inner: I,
    requests: Requests,
    /// Final (non-1xx) response heads written so far.
    answered: u64,
    framing: Framing,
    /// Bytes to write before anything else.
    pending: Vec<u8>,
}

impl<I> JsonAutoAnswers<I> {
    pub fn new(inner: I, requests: Requests) -> Self {
        Self {
            inner,
            requests,
            answered: 0,
            framing: Framing::Head {
                bytes: Vec::new(),
                automatic: false,
            },
            pending: Vec::new(),
        }
    }

    /// Follows bytes written as they are through heads and bodies.
    fn track(&mut self, mut written: &[u8]) {
        while !written.is_empty() {
            match &mut self.framing {
                Framing::Pass => return,
                Framing::Body(left) => {
                    let n = (*left).min(written.len() as u64);
                    *left -= n;
                    written = &written[n as usize..];
                    if *left == 0 {
                        self.framing = self.next_head();
                    }
                }
                Framing::Head { bytes, .. } => {
                    bytes.extend_from_slice(written);
                    let prefix = bytes.len().min(HTTP1.len());
                    if bytes[..prefix] != HTTP1[..prefix] || bytes.len() > MAX_HEAD_BYTES {
                        // HTTP/2 frames, or not a head this module can follow.
                        self.framing = Framing::Pass;
                        return;
                    }
                    let Some(end) = head_end(bytes) else {
                        return;
                    };
                    let rest = bytes.split_off(end);
                    self.framing = match body_length(bytes) {
                        Some((status, length)) => {
                            if status >= 200 {
                                self.answered += 1;
                            }
                            if length == 0 {
                                self.next_head()
                            } else {
                                Framing::Body(length)
                            }
                        }
                        None => Framing::Pass,
                    };
                    self.track(&rest);
                    return;
                }
            }
        }
    }

    fn next_head(&self) -> Framing {
        Framing::Head {
            bytes: Vec::new(),
            automatic: false,
        }
    }
}

/// Where the head ends (after its blank line).
fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
}

/// The status and body length of an HTTP/1 response head; `None` when the body is not framed
/// by `content-length` (which stops the tracking).
fn body_length(head: &[u8]) -> Option<(u16, u64)> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let status: u16 = lines
        .next()?
        .strip_prefix("HTTP/1.")?
        .get(2..5)?
        .parse()
        .ok()?;
    if status < 200 || status == 204 || status == 304 {
        return Some((status, 0));
    }
    let mut length = None;
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return None;
        }
        if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().ok();
        }
    }
    length.map(|l| (status, l))
}

/// The JSON answer replacing hyper's automatic one of `status`.
fn json_answer(status: u16) -> Vec<u8> {
    let error = match status {
        414 => ApiError::too_large(
            StatusCode::URI_TOO_LONG,
            "uri",
            format!(
                "uri: the request URI is longer than 65534 bytes (the API's limit is {MAX_URI_BYTES})"
            ),
        ),
        431 => ApiError::too_large(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers",
            format!(
                "headers: the request head is larger than {HYPER_MAX_BUF_BYTES} bytes or has more than {HYPER_MAX_HEADERS} headers"
            ),
        ),
        _ => ApiError::invalid(
            "request",
            "is not a valid HTTP/1.1 request (a malformed request line or header, such as a control character in a header value)",
        ),
    };
    let body = error.body().to_string();
    let status = error.http_status();
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default(),
        body.len()
    )
    .into_bytes()
}

impl<I: AsyncWrite + Unpin> JsonAutoAnswers<I> {
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.pending.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for JsonAutoAnswers<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        if let Framing::Head { bytes, automatic } = &mut this.framing {
            if bytes.is_empty() && this.answered >= this.requests.seen() {
                *automatic = true;
            }
            if *automatic {
                bytes.extend_from_slice(buf);
                let n = bytes.len().min(HTTP1.len());
                let status = bytes.get(9..12).and_then(|s| std::str::from_utf8(s).ok());
                let hyper_s = matches!(status, Some("400" | "414" | "431"));
                if bytes[..n] != HTTP1[..n] || (status.is_some() && !hyper_s) {
                    // Not an answer of hyper's to replace: write it as it is, and follow it.
                    let held = std::mem::take(bytes);
                    this.framing = this.next_head();
                    this.pending = held.clone();
                    this.track(&held);
                } else if head_end(bytes).is_some() {
                    this.pending = json_answer(status.and_then(|s| s.parse().ok()).unwrap_or(400));
                    this.framing = Framing::Pass;
                }
                return Poll::Ready(Ok(buf.len()));
            }
        }
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.track(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for JsonAutoAnswers<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_followed_through_their_bodies() {
        assert_eq!(
            body_length(b"HTTP/1.1 200 OK\r\ncontent-length: 12\r\ndate: x\r\n\r\n"),
            Some((200, 12))
        );
        assert_eq!(
            body_length(b"HTTP/1.1 100 Continue\r\n\r\n"),
            Some((100, 0))
        );
        assert_eq!(
            body_length(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"),
            None
        );
    }

    #[test]
    fn http2_frames_are_not_followed() {
        let mut io = JsonAutoAnswers::new(Vec::<u8>::new(), Requests::default());
        io.track(&[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]);
        assert!(matches!(io.framing, Framing::Pass));
    }

    #[test]
    fn a_replacement_is_the_json_error_shape() {
        let answer = String::from_utf8(json_answer(431)).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], 431);
        assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
    }
}
