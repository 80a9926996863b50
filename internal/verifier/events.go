package verifier

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/trustbox/trustbox/pkg/attestapi"
)

// checkLog parses the event log, re-hashes every event's data against its
// digest, and replays the log against the quoted PCR values.
func checkLog(ev *attestapi.Evidence) ([]attestapi.Event, error) {
	events, err := attestapi.ParseEventLog(ev.EventLog)
	if err != nil {
		return nil, refusal(err.Error())
	}
	for i, e := range events {
		if e.Type == attestapi.EvNoAction {
			continue
		}
		if sha256.Sum256(e.Data) != e.Digest {
			return nil, refusal(fmt.Sprintf("event %d (PCR %d): data does not hash to its digest (tampered event data)", i, e.PCR))
		}
	}
	replay := attestapi.Replay(events)
	for _, p := range attestapi.LaunchPCRs {
		want, ok := replay[p]
		if !ok {
			want = attestapi.StartValue(p)
		}
		if !bytes.Equal(ev.Quote.PCRs[p], want[:]) {
			return nil, refusal(fmt.Sprintf("PCR %d: event log replays to %x, quote says %x (log and TPM disagree)", p, want, ev.Quote.PCRs[p]))
		}
	}
	return events, nil
}

type claims struct {
	image, profile string
}

// checkPolicy reads the launch events (each kind exactly once, in PCR 17 as
// in its own PCR) and applies the policy to them.
func checkPolicy(ev *attestapi.Evidence, q *quoted, events []attestapi.Event, p *attestapi.Policy) (claims, []error) {
	var c claims
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, refusal(fmt.Sprintf(f, a...))) }
	byKind := map[string]*attestapi.EventData{}
	copies := 0
	for _, e := range events {
		if e.Type != attestapi.EvIPL {
			continue
		}
		if e.PCR == attestapi.PCRLaunchCopy {
			copies++
			continue
		}
		var d attestapi.EventData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			bad("event on PCR %d: data is not a trustbox launch event: %v", e.PCR, err)
			continue
		}
		if byKind[d.Kind] != nil {
			bad("launch event %s appears twice", d.Kind)
		}
		byKind[d.Kind] = &d
	}
	for _, k := range []string{attestapi.KindLaunch, attestapi.KindRuntime, attestapi.KindConfig, attestapi.KindImage, attestapi.KindPolicy, attestapi.KindEntrypoint} {
		if byKind[k] == nil {
			bad("launch event %s is missing from the log", k)
		}
	}
	if copies != len(byKind) {
		bad("PCR %d holds %d launch events, the launch PCRs %d", attestapi.PCRLaunchCopy, copies, len(byKind))
	}
	if len(errs) > 0 {
		return c, errs
	}
	l := byKind[attestapi.KindLaunch].Launch
	if l == nil || l.Container != ev.ContainerID {
		bad("launch event names another container than %q", ev.ContainerID)
	} else if l.ResetCount != q.resetCount || l.RestartCount != q.restartCount {
		bad("vTPM was reset or restarted since launch (reset %d->%d, restart %d->%d)", l.ResetCount, q.resetCount, l.RestartCount, q.restartCount)
	}
	if img := byKind[attestapi.KindImage].Image; img != nil {
		c.image = img.RootfsDigest
	}
	if len(p.AllowedImageDigests) > 0 && !slices.Contains(p.AllowedImageDigests, c.image) {
		bad("image %q is not in the policy's allowed_image_digests", c.image)
	}
	if rt := byKind[attestapi.KindRuntime].Runtime; len(p.AllowedRuntimeDigests) > 0 && (rt == nil || !slices.Contains(p.AllowedRuntimeDigests, rt.BinarySHA256)) {
		bad("runtime binary is not in the policy's allowed_runtime_digests")
	}
	if pol := byKind[attestapi.KindPolicy].Policy; pol != nil {
		c.profile = pol.Profile
		if p.RequiredSeccompSHA256 != "" && pol.SeccompSHA256 != p.RequiredSeccompSHA256 {
			bad("seccomp profile %q is not the required %q", pol.SeccompSHA256, p.RequiredSeccompSHA256)
		}
	}
	if p.RequiredProfile != "" && c.profile != p.RequiredProfile {
		bad("security profile %q is not the required %q", c.profile, p.RequiredProfile)
	}
	return c, errs
}
