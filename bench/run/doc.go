// Command run measures container start latency (`RUNTIME run` of /bin/true:
// create, start, wait, delete) for trustbox, runc, crun and runsc, interleaved
// round-robin, with the runtime's peak RSS and an `unshare` floor.
package main
