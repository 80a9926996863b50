package vtpm

import "github.com/google/go-tpm/tpm2"

// loadedHandles asks the TPM which transient objects and sessions are loaded.
func (i *Instance) loadedHandles() map[uint32]bool {
	live := map[uint32]bool{}
	for _, first := range []uint32{0x80000000, 0x02000000, 0x03000000} {
		rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapHandles, Property: first, PropertyCount: 64}.Execute(i)
		if err != nil {
			continue
		}
		hs, err := rsp.CapabilityData.Data.Handles()
		if err != nil {
			continue
		}
		for _, h := range hs.Handle {
			live[uint32(h)] = true
		}
	}
	return live
}
