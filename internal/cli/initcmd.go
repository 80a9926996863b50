package cli

import "github.com/trustbox/trustbox/internal/initproc"

// runInit is the entry of the re-executed container init (`trustbox init`).
func runInit() int { return initproc.Main() }
