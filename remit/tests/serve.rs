//! `remit serve`'s listener (issue 15): a connection that never finishes its request headers
//! is closed after the header-read timeout (slowloris), and connections past the cap wait for
//! a free one. The timeout and the cap come from the environment here, to keep the tests short.

mod support;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Stdio};
use std::time::{Duration, Instant};

/// `remit serve` on a free loopback port with the example tokens; stopped when dropped.
struct Server {
    child: Child,
    addr: String,
    _stdout: BufReader<ChildStdout>,
    _data: tempfile::TempDir,
}

impl Server {
    fn start(env: &[(&str, &str)]) -> Server {
        let data = tempfile::tempdir().unwrap();
        let tokens = support::root().join("config/tokens.example.toml");
        let mut child = support::command(data.path())
            .args(["serve", "--addr", "127.0.0.1:0", "--tokens"])
            .arg(&tokens)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        // "ops API on http://127.0.0.1:PORT/api (...)"
        let addr = line.split("http://").nth(1).and_then(|r| r.split('/').next());
        let addr = addr.unwrap_or_else(|| panic!("no address in {line:?}")).to_string();
        Server { child, addr, _stdout: stdout, _data: data }
    }

    fn connect(&self) -> TcpStream {
        TcpStream::connect(&self.addr).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const REQUEST: &[u8] = b"GET /api/openapi.json HTTP/1.1\r\nHost: remit\r\nConnection: close\r\n\r\n";

/// Everything the server sends until it closes the connection (at most `wait` per read).
fn read_until_closed(c: &mut TcpStream, wait: Duration) -> std::io::Result<Vec<u8>> {
    c.set_read_timeout(Some(wait))?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted) => {
                return Ok(out)
            }
            Err(e) => return Err(e),
        }
    }
}

#[test]
fn a_request_never_finished_is_closed_after_the_header_timeout() {
    let server = Server::start(&[("REMIT_SERVE_HEADER_TIMEOUT_MS", "300")]);
    let mut slow = server.connect();
    slow.write_all(b"GET /api/openapi.json HTT").unwrap();
    let start = Instant::now();
    let closed = read_until_closed(&mut slow, Duration::from_secs(5));
    let waited = start.elapsed();
    assert!(closed.is_ok(), "the server kept a half-sent request open for {waited:?}: {closed:?}");
    assert!(waited >= Duration::from_millis(250), "closed after {waited:?}, before the timeout");
    // A request sent whole is answered.
    let mut c = server.connect();
    c.write_all(REQUEST).unwrap();
    let answer = read_until_closed(&mut c, Duration::from_secs(5)).unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
}

#[test]
fn connections_past_the_cap_wait_for_a_free_one() {
    let server =
        Server::start(&[("REMIT_SERVE_MAX_CONNECTIONS", "1"), ("REMIT_SERVE_HEADER_TIMEOUT_MS", "5000")]);
    // The only connection, idle.
    let first = server.connect();
    std::thread::sleep(Duration::from_millis(100));
    let mut second = server.connect();
    second.write_all(REQUEST).unwrap();
    second.set_read_timeout(Some(Duration::from_millis(700))).unwrap();
    let early = second.read(&mut [0u8; 64]);
    assert!(
        matches!(early, Err(ref e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "answered while the only connection was taken: {early:?}"
    );
    drop(first);
    let answer = read_until_closed(&mut second, Duration::from_secs(5)).unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
}
