// SPDX-License-Identifier: MIT

// Package peer is the workload of bench/peers/chan_peer.h for the Go peers:
// arguments, the start barrier, the clock, the check and the RESULT line.
package peer

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// Num parses a decimal in [lo, hi], or exits 2 with the usage.
func Num(s string, lo, hi uint64, usage string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v < lo || v > hi {
		Usage(usage)
	}
	return v
}

// Usage prints the usage line and exits 2.
func Usage(usage string) {
	fmt.Fprintf(os.Stderr, "usage: %s %s\n", os.Args[0], usage)
	os.Exit(2)
}

// Report checks the count and the sum, prints RESULT, exits 3 if wrong.
func Report(lib string, n uint64, sec float64, count, sum uint64) {
	want := n / 2 * (n + 1)
	if n%2 == 1 {
		want = (n + 1) / 2 * n
	}
	if count != n || sum != want {
		fmt.Fprintf(os.Stderr, "%s: received %d items summing to %d, want %d summing to %d\n", lib, count, sum, n, want)
		os.Exit(3)
	}
	fmt.Printf("RESULT %.6f %d\n", sec, n)
}

// Start is a barrier: Wait counts the workers in, Go releases them. It also
// keeps the measured span: from the first worker leaving the barrier to the
// last one calling Done (each reads the clock itself).
type Start struct {
	ready       sync.WaitGroup
	gate        chan struct{}
	mu          sync.Mutex
	first, last time.Time
}

// NewStart makes a barrier for workers goroutines.
func NewStart(workers int) *Start {
	s := &Start{gate: make(chan struct{})}
	s.ready.Add(workers)
	return s
}

// Wait is called by each worker before it starts.
func (s *Start) Wait() {
	s.ready.Done()
	<-s.gate
	t := time.Now()
	s.mu.Lock()
	if s.first.IsZero() || t.Before(s.first) {
		s.first = t
	}
	s.mu.Unlock()
}

// Done is called by each worker when it has finished.
func (s *Start) Done() {
	t := time.Now()
	s.mu.Lock()
	if t.After(s.last) {
		s.last = t
	}
	s.mu.Unlock()
}

// Go waits until every worker is in and releases them.
func (s *Start) Go() {
	s.ready.Wait()
	close(s.gate)
}

// Seconds is the span, once every worker has called Done.
func (s *Start) Seconds() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last.Sub(s.first).Seconds()
}
