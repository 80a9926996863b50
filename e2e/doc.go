// Package e2e drives the trustbox binary end to end: real containers from a busybox rootfs, real peers (podman, containerd).
package e2e
