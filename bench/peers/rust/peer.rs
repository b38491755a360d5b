// SPDX-License-Identifier: MIT
//! The workload of bench/peers/chan_peer.h for the Rust peers: arguments,
//! threads, the start barrier, the clock, the check and the RESULT line.
use std::process::exit;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

pub struct Args {
    pub producers: usize,
    pub consumers: usize,
    pub batch: usize,
    /// None: unbounded.
    pub cap: Option<usize>,
    pub n: u64,
}

fn num(s: &str, lo: u64, hi: u64) -> Option<u64> {
    match s.parse::<u64>() {
        Ok(v) if v >= lo && v <= hi => Some(v),
        _ => None,
    }
}

fn usage(prog: &str, extra: &str) -> ! {
    eprintln!("usage: {} P C B CAP N{}", prog, extra);
    exit(2)
}

/// Parse `P C B CAP N` (see chan_peer.h); exit 2 on a bad argument.
/// `batch_ok`: false for libraries without batch calls (B must be 1).
pub fn parse(batch_ok: bool) -> Args {
    let v: Vec<String> = std::env::args().collect();
    let prog = v.get(0).map(|s| s.as_str()).unwrap_or("peer");
    if v.len() != 6 {
        usage(prog, "");
    }
    let p = num(&v[1], 1, 256).unwrap_or_else(|| usage(prog, ""));
    let c = num(&v[2], 1, 256).unwrap_or_else(|| usage(prog, ""));
    let b = num(&v[3], 1, 4096).unwrap_or_else(|| usage(prog, ""));
    if b != 1 && !batch_ok {
        usage(prog, " (this library has no batch calls: B = 1)");
    }
    let cap = if v[4] == "unbounded" {
        None
    } else {
        Some(num(&v[4], 1, 1 << 32).unwrap_or_else(|| usage(prog, "")) as usize)
    };
    let n = num(&v[5], p * c, 1 << 40).unwrap_or_else(|| usage(prog, ""));
    Args { producers: p as usize, consumers: c as usize, batch: b as usize, cap, n: n / (p * c) * (p * c) }
}

/// The measured span: from the first thread leaving the start barrier to the
/// last one done (each thread reads the clock itself, so a main thread that
/// is not scheduled does not skew it).
pub struct Span {
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Span {
    pub fn new() -> Span {
        Span { first: None, last: None }
    }
    pub fn add(&mut self, t0: Instant, t1: Instant) {
        self.first = Some(self.first.map_or(t0, |f| f.min(t0)));
        self.last = Some(self.last.map_or(t1, |l| l.max(t1)));
    }
    pub fn seconds(&self) -> f64 {
        match (self.first, self.last) {
            (Some(f), Some(l)) => l.duration_since(f).as_secs_f64(),
            _ => 0.0,
        }
    }
}

/// Check the count and the sum, print the RESULT line, exit 3 if wrong.
pub fn report(lib: &str, n: u64, sec: f64, count: u64, sum: u64) {
    let want = if n % 2 == 1 { (n + 1) / 2 * n } else { n / 2 * (n + 1) };
    if count != n || sum != want {
        eprintln!("{}: received {} items summing to {}, want {} summing to {}", lib, count, sum, n, want);
        exit(3);
    }
    println!("RESULT {:.6} {}", sec, n);
}

extern "C" {
    fn sched_setaffinity(pid: i32, size: usize, mask: *const u64) -> i32;
}

/// PEER_PIN as chan_peer.h reads it: 0 none, 1 one, 2 split, 3 alt; exits 2
/// if unknown.
fn pin_mode() -> u32 {
    match std::env::var("PEER_PIN").as_deref() {
        Err(_) | Ok("") => 0,
        Ok("one") => 1,
        Ok("split") => 2,
        Ok("alt") => 3,
        Ok(other) => {
            eprintln!("PEER_PIN: one, split or alt, not '{}'", other);
            std::process::exit(2);
        }
    }
}

/// Pin the calling thread to the CPU chan_peer.h gives thread `index` of
/// its side: all on 0 (one), producers on 0 and consumers on 1 (split), or
/// alternating (alt); exits 2 if that fails.
fn pin(mode: u32, producer: bool, index: usize) {
    if mode == 0 {
        return;
    }
    let c = (!producer) as usize;
    let cpu = match mode {
        1 => 0,
        2 => c,
        _ => (index + c) % 2,
    };
    let mut mask = [0u64; 16];
    mask[cpu / 64] |= 1u64 << (cpu % 64);
    // SAFETY: the mask is a valid cpu_set_t of 1024 bits for the calling thread (pid 0).
    if unsafe { sched_setaffinity(0, std::mem::size_of_val(&mask), mask.as_ptr()) } != 0 {
        eprintln!("PEER_PIN: cannot pin a thread to CPU {}", cpu);
        std::process::exit(2);
    }
}

/// Run the workload: each producer gets one sender (and drops it when done:
/// the channel disconnects after the last), each consumer one receiver and
/// returns (count, sum).
pub fn run<S, R>(lib: &str, a: &Args, senders: Vec<S>, receivers: Vec<R>, produce: fn(S, u64, u64),
                 consume: fn(R) -> (u64, u64))
where
    S: Send + 'static,
    R: Send + 'static,
{
    let start = Arc::new(Barrier::new(a.producers + a.consumers));
    let share = a.n / a.producers as u64;
    let mode = pin_mode();
    let mut prod = Vec::new();
    for (p, s) in senders.into_iter().enumerate() {
        let b = start.clone();
        prod.push(thread::spawn(move || {
            pin(mode, true, p);
            b.wait();
            let t0 = Instant::now();
            produce(s, p as u64 * share + 1, share);
            (t0, Instant::now())
        }));
    }
    let mut cons = Vec::new();
    for (i, r) in receivers.into_iter().enumerate() {
        let b = start.clone();
        cons.push(thread::spawn(move || {
            pin(mode, false, i);
            b.wait();
            let t0 = Instant::now();
            let r = consume(r);
            (t0, Instant::now(), r)
        }));
    }
    let mut span = Span::new();
    for t in prod {
        let (t0, t1) = t.join().unwrap();
        span.add(t0, t1);
    }
    let (mut count, mut sum) = (0u64, 0u64);
    for t in cons {
        let (t0, t1, (c, s)) = t.join().unwrap();
        span.add(t0, t1);
        count += c;
        sum += s;
    }
    report(lib, a.n, span.seconds(), count, sum);
}

/// The main of a channel peer whose crate has `bounded`, `unbounded`, and
/// `Sender::send` / `Receiver::recv` that fail once the other side is gone
/// (crossbeam-channel, flume): blocking calls, batch 1.
#[macro_export]
macro_rules! chan_peer_main {
    ($lib:expr, $krate:ident) => {
        fn produce(tx: $krate::Sender<u64>, first: u64, count: u64) {
            for v in first..first + count {
                tx.send(v).unwrap();
            }
        }

        fn consume(rx: $krate::Receiver<u64>) -> (u64, u64) {
            let (mut n, mut s) = (0u64, 0u64);
            while let Ok(v) = rx.recv() {
                n += 1;
                s += v;
            }
            (n, s)
        }

        fn main() {
            let a = peer::parse(false);
            let (tx, rx) = match a.cap {
                Some(c) => $krate::bounded(c),
                None => $krate::unbounded(),
            };
            let txs: Vec<_> = (0..a.producers).map(|_| tx.clone()).collect();
            let rxs: Vec<_> = (0..a.consumers).map(|_| rx.clone()).collect();
            drop(tx);
            drop(rx);
            peer::run($lib, &a, txs, rxs, produce, consume);
        }
    };
}
