// SPDX-License-Identifier: MIT
//! crossbeam-channel's Select for the select benchmark:
//!   select_crossbeam K CAP N
//! K producers, each sending N/K items (batch 1) on its own channel
//! (bounded(CAP), or "unbounded"); one consumer receives with a Select over
//! the K channels until it has all N (a channel whose producer is done and
//! that is drained leaves the Select). Prints RESULT <seconds> <items>.
use crossbeam_channel::{bounded, unbounded, Receiver, Select, Sender};
use std::process::exit;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

fn main() {
    let v: Vec<String> = std::env::args().collect();
    let bad = || -> ! {
        eprintln!("usage: select_crossbeam K CAP N  (K 1..64, CAP a capacity or 'unbounded')");
        exit(2)
    };
    if v.len() != 4 {
        bad();
    }
    let k: usize = v[1].parse().ok().filter(|&k| (1..=64).contains(&k)).unwrap_or_else(|| bad());
    let cap: Option<usize> = if v[2] == "unbounded" {
        None
    } else {
        Some(v[2].parse().ok().filter(|&c| c >= 1).unwrap_or_else(|| bad()))
    };
    let n: u64 = v[3].parse().ok().filter(|&n| n >= k as u64).unwrap_or_else(|| bad());
    let n = n / k as u64 * k as u64;
    let share = n / k as u64;
    let mut txs: Vec<Sender<u64>> = Vec::new();
    let mut rxs: Vec<Receiver<u64>> = Vec::new();
    for _ in 0..k {
        let (t, r) = match cap {
            Some(c) => bounded(c),
            None => unbounded(),
        };
        txs.push(t);
        rxs.push(r);
    }
    let start = Arc::new(Barrier::new(k + 1));
    let mut prod = Vec::new();
    for (p, tx) in txs.into_iter().enumerate() {
        let b = start.clone();
        prod.push(thread::spawn(move || {
            b.wait();
            let t0 = Instant::now();
            let first = p as u64 * share + 1;
            for v in first..first + share {
                tx.send(v).unwrap();
            }
            (t0, Instant::now())
        }));
    }
    let b = start.clone();
    let cons = thread::spawn(move || {
        b.wait();
        let t0 = Instant::now();
        let mut sel = Select::new();
        for r in &rxs {
            sel.recv(r);
        }
        let (mut count, mut sum) = (0u64, 0u64);
        while count < n {
            let op = sel.select();
            let i = op.index();
            match op.recv(&rxs[i]) {
                Ok(v) => {
                    count += 1;
                    sum += v;
                }
                // That producer is done and its channel drained: stop selecting it.
                Err(_) => sel.remove(i),
            }
        }
        (t0, Instant::now(), count, sum)
    });
    let mut span = peer::Span::new();
    for t in prod {
        let (t0, t1) = t.join().unwrap();
        span.add(t0, t1);
    }
    let (t0, t1, count, sum) = cons.join().unwrap();
    span.add(t0, t1);
    peer::report("crossbeam-select", n, span.seconds(), count, sum);
}
