package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Print writes the human report (or JSON) of a demo run.
func Print(w io.Writer, res *Result, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	in := res.Inspect
	var ns []string
	for k := range in.Namespaces {
		ns = append(ns, k)
	}
	sort.Strings(ns)
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("trustbox demo: the embedded inspector ran in a container with the secure defaults and reported:")
	p("")
	p("Isolation (R-ISO-1, R-LSM-f)")
	p("  namespaces     %s: each its own", strings.Join(ns, " "))
	p("  user mapping   %s (container id, host id, count): root inside is an unprivileged host user", in.UIDMap)
	p("Privileges (R-LSM-d, R-LSM-e)")
	p("  capabilities   %s (bounding set: %d)", strings.Join(in.CapEffective, " "), len(in.CapBounding))
	p("  no_new_privs   %v", in.NoNewPrivs)
	p("  seccomp        %s: trustbox default profile with the always-on blacklist (R-LSM-c)", in.Seccomp)
	p("Filesystem (R-LSM-g)")
	var masked []string
	for k, v := range in.Masked {
		if v {
			masked = append(masked, k)
		}
	}
	sort.Strings(masked)
	p("  masked         %s", strings.Join(masked, " "))
	p("  rootfs, /proc/sys, /sys, cgroupfs: read-only")
	p("Forbidden operations tried from inside (R-TRUST-5, R-LSM-c..g)")
	blocked := 0
	for _, a := range in.Attempts {
		mark := "ALLOWED"
		if a.Blocked {
			mark, blocked = "blocked", blocked+1
		}
		p("  %-8s %-36s %s", mark, a.Op, a.Outcome)
	}
	p("Trust chain (R-TRUST-1, R-TRUST-2, R-TRUST-4, R-TRUST-6)")
	switch a, t := res.Attest, in.TPM; {
	case a == nil || a.Skipped != "":
		p("  vTPM           not attached: %s", a.Skipped)
	default:
		p("  vTPM           seen inside at /run/tpm: %v, launch event log %d bytes, PCRs 8-13 read through it: %d", t.Present, t.EventLogBytes, len(t.PCRs))
		root := a.RootKind
		if root == "software" {
			root = "SOFTWARE root (this host has no TPM; every certificate says so)"
		}
		p("  EK certified   by a %s", root)
		if a.Verdict.Trusted {
			p("  attestation    quote verified, event log replayed, image %s matches policy: TRUSTED", short(a.Image))
		} else {
			p("  attestation    NOT trusted: %s", strings.Join(a.Verdict.Reasons, "; "))
		}
	}
	p("Baseline (R-LSM-h): %d decisions on the config", len(res.Baseline))
	for _, d := range res.Baseline {
		p("  %-9s %s", d.Action, d.String())
	}
	p("Audit log (R-OPS-2): %d events, hash chain intact: %v", res.AuditN, res.AuditOK)
	verdict := "PROTECTED"
	if !res.Protected {
		verdict = "NOT PROTECTED"
	}
	p("")
	p("%s: %d of %d forbidden operations blocked", verdict, blocked, len(in.Attempts))
	return nil
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19] + "…"
	}
	return digest
}
