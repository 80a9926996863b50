package attestapi

import "crypto/sha256"

// TCG PC Client event types used in a trustbox launch log.
const (
	EvNoAction  uint32 = 0x00000003
	EvSeparator uint32 = 0x00000004
	EvIPL       uint32 = 0x0000000D
)

// algSHA256 is TPM_ALG_SHA256; the launch log records the SHA-256 bank.
const algSHA256 uint16 = 0x000B

// Event is one measurement: Digest = SHA-256(Data) extended into PCR.
type Event struct {
	PCR    uint32
	Type   uint32
	Digest [32]byte
	Data   []byte
}

// NewEvent hashes data into an event for pcr.
func NewEvent(pcr, typ uint32, data []byte) Event {
	return Event{PCR: pcr, Type: typ, Digest: sha256.Sum256(data), Data: data}
}

// StartValue is a PCR's value after TPM2_Startup(CLEAR): all zero, except
// the locality-protected PCRs 17-22, which start all-ones until a dynamic
// launch resets them.
func StartValue(pcr uint32) [32]byte {
	var v [32]byte
	if pcr >= 17 && pcr <= 22 {
		for i := range v {
			v[i] = 0xFF
		}
	}
	return v
}

// Replay extends every event's digest from the start values and returns the
// resulting SHA-256 PCR values; EV_NO_ACTION events are not extended.
func Replay(events []Event) map[uint32][32]byte {
	pcrs := map[uint32][32]byte{}
	for _, e := range events {
		if e.Type == EvNoAction {
			continue
		}
		v, ok := pcrs[e.PCR]
		if !ok {
			v = StartValue(e.PCR)
		}
		pcrs[e.PCR] = sha256.Sum256(append(v[:], e.Digest[:]...))
	}
	return pcrs
}
