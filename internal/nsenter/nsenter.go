// Package nsenter joins cgroups and existing namespaces in a C constructor that runs before the Go runtime starts its threads.
//
// setns(2) into a user namespace needs a single-threaded caller, and into a
// mount namespace a caller that shares no fs state with other threads: a Go
// program can do neither once its runtime has started (docs/adr/0001).
// The runtime passes namespace fds and the sync socket through two
// environment variables; with them unset the constructor does nothing.
package nsenter

/*
#cgo CFLAGS: -Wall -Werror
extern void trustbox_nsenter(void);
void __attribute__((constructor)) trustbox_nsenter_init(void) { trustbox_nsenter(); }
*/
import "C"

// Env names the constructor reads: the sync socket fd and "type=fd,..." to join, in order.
const (
	EnvSync = "_TRUSTBOX_NSENTER"
	EnvNS   = "_TRUSTBOX_NS"
	// EnvUnshare holds CLONE_NEW* flags (decimal) to unshare after joining,
	// so new namespaces belong to a joined user namespace.
	EnvUnshare = "_TRUSTBOX_UNSHARE"
	// EnvCgroup holds "fd,fd,...": cgroup v1 "tasks" files the constructor
	// writes "0" to, first, so the process joins the container's cgroups
	// without the attach's RCU grace period. "recv" makes it wait for those
	// files in a {"type":"cgroup"} message on the sync socket instead (the
	// runtime makes the cgroups while init is being exec'd). Needs EnvSync.
	EnvCgroup = "_TRUSTBOX_CGROUP"
	// CgroupRecv is EnvCgroup's value for the sync-socket handover.
	CgroupRecv = "recv"
	// EnvTimens holds the lines written to /proc/self/timens_offsets after
	// a time namespace is unshared (EnvUnshare with CLONE_NEWTIME).
	EnvTimens = "_TRUSTBOX_TIMENS"
)
