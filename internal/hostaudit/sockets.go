package hostaudit

import (
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Listener is one listening socket from /proc/net/{tcp,tcp6,udp,udp6}.
type Listener struct {
	Proto string
	Addr  net.IP
	Port  int
}

func (l Listener) String() string {
	return fmt.Sprintf("%s %s", l.Proto, net.JoinHostPort(l.Addr.String(), strconv.Itoa(l.Port)))
}

// Loopback reports whether only this host can reach the socket.
func (l Listener) Loopback() bool { return l.Addr.IsLoopback() }

// ParseProcNet returns the listening sockets of a /proc/net table: TCP in
// state LISTEN (0A), UDP unconnected (07).
func ParseProcNet(proto, s string) ([]Listener, error) {
	want := "0A"
	if strings.HasPrefix(proto, "udp") {
		want = "07"
	}
	var out []Listener
	for i, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) == 0 {
			continue
		}
		if len(f) < 4 {
			return nil, fmt.Errorf("line %d: %d fields", i+1, len(f))
		}
		if f[3] != want {
			continue
		}
		hostHex, portHex, ok := strings.Cut(f[1], ":")
		if !ok {
			return nil, fmt.Errorf("line %d: address %q has no port", i+1, truncate(f[1], 40))
		}
		ip, err := procNetIP(hostHex)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		port, err := strconv.ParseUint(portHex, 16, 16)
		if err != nil {
			return nil, fmt.Errorf("line %d: port %q: %w", i+1, truncate(portHex, 10), err)
		}
		out = append(out, Listener{Proto: proto, Addr: ip, Port: int(port)})
	}
	return out, nil
}

// procNetIP decodes the kernel's hex address: 32-bit words in host
// (little-endian on the architectures trustbox supports) byte order.
func procNetIP(h string) (net.IP, error) {
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil, fmt.Errorf("address %q is not 8 or 32 hex digits", truncate(h, 40))
	}
	ip := make(net.IP, len(b))
	for w := 0; w < len(b); w += 4 {
		for i := 0; i < 4; i++ {
			ip[w+i] = b[w+3-i]
		}
	}
	return ip, nil
}
