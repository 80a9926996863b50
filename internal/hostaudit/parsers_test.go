package hostaudit

import (
	"net"
	"testing"
)

func TestKernelRelease(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"6.1.0-28-amd64", "6.1"}, {"6.18.44-fc-v669", "6.18"}, {"5.14.0-427.el9.x86_64", "5.14"},
		{"6.12.48-flatcar", "6.12"}, {"6.8.0-45-generic", "6.8"}, {"4.19", "4.19"}, {"6.10rc1", "6.10"},
		{"six", ""}, {"", ""}, {"6", ""}, {"6.x", ""},
	} {
		got, err := KernelRelease(tt.in)
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("KernelRelease(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestKernelBuildDate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
	}{
		{"Linux version 6.1.0-28-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 (2024-11-22)", "2024-11-22"},
		{"Linux version 6.8.0-45-generic #45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024", "2024-08-30"},
		{"Linux version 5.14.0 #1 SMP PREEMPT_DYNAMIC Fri Sep  6 12:41:50 EDT 2026", "2026-09-06"},
		{"Linux version 6.18.44-fc-v669 (builder@sandboxing) #1 SMP PREEMPT_DYNAMIC @0", ""},
	} {
		got, ok := KernelBuildDate(tt.in)
		if s := got.Format("2006-01-02"); ok != (tt.want != "") || ok && s != tt.want {
			t.Errorf("KernelBuildDate(%q) = %s, %v; want %q", tt.in, s, ok, tt.want)
		}
	}
}

func TestParseProcNet(t *testing.T) {
	table := procNetHeader +
		"   0: 00000000:0016 00000000:0000 0A 0:0 0:0 0 0 0 1\n" +
		"   1: 0100007F:0277 00000000:0000 0A 0:0 0:0 0 0 0 2\n" +
		"   2: 0100007F:0277 0200007F:C000 01 0:0 0:0 0 0 0 3\n"
	ls, err := ParseProcNet("tcp", table)
	if err != nil || len(ls) != 2 {
		t.Fatalf("got %v, %v", ls, err)
	}
	if ls[0].Port != 22 || !ls[0].Addr.Equal(net.IPv4zero) || ls[0].Loopback() {
		t.Errorf("first = %v", ls[0])
	}
	if ls[1].Port != 631 || !ls[1].Loopback() {
		t.Errorf("second = %v", ls[1])
	}
	six, err := ParseProcNet("tcp6", procNetHeader+"   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 0\n")
	if err != nil || len(six) != 1 || !six[0].Addr.Equal(net.IPv6loopback) {
		t.Errorf("tcp6 = %v, %v", six, err)
	}
	for _, bad := range []string{procNetHeader + "  0: zz:0016 0 0A\n", procNetHeader + "  0: 00000000 0 0A\n", procNetHeader + "  0: 00000000:XYZW 0 0A\n", procNetHeader + " 0: 1\n"} {
		if _, err := ParseProcNet("tcp", bad); err == nil {
			t.Errorf("ParseProcNet(%q) accepted", bad)
		}
	}
}

const procNetHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

func TestSmallParsers(t *testing.T) {
	if m, err := ParseLockdown("none [integrity] confidentiality\n"); m != "integrity" || err != nil {
		t.Errorf("ParseLockdown = %q, %v", m, err)
	}
	if _, err := ParseLockdown("none integrity"); err == nil {
		t.Error("ParseLockdown accepted a line without [mode]")
	}
	if on, err := ParseSecureBoot([]byte{6, 0, 0, 0, 1}); !on || err != nil {
		t.Errorf("ParseSecureBoot(on) = %v, %v", on, err)
	}
	if _, err := ParseSecureBoot([]byte{6, 0, 0, 0, 9}); err == nil {
		t.Error("ParseSecureBoot accepted value 9")
	}
	cl := ParseCmdline("root=/dev/sda ro quiet console=ttyS0 -- --init-flag=1")
	if cl["root"] != "/dev/sda" || cl["console"] != "ttyS0" || cl["ro"] != "" || len(cl) != 4 {
		t.Errorf("ParseCmdline = %v", cl)
	}
	if l := ParseLSMList("capability,landlock, ,bpf\n"); len(l) != 3 || l[2] != "bpf" {
		t.Errorf("ParseLSMList = %v", l)
	}
	m, err := ParseAppArmorProfiles("/usr/bin/man (enforce)\nfoo (complain)\nbar (enforce)\n")
	if err != nil || m["enforce"] != 2 || m["complain"] != 1 {
		t.Errorf("ParseAppArmorProfiles = %v, %v", m, err)
	}
	flags, x86 := ParseCPUFlags("processor: 0\nflags\t\t: fpu nx smep\n")
	if !x86 || !flags["smep"] || flags["smap"] {
		t.Errorf("ParseCPUFlags = %v %v", flags, x86)
	}
	if _, x86 := ParseCPUFlags("processor: 0\nFeatures: fp asimd\n"); x86 {
		t.Error("arm64 cpuinfo taken for x86")
	}
	osr, err := ParseOSRelease("ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME='Debian'\n# c\n")
	if err != nil || osr["VERSION_ID"] != "12" || osr["PRETTY_NAME"] != "Debian" {
		t.Errorf("ParseOSRelease = %v, %v", osr, err)
	}
	cfg, err := ParseKernelConfig([]byte("# c\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_LSM=\"x,y\"\n"))
	if err != nil || cfg["CONFIG_A"] != "y" || cfg["CONFIG_LSM"] != "x,y" || len(cfg) != 2 {
		t.Errorf("ParseKernelConfig = %v, %v", cfg, err)
	}
	if _, err := ParseKernelConfig([]byte("garbage\n")); err == nil {
		t.Error("ParseKernelConfig accepted garbage")
	}
	if empty, err := ParseShadow("root:*:1::::::\nbob::1::::::\n"); err != nil || len(empty) != 1 || empty[0] != "bob" {
		t.Errorf("ParseShadow = %v, %v", empty, err)
	}
}
