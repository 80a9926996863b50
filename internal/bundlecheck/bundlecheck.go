package bundlecheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/trustbox/trustbox/internal/findings"
)

// DefaultMaxConfigSize bounds config.json; real configs are a few KiB.
const DefaultMaxConfigSize = 4 << 20

// Options select the checks and bound the input.
type Options struct {
	Only, Skip  []string
	MaxFileSize int64
	Version     string
}

// subject is what the checks look at.
type subject struct {
	spec   *specs.Spec
	file   string // the config file's name as reported in Where
	bundle string // the bundle directory, empty for check config
}

type check struct {
	findings.Rule
	run func(s *subject) result
}

type result struct {
	level findings.Level
	seen  string
	field string // JSON path inside config.json, e.g. process.capabilities
	fix   string
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

func rule(id, section, title, rationale, fix string, reqs ...string) findings.Rule {
	return findings.Rule{ID: id, Section: section, Title: title, Rationale: rationale, Fix: fix, Requirements: reqs}
}

// configRule is the rule reported when config.json cannot be read or parsed.
var configRule = rule("BUNDLE-CONFIG", "config", "config.json is a readable OCI runtime configuration",
	"Nothing else can be checked in a config that does not parse.",
	"write config.json as JSON following the OCI runtime spec (trustbox spec makes one)", "R-ISO-3")

// Rules lists every bundle check, sorted by section and ID.
func Rules() []findings.Rule {
	out := []findings.Rule{configRule}
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

// CheckBundle lints DIR/config.json and the bundle around it.
func CheckBundle(dir string, opts Options) (*findings.Report, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("bundle %s is not a directory (use check config FILE for a lone config)", dir)
	}
	return check1(filepath.Join(dir, "config.json"), dir, "bundle", opts), nil
}

// CheckConfig lints a lone config file.
func CheckConfig(file string, opts Options) (*findings.Report, error) {
	return check1(file, "", "config", opts), nil
}

func check1(file, bundle, kind string, opts Options) *findings.Report {
	rep := &findings.Report{Tool: "trustbox", Version: opts.Version, Kind: kind, Subject: file}
	if bundle != "" {
		rep.Subject = bundle
	}
	where := filepath.Base(file)
	spec, err := load(file, opts.MaxFileSize)
	if findings.Select(configRule, opts.Only, opts.Skip) {
		f := findings.Finding{Rule: configRule, Level: findings.Pass, Where: where}
		if err != nil {
			f.Level, f.Seen, f.Fix = findings.Error, err.Error(), configRule.Fix
		} else {
			f.Seen = "OCI version " + spec.Version
		}
		rep.Findings = append(rep.Findings, f)
	}
	if err != nil {
		return rep
	}
	s := &subject{spec: spec, file: where, bundle: bundle}
	for _, c := range checks() {
		if findings.Select(c.Rule, opts.Only, opts.Skip) {
			rep.Findings = append(rep.Findings, runOne(c, s))
		}
	}
	rep.Sort()
	return rep
}

func runOne(c check, s *subject) (f findings.Finding) {
	defer func() {
		if p := recover(); p != nil {
			f = findings.Finding{Rule: c.Rule, Level: findings.Error, Seen: fmt.Sprintf("internal error: %v", p), Where: s.file}
		}
	}()
	r := c.run(s)
	f = findings.Finding{Rule: c.Rule, Level: r.level, Seen: r.seen, Where: s.file}
	if r.field != "" {
		f.Where += "#" + r.field
	}
	if r.level != findings.Pass && r.level != findings.NotApplicable {
		f.Fix = c.Rule.Fix
	}
	if r.fix != "" {
		f.Fix = r.fix
	}
	return f
}

var errTooBig = errors.New("config is larger than the size limit")

func load(file string, max int64) (*specs.Spec, error) {
	if max <= 0 {
		max = DefaultMaxConfigSize
	}
	f, err := os.Open(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no config: %w", err)
		}
		return nil, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w (%d bytes)", errTooBig, max)
	}
	return ParseConfig(data)
}

// ParseConfig decodes an OCI runtime config, rejecting trailing data.
func ParseConfig(data []byte) (*specs.Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var s specs.Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("parse config: trailing data after the JSON object")
	}
	if s.Version == "" {
		return nil, fmt.Errorf("parse config: no ociVersion: not an OCI runtime config")
	}
	return &s, nil
}
