// SPDX-License-Identifier: MIT
//! crossbeam-channel on the peer workload (bench/peers/chan_peer.h):
//! bounded(CAP) or unbounded, blocking send and recv, batch 1 only.
peer::chan_peer_main!("crossbeam", crossbeam_channel);
