// ws_go.go - the scheduler benchmark's Go side: N goroutines, each doing K
// rounds of xorshift64 (work() is the same arithmetic as bench_work() in
// work.h), spawned by one goroutine that yields every 64 spawns, on
// GOMAXPROCS=P. Prints ns per
// goroutine for one run; bench_ws runs it between its own runs.
//   ws_go P N K
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var sink uint64

func work(x uint64, k int) uint64 {
	for i := 0; i < k; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: ws_go PROCS N K")
		os.Exit(2)
	}
	p, _ := strconv.Atoi(os.Args[1])
	n, _ := strconv.Atoi(os.Args[2])
	k, _ := strconv.Atoi(os.Args[3])
	runtime.GOMAXPROCS(p)
	var wg sync.WaitGroup
	wg.Add(n)
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			go func(i int) {
				atomic.AddUint64(&sink, work(uint64(i)+1, k))
				wg.Done()
			}(i)
			if i%64 == 63 {
				runtime.Gosched()
			}
		}
	}()
	wg.Wait()
	fmt.Printf("%.1f\n", float64(time.Since(t0).Nanoseconds())/float64(n))
}
