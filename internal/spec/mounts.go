package spec

import (
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// MountTypes are the filesystem types trustbox knows how to mount.
var MountTypes = map[string]bool{
	"bind": true, "rbind": true, "proc": true, "sysfs": true, "tmpfs": true, "mqueue": true,
	"devpts": true, "cgroup": true, "cgroup2": true, "none": true, "": true,
}

// IsBind reports whether a mount is a bind mount (by type or option).
func IsBind(m specs.Mount) bool {
	if m.Type == "bind" || m.Type == "rbind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

func checkMounts(s *specs.Spec, _ string) error {
	for i, m := range s.Mounts {
		f := fmt.Sprintf("mounts[%d]", i)
		if m.Destination == "" {
			return fieldErr(f+".destination", "missing")
		}
		if strings.ContainsRune(m.Destination, 0) || strings.ContainsRune(m.Source, 0) {
			return fieldErr(f, "NUL byte in path")
		}
		if !filepath.IsAbs(m.Destination) {
			return fieldErr(f+".destination", "%q must be absolute", m.Destination)
		}
		if !MountTypes[m.Type] {
			return fieldErr(f+".type", "unsupported filesystem type %q", m.Type)
		}
		if IsBind(m) && m.Source == "" {
			return fieldErr(f+".source", "a bind mount needs a source")
		}
		if _, err := ParseMountOptions(m.Options); err != nil {
			return fieldErr(f+".options", "%v", err)
		}
		if len(m.UIDMappings) > 0 != (len(m.GIDMappings) > 0) {
			return fieldErr(f, "uidMappings and gidMappings must be given together")
		}
		if len(m.UIDMappings) > 0 && !IsBind(m) {
			return fieldErr(f+".uidMappings", "id-mapped mounts are bind mounts only")
		}
	}
	return nil
}

// MountOptions is the parsed form of a mount's options list.
type MountOptions struct {
	Flags       uintptr // MS_* flags for the mount
	Attr        uint64  // MOUNT_ATTR_* to set
	ClearAttr   uint64  // MOUNT_ATTR_* to clear
	Propagation uintptr // MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_UNBINDABLE (with MS_REC when r-prefixed)
	Recursive   bool    // rbind
	RecursiveRO bool    // rro
	Data        []string
}

var attrOpts = map[string]struct {
	set, clr uint64
}{
	"ro": {unix.MOUNT_ATTR_RDONLY, 0}, "rw": {0, unix.MOUNT_ATTR_RDONLY},
	"nosuid": {unix.MOUNT_ATTR_NOSUID, 0}, "suid": {0, unix.MOUNT_ATTR_NOSUID},
	"nodev": {unix.MOUNT_ATTR_NODEV, 0}, "dev": {0, unix.MOUNT_ATTR_NODEV},
	"noexec": {unix.MOUNT_ATTR_NOEXEC, 0}, "exec": {0, unix.MOUNT_ATTR_NOEXEC},
	"noatime": {unix.MOUNT_ATTR_NOATIME, 0}, "nodiratime": {unix.MOUNT_ATTR_NODIRATIME, 0},
	"relatime": {unix.MOUNT_ATTR_RELATIME, 0}, "strictatime": {unix.MOUNT_ATTR_STRICTATIME, 0},
	"atime": {0, 0}, "diratime": {0, 0}, "norelatime": {0, 0}, "defaults": {0, 0},
	"async": {0, 0}, "sync": {0, 0}, "dirsync": {0, 0}, "mand": {0, 0}, "nomand": {0, 0},
	"loud": {0, 0}, "silent": {0, 0}, "remount": {0, 0}, "bind": {0, 0}, "rbind": {0, 0},
}

var propOpts = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// ParseMountOptions splits options into attributes, propagation and fs data.
func ParseMountOptions(opts []string) (MountOptions, error) {
	var mo MountOptions
	for _, o := range opts {
		if a, ok := attrOpts[o]; ok {
			mo.Attr = mo.Attr&^a.clr | a.set
			mo.ClearAttr = mo.ClearAttr&^a.set | a.clr
			if o == "rbind" {
				mo.Recursive = true
			}
			continue
		}
		if p, ok := propOpts[o]; ok {
			mo.Propagation = p
			continue
		}
		switch o {
		case "rro":
			mo.Attr |= unix.MOUNT_ATTR_RDONLY
			mo.RecursiveRO = true
		case "rrw", "idmap", "ridmap", "tmpcopyup", "X-mount.mkdir":
			if o == "ridmap" {
				mo.Recursive = true
			}
		default:
			if strings.ContainsAny(o, "\x00,") {
				return mo, fmt.Errorf("option %q is malformed", o)
			}
			mo.Data = append(mo.Data, o)
		}
	}
	return mo, nil
}
