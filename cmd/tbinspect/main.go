// Command tbinspect runs inside a trustbox container and reports, read from inside, what confines it.
package main

import (
	"os"

	"github.com/trustbox/trustbox/internal/inspect"
)

func main() { os.Exit(inspect.Main(os.Args)) }
