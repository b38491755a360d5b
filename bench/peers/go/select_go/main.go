// SPDX-License-Identifier: MIT

// select_go: Go's select for the select benchmark:
//
//	select_go K CAP N
//
// K producers (K = 2 or 8: Go's select statement has its cases written out), each
// sending N/K items on its own make(chan uint64, CAP); one consumer receives
// with a select over the K channels until it has all N.
package main

import (
	"os"
	"sync"

	"ferrypeers/peer"
)

const usage = "K CAP N  (K = 2 or 8; CAP >= 1)"

func recv2(ch []chan uint64) uint64 {
	select {
	case v := <-ch[0]:
		return v
	case v := <-ch[1]:
		return v
	}
}

func recv8(ch []chan uint64) uint64 {
	select {
	case v := <-ch[0]:
		return v
	case v := <-ch[1]:
		return v
	case v := <-ch[2]:
		return v
	case v := <-ch[3]:
		return v
	case v := <-ch[4]:
		return v
	case v := <-ch[5]:
		return v
	case v := <-ch[6]:
		return v
	case v := <-ch[7]:
		return v
	}
}

func main() {
	if len(os.Args) != 4 {
		peer.Usage(usage)
	}
	k := peer.Num(os.Args[1], 2, 8, usage)
	var recv func([]chan uint64) uint64
	switch k {
	case 2:
		recv = recv2
	case 8:
		recv = recv8
	default:
		peer.Usage(usage)
	}
	capacity := peer.Num(os.Args[2], 1, 1<<32, usage)
	n := peer.Num(os.Args[3], k, 1<<40, usage)
	n = n / k * k
	share := n / k

	chans := make([]chan uint64, k)
	for i := range chans {
		chans[i] = make(chan uint64, capacity)
	}
	start := peer.NewStart(int(k + 1))
	var producers sync.WaitGroup
	producers.Add(int(k))
	for i := uint64(0); i < k; i++ {
		go func(ch chan uint64, first uint64) {
			defer producers.Done()
			start.Wait()
			for v := first; v < first+share; v++ {
				ch <- v
			}
			start.Done()
		}(chans[i], i*share+1)
	}
	done := make(chan [2]uint64)
	go func() {
		start.Wait()
		var count, sum uint64
		for count < n {
			sum += recv(chans)
			count++
		}
		start.Done()
		done <- [2]uint64{count, sum}
	}()
	start.Go()
	r := <-done
	producers.Wait()
	peer.Report("go-select", n, start.Seconds(), r[0], r[1])
}
