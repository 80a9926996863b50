package vtpm

import (
	"encoding/binary"
	"testing"
)

// cmdBytes builds a raw TPM command: header, handles, an empty password
// authorisation when sessions is set, then params.
func cmdBytes(cc uint32, sessions bool, handles []uint32, params []byte) []byte {
	b := make([]byte, headerSize)
	tag := uint16(0x8001)
	if sessions {
		tag = 0x8002
	}
	binary.BigEndian.PutUint16(b, tag)
	binary.BigEndian.PutUint32(b[6:], cc)
	for _, h := range handles {
		b = binary.BigEndian.AppendUint32(b, h)
	}
	if sessions {
		pw := []byte{0x40, 0, 0, 9, 0, 0, 0, 0, 0} // TPM_RS_PW, empty nonce, attrs, empty hmac
		b = binary.BigEndian.AppendUint32(b, uint32(len(pw)))
		b = append(b, pw...)
	}
	b = append(b, params...)
	binary.BigEndian.PutUint32(b[2:], uint32(len(b)))
	return b
}

// Implements R-TRUST-7 and issue 4's command filter: what a tenant may not run.
func TestFilter(t *testing.T) {
	nvDefine := func(index uint32) []byte {
		p := []byte{0, 0} // empty TPM2B_AUTH
		p = append(p, 0, 14)
		p = binary.BigEndian.AppendUint32(p, index)
		return append(p, make([]byte, 10)...)
	}
	cases := []struct {
		name    string
		cmd     []byte
		refused bool
	}{
		{"GetRandom", cmdBytes(0x17B, false, nil, []byte{0, 8}), false},
		{"CreatePrimary owner", cmdBytes(0x131, true, []uint32{0x40000001}, nil), false},
		{"CreatePrimary platform", cmdBytes(0x131, true, []uint32{rhPlatform}, nil), true},
		{"Clear", cmdBytes(ccClear, true, []uint32{0x4000000A}, nil), true},
		{"HierarchyChangeAuth", cmdBytes(ccHierarchyChangeAuth, true, []uint32{0x40000001}, nil), true},
		{"HierarchyControl", cmdBytes(ccHierarchyControl, true, []uint32{0x40000001}, nil), true},
		{"NV_Write EK cert", cmdBytes(ccNVWrite, true, []uint32{0x40000001, 0x01C00002}, nil), true},
		{"NV_Write own index", cmdBytes(ccNVWrite, true, []uint32{0x01500000, 0x01500000}, nil), false},
		{"NV_Read EK cert", cmdBytes(0x14E, true, []uint32{0x01C00002, 0x01C00002}, nil), false},
		{"NV_UndefineSpace EK cert", cmdBytes(ccNVUndefineSpace, true, []uint32{0x40000001, 0x01C0000A}, nil), true},
		{"NV_DefineSpace EK range", cmdBytes(ccNVDefineSpace, true, []uint32{0x40000001}, nvDefine(0x01C00004)), true},
		{"NV_DefineSpace own", cmdBytes(ccNVDefineSpace, true, []uint32{0x40000001}, nvDefine(0x01500000)), false},
		{"EvictControl EK out", cmdBytes(ccEvictControl, true, []uint32{0x40000001, 0x81010001}, binary.BigEndian.AppendUint32(nil, 0x81010001)), true},
		{"EvictControl onto EK handle", cmdBytes(ccEvictControl, true, []uint32{0x40000001, 0x80000000}, binary.BigEndian.AppendUint32(nil, 0x81010002)), true},
		{"EvictControl own", cmdBytes(ccEvictControl, true, []uint32{0x40000001, 0x80000000}, binary.BigEndian.AppendUint32(nil, 0x81000001)), false},
		{"swtpm SetLocality", cmdBytes(0x20001000, false, nil, []byte{2}), true},
		{"unknown code", cmdBytes(0x1FF, false, nil, nil), true},
		{"short", []byte{0x80, 0x01, 0, 0}, true},
		{"handles missing", cmdBytes(ccNVWrite, false, nil, nil), true},
	}
	for _, c := range cases {
		r := Filter(c.cmd)
		if (r != nil) != c.refused {
			t.Errorf("%s: refusal %+v, want refused=%v", c.name, r, c.refused)
		}
	}
}

func FuzzFilter(f *testing.F) {
	f.Add(cmdBytes(ccNVDefineSpace, true, []uint32{0x40000001}, []byte{0, 0, 0, 14, 1, 0xC0, 0, 2}))
	f.Add(cmdBytes(ccEvictControl, true, []uint32{0x40000001, 0x81010001}, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		Filter(b) // must not panic on any input
	})
}
