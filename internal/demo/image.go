package demo

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed image
var image embed.FS

// ErrNoInspector means trustbox was built without scripts/build's inspector step.
var ErrNoInspector = errors.New("this trustbox was built without the demo inspector: build with scripts/build")

// writeImage unpacks the embedded image into dir/rootfs.
func writeImage(dir string) (string, error) {
	if _, err := fs.Stat(image, "image/sbin/inspect"); err != nil {
		return "", ErrNoInspector
	}
	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"proc", "sys", "dev", "tmp", "mnt", "etc", "sbin"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return "", fmt.Errorf("demo image: %w", err)
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/:/sbin/inspect\nnobody:x:65534:65534:nobody:/:/sbin/inspect\n",
		"etc/group":  "root:x:0:\nnobody:x:65534:\n",
	}
	for p, c := range files {
		if err := os.WriteFile(filepath.Join(root, p), []byte(c), 0o644); err != nil {
			return "", fmt.Errorf("demo image: %w", err)
		}
	}
	bin, err := image.ReadFile("image/sbin/inspect")
	if err != nil {
		return "", fmt.Errorf("demo image: %w", err)
	}
	if err := os.WriteFile(filepath.Join(root, "sbin", "inspect"), bin, 0o755); err != nil {
		return "", fmt.Errorf("demo image: %w", err)
	}
	return root, nil
}
