package hostaudit

import (
	"errors"
	"io/fs"
	"path"
	"strings"
)

var errLoop = errors.New("too many levels of symbolic links")

// resolve follows the symbolic links of a host path as if the root were
// "/": absolute targets restart at the root (so /var/run -> /run works in
// fixtures and on the live host), ".." never climbs above it. With final
// false the last component is left as it is (for lstat). The result is
// relative to the root, for os.Root.
func (s *source) resolve(p string, final bool) (string, error) {
	todo := strings.Split(rel(p), "/")
	var done []string
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case ".", "":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cur := path.Join(append(done, c)...)
		if len(todo) == 0 && !final {
			done = append(done, c)
			break
		}
		fi, err := s.root.Lstat(cur)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return path.Join(append(append(done, c), todo...)...), nil
			}
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		if hops++; hops > 40 {
			return "", &fs.PathError{Op: "resolve", Path: p, Err: errLoop}
		}
		target, err := s.root.Readlink(cur)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			done = nil
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}
