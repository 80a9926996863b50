// Package cgroups places a container in its own cgroups and applies OCI resources on cgroup v1, v2 and hybrid hosts.
package cgroups
