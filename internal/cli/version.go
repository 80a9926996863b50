package cli

import specs "github.com/opencontainers/runtime-spec/specs-go"

func specVersion() string { return specs.Version }
