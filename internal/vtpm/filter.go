package vtpm

import (
	"encoding/binary"
	"fmt"
)

// Response codes for a refused command.
const (
	// rcDisabled is TPM_RC_DISABLED, "the command is disabled": what a
	// tenant sees for a command the adapter filters (tpm2-tools prints it).
	rcDisabled uint32 = 0x120
	// rcCommandCode is TPM_RC_COMMAND_CODE, for codes the adapter does not know.
	rcCommandCode uint32 = 0x143
)

// Command codes the filter treats specially.
const (
	ccNVUndefineSpaceSpecial = 0x11F
	ccEvictControl           = 0x120
	ccHierarchyControl       = 0x121
	ccNVUndefineSpace        = 0x122
	ccChangeEPS              = 0x124
	ccChangePPS              = 0x125
	ccClear                  = 0x126
	ccClearControl           = 0x127
	ccHierarchyChangeAuth    = 0x129
	ccNVDefineSpace          = 0x12A
	ccPCRAllocate            = 0x12B
	ccPPCommands             = 0x12D
	ccSetPrimaryPolicy       = 0x12E
	ccFieldUpgradeStart      = 0x12F
	ccNVGlobalWriteLock      = 0x132
	ccNVIncrement            = 0x134
	ccNVSetBits              = 0x135
	ccNVExtend               = 0x136
	ccNVWrite                = 0x137
	ccNVWriteLock            = 0x138
	ccNVChangeAuth           = 0x13B
	ccSetAlgorithmSet        = 0x13C
	ccFieldUpgradeData       = 0x141
	ccFlushContext           = 0x165
)

// forbidden are commands no tenant may run on its vTPM: they would clear it,
// change hierarchy state or authorisation, or reshape the TPM (issue 4).
var forbidden = map[uint32]string{
	ccClear:               "TPM2_Clear",
	ccClearControl:        "TPM2_ClearControl",
	ccHierarchyControl:    "TPM2_HierarchyControl",
	ccHierarchyChangeAuth: "TPM2_HierarchyChangeAuth",
	ccChangeEPS:           "TPM2_ChangeEPS",
	ccChangePPS:           "TPM2_ChangePPS",
	ccSetPrimaryPolicy:    "TPM2_SetPrimaryPolicy",
	ccPPCommands:          "TPM2_PP_Commands",
	ccPCRAllocate:         "TPM2_PCR_Allocate",
	ccSetAlgorithmSet:     "TPM2_SetAlgorithmSet",
	ccFieldUpgradeStart:   "TPM2_FieldUpgradeStart",
	ccFieldUpgradeData:    "TPM2_FieldUpgradeData",
	ccNVGlobalWriteLock:   "TPM2_NV_GlobalWriteLock",
}

// nvWrites change an NV index named in their handle area.
var nvWrites = map[uint32]bool{
	ccNVUndefineSpaceSpecial: true, ccNVUndefineSpace: true, ccNVIncrement: true,
	ccNVSetBits: true, ccNVExtend: true, ccNVWrite: true, ccNVWriteLock: true, ccNVChangeAuth: true,
}

const (
	rhPlatform   = 0x4000000C
	rhPlatformNV = 0x40000010
)

// ekNV reports whether h is in the TCG EK certificate and template NV range.
func ekNV(h uint32) bool { return h >= 0x01C00000 && h <= 0x01C07FFF }

// ekPersistent reports whether h is in the TCG EK persistent-handle range.
func ekPersistent(h uint32) bool { return h >= 0x81010000 && h <= 0x810100FF }

// command is a parsed TPM command header plus its handle area.
type command struct {
	cc      uint32
	handles []uint32
	params  []byte // after the handle area and the authorisation area
}

// parseCommand reads the header and handle area of a TPM command.
func parseCommand(b []byte) (*command, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("command shorter than its header")
	}
	tag, cc := binary.BigEndian.Uint16(b[0:2]), binary.BigEndian.Uint32(b[6:10])
	n, ok := commandHandles[cc]
	if !ok {
		return &command{cc: cc}, nil
	}
	if len(b) < headerSize+4*n {
		return nil, fmt.Errorf("command 0x%x shorter than its %d handles", cc, n)
	}
	c := &command{cc: cc}
	for i := 0; i < n; i++ {
		c.handles = append(c.handles, binary.BigEndian.Uint32(b[headerSize+4*i:]))
	}
	rest := b[headerSize+4*n:]
	if tag == 0x8002 { // TPM_ST_SESSIONS: skip the authorisation area
		if len(rest) < 4 {
			return nil, fmt.Errorf("command 0x%x: missing authorisation size", cc)
		}
		size := binary.BigEndian.Uint32(rest)
		if uint64(len(rest)) < 4+uint64(size) {
			return nil, fmt.Errorf("command 0x%x: authorisation area overruns the command", cc)
		}
		rest = rest[4+size:]
	}
	c.params = rest
	return c, nil
}

// Refusal explains why the adapter refused a command.
type Refusal struct {
	Code   uint32 // TPM response code returned to the tenant
	Reason string
}

// Filter decides whether a tenant may send cmd to its vTPM; nil means yes.
// It refuses Clear and hierarchy changes, any use of the platform hierarchy,
// writes to EK certificate NV indices and EK persistent handles, vendor
// commands (swtpm's locality change among them), and unknown command codes.
func Filter(b []byte) *Refusal {
	c, err := parseCommand(b)
	if err != nil {
		return &Refusal{Code: rcCommandCode, Reason: err.Error()}
	}
	if c.cc&0x20000000 != 0 {
		return &Refusal{rcDisabled, fmt.Sprintf("vendor command 0x%x (locality changes included) is not allowed", c.cc)}
	}
	if name, ok := forbidden[c.cc]; ok {
		return &Refusal{rcDisabled, name + " is not allowed on a container's vTPM"}
	}
	if _, ok := commandHandles[c.cc]; !ok {
		return &Refusal{rcCommandCode, fmt.Sprintf("unknown command code 0x%x", c.cc)}
	}
	for _, h := range c.handles {
		if h == rhPlatform || h == rhPlatformNV {
			return &Refusal{rcDisabled, fmt.Sprintf("command 0x%x uses the platform hierarchy", c.cc)}
		}
	}
	if nvWrites[c.cc] {
		for _, h := range c.handles {
			if ekNV(h) {
				return &Refusal{rcDisabled, fmt.Sprintf("command 0x%x writes EK NV index 0x%08x", c.cc, h)}
			}
		}
	}
	if c.cc == ccNVDefineSpace && len(c.params) >= 2 {
		// TPM2B_AUTH auth, then TPM2B_NV_PUBLIC: size(2) nvIndex(4) ...
		off := 2 + int(binary.BigEndian.Uint16(c.params)) + 2
		if len(c.params) >= off+4 && ekNV(binary.BigEndian.Uint32(c.params[off:])) {
			return &Refusal{rcDisabled, fmt.Sprintf("NV_DefineSpace in the EK NV range 0x%08x", binary.BigEndian.Uint32(c.params[off:]))}
		}
	}
	if c.cc == ccEvictControl {
		if ekPersistent(c.handles[1]) || (len(c.params) >= 4 && ekPersistent(binary.BigEndian.Uint32(c.params))) {
			return &Refusal{rcDisabled, "EvictControl on an EK persistent handle"}
		}
	}
	return nil
}
