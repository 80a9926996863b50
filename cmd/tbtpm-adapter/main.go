// Command tbtpm-adapter connects the TSS "cmd:" TCTI inside a container to
// its vTPM: TPM commands on stdin go to the adapter socket, responses come
// back on stdout (R-TRUST-4). Build it static: CGO_ENABLED=0.
//
//	TPM2TOOLS_TCTI="cmd:tbtpm-adapter /run/tpm/tpm.sock" tpm2_pcrread
package main

import (
	"fmt"
	"io"
	"net"
	"os"
)

// defaultSocket is where trustbox mounts the vTPM adapter socket.
const defaultSocket = "/run/tpm/tpm.sock"

func main() {
	path := defaultSocket
	if len(os.Args) > 1 {
		path = os.Args[1]
	} else if p := os.Getenv("TRUSTBOX_TPM_SOCKET"); p != "" {
		path = p
	}
	if err := run(path, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "tbtpm-adapter: %v\n", err)
		os.Exit(1)
	}
}

func run(path string, in io.Reader, out io.Writer) error {
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("connect to vTPM socket %s: %w", path, err)
	}
	defer c.Close()
	go func() {
		io.Copy(c, in)
		c.CloseWrite() // the TSS is done: let the adapter flush and hang up
	}()
	if _, err := io.Copy(out, c); err != nil {
		return fmt.Errorf("vTPM socket %s: %w", path, err)
	}
	return nil
}
