// SPDX-License-Identifier: MIT

// chan_go: Go's channel on the peer workload (bench/peers/chan_peer.h):
// make(chan uint64, CAP), batch 1 only, no unbounded channel. The last
// producer closes the channel; consumers range over it.
package main

import (
	"os"
	"sync"

	"ferrypeers/peer"
)

const usage = "P C B CAP N  (B = 1: Go has no batch calls; CAP >= 1: no unbounded channel)"

func main() {
	if len(os.Args) != 6 {
		peer.Usage(usage)
	}
	p := peer.Num(os.Args[1], 1, 256, usage)
	c := peer.Num(os.Args[2], 1, 256, usage)
	peer.Num(os.Args[3], 1, 1, usage)
	capacity := peer.Num(os.Args[4], 1, 1<<32, usage)
	n := peer.Num(os.Args[5], p*c, 1<<40, usage)
	n = n / (p * c) * (p * c)
	share := n / p

	ch := make(chan uint64, capacity)
	start := peer.NewStart(int(p + c))
	var producers sync.WaitGroup
	producers.Add(int(p))
	for i := uint64(0); i < p; i++ {
		go func(first uint64) {
			defer producers.Done()
			start.Wait()
			for v := first; v < first+share; v++ {
				ch <- v
			}
			start.Done()
		}(i*share + 1)
	}
	counts := make([]uint64, c)
	sums := make([]uint64, c)
	var consumers sync.WaitGroup
	consumers.Add(int(c))
	for i := uint64(0); i < c; i++ {
		go func(i uint64) {
			defer consumers.Done()
			start.Wait()
			var cnt, sum uint64
			for v := range ch {
				cnt++
				sum += v
			}
			counts[i], sums[i] = cnt, sum
			start.Done()
		}(i)
	}
	start.Go()
	producers.Wait()
	close(ch)
	consumers.Wait()
	sec := start.Seconds()
	var count, sum uint64
	for i := range counts {
		count += counts[i]
		sum += sums[i]
	}
	peer.Report("go", n, sec, count, sum)
}
