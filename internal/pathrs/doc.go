// Package pathrs resolves and creates paths inside a container rootfs with openat2(RESOLVE_IN_ROOT), never through host path strings (CVE-2021-30465).
package pathrs
