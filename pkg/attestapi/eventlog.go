package attestapi

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Limits that keep a hostile log from making the parser allocate without bound.
const (
	maxEvents    = 4096
	maxEventData = 1 << 20
	maxAlgs      = 8
)

// specIDEvent is the TCG_EfiSpecIDEvent ("Spec ID Event03") that opens a
// crypto-agile log, declaring one bank: SHA-256.
func specIDEvent() []byte {
	b := append([]byte("Spec ID Event03"), 0)
	b = binary.LittleEndian.AppendUint32(b, 0) // platformClass: client
	b = append(b, 0, 2, 0, 2)                  // spec 2.0 errata 0, uintnSize 2 (64-bit)
	b = binary.LittleEndian.AppendUint32(b, 1) // numberOfAlgorithms
	b = binary.LittleEndian.AppendUint16(b, algSHA256)
	b = binary.LittleEndian.AppendUint16(b, 32)
	return append(b, 0) // vendorInfoSize
}

// EncodeEventLog writes events as a TCG PC Client crypto-agile event log: a
// TCG_PCR_EVENT header carrying the Spec ID event, then one TCG_PCR_EVENT2
// per event with its SHA-256 digest. tpm2_eventlog and go-attestation parse it.
func EncodeEventLog(events []Event) []byte {
	spec := specIDEvent()
	b := binary.LittleEndian.AppendUint32(nil, 0) // PCR 0
	b = binary.LittleEndian.AppendUint32(b, EvNoAction)
	b = append(b, make([]byte, 20)...) // SHA-1 digest, zero
	b = binary.LittleEndian.AppendUint32(b, uint32(len(spec)))
	b = append(b, spec...)
	for _, e := range events {
		b = AppendEvent(b, e)
	}
	return b
}

// AppendEvent appends one TCG_PCR_EVENT2 to a log.
func AppendEvent(b []byte, e Event) []byte {
	b = binary.LittleEndian.AppendUint32(b, e.PCR)
	b = binary.LittleEndian.AppendUint32(b, e.Type)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint16(b, algSHA256)
	b = append(b, e.Digest[:]...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(e.Data)))
	return append(b, e.Data...)
}

// reader walks a byte slice, failing once instead of at every step.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = fmt.Errorf("truncated at byte %d (need %d more)", r.off, n)
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) u32() uint32 {
	if s := r.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (r *reader) u16() uint16 {
	if s := r.take(2); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

// ParseEventLog reads a crypto-agile event log and returns its events with their
// SHA-256 digests; the leading Spec ID event is checked, not returned.
func ParseEventLog(b []byte) ([]Event, error) {
	r := &reader{b: b}
	r.u32() // PCR
	if t := r.u32(); r.err == nil && t != EvNoAction {
		return nil, fmt.Errorf("event log: first event has type 0x%x, want EV_NO_ACTION (Spec ID)", t)
	}
	r.take(20)
	spec := r.take(int(r.u32()))
	if r.err != nil {
		return nil, fmt.Errorf("event log header: %w", r.err)
	}
	sizes, err := parseSpecID(spec)
	if err != nil {
		return nil, err
	}
	var out []Event
	for r.off < len(b) {
		if len(out) == maxEvents {
			return nil, fmt.Errorf("event log: more than %d events", maxEvents)
		}
		e, err := parseEvent2(r, sizes)
		if err != nil {
			return nil, fmt.Errorf("event log: event %d: %w", len(out), err)
		}
		out = append(out, e)
	}
	return out, nil
}

func parseEvent2(r *reader, sizes map[uint16]int) (Event, error) {
	e := Event{PCR: r.u32(), Type: r.u32()}
	n := r.u32()
	if r.err == nil && n > maxAlgs {
		return e, fmt.Errorf("%d digests", n)
	}
	found := false
	for i := uint32(0); i < n && r.err == nil; i++ {
		alg := r.u16()
		size, ok := sizes[alg]
		if r.err == nil && !ok {
			return e, fmt.Errorf("digest algorithm 0x%04x not declared in the Spec ID event", alg)
		}
		d := r.take(size)
		if alg == algSHA256 && d != nil {
			copy(e.Digest[:], d)
			found = true
		}
	}
	size := r.u32()
	if r.err == nil && size > maxEventData {
		return e, fmt.Errorf("event data of %d bytes", size)
	}
	e.Data = append([]byte(nil), r.take(int(size))...)
	if r.err != nil {
		return e, r.err
	}
	if !found && e.Type != EvNoAction {
		return e, errors.New("no SHA-256 digest")
	}
	return e, nil
}

func parseSpecID(b []byte) (map[uint16]int, error) {
	r := &reader{b: b}
	sig := r.take(16)
	r.take(8) // platform class, version, errata, uintn size
	n := r.u32()
	if r.err != nil || string(sig) != "Spec ID Event03\x00" {
		return nil, errors.New("event log: not a crypto-agile log (no \"Spec ID Event03\" header)")
	}
	if n == 0 || n > maxAlgs {
		return nil, fmt.Errorf("event log: Spec ID event declares %d algorithms", n)
	}
	sizes := map[uint16]int{}
	for i := uint32(0); i < n; i++ {
		alg, size := r.u16(), r.u16()
		sizes[alg] = int(size)
	}
	if r.err != nil {
		return nil, fmt.Errorf("event log: Spec ID event: %w", r.err)
	}
	if sizes[algSHA256] != 32 {
		return nil, errors.New("event log: no SHA-256 bank declared")
	}
	return sizes, nil
}
