package hostaudit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
)

// kernelConfig is a parsed kernel build configuration: CONFIG_X -> value
// ("y", "m", a string); options "is not set" are absent.
type kernelConfig struct {
	where string
	opts  map[string]string
}

func (k *kernelConfig) on(name string) bool {
	v := k.opts["CONFIG_"+name]
	return v == "y" || v == "m"
}

// ParseKernelConfig parses the text of a kernel .config.
func ParseKernelConfig(data []byte) (map[string]string, error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, errBinary
	}
	opts := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(k, "CONFIG_") {
			return nil, fmt.Errorf("line %q is not CONFIG_X=value", truncate(line, 60))
		}
		opts[k] = strings.Trim(v, `"`)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scan kernel config: %w", err)
	}
	if len(opts) == 0 {
		return nil, fmt.Errorf("no CONFIG_ options (truncated?)")
	}
	return opts, nil
}

// kconfig loads /proc/config.gz, else /boot/config-RELEASE. It returns
// (nil, nil) when the host publishes neither.
func (s *source) kconfig() (*kernelConfig, error) {
	gz, err := s.read("/proc/config.gz")
	if err == nil {
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return nil, fmt.Errorf("/proc/config.gz: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(zr, s.max+1))
		if err != nil {
			return nil, fmt.Errorf("/proc/config.gz: %w", err)
		}
		if int64(len(data)) > s.max {
			return nil, fmt.Errorf("/proc/config.gz: %w", errTooBig)
		}
		opts, err := ParseKernelConfig(data)
		if err != nil {
			return nil, fmt.Errorf("/proc/config.gz: %w", err)
		}
		return &kernelConfig{where: "/proc/config.gz", opts: opts}, nil
	}
	if !missing(err) {
		return nil, err
	}
	rel, err := s.value("/proc/sys/kernel/osrelease")
	if err != nil {
		if missing(err) {
			return nil, nil
		}
		return nil, err
	}
	p := "/boot/config-" + rel
	data, err := s.read(p)
	if missing(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	opts, err := ParseKernelConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return &kernelConfig{where: p, opts: opts}, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
