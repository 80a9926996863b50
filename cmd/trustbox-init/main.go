// Command trustbox-init is the container init of trustbox alone: the
// runtime execs it, when it sits next to the trustbox binary and comes from
// the same build, instead of re-executing its whole CLI (docs/adr/0006).
package main

import (
	"os"

	"github.com/trustbox/trustbox/internal/initproc"
	_ "github.com/trustbox/trustbox/internal/nsenter" // joins cgroups and namespaces before the Go runtime starts
)

func main() { os.Exit(initproc.Main()) }
