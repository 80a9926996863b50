package measure

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/trustbox/trustbox/pkg/attestapi"
)

// separatorData is the EV_SEPARATOR data that closes the launch phase.
var separatorData = []byte{0, 0, 0, 0}

// LaunchEvents is the measured launch of a container (R-TRUST-1): launch
// identity and runtime into PCR 8, canonical OCI config into 9, image into 11,
// security policy into 12, entrypoint into 13, a separator into each, and a
// copy of every event into PCR 17, which only locality 2 can extend.
func LaunchEvents(id string, launch attestapi.Launch, in attestapi.MeasureInput) ([]attestapi.Event, error) {
	launch.Container = id
	var cfg json.RawMessage
	if len(in.OCIConfig) > 0 {
		c, err := Canonical(in.OCIConfig)
		if err != nil {
			return nil, fmt.Errorf("measure OCI config of %s: %w", id, err)
		}
		cfg = c
	}
	envSum := sha256.Sum256([]byte(joinNUL(in.Entrypoint.Env)))
	datas := []struct {
		pcr uint32
		d   attestapi.EventData
	}{
		{attestapi.PCRRuntime, attestapi.EventData{Kind: attestapi.KindLaunch, Launch: &launch}},
		{attestapi.PCRRuntime, attestapi.EventData{Kind: attestapi.KindRuntime, Runtime: &in.Runtime}},
		{attestapi.PCRConfig, attestapi.EventData{Kind: attestapi.KindConfig, Config: cfg}},
		{attestapi.PCRImage, attestapi.EventData{Kind: attestapi.KindImage, Image: &in.Image}},
		{attestapi.PCRPolicy, attestapi.EventData{Kind: attestapi.KindPolicy, Policy: &in.Policy}},
		{attestapi.PCREntrypoint, attestapi.EventData{Kind: attestapi.KindEntrypoint, Entrypoint: &attestapi.EntrypointRecord{
			Argv: in.Entrypoint.Argv, EnvSHA256: hex.EncodeToString(envSum[:]), ExecutableSHA256: in.Entrypoint.ExecutableSHA256}}},
	}
	var events, copies []attestapi.Event
	for _, x := range datas {
		b, err := encodeData(x.d)
		if err != nil {
			return nil, fmt.Errorf("measure %s of %s: %w", x.d.Kind, id, err)
		}
		e := attestapi.NewEvent(x.pcr, attestapi.EvIPL, b)
		events = append(events, e)
		e.PCR = attestapi.PCRLaunchCopy
		copies = append(copies, e)
	}
	for _, pcr := range []uint32{attestapi.PCRRuntime, attestapi.PCRConfig, attestapi.PCRImage, attestapi.PCRPolicy, attestapi.PCREntrypoint, attestapi.PCRLaunchCopy} {
		sep := attestapi.NewEvent(pcr, attestapi.EvSeparator, separatorData)
		if pcr == attestapi.PCRLaunchCopy {
			copies = append(copies, sep)
		} else {
			events = append(events, sep)
		}
	}
	return append(events, copies...), nil
}

func encodeData(d attestapi.EventData) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func joinNUL(ss []string) string {
	var b bytes.Buffer
	for _, s := range ss {
		b.WriteString(s)
		b.WriteByte(0)
	}
	return b.String()
}

// Locality is the locality an extend of pcr needs: 2 for the DRTM range
// 17-22, which the tenant (always at locality 0) cannot extend.
func Locality(pcr uint32) uint8 {
	if pcr >= 17 && pcr <= 22 {
		return 2
	}
	return 0
}

// DecodeData parses a launch event's data.
func DecodeData(b []byte) (*attestapi.EventData, error) {
	var d attestapi.EventData
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("launch event data: %w", err)
	}
	return &d, nil
}
