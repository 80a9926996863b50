package exeseal

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// The sealed copy must equal the binary and refuse every write (CVE-2019-5736).
func TestCopyIsSealedAndIdentical(t *testing.T) {
	mem, err := Copy()
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	seals, err := unix.FcntlInt(mem.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatal(err)
	}
	if seals&Seals != Seals {
		t.Fatalf("seals = %#x, want %#x", seals, Seals)
	}
	want, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("/proc/self/fd/" + itoa(mem.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("sealed copy differs from the executable")
	}
	w, err := os.OpenFile("/proc/self/fd/"+itoa(mem.Fd()), os.O_WRONLY, 0)
	if err == nil {
		_, err = w.Write([]byte("x"))
		w.Close()
	}
	if err == nil {
		t.Fatal("write to the sealed copy succeeded")
	}
}

func itoa(fd uintptr) string { return strconv.FormatUint(uint64(fd), 10) }

func TestWritableFrom(t *testing.T) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &st); err != nil {
		t.Fatal(err)
	}
	owner := func(id uint32) bool { return id == st.Uid }
	none := func(uint32) bool { return false }
	all := func(uint32) bool { return true }
	for _, tc := range []struct {
		name     string
		uid, gid func(uint32) bool
		want     bool
	}{
		{"owner mapped (no user namespace, or host root mapped)", all, all, true},
		{"only the owner's uid mapped", owner, none, true},
		{"nothing mapped", none, none, st.Mode&0o002 != 0},
	} {
		got, err := WritableFrom(tc.uid, tc.gid)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %v %v, want %v", tc.name, got, err, tc.want)
		}
	}
}

// ReadOnly's fd is the running binary itself (same inode), on a mount that
// is read-only, nosuid and nodev.
func TestReadOnly(t *testing.T) {
	f, err := ReadOnly()
	if err != nil {
		if errors.Is(err, unix.ENOSYS) {
			t.Skip("kernel without open_tree/mount_setattr (before 5.12)")
		}
		t.Fatal(err)
	}
	defer f.Close()
	var st, self unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat("/proc/self/exe", &self); err != nil {
		t.Fatal(err)
	}
	if st.Dev != self.Dev || st.Ino != self.Ino {
		t.Fatalf("fd is %d:%d, the binary %d:%d", st.Dev, st.Ino, self.Dev, self.Ino)
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil {
		t.Fatal(err)
	}
	want := int64(unix.ST_RDONLY | unix.ST_NOSUID | unix.ST_NODEV)
	if fs.Flags&want != want {
		t.Fatalf("mount flags %#x, want read-only, nosuid, nodev (%#x)", fs.Flags, want)
	}
}
