package seccomp

import (
	"fmt"
	"strings"
)

// Kernel return values (linux/seccomp.h).
const (
	retKillProcess uint32 = 0x80000000
	retKillThread  uint32 = 0x00000000
	retTrap        uint32 = 0x00030000
	retErrno       uint32 = 0x00050000
	retUserNotif   uint32 = 0x7fc00000
	retTrace       uint32 = 0x7ff00000
	retLog         uint32 = 0x7ffc0000
	retAllow       uint32 = 0x7fff0000
)

// Kind is a seccomp action without its data.
type Kind uint8

// The actions of the OCI runtime spec, in the kernel's order of precedence.
const (
	KillProcess Kind = iota
	KillThread
	Trap
	Errno
	Notify
	Trace
	Log
	Allow
)

var kindNames = map[Kind]string{
	KillProcess: "SCMP_ACT_KILL_PROCESS", KillThread: "SCMP_ACT_KILL_THREAD", Trap: "SCMP_ACT_TRAP",
	Errno: "SCMP_ACT_ERRNO", Notify: "SCMP_ACT_NOTIFY", Trace: "SCMP_ACT_TRACE", Log: "SCMP_ACT_LOG",
	Allow: "SCMP_ACT_ALLOW",
}

// Action is a seccomp action with its errno or trace message data.
type Action struct {
	Kind Kind
	Data uint16 // errno for Errno, message for Trace
}

// Ret is the 32-bit value the filter returns for the action.
func (a Action) Ret() uint32 {
	switch a.Kind {
	case KillProcess:
		return retKillProcess
	case KillThread:
		return retKillThread
	case Trap:
		return retTrap
	case Errno:
		return retErrno | uint32(a.Data)
	case Notify:
		return retUserNotif
	case Trace:
		return retTrace | uint32(a.Data)
	case Log:
		return retLog
	}
	return retAllow
}

// ActionFromRet decodes a filter return value.
func ActionFromRet(r uint32) Action {
	data := uint16(r & 0xffff)
	switch r & 0xffff0000 {
	case retKillProcess:
		return Action{Kind: KillProcess}
	case retKillThread:
		return Action{Kind: KillThread}
	case retTrap:
		return Action{Kind: Trap}
	case retErrno:
		return Action{Kind: Errno, Data: data}
	case retUserNotif:
		return Action{Kind: Notify}
	case retTrace:
		return Action{Kind: Trace, Data: data}
	case retLog:
		return Action{Kind: Log}
	}
	return Action{Kind: Allow}
}

// Permits reports whether the call runs (ALLOW or LOG).
func (a Action) Permits() bool { return a.Kind == Allow || a.Kind == Log }

func (a Action) String() string {
	switch a.Kind {
	case Errno, Trace:
		return fmt.Sprintf("%s(%d)", kindNames[a.Kind], a.Data)
	}
	return kindNames[a.Kind]
}

// parseAction reads an OCI/Docker action name; ret is errnoRet (or the
// profile's defaultErrnoRet), nil meaning EPERM for ERRNO and 0 for TRACE.
func parseAction(name string, ret *uint) (Action, error) {
	var k Kind
	switch strings.ToUpper(name) {
	case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD":
		k = KillThread
	case "SCMP_ACT_KILL_PROCESS":
		k = KillProcess
	case "SCMP_ACT_TRAP":
		k = Trap
	case "SCMP_ACT_ERRNO":
		k = Errno
	case "SCMP_ACT_NOTIFY":
		k = Notify
	case "SCMP_ACT_TRACE":
		k = Trace
	case "SCMP_ACT_LOG":
		k = Log
	case "SCMP_ACT_ALLOW":
		k = Allow
	default:
		return Action{}, fmt.Errorf("unknown action %q (want one of SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_LOG, SCMP_ACT_NOTIFY, SCMP_ACT_ALLOW)", name)
	}
	a := Action{Kind: k}
	if k == Errno {
		a.Data = 1 // EPERM, as runc does
	}
	if ret != nil {
		if k != Errno && k != Trace {
			return Action{}, fmt.Errorf("errnoRet %d given for %s, which takes no value", *ret, name)
		}
		if k == Errno && *ret > 4095 {
			return Action{}, fmt.Errorf("errnoRet %d for %s is outside 0..4095", *ret, name)
		}
		if *ret > 0xffff {
			return Action{}, fmt.Errorf("errnoRet %d for %s does not fit 16 bits", *ret, name)
		}
		a.Data = uint16(*ret)
	}
	return a, nil
}
