package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// FieldError names the config field a check refused.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, a ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, a...)}
}

type check func(s *specs.Spec, rootfs string) error

var checks = []check{
	checkVersion, checkRoot, checkProcess, checkMounts, checkRlimits, checkCapabilities, checkHooks, checkScheduling, checkConsoleSize,
}

// linuxChecks need the linux object.
var linuxChecks = []check{
	checkNamespaces, checkJoinedMount, checkIDMappings, checkSysctl, checkResources, checkDevices, checkPersonality, checkUnsupported,
}

// Validate runs every check and returns the errors joined, each naming its field.
func Validate(s *specs.Spec, rootfs string) error {
	var errs []error
	all := checks
	if s.Linux == nil {
		errs = append(errs, fieldErr("linux", "missing: trustbox runs Linux containers only"))
	} else {
		all = append(append([]check{}, checks...), linuxChecks...)
	}
	for _, c := range all {
		if err := c(s, rootfs); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func checkVersion(s *specs.Spec, _ string) error {
	if !strings.HasPrefix(s.Version, "1.") {
		return fieldErr("ociVersion", "%q is not a 1.x runtime-spec version", s.Version)
	}
	return nil
}

func checkRoot(s *specs.Spec, rootfs string) error {
	if s.Root == nil || s.Root.Path == "" {
		return fieldErr("root.path", "missing")
	}
	st, err := os.Lstat(rootfs)
	if err != nil {
		return fieldErr("root.path", "%v", err)
	}
	if st.Mode()&os.ModeSymlink != 0 {
		return fieldErr("root.path", "%s is a symlink: give the directory itself", rootfs)
	}
	if !st.IsDir() {
		return fieldErr("root.path", "%s is not a directory", rootfs)
	}
	return nil
}

func checkProcess(s *specs.Spec, _ string) error {
	p := s.Process
	if p == nil {
		return nil // create requires it; the runtime checks at use
	}
	if len(p.Args) == 0 && p.CommandLine == "" {
		return fieldErr("process.args", "empty: nothing to run")
	}
	if p.Cwd == "" || !filepath.IsAbs(p.Cwd) {
		return fieldErr("process.cwd", "%q must be an absolute path", p.Cwd)
	}
	for i, e := range p.Env {
		if !strings.Contains(e, "=") {
			return fieldErr(fmt.Sprintf("process.env[%d]", i), "%q is not KEY=VALUE", e)
		}
	}
	if p.OOMScoreAdj != nil && (*p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000) {
		return fieldErr("process.oomScoreAdj", "%d is outside -1000..1000", *p.OOMScoreAdj)
	}
	return nil
}

func checkHooks(s *specs.Spec, _ string) error {
	if s.Hooks == nil {
		return nil
	}
	all := map[string][]specs.Hook{
		"prestart": s.Hooks.Prestart, "createRuntime": s.Hooks.CreateRuntime,
		"createContainer": s.Hooks.CreateContainer, "startContainer": s.Hooks.StartContainer,
		"poststart": s.Hooks.Poststart, "poststop": s.Hooks.Poststop,
	}
	for kind, hooks := range all {
		for i, h := range hooks {
			if !filepath.IsAbs(h.Path) {
				return fieldErr(fmt.Sprintf("hooks.%s[%d].path", kind, i), "%q must be absolute", h.Path)
			}
			if h.Timeout != nil && *h.Timeout <= 0 {
				return fieldErr(fmt.Sprintf("hooks.%s[%d].timeout", kind, i), "must be positive")
			}
		}
	}
	return nil
}

func checkPersonality(s *specs.Spec, _ string) error {
	if s.Linux == nil || s.Linux.Personality == nil {
		return nil
	}
	switch s.Linux.Personality.Domain {
	case specs.PerLinux, specs.PerLinux32:
	default:
		return fieldErr("linux.personality.domain", "%q is not LINUX or LINUX32", s.Linux.Personality.Domain)
	}
	if len(s.Linux.Personality.Flags) > 0 {
		return fieldErr("linux.personality.flags", "no flags are supported")
	}
	return nil
}
