// Package filtercache keeps compiled seccomp filters on disk, keyed by the profile and the trustbox binary that compiled them.
package filtercache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
)

// Compiler is the runtime's seccomp hook.
type Compiler func(*specs.Spec) ([]config.SockFilter, uint, error)

type entry struct {
	Filter []config.SockFilter `json:"filter"`
	Flags  uint                `json:"flags"`
}

// Wrap caches compile's results under dir (created 0700). The key covers the
// config's linux.seccomp, the options the caller names, and the identity of
// the running binary (device, inode, size, mtime), so a rebuilt trustbox
// never reuses an old filter. A filter that asks for a listener (user
// notification) is never cached, nor is any error.
func Wrap(dir, options string, compile Compiler) Compiler {
	id := binaryIdentity()
	return func(s *specs.Spec) ([]config.SockFilter, uint, error) {
		if id == "" || s.Linux == nil {
			return compile(s)
		}
		profile, err := json.Marshal(s.Linux.Seccomp)
		if err != nil {
			return compile(s)
		}
		sum := sha256.Sum256([]byte(id + "\x00" + options + "\x00" + string(profile)))
		path := filepath.Join(dir, hex.EncodeToString(sum[:])+".json")
		if data, err := os.ReadFile(path); err == nil {
			var e entry
			if json.Unmarshal(data, &e) == nil && len(e.Filter) > 0 {
				return e.Filter, e.Flags, nil
			}
		}
		filter, flags, err := compile(s)
		if err != nil || len(filter) == 0 || (s.Linux.Seccomp != nil && s.Linux.Seccomp.ListenerPath != "") {
			return filter, flags, err
		}
		store(dir, path, entry{filter, flags})
		return filter, flags, nil
	}
}

func store(dir, path string, e entry) {
	if os.MkdirAll(dir, 0o700) != nil {
		return
	}
	data, err := json.Marshal(e)
	if err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
}

func binaryIdentity() string {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		return ""
	}
	return fmt.Sprintf("%d:%d:%d:%d.%d", st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec)
}
