package hostaudit

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trustbox/trustbox/internal/findings"
)

// Options select what host to read and which checks to run.
type Options struct {
	// Root is the host's root directory: "/" for the live host, or a fixture
	// directory holding recorded /proc, /sys and /etc files.
	Root string
	// Only and Skip select checks by ID, ID prefix, section or requirement
	// ID (see findings.Match).
	Only, Skip []string
	// MaxFileSize bounds each file read; DefaultMaxFileSize when zero.
	MaxFileSize int64
	// Now is the time kernel ages are measured against; time.Now when nil.
	Now func() time.Time
	// Probe answers the questions no file does (LSM list, Landlock ABI).
	// When nil, the live kernel is probed if Root is "/", else nothing is.
	Probe Prober
	// StateRoot is trustbox's --root on the audited host; DefaultStateRoot
	// when empty.
	StateRoot string
	// Version is the trustbox version written into the report.
	Version string
}

// check is one rule and the function that decides it.
type check struct {
	findings.Rule
	run func(s *source) result
}

// result is a check's verdict before the rule's metadata is attached.
type result struct {
	level findings.Level
	seen  string
	where string
	fix   string // overrides the rule's fix when set
}

// registry holds the checks, registered on first use: building their
// rules at package init cost every trustbox command (a container start
// included) tens of microseconds and kilobytes for checks only `check` runs.
var (
	registry []check
	pending  []func()
	loadOnce = sync.OnceFunc(func() {
		for _, f := range pending {
			f()
		}
	})
)

// lazy queues a file's registrations (its init calls it).
func lazy(f func()) { pending = append(pending, f) }

func register(cs ...check) { registry = append(registry, cs...) }

// checks returns every registered check.
func checks() []check {
	loadOnce()
	return registry
}

// Rules lists every host check, sorted by section and ID.
func Rules() []findings.Rule {
	out := make([]findings.Rule, 0, len(checks()))
	for _, c := range checks() {
		out = append(out, c.Rule)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Section != out[j].Section {
			return out[i].Section < out[j].Section
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Run reads the host under opts.Root and returns the report. It fails only
// when the root itself cannot be opened; every other problem is a finding.
func Run(opts Options) (*findings.Report, error) {
	root := opts.Root
	if root == "" {
		root = "/"
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("host root %s: %w", root, err)
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("open host root: %w", err)
	}
	defer r.Close()
	s := &source{root: r, dir: abs, max: opts.MaxFileSize, probe: opts.Probe}
	if s.max <= 0 {
		s.max = DefaultMaxFileSize
	}
	if s.probe == nil {
		s.probe = noProbe{}
		if abs == "/" {
			s.probe = liveProbe{}
		}
	}
	s.stateRoot = opts.StateRoot
	if s.stateRoot == "" {
		s.stateRoot = DefaultStateRoot
	}
	s.now = time.Now()
	if opts.Now != nil {
		s.now = opts.Now()
	}
	rep := &findings.Report{Tool: "trustbox", Version: opts.Version, Kind: "host", Subject: abs}
	for _, c := range checks() {
		if findings.Select(c.Rule, opts.Only, opts.Skip) {
			rep.Findings = append(rep.Findings, runOne(c, s))
		}
	}
	rep.Sort()
	return rep, nil
}

// runOne runs a check, turning a panic into an error finding: a malformed
// host file must never crash the audit.
func runOne(c check, s *source) (f findings.Finding) {
	defer func() {
		if p := recover(); p != nil {
			f = finish(c, result{level: findings.Error, seen: fmt.Sprintf("internal error: %v", p)})
		}
	}()
	return finish(c, c.run(s))
}

func finish(c check, r result) findings.Finding {
	f := findings.Finding{Rule: c.Rule, Level: r.level, Seen: r.seen, Where: r.where}
	switch r.level {
	case findings.Pass, findings.NotApplicable:
	case findings.Error:
		f.Fix = "make " + orSomething(r.where) + " readable as the kernel writes it, then re-run; trustbox reads text files up to the size limit"
		if strings.Contains(r.seen, "permission denied") {
			f.Fix = "run trustbox check host as root: " + orSomething(r.where) + " is not readable by this user"
		}
	default:
		f.Fix = c.Rule.Fix
	}
	if r.fix != "" {
		f.Fix = r.fix
	}
	return f
}

func orSomething(w string) string {
	if w == "" {
		return "the file"
	}
	return w
}

// failed turns a read error into an error finding naming the file.
func failed(where string, err error) result {
	return result{level: findings.Error, seen: err.Error(), where: where}
}

func sortStrings(s []string) { sort.Strings(s) }
