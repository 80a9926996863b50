package bpfsim

import (
	"testing"

	"golang.org/x/sys/unix"
)

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }
func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, K: k, Jt: jt, Jf: jf}
}

// The interpreter reads arguments little-endian (low word first) and counts
// instructions; the cache emulation refuses anything that reads arguments.
func TestRunAndConstAllow(t *testing.T) {
	prog := []unix.SockFilter{
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 0),             // nr
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, 7, 2, 0),      // nr==7 -> args
		jump(unix.BPF_JMP|unix.BPF_JA, 0, 0, 0),                  // no-op jump
		stmt(unix.BPF_RET|unix.BPF_K, RetAllow),                  //
		stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 20),            // arg0 high word
		jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, 0xdead, 0, 1), //
		stmt(unix.BPF_RET|unix.BPF_K, 0x00050001),                // errno 1
		stmt(unix.BPF_RET|unix.BPF_K, 0),                         // kill thread
	}
	if err := Check(prog); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		d        Data
		want     uint32
		executed int
		args     bool
	}{
		{"other call", Data{Nr: 3}, RetAllow, 4, false},
		{"arg high word matches", Data{Nr: 7, Args: [6]uint64{0xdead_00000000}}, 0x00050001, 5, true},
		{"arg low word only", Data{Nr: 7, Args: [6]uint64{0xdead}}, 0, 5, true},
	}
	for _, c := range cases {
		r, err := Run(prog, c.d)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if r.Action != c.want || r.Executed != c.executed || r.ReadArgs != c.args {
			t.Errorf("%s: got %+v, want action %#x executed %d args %v", c.name, r, c.want, c.executed, c.args)
		}
	}
	if ConstAllow(prog, 0, 7) {
		t.Error("call 7 reads arguments but was found cacheable")
	}
	if !ConstAllow(prog, 0, 3) {
		t.Error("call 3 reaches ALLOW with constants only but was not found cacheable")
	}
}

func TestCheckRejects(t *testing.T) {
	bad := map[string][]unix.SockFilter{
		"empty":          nil,
		"jump past end":  {jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, 1, 5, 0), stmt(unix.BPF_RET|unix.BPF_K, 0)},
		"unaligned load": {stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 2), stmt(unix.BPF_RET|unix.BPF_K, 0)},
		"no return":      {stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 0)},
	}
	for name, p := range bad {
		if Check(p) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
