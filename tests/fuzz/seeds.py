#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the hand-made seeds of tests/fuzz/corpus/ (seed-*).

Each seed is an input for chan_fuzz.c: five bytes choose the channel, then
each step is an opcode byte and its arguments, in the order the fuzzer reads
them (see do_step and the do_* functions there). Run it after changing how
the fuzzer reads its input: python3 tests/fuzz/seeds.py tests/fuzz/corpus
"""
import os
import sys

# Channel kinds (open_channel): first byte % 8; bit 7 = release rx first.
RENDEZVOUS, CAP1, CAPN, UNBOUNDED, LEVELS, BUDGET, WEIGH, BIG = range(8)
NORMAL = 4          # "odd" argument byte: no odd argument
PLAIN, FREE, CANCEL_OWN, NESTED = 4, 5, 6, 7   # waker actions (byte % 8)
DL_NULL, DL_PAST, DL_FUTURE, DL_BAD = 0, 1, 4, 6


def open_(kind, elem=2, drop=False, n=4, b3=0, b4=10, rx_first=False):
    """elem: index into {4, 5, 8, 13, 16, 24}; n: capacity N = 2 + n."""
    b1 = elem + (6 if drop else 0)
    return [kind | (0x80 if rx_first else 0), b1, n, b3, b4]


def send(n, w=0, odd=NORMAL):            return [0, n, odd, w]
def try_send(n, w=0, odd=NORMAL):        return [1, n, odd, w]
def send_until(n, dl, w=0, odd=NORMAL):  return [2, n, dl, odd, w]
def send_prio(n, p, w=0, odd=NORMAL):    return [3, n, p, odd, w]
def send_prio_until(n, p, dl, w=0):      return [4, n, p, dl, NORMAL, w]
def recv(m, odd=NORMAL):                 return [5, m, odd]
def try_recv(m, odd=NORMAL):             return [6, m, odd]
def recv_until(m, dl, odd=NORMAL):       return [7, m, dl, odd]
def recv_start(slot, m, act=PLAIN, odd=NORMAL):      return [8, slot, m, odd, act]
def send_start(slot, n, act=PLAIN, w=0, odd=NORMAL):  return [9, slot, n, odd, act, w]
def send_prio_start(slot, n, p, act=PLAIN, w=0):      return [10, slot, n, p, NORMAL, act, w]
# (a send always reads its weight byte, even when it creates no items)
def result(slot):  return [11, slot]
def cancel(slot):  return [12, slot]
TX_CLONE, RX_CLONE, TX_RELEASE, RX_RELEASE, TX_CLOSE, STATS = [13], [14], [15], [16], [17], [18]
def odd_call(what, extra=0): return [19, what] + ([extra] if what == 6 or what >= 8 else [])
def retire(slot): return [20, slot]


def steps(*parts):
    out = []
    for p in parts:
        out += p
    return bytes(out)


SEEDS = {
    # every kind: fill, drain, blocking calls that do not wait
    "rendezvous-async": steps(open_(RENDEZVOUS), recv_start(0, 3), send(2), recv_start(1, 2),
                              try_send(3), send_start(2, 2), try_recv(4), result(0), result(2), STATS),
    "cap1-pingpong": steps(open_(CAP1), send(1), try_send(1), recv(1), send(1), recv_until(1, DL_PAST),
                           try_recv(1), STATS),
    "capn-fill-drain": steps(open_(CAPN, n=3), send(5), try_send(3), recv(2), recv(8), try_recv(1),
                             send_until(4, DL_FUTURE), recv_until(8, DL_FUTURE), STATS),
    "capn-odd-size": steps(open_(CAPN, elem=3, n=5), send(7), recv(3), send(3), recv(8), STATS),
    "unbounded-many": steps(open_(UNBOUNDED, elem=5), send(230), send(8), recv(8), recv(239), try_recv(8)),
    "levels-order": steps(open_(LEVELS, b3=1 + 4 * 3), send_prio(3, 0), send_prio(3, 2), send_prio(2, 1),
                          recv(4), recv(8), STATS),
    "levels-rendezvous": steps(open_(LEVELS, b3=0), send_prio_start(0, 2, 1), send_prio_start(1, 2, 0),
                               recv(1), recv(3), result(0), result(1)),
    "levels-bad-prio": steps(open_(LEVELS, b3=0 + 4 * 2), send_prio(2, 230), send_prio(2, 255),
                             send_prio_until(2, 225, DL_PAST), send_prio_start(0, 1, 231)),
    "budget-plain": steps(open_(BUDGET, b3=0, b4=3), send(4), try_send(2), recv(1), try_send(2), recv(8),
                          STATS),
    "budget-oversize": steps(open_(BUDGET, b3=0, b4=0), send(1), try_send(1), recv(1), send(1), STATS),
    "budget-levels": steps(open_(BUDGET, b3=2 + 4 * 1, b4=20), send_prio(3, 2), send_prio(3, 0), recv(8)),
    "weigh-fit": steps(open_(WEIGH, b3=0, b4=6), send(3, w=1), try_send(4, w=5), recv(2), try_send(2, w=2),
                       recv(8), STATS),
    "weigh-blocked-sender": steps(open_(WEIGH, b3=0, b4=4), send(2, w=2), send_start(0, 4, w=3),
                                  recv(1), recv(1), recv(8), result(0), STATS),
    "weigh-unbounded": steps(open_(WEIGH, b3=1, b4=10), send(6, w=0), send_start(0, 3, w=11), recv(3),
                             recv(8), result(0)),
    "big-ring": steps(open_(BIG, elem=4), send(230), send(230), recv(239), recv(239), STATS),
    "big-levels": steps(open_(BIG, b3=1), send_prio(230, 1), send_prio(20, 0), recv(239), recv(8)),
    # async ops: wakers, cancel, result
    "async-recv-then-send": steps(open_(CAPN), recv_start(0, 3), recv_start(1, 3), send(5), result(0),
                                  result(1), cancel(0)),
    "async-send-blocked": steps(open_(CAP1), send(1), send_start(0, 3), send_start(1, 2), try_recv(2),
                                recv(1), cancel(1), result(0), recv(8)),
    "async-cancel-pending": steps(open_(CAPN), recv_start(0, 2), cancel(0), result(0), send(2),
                                  recv_start(0, 8), retire(1)),
    "async-cancel-sender-refills": steps(open_(CAP1), send(1), send_start(0, 2), send_start(1, 1),
                                         cancel(0), recv(1), recv(1), result(1)),
    "async-close-completes": steps(open_(CAPN), recv_start(0, 2), recv_start(1, 2), TX_CLOSE, result(0),
                                   try_send(1), recv(1)),
    "async-rx-release-epipe": steps(open_(CAP1, drop=True), send(1), send_start(0, 3), RX_RELEASE,
                                    result(0), try_send(1)),
    "waker-frees-op": steps(open_(CAPN), recv_start(0, 2, act=FREE), send(1), recv_start(0, 1), send(1)),
    "waker-cancels-own": steps(open_(CAPN), recv_start(0, 2, act=CANCEL_OWN), send(1), result(0)),
    "waker-nested-call": steps(open_(CAPN), recv_start(0, 2, act=NESTED), send(1), *[try_send(1)],
                               recv_start(1, 2, act=NESTED), send(1), *[cancel(0)], STATS),
    "waker-nested-release": steps(open_(CAPN), TX_CLONE, recv_start(0, 2, act=NESTED), send(1),
                                  *[TX_RELEASE], STATS),
    "waker-cancels-round": steps(open_(RENDEZVOUS), recv_start(0, 1, act=NESTED), recv_start(1, 1),
                                 send(2), *[cancel(1)], result(1)),
    # a waker that runs inside another op's start cancels that op: completed
    # at once (-EINPROGRESS, nothing changes) or left pending (withdrawn)
    "waker-cancels-start-at-once": steps(open_(RENDEZVOUS), recv_start(0, 1, act=NESTED), send_start(1, 1),
                                         *[cancel(1)], result(1), cancel(1)),
    "waker-cancels-start-pending": steps(open_(RENDEZVOUS), recv_start(0, 1, act=NESTED), send_start(1, 2),
                                         *[cancel(1)], result(1), recv(1)),
    "waker-cancels-recv-start": steps(open_(RENDEZVOUS), send_start(0, 1, act=NESTED), recv_start(1, 2),
                                      *[result(1)], cancel(1)),
    "start-zero-and-bad": steps(open_(CAPN), send_start(0, 0), recv_start(1, 0), send_start(2, 1, odd=1),
                                recv_start(3, 1, odd=2), recv_start(4, 1, odd=3), result(0), cancel(0)),
    # handles
    "handles-clone-release": steps(open_(CAPN), TX_CLONE, RX_CLONE, send(2), TX_RELEASE, recv(1),
                                   RX_RELEASE, recv(1), TX_RELEASE, recv(8), STATS),
    "handles-close-drain": steps(open_(CAPN), send(3), TX_CLOSE, TX_CLOSE, try_send(1), recv(2), recv(8),
                                 recv_start(0, 2), STATS),
    "handles-drop": steps(open_(CAPN, drop=True, n=6), send(5), RX_RELEASE, try_send(2), STATS),
    "handles-drop-levels": steps(open_(LEVELS, drop=True, b3=1 + 4 * 3), send_prio(2, 1), send_prio(2, 0),
                                 RX_RELEASE),
    "handles-rx-first": steps(open_(CAPN, rx_first=True), recv_start(0, 2), send_start(1, 1), STATS),
    # odd arguments
    "odd-null-handles": steps(open_(CAPN), send(1, odd=0), try_recv(1, odd=0), recv(1, odd=1),
                              send(2, odd=1), send(0, odd=1), odd_call(0), odd_call(1), odd_call(2)),
    "odd-ops": steps(open_(CAPN), odd_call(3), odd_call(4), odd_call(5), odd_call(6, 3), odd_call(7)),
    "odd-huge-open": steps(open_(CAPN), odd_call(8, 1), odd_call(9, 6), odd_call(10, 0x80 + 2),
                           odd_call(11, 0x40 + 8), odd_call(8, 5), odd_call(8, 11)),
    "odd-huge-counts": steps(open_(CAPN), try_recv(250), recv_start(0, 251), send(2), TX_CLOSE,
                             try_send(250), send(251), send_start(1, 252), result(1)),
    "odd-zero-counts": steps(open_(CAPN), send(0), try_send(0), recv(0), try_recv(0), send_until(0, DL_PAST)),
    "deadlines-past": steps(open_(CAP1), send_until(2, DL_PAST), send_until(1, 2), recv_until(1, 3),
                            recv_until(1, DL_PAST), send_prio_until(1, 0, DL_PAST)),
    "deadlines-null-future": steps(open_(CAPN), send_until(1, DL_NULL), send_until(1, DL_FUTURE),
                                   send_prio_until(1, 0, DL_NULL), recv_until(2, DL_NULL),
                                   recv_until(1, 5)),
    "deadlines-bad": steps(open_(CAPN), send_until(1, DL_BAD), send_until(1, 7), send_until(0, 8),
                           recv_until(1, 9), send_prio_until(1, 0, 6), send(1), recv_until(1, 7)),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds written to {out}")


if __name__ == "__main__":
    main()
