// SPDX-License-Identifier: MIT
//! flume on the peer workload (bench/peers/chan_peer.h): bounded(CAP) or
//! unbounded, blocking send and recv, batch 1 only (default features).
peer::chan_peer_main!("flume", flume);
