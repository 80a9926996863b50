package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// makeRootfs builds a busybox-static rootfs whose /bin/true is busybox.
func makeRootfs(dir, busybox string) error {
	for _, d := range []string{"bin", "proc", "sys", "dev", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := copyExe(busybox, filepath.Join(dir, "bin/busybox")); err != nil {
		return err
	}
	for _, l := range []string{"true", "sh"} {
		p := filepath.Join(dir, "bin", l)
		os.Remove(p)
		if err := os.Symlink("busybox", p); err != nil {
			return err
		}
	}
	return nil
}

func copyExe(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// worldSearchable checks that the container's root (a host uid in a user
// namespace, not host root) can reach dir: every ancestor needs o+x.
func worldSearchable(dir string) error {
	for p := dir; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not world-searchable (mode %v): a user-namespaced container root cannot reach the rootfs below it", p, st.Mode().Perm())
		}
		if p == "/" {
			return nil
		}
	}
}

// makeBundle writes config.json with `GENERATOR spec --bundle DIR` and then
// sets terminal=false, args=[/bin/true] and root.path=rootfs, leaving the rest
// of the generator's defaults (for trustbox: user namespace, baseline) as is.
func makeBundle(dir string, generator []string, rootfs string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "config.json")
	os.Remove(cfgPath)
	cmd := exec.Command(generator[0], append(generator[1:], "spec", "--bundle", dir)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v spec: %v: %s", generator, err, out)
	}
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		return fmt.Errorf("%s: %w", cfgPath, err)
	}
	proc, _ := cfg["process"].(map[string]any)
	root, _ := cfg["root"].(map[string]any)
	if proc == nil || root == nil {
		return fmt.Errorf("%s: no process or root object", cfgPath)
	}
	proc["terminal"] = false
	proc["args"] = []string{"/bin/true"}
	root["path"] = rootfs
	data, err = json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(cfgPath, data, 0o644)
}
