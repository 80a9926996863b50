// Command trustbox is a runc-compatible OCI runtime that is secure by default.
package main

import (
	"os"

	"github.com/trustbox/trustbox/internal/cli"
	_ "github.com/trustbox/trustbox/internal/nsenter" // joins namespaces before the Go runtime starts
)

func main() {
	os.Exit(cli.Main(os.Args))
}
