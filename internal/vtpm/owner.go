package vtpm

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseOwner reads an Owner written "UID:GID" (decimal host ids), as the
// operator commands take it; "" means no owner (host root only).
func ParseOwner(s string) (*Owner, error) {
	if s == "" {
		return nil, nil
	}
	u, g, ok := strings.Cut(s, ":")
	uid, err1 := strconv.ParseUint(u, 10, 32)
	gid, err2 := strconv.ParseUint(g, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return nil, fmt.Errorf("owner %q: want UID:GID, decimal host ids", s)
	}
	return &Owner{UID: uint32(uid), GID: uint32(gid)}, nil
}

// String writes o as ParseOwner reads it.
func (o Owner) String() string { return fmt.Sprintf("%d:%d", o.UID, o.GID) }
