//! A controllable TCP proxy on 127.0.0.1 for fault tests (real-peers.md §7): forwards every
//! connection to an upstream port; `cut()` closes every connection and stops listening, so new
//! ones are refused as by a host that is down (a partition), `heal()` listens again on the same
//! port.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::free_port;

/// The proxy; stops forwarding when dropped.
pub struct FaultProxy {
    /// Port to connect to.
    pub port: u16,
    cut: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    /// Connections accepted and forwarded so far.
    pub accepted: Arc<AtomicUsize>,
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16384];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ignored = to.shutdown(Shutdown::Both);
    let _ignored = from.shutdown(Shutdown::Both);
}

impl FaultProxy {
    /// Starts forwarding to 127.0.0.1:`upstream`.
    pub fn start(upstream: u16) -> FaultProxy {
        let port = free_port();
        let bind = move || {
            let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
            l.set_nonblocking(true).unwrap();
            l
        };
        let mut listener = Some(bind());
        let cut = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (c, s, o, a) = (
            Arc::clone(&cut),
            Arc::clone(&stop),
            Arc::clone(&open),
            Arc::clone(&accepted),
        );
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if c.load(Ordering::Relaxed) {
                    listener = None;
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                let l = listener.get_or_insert_with(bind);
                match l.accept() {
                    Ok((client, _)) => {
                        if c.load(Ordering::Relaxed) {
                            drop(client);
                            continue;
                        }
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                            continue;
                        };
                        a.fetch_add(1, Ordering::Relaxed);
                        {
                            let mut open = o.lock().unwrap();
                            open.push(client.try_clone().unwrap());
                            open.push(server.try_clone().unwrap());
                        }
                        let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                        std::thread::spawn(move || pump(client, server));
                        std::thread::spawn(move || pump(s2, c2));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        FaultProxy {
            port,
            cut,
            stop,
            open,
            accepted,
        }
    }

    /// Closes every forwarded connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ignored = s.shutdown(Shutdown::Both);
        }
    }

    /// Forwards new connections again.
    pub fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.cut();
    }
}
