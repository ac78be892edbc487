// Command pause is the pod sandbox process: it holds the pod's namespaces and exits on SIGTERM or
// SIGINT. Built static and imported into containerd as the sandbox image, since no registry is reachable.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
