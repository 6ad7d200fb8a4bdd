//! Test helpers of the data layer: where the real MNIST files are (`NETCALC_MNIST`), and a tiny
//! HTTP server on 127.0.0.1 that answers a fixed number of requests and then stops.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The folder named by `NETCALC_MNIST`. Tests that need MNIST fail without it rather than pass
/// without testing anything.
pub(crate) fn mnist_folder() -> PathBuf {
    match std::env::var_os("NETCALC_MNIST") {
        Some(folder) => PathBuf::from(folder),
        None => panic!(
            "NETCALC_MNIST is not set: set it to the folder holding the four MNIST .gz files \
             (CI sets ../shared/datasets/mnist, relative to the repository)"
        ),
    }
}

/// What the server answers for one path.
pub(crate) struct Route {
    path: String,
    body: Vec<u8>,
    /// The Content-Length sent; more than the body's length makes a transfer that breaks off.
    declared_length: usize,
}

impl Route {
    /// A 200 answer with the whole body.
    pub(crate) fn ok(path: &str, body: Vec<u8>) -> Route {
        Route {
            path: path.to_string(),
            declared_length: body.len(),
            body,
        }
    }

    /// A 200 answer that announces `declared_length` bytes and closes after the body.
    pub(crate) fn cut(path: &str, body: Vec<u8>, declared_length: usize) -> Route {
        Route {
            path: path.to_string(),
            body,
            declared_length,
        }
    }
}

/// A server on 127.0.0.1 answering up to a fixed number of requests, one connection each;
/// unknown paths get 404. It stops after those requests or after 30 seconds.
pub(crate) struct TestServer {
    address: SocketAddr,
    thread: JoinHandle<Vec<String>>,
}

const LIFETIME: Duration = Duration::from_secs(30);

impl TestServer {
    pub(crate) fn start(routes: Vec<Route>, requests: usize) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + LIFETIME;
            let mut requested = Vec::new();
            while requested.len() < requests && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => requested.push(answer(stream, &routes)),
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(error) => panic!("test server: {error}"),
                }
            }
            requested
        });
        TestServer { address, thread }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Waits for the server to stop; returns the paths requested, in order.
    pub(crate) fn finish(self) -> Vec<String> {
        self.thread.join().unwrap()
    }
}

/// Reads one request and answers it; returns the requested path.
fn answer(mut stream: TcpStream, routes: &[Route]) -> String {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") && request.len() < 16 * 1024 {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let path = request
        .lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or("")
        .to_string();
    let (status, body, length) = match routes.iter().find(|route| route.path == path) {
        Some(route) => ("200 OK", route.body.as_slice(), route.declared_length),
        None => ("404 Not Found", &b"not found"[..], 9),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {length}\r\nContent-Type: application/octet-stream\r\n\
         Connection: close\r\n\r\n"
    );
    // The client may hang up early (e.g. on a too-large file); that is its right.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
    path
}
