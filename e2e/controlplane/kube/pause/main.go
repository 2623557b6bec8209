// Command pause is the pod sandbox's process in the kind node image built here (no
// registry can be reached for registry.k8s.io/pause): it holds the pod's namespaces
// open, reaps the children it inherits when the pod shares one PID namespace, and
// exits 0 on SIGINT or SIGTERM. Built static (CGO_ENABLED=0) so its image needs no libc.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
