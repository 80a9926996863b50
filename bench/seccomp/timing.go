package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const childEnv = "TBX_BENCH_FILTER"

// loop runs op n times on this thread and returns ns per iteration,
// the median of five rounds.
func loop(op string, n int) float64 {
	runtime.LockOSThread()
	path := []byte("/etc/hostname\x00")
	buf := make([]byte, 64)
	one := func() {
		switch op {
		case "getppid":
			unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
		case "orc": // open, read, close
			fd, _, _ := unix.RawSyscall6(unix.SYS_OPENAT, uintptr(0xffffff9c), uintptr(unsafe.Pointer(&path[0])), unix.O_RDONLY, 0, 0, 0)
			unix.RawSyscall(unix.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), 64)
			unix.RawSyscall(unix.SYS_CLOSE, fd, 0, 0)
		}
	}
	for i := 0; i < n/10; i++ {
		one()
	}
	var rounds []float64
	for r := 0; r < 5; r++ {
		t0 := time.Now()
		for i := 0; i < n; i++ {
			one()
		}
		rounds = append(rounds, float64(time.Since(t0).Nanoseconds())/float64(n))
	}
	sort.Float64s(rounds)
	return rounds[2]
}

// childMain installs the filter in the named file (if any) and times op.
func childMain(file, op string, n int) {
	if file != "none" {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		prog := make([]unix.SockFilter, len(data)/8)
		_ = binary.Read(bytes.NewReader(data), binary.NativeEndian, prog)
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fp := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
		if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fp))); e != 0 {
			fmt.Println("error", e)
			os.Exit(2)
		}
	}
	fmt.Printf("%.1f\n", loop(op, n))
	os.Exit(0)
}

// timeFilter runs a child with prog installed and returns its ns per op.
func timeFilter(prog []unix.SockFilter, op string, n int) (float64, error) {
	file := "none"
	if prog != nil {
		f, err := os.CreateTemp("", "tbx-filter-")
		if err != nil {
			return 0, err
		}
		defer os.Remove(f.Name())
		_ = binary.Write(f, binary.NativeEndian, prog)
		f.Close()
		file = f.Name()
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), childEnv+"="+file, "TBX_BENCH_OP="+op, "TBX_BENCH_N="+strconv.Itoa(n))
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("timing child: %v: %s", err, out)
	}
	return strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
}
