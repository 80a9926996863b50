package runtime

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// initBuildID is the Go build ID of the trustbox-init built with this
// trustbox, set by scripts/build (-ldflags -X). Empty in a plain `go build`:
// init is then this binary itself.
var initBuildID string

// InitBinaryName is the container init alone, installed next to trustbox.
const InitBinaryName = "trustbox-init"

var initBinary = sync.OnceValue(findInitBinary)

// findInitBinary opens trustbox-init from the directory of the running
// binary when it is exactly the one built with it (same Go build ID), owned
// by root and writable by nobody else; otherwise init is this binary, as
// before (docs/adr/0006). The file is opened once and exec'd through its fd,
// so what was checked is what runs.
func findInitBinary() *os.File {
	if initBuildID == "" {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(filepath.Dir(exe), InitBinaryName), os.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil
	}
	var st unix.Stat_t
	if unix.Fstat(int(f.Fd()), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != 0 || st.Mode&0o022 != 0 {
		f.Close()
		return nil
	}
	head := make([]byte, 8192)
	n, _ := f.ReadAt(head, 0)
	if goBuildID(head[:n]) != initBuildID {
		f.Close()
		return nil
	}
	return f
}

// goBuildID finds the Go build ID note ("Go\0\0", type 4) that the Go
// linker places near the start of an ELF binary.
func goBuildID(head []byte) string {
	name := []byte("Go\x00\x00")
	for off := 0; ; {
		i := bytes.Index(head[off:], name)
		if i < 0 {
			return ""
		}
		i += off
		off = i + 1
		if i < 12 {
			continue
		}
		namesz := binary.LittleEndian.Uint32(head[i-12:])
		descsz := binary.LittleEndian.Uint32(head[i-8:])
		typ := binary.LittleEndian.Uint32(head[i-4:])
		end := i + 4 + int(descsz)
		if namesz == 4 && typ == 4 && descsz > 0 && descsz < 256 && end <= len(head) {
			return string(head[i+4 : end])
		}
	}
}
