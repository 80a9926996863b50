//go:build !goexperiment.jsonv2

package spec

import specs "github.com/opencontainers/runtime-spec/specs-go"

// fastParse always declines without GOEXPERIMENT=jsonv2 (fastparse.go).
func fastParse([]byte) (*specs.Spec, Unknown, bool) { return nil, Unknown{}, false }
