package measure

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/trustbox/trustbox/pkg/attestapi"
)

// SHA256Hex is the hex SHA-256 of b, the digest form launch events use.
func SHA256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// FileSHA256 is the hex SHA-256 of a file's content.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("measure %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("measure %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SelfRuntime identifies the running trustbox binary (by the content of
// /proc/self/exe) and its configuration, for the runtime event.
func SelfRuntime(version string, config []byte) (attestapi.Runtime, error) {
	d, err := FileSHA256("/proc/self/exe")
	if err != nil {
		return attestapi.Runtime{}, err
	}
	r := attestapi.Runtime{BinarySHA256: d, Version: version}
	if len(config) > 0 {
		r.ConfigSHA256 = SHA256Hex(config)
	}
	return r, nil
}
