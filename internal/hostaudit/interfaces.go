package hostaudit

import (
	"fmt"
	"strings"

	"github.com/trustbox/trustbox/internal/findings"
)

// Implements R-HOST-2: unused interfaces (serial consoles, gettys, network
// listeners) disabled.
func init() {
	lazy(func() {
		register(
			check{hostRule("IFACE-SERIAL-CONSOLE", "interfaces", "no serial console on the kernel command line",
				"A serial console is a login and kernel-debug interface outside the network's controls.",
				"remove console=ttyS*/ttyAMA* from the kernel command line unless the platform needs it", "R-HOST-2"), checkSerialConsole},
			check{hostRule("IFACE-GETTY", "interfaces", "no serial getty services are enabled",
				"A getty on a serial line offers a login prompt to whoever reaches the port.",
				"systemctl disable --now serial-getty@ttyS0.service (and remove T0 lines from /etc/inittab)", "R-HOST-2"), checkGetty},
			check{hostRule("IFACE-LISTEN", "interfaces", "no network service listens beyond loopback",
				"Every listening socket on a container host is attack surface; each should be known and needed.",
				"stop the services you do not need, or bind them to 127.0.0.1", "R-HOST-2", "R-OPS-4"), checkListeners},
		)
	})
}

func checkSerialConsole(s *source) result {
	t, err := s.text("/proc/cmdline")
	if missing(err) {
		return result{level: findings.Info, seen: "no /proc/cmdline", where: "/proc/cmdline"}
	}
	if err != nil {
		return failed("/proc/cmdline", err)
	}
	var serial []string
	for _, f := range strings.Fields(t) {
		if f == "--" {
			break
		}
		if v, ok := strings.CutPrefix(f, "console="); ok && (strings.HasPrefix(v, "ttyS") || strings.HasPrefix(v, "ttyAMA") || strings.HasPrefix(v, "hvc")) {
			serial = append(serial, f)
		}
	}
	if len(serial) > 0 {
		return result{level: findings.Warn, seen: strings.Join(serial, " "), where: "/proc/cmdline"}
	}
	return result{level: findings.Pass, seen: "no serial console=", where: "/proc/cmdline"}
}

func checkGetty(s *source) result {
	var serial, other []string
	for _, dir := range []string{"/etc/systemd/system/getty.target.wants", "/etc/systemd/system/multi-user.target.wants"} {
		names, err := s.list(dir)
		if err != nil && !missing(err) {
			return failed(dir, err)
		}
		for _, n := range names {
			switch {
			case strings.HasPrefix(n, "serial-getty@"):
				serial = append(serial, n)
			case strings.HasPrefix(n, "getty@"):
				other = append(other, n)
			}
		}
	}
	if t, err := s.text("/etc/inittab"); err == nil {
		for _, line := range strings.Split(t, "\n") {
			if !strings.HasPrefix(line, "#") && strings.Contains(line, "getty") && (strings.Contains(line, "ttyS") || strings.Contains(line, "ttyAMA")) {
				serial = append(serial, "inittab: "+truncate(line, 60))
			}
		}
	} else if !missing(err) {
		return failed("/etc/inittab", err)
	}
	if len(serial) > 0 {
		return result{level: findings.Warn, seen: "serial gettys: " + strings.Join(serial, ", "), where: "/etc/systemd/system/getty.target.wants"}
	}
	return result{level: findings.Pass, seen: fmt.Sprintf("no serial getty; %d virtual-console getty(s) %s", len(other), strings.Join(other, ",")), where: "/etc/systemd/system/getty.target.wants"}
}

func checkListeners(s *source) result {
	var exposed []string
	local, tables := 0, 0
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		p := "/proc/net/" + proto
		t, err := s.text(p)
		if missing(err) {
			continue
		}
		if err != nil {
			return failed(p, err)
		}
		tables++
		ls, err := ParseProcNet(proto, t)
		if err != nil {
			return failed(p, err)
		}
		for _, l := range ls {
			if l.Loopback() {
				local++
			} else {
				exposed = append(exposed, l.String())
			}
		}
	}
	switch {
	case tables == 0:
		return result{level: findings.Info, seen: "no /proc/net tables to read", where: "/proc/net"}
	case len(exposed) > 0:
		return result{level: findings.Warn, seen: fmt.Sprintf("%d reachable beyond loopback: %s (%d loopback-only)", len(exposed), truncate(strings.Join(exposed, ", "), 300), local), where: "/proc/net/tcp"}
	}
	return result{level: findings.Pass, seen: fmt.Sprintf("%d listening, all on loopback", local), where: "/proc/net/tcp"}
}
