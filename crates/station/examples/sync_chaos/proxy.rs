//! The fault proxy between the station and the router: a TCP forwarder on loopback that, by a
//! seeded RNG, cuts connections after a random number of bytes in either direction
//! (mid-upload, mid-answer: the other side sees the connection close with the body
//! unfinished) and stalls them for 1–4 s at a random byte. A connection made while the router
//! is down is closed at once.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Station → router (requests, uploads).
    Up,
    /// Router → station (answers).
    Down,
}

/// What happens to a direction of a connection at a byte count.
#[derive(Debug, Clone, Copy)]
enum Fault {
    Cut,
    Stall(Duration),
}

#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    /// Connections refused because the router was down.
    pub refused: AtomicU64,
    pub cut_up: AtomicU64,
    pub cut_down: AtomicU64,
    pub stalled_up: AtomicU64,
    pub stalled_down: AtomicU64,
}

impl Stats {
    pub fn cuts(&self) -> u64 {
        self.cut_up.load(Ordering::Relaxed) + self.cut_down.load(Ordering::Relaxed)
    }
    pub fn stalled(&self) -> u64 {
        self.stalled_up.load(Ordering::Relaxed) + self.stalled_down.load(Ordering::Relaxed)
    }
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
pub struct Proxy {
    pub address: SocketAddr,
    faults: Arc<AtomicBool>,
    stats: Arc<Stats>,
}

struct Shared {
    upstream: SocketAddr,
    faults: Arc<AtomicBool>,
    stats: Arc<Stats>,
    rng: Mutex<StdRng>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr, seed: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the proxy");
        let address = listener.local_addr().expect("its address");
        let faults = Arc::new(AtomicBool::new(true));
        let stats = Arc::new(Stats::default());
        let shared = Arc::new(Shared {
            upstream,
            faults: Arc::clone(&faults),
            stats: Arc::clone(&stats),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        });
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                tokio::spawn(forward(Arc::clone(&shared), inbound));
            }
        });
        Self {
            address,
            faults,
            stats,
        }
    }

    pub fn stop_faults(&self) {
        self.faults.store(false, Ordering::SeqCst);
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Shared {
    /// The next fault of a direction: after how many more bytes, and what. Connections are
    /// kept alive and carry many requests, so faults are drawn along the bytes, not once per
    /// connection: about one answer in ten is cut or stalled, and about one photo upload in
    /// three. `None` once the faults are off.
    fn next_fault(&self, direction: Direction) -> Option<(u64, Fault)> {
        if !self.faults.load(Ordering::SeqCst) {
            return None;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let after = match direction {
            Direction::Up => rng.gen_range(1..160_000),
            Direction::Down => rng.gen_range(1..8_000),
        };
        let fault = if rng.gen_bool(0.7) {
            Fault::Cut
        } else {
            Fault::Stall(Duration::from_millis(rng.gen_range(1_000..4_000)))
        };
        Some((after, fault))
    }
}

async fn forward(shared: Arc<Shared>, inbound: TcpStream) {
    shared.stats.connections.fetch_add(1, Ordering::Relaxed);
    let Ok(outbound) = TcpStream::connect(shared.upstream).await else {
        shared.stats.refused.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let (in_read, in_write) = inbound.into_split();
    let (out_read, out_write) = outbound.into_split();
    let up = pump(in_read, out_write, Direction::Up, &shared);
    let down = pump(out_read, in_write, Direction::Down, &shared);
    tokio::pin!(up, down);
    // a cut ends both directions at once (both sockets dropped); an end of one side's writing
    // is passed on, and the other direction goes on until it ends too
    tokio::select! {
        cut = &mut up => if !cut { down.await; },
        cut = &mut down => if !cut { up.await; },
    }
}

/// Copies one direction with its faults; returns whether a fault cut the connection.
async fn pump<R, W>(mut from: R, mut to: W, direction: Direction, shared: &Shared) -> bool
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let (cut, stalled) = match direction {
        Direction::Up => (&shared.stats.cut_up, &shared.stats.stalled_up),
        Direction::Down => (&shared.stats.cut_down, &shared.stats.stalled_down),
    };
    let mut buf = vec![0u8; 16 * 1024];
    let mut next = shared.next_fault(direction);
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return false;
            }
            Ok(n) => n,
        };
        let mut chunk = &buf[..n];
        while let Some((after, fault)) = next {
            let Ok(len) = u64::try_from(chunk.len()) else {
                break;
            };
            if after > len {
                next = Some((after - len, fault));
                break;
            }
            let keep = usize::try_from(after)
                .unwrap_or(chunk.len())
                .min(chunk.len());
            if to.write_all(&chunk[..keep]).await.is_err() {
                return false;
            }
            let _ = to.flush().await;
            chunk = &chunk[keep..];
            match fault {
                Fault::Cut => {
                    cut.fetch_add(1, Ordering::Relaxed);
                    return true;
                }
                Fault::Stall(pause) => {
                    stalled.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(pause).await;
                }
            }
            next = shared.next_fault(direction);
        }
        if to.write_all(chunk).await.is_err() {
            return false;
        }
    }
}
