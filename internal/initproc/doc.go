// Package initproc is the container's init: it builds the rootfs, drops privileges and execs the workload, in that fixed order.
package initproc
