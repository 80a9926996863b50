package hostaudit

import "time"

// longterm lists the upstream longterm kernel branches and their projected
// end of life, from kernel.org's releases page (last reviewed 2026-11).
// A branch missing here is a short-lived stable branch or unknown.
// Update this table when kernel.org announces a new longterm branch.
var longterm = map[string]time.Time{
	"4.19": date(2024, 12), "5.4": date(2025, 12), "5.10": date(2026, 12), "5.15": date(2026, 12),
	"6.1": date(2027, 12), "6.6": date(2026, 12), "6.12": date(2026, 12), "6.18": date(2027, 12),
}

// distroKernels names the kernel branch a distribution release maintains
// with security updates, by os-release ID and VERSION_ID.
var distroKernels = map[string]string{
	"debian 11": "5.10", "debian 12": "6.1", "debian 13": "6.12",
	"ubuntu 22.04": "5.15", "ubuntu 24.04": "6.8",
	"rhel 9": "5.14", "rocky 9": "5.14", "almalinux 9": "5.14",
}

func date(y int, m time.Month) time.Time { return time.Date(y, m, 31, 0, 0, 0, 0, time.UTC) }

// containerOSes are os-release IDs (or VARIANT_IDs) of container-specific
// host operating systems (R-HOST-1).
var containerOSes = map[string]bool{
	"flatcar": true, "bottlerocket": true, "cos": true, "talos": true, "coreos": true,
	"fedora-coreos": true, "rhcos": true, "k3os": true, "photon": false, "container-linux": true,
}
