package main

import (
	"os/exec"
	"strings"
	"testing"
)

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// The runtime binary stays small and auditable: no RPC, metrics, image-crypto or signing stacks.
func TestRuntimeDependencies(t *testing.T) {
	for _, d := range deps(t, "github.com/trustbox/trustbox/cmd/trustbox") {
		for _, bad := range []string{"google.golang.org/grpc", "prometheus", "ocicrypt", "sigstore"} {
			if strings.Contains(d, bad) {
				t.Errorf("cmd/trustbox pulls in %s", d)
			}
		}
	}
}

// Imports flow one way: init imports only the leaves and mechanisms it applies.
func TestInitImportsStayNarrow(t *testing.T) {
	for _, d := range deps(t, "github.com/trustbox/trustbox/internal/initproc") {
		for _, bad := range []string{"/internal/runtime", "/internal/cli", "/internal/vtpm", "/internal/attest", "net/http"} {
			if strings.HasSuffix(d, bad) || d == bad {
				t.Errorf("internal/initproc imports %s", d)
			}
		}
	}
	for _, d := range deps(t, "github.com/trustbox/trustbox/internal/runtime") {
		if strings.HasSuffix(d, "/internal/cli") {
			t.Errorf("internal/runtime imports the CLI")
		}
	}
}
