// chan_go.go - the channel ping-pong's Go side: two goroutines hand an int
// back and forth through two unbuffered channels, N round trips, on
// GOMAXPROCS=1 (one thread, as corolib's coroutines run). Prints ns per
// hand-off (a round trip is two) for one run; bench_sync runs it between its
// own runs.
//   chan_go N
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: chan_go N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "chan_go: N must be a positive number")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1)
	ping, pong := make(chan int), make(chan int)
	done := make(chan struct{})
	go func() {
		for i := 0; i < n; i++ {
			v := <-ping
			pong <- v
		}
		close(done)
	}()
	t0 := time.Now()
	v := 1
	for i := 0; i < n; i++ {
		ping <- v
		v = <-pong
	}
	<-done
	fmt.Printf("%.1f\n", float64(time.Since(t0).Nanoseconds())/float64(2*n))
}
