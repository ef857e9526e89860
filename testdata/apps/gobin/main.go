// A compiled test app: prints its argv and waits for a signal.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	fmt.Printf("gobin up args=%v\n", os.Args[1:])
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	s := <-c
	fmt.Printf("gobin got %v, exiting\n", s)
}
