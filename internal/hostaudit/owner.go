package hostaudit

import (
	"io/fs"
	"syscall"
)

// owner returns a file's uid and gid (-1 when the platform does not say).
func owner(fi fs.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}
