package seccomp

import "github.com/trustbox/trustbox/internal/seccomp/bpfsim"

func checkProgram(p *Program) error { return bpfsim.Check(p.Filter) }
