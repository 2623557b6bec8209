// Command alloy is Grafana Alloy's own command line (flowcmd.RootCommand: run, validate,
// fmt, convert, ...) in a main package of our own. Alloy's published module holds no main
// package (its binary is built from ./collector, a module the proxy does not serve), so
// e2e/alloy/build.ts compiles this file inside a copy of the published module. It adds
// nothing: every component and flag is Alloy's.
package main

import (
	"os"

	"github.com/grafana/alloy/flowcmd"
)

func main() {
	if err := flowcmd.RootCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
