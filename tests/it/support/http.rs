//! The one small HTTP/1.1 server the tests build their stand-ins on: a listener on a free
//! loopback port, a thread per connection, requests read as head plus `Content-Length` body,
//! keep-alive unless the client asks to close, and a stop when the handle is dropped.
//! The wire-protocol servers (Cost Explorer, LookupEvents), moto's HTML 500 for a missing
//! service, and the proxies in front of moto are all handlers on it.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The request exactly as read (head and body), for proxies and logs.
    pub raw: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The client asked for the connection to close after the answer.
    pub fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

/// What a handler answers.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Response {
    /// An AWS JSON 1.1 answer.
    pub fn json(status: u16, body: String) -> Response {
        Response {
            status,
            content_type: "application/x-amz-json-1.1",
            body,
        }
    }

    /// What moto answers for a service it does not implement.
    pub fn html_500() -> Response {
        Response {
            status: 500,
            content_type: "text/html; charset=utf-8",
            body: "<!doctype html>\n<title>500 Internal Server Error</title>\n".into(),
        }
    }

    fn write_to(&self, conn: &mut TcpStream, close: bool) -> bool {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            403 => "Forbidden",
            404 => "Not Found",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            _ => "Bad Request",
        };
        let head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\n\
             x-amzn-RequestId: 00000000-0000-4000-8000-000000000000\r\n\
             Content-Length: {}\r\n{}\r\n",
            self.status,
            self.content_type,
            self.body.len(),
            if close { "Connection: close\r\n" } else { "" }
        );
        conn.write_all(head.as_bytes()).is_ok() && conn.write_all(self.body.as_bytes()).is_ok()
    }
}

/// A running server; it stops accepting when dropped.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Hands every accepted connection to `on_connection`, each on its own thread.
    pub fn start_raw(on_connection: impl Fn(TcpStream) + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let on_connection = Arc::new(on_connection);
        {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let on_connection = Arc::clone(&on_connection);
                    thread::spawn(move || on_connection(conn));
                }
            });
        }
        Server { addr, stop }
    }

    /// Answers every request with `handler`, keeping connections alive as HTTP/1.1 does.
    pub fn start(handler: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Server {
        Server::start_raw(move |mut conn| {
            conn.set_read_timeout(Some(Duration::from_secs(30))).ok();
            conn.set_nodelay(true).ok();
            let mut buf = Vec::new();
            while let Some(req) = read_request(&mut conn, &mut buf) {
                let close = req.wants_close();
                if !handler(&req).write_to(&mut conn, close) || close {
                    return;
                }
            }
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Reads one request (the head, then `Content-Length` bytes of body); bytes of the next
/// request stay in `buf`. `None` when the peer closed or the read failed.
pub fn read_request(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    while buf.len() < body_start + len {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let raw: Vec<u8> = buf.drain(..body_start + len).collect();
    Some(Request {
        method,
        path,
        headers,
        body: raw[body_start..].to_vec(),
        raw,
    })
}

/// Sends `req` to the server on `port` asking it to close after answering, and returns its
/// answer as bytes (empty when it could not be reached).
pub fn forward(port: u16, req: &Request) -> Vec<u8> {
    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", port)) else {
        return Vec::new();
    };
    let request = String::from_utf8_lossy(&req.raw)
        .replacen("\r\n", "\r\nConnection: close\r\n", 1)
        .into_bytes();
    if upstream.write_all(&request).is_err() {
        return Vec::new();
    }
    let mut answer = Vec::new();
    let _ = upstream.read_to_end(&mut answer);
    answer
}

/// The SigV4 credential scope of a request:
/// `Credential=AKID/20250301/us-east-1/ce/aws4_request` → (key id, region, service).
pub fn credential_scope(req: &Request) -> Option<(String, String, String)> {
    let auth = req.header("authorization")?;
    let cred = auth.split("Credential=").nth(1)?;
    let cred = cred.split([',', ' ']).next()?;
    let mut parts = cred.split('/');
    let key = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    let service = parts.next()?.to_string();
    Some((key, region, service))
}
