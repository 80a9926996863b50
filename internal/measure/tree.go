package measure

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// TreeSHA256 digests a root filesystem: every entry's path, type, mode,
// owner and content (regular files) or target (symlinks), in lexical order,
// without following symlinks. Two trees with the same digest hold the same
// files with the same metadata that matters for execution (R-TRUST-1).
func TreeSHA256(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		uid, gid := owner(info)
		fmt.Fprintf(h, "%s\x00%s\x00%o\x00%d:%d\x00", rel, info.Mode().Type(), info.Mode().Perm()|info.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky), uid, gid)
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			io.WriteString(h, target)
		case info.Mode().IsRegular():
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			fh := sha256.New()
			_, err = io.Copy(fh, f)
			f.Close()
			if err != nil {
				return err
			}
			h.Write(fh.Sum(nil))
		}
		io.WriteString(h, "\x00"+strconv.FormatInt(int64(len(rel)), 10)+"\n")
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("digest rootfs %s: %w", root, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
