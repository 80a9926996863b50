package attestapi

import "encoding/json"

// The PCR plan of a trustbox launch (docs/vtpm.md). PCRs 8-13 are written at
// locality 0 before the container runs; PCR 17 receives a copy of every
// launch event at locality 2, which the tenant can never use, so it holds
// exactly the launch record. Tenants measure into 14, 15, 16 and 23.
const (
	PCRRuntime    = 8
	PCRConfig     = 9
	PCRImage      = 11
	PCRPolicy     = 12
	PCREntrypoint = 13
	PCRLaunchCopy = 17
)

// LaunchPCRs are the PCRs a trustbox quote covers, in selection order.
var LaunchPCRs = []uint32{PCRRuntime, PCRConfig, PCRImage, PCRPolicy, PCREntrypoint, PCRLaunchCopy}

// HostPCRs are the host TPM's boot PCRs a host quote covers.
var HostPCRs = []uint32{0, 1, 2, 3, 4, 5, 6, 7}

// Event kinds, the "kind" of an EventData.
const (
	KindLaunch     = "trustbox.launch/v1"
	KindRuntime    = "trustbox.runtime/v1"
	KindConfig     = "trustbox.oci-config/v1"
	KindImage      = "trustbox.image/v1"
	KindPolicy     = "trustbox.policy/v1"
	KindEntrypoint = "trustbox.entrypoint/v1"
)

// MeasureInput is what the runtime hands the manager to measure at create.
type MeasureInput struct {
	Runtime    Runtime         `json:"runtime"`
	OCIConfig  json.RawMessage `json:"oci_config,omitempty"`
	Image      Image           `json:"image"`
	Policy     SecurityPolicy  `json:"policy"`
	Entrypoint Entrypoint      `json:"entrypoint"`
}

// Runtime identifies the trustbox binary and its configuration.
type Runtime struct {
	BinarySHA256 string `json:"binary_sha256"`
	Version      string `json:"version"`
	ConfigSHA256 string `json:"config_sha256,omitempty"`
}

// Image identifies the container's root filesystem.
type Image struct {
	RootfsDigest   string `json:"rootfs_digest"`
	ManifestDigest string `json:"manifest_digest,omitempty"`
}

// SecurityPolicy is the confinement the container runs under.
type SecurityPolicy struct {
	Profile       string            `json:"profile"`
	SeccompSHA256 string            `json:"seccomp_sha256,omitempty"`
	Capabilities  []string          `json:"capabilities,omitempty"`
	Namespaces    []string          `json:"namespaces,omitempty"`
	LSM           map[string]string `json:"lsm,omitempty"`
}

// Entrypoint is the first process. Env is measured as a digest only.
type Entrypoint struct {
	Argv             []string `json:"argv"`
	Env              []string `json:"env,omitempty"`
	ExecutableSHA256 string   `json:"executable_sha256,omitempty"`
}

// Launch records which container and which TPM boot the log belongs to.
type Launch struct {
	Container    string `json:"container"`
	ResetCount   uint32 `json:"reset_count"`
	RestartCount uint32 `json:"restart_count"`
}

// EntrypointRecord is the measured form of Entrypoint.
type EntrypointRecord struct {
	Argv             []string `json:"argv"`
	EnvSHA256        string   `json:"env_sha256"`
	ExecutableSHA256 string   `json:"executable_sha256,omitempty"`
}

// EventData is the data of one launch event; its SHA-256 is what the PCR got.
type EventData struct {
	Kind       string            `json:"kind"`
	Launch     *Launch           `json:"launch,omitempty"`
	Runtime    *Runtime          `json:"runtime,omitempty"`
	Config     json.RawMessage   `json:"config,omitempty"`
	Image      *Image            `json:"image,omitempty"`
	Policy     *SecurityPolicy   `json:"policy,omitempty"`
	Entrypoint *EntrypointRecord `json:"entrypoint,omitempty"`
}
