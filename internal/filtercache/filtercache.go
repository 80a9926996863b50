// Package filtercache keeps compiled seccomp filters on disk, keyed by the profile and the trustbox binary that compiled them.
package filtercache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/trustbox/trustbox/internal/config"
)

// Compiler is the runtime's seccomp hook.
type Compiler func(*specs.Spec) ([]config.SockFilter, uint, error)

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
		h := sha256.New()
		io.WriteString(h, id+"\x00"+options+"\x00")
		if !hashValue(h, reflect.ValueOf(s.Linux.Seccomp)) {
			return compile(s)
		}
		path := filepath.Join(dir, hex.EncodeToString(h.Sum(nil))+".bpf")
		if filter, flags, ok := load(path); ok {
			return filter, flags, nil
		}
		filter, flags, err := compile(s)
		if err != nil || len(filter) == 0 || (s.Linux.Seccomp != nil && s.Linux.Seccomp.ListenerPath != "") {
			return filter, flags, err
		}
		store(dir, path, filter, flags)
		return filter, flags, nil
	}
}

// hashValue feeds v to h unambiguously: every struct field by name (so a
// field the runtime-spec adds is covered without a change here), strings
// and slices with their lengths, nil distinct from empty, map keys sorted.
// Hashing the profile through encoding/json cost each container start
// ~0.5 ms of cold reflection caches; this walk costs a few microseconds.
// It reports false for a kind a profile never holds (float, func, chan):
// the caller then compiles rather than risk sharing a key.
func hashValue(h io.Writer, v reflect.Value) bool {
	var num [8]byte
	u64 := func(x uint64) { binary.LittleEndian.PutUint64(num[:], x); h.Write(num[:]) }
	str := func(s string) { u64(uint64(len(s))); io.WriteString(h, s) }
	switch v.Kind() {
	case reflect.Invalid:
		str("<nil>")
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			str("<nil>")
			return true
		}
		str("&")
		return hashValue(h, v.Elem())
	case reflect.Struct:
		t := v.Type()
		str(t.Name())
		u64(uint64(t.NumField()))
		for i := 0; i < t.NumField(); i++ {
			str(t.Field(i).Name)
			if !hashValue(h, v.Field(i)) {
				return false
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			str("<nil>")
			return true
		}
		u64(uint64(v.Len()))
		for i := 0; i < v.Len(); i++ {
			if !hashValue(h, v.Index(i)) {
				return false
			}
		}
	case reflect.Map:
		if v.IsNil() {
			str("<nil>")
			return true
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		u64(uint64(len(keys)))
		for _, k := range keys {
			if !hashValue(h, k) || !hashValue(h, v.MapIndex(k)) {
				return false
			}
		}
	case reflect.String:
		str(v.String())
	case reflect.Bool:
		if v.Bool() {
			u64(1)
		} else {
			u64(0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		u64(uint64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u64(v.Uint())
	default:
		return false
	}
	return true
}

// An entry file is magic, the seccomp flags, then the raw instructions.
var magic = []byte("trustbox-bpf-1\n")

func load(path string) ([]config.SockFilter, uint, bool) {
	data, err := os.ReadFile(path)
	if err != nil || len(data) < len(magic)+8 || string(data[:len(magic)]) != string(magic) {
		return nil, 0, false
	}
	flags := uint(binary.LittleEndian.Uint64(data[len(magic):]))
	raw := data[len(magic)+8:]
	if len(raw) == 0 || len(raw)%8 != 0 {
		return nil, 0, false
	}
	out := make([]config.SockFilter, len(raw)/8)
	for i := range out {
		b := raw[8*i:]
		out[i] = config.SockFilter{Code: binary.LittleEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.LittleEndian.Uint32(b[4:])}
	}
	return out, flags, true
}

func store(dir, path string, filter []config.SockFilter, flags uint) {
	if os.MkdirAll(dir, 0o700) != nil {
		return
	}
	data := append([]byte{}, magic...)
	data = binary.LittleEndian.AppendUint64(data, uint64(flags))
	for _, f := range filter {
		data = binary.LittleEndian.AppendUint16(data, f.Code)
		data = append(data, f.Jt, f.Jf)
		data = binary.LittleEndian.AppendUint32(data, f.K)
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
