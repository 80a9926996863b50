package seccomp

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// What the features document advertises is what the parser takes: every
// action, operator, architecture and known flag parses in a profile, and
// TSYNC is known but not among the applied flags.
func TestFeaturesAreAccepted(t *testing.T) {
	actions, operators, archs, known, supported := Features()
	for _, a := range actions {
		if a == "SCMP_ACT_NOTIFY" {
			continue // needs a listenerPath, which Parse's callers supply
		}
		if _, err := Parse([]byte(fmt.Sprintf(`{"defaultAction":%q}`, a))); err != nil {
			t.Errorf("action %s: %v", a, err)
		}
	}
	for _, op := range operators {
		two := 0
		if op == "SCMP_CMP_MASKED_EQ" {
			two = 1
		}
		p := fmt.Sprintf(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"valueTwo":%d,"op":%q}]}]}`, two, op)
		if _, err := Parse([]byte(p)); err != nil {
			t.Errorf("operator %s: %v", op, err)
		}
	}
	if _, err := Parse([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["` + strings.Join(archs, `","`) + `"]}`)); err != nil {
		t.Errorf("architectures: %v", err)
	}
	if _, err := Parse([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","flags":["` + strings.Join(known, `","`) + `"]}`)); err != nil {
		t.Errorf("flags: %v", err)
	}
	if !slices.Contains(known, "SECCOMP_FILTER_FLAG_TSYNC") || slices.Contains(supported, "SECCOMP_FILTER_FLAG_TSYNC") {
		t.Errorf("TSYNC: known %v, supported %v", known, supported)
	}
	for _, want := range []string{"SCMP_ACT_NOTIFY", "SCMP_ACT_KILL_PROCESS"} {
		if !slices.Contains(actions, want) {
			t.Errorf("actions lack %s", want)
		}
	}
	if !slices.Contains(archs, "SCMP_ARCH_X86_64") || !slices.Contains(operators, "SCMP_CMP_MASKED_EQ") {
		t.Errorf("archs %v, operators %v", archs, operators)
	}
}
