package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/trustbox/trustbox/internal/auditlog"
	"github.com/trustbox/trustbox/internal/verifier"
	"github.com/trustbox/trustbox/internal/vtpm"
)

// Commands of the vTPM trust chain (issue 4): the manager daemon, operator
// commands, and offline attestation and verification.
func init() {
	register(command{name: "vtpmd", usage: "[--dir DIR] [--ca-dir DIR] [--socket PATH] [--host-tpm auto|none|PATH|unix:PATH] [--pool N] [--vtpmx PATH]",
		setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
			o := vtpm.DaemonOptions{}
			fs.StringVar(&o.Dir, "dir", vtpm.DefaultDir, "vTPM state directory")
			fs.StringVar(&o.CADir, "ca-dir", vtpm.DefaultCADir, "software root directory (persistent)")
			fs.StringVar(&o.Socket, "socket", vtpm.DefaultSocket, "control socket")
			fs.StringVar(&o.HostTPM, "host-tpm", "auto", "host TPM certifying vTPM EKs")
			fs.StringVar(&o.Swtpm, "swtpm", "swtpm", "swtpm binary")
			fs.StringVar(&o.Vtpmx, "vtpmx", vtpm.VtpmxPath, "creates kernel vTPMs (a create request's arch \"kernel\")")
			uidBase := fs.Uint("swtpm-uid-base", vtpm.DefaultUIDBase, "first uid for swtpm processes, one each (0: run them as root)")
			uids := fs.Uint("swtpm-uids", 65536, "size of the swtpm uid range")
			fs.IntVar(&o.PoolSize, "pool", 2, "vTPMs kept ready with EKs generated (0: provision at create)")
			return func(args []string) error {
				o.UIDBase, o.UIDCount = uint32(*uidBase), uint32(*uids)
				args, err := positionals(fs, args)
				if err != nil {
					return err
				}
				if err := needArgs("vtpmd", args, 0, 0, "no arguments"); err != nil {
					return err
				}
				o.Log = slog.New(slog.NewTextHandler(g.Stderr, nil))
				o.Audit = auditlog.Open(g.Root) // the runtime's tamper-evident log

				ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				return vtpm.RunDaemon(ctx, o)
			}
		}})
	register(command{name: "vtpm", usage: "list | show ID | destroy ID | attach ID [--owner UID:GID] [--container-state DIR] | detach ID | ek ID | eventlog ID [--socket PATH]",
		setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
			sock := fs.String("socket", vtpm.DefaultSocket, "vtpmd control socket")
			owner := fs.String("owner", "", "attach: host UID:GID that may open the attachment dir (default: root only)")
			state := fs.String("container-state", "", "attach: the container's state dir (default: as recorded)")
			return func(args []string) error {
				args, err := positionals(fs, args)
				if err != nil {
					return err
				}
				if err := needArgs("vtpm", args, 1, 2, vtpmOps); err != nil {
					return err
				}
				o, err := vtpm.ParseOwner(*owner)
				if err != nil {
					return fmt.Errorf("vtpm attach: --owner: %w", err)
				}
				return vtpmOperator(g, vtpm.Client{Socket: *sock}, args, vtpm.AttachRequest{Owner: o, ContainerStateDir: *state})
			}
		}})
	register(command{name: "attest", usage: "ID --nonce HEX [--socket PATH]",
		setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
			nonce := fs.String("nonce", "", "verifier's nonce, hex")
			sock := fs.String("socket", vtpm.DefaultSocket, "vtpmd control socket")
			return func(args []string) error {
				args, err := positionals(fs, args)
				if err != nil {
					return err
				}
				if err := needArgs("attest", args, 1, 1, "a container id"); err != nil {
					return err
				}
				n, err := hex.DecodeString(*nonce)
				if err != nil || len(n) == 0 {
					return fmt.Errorf("attest: --nonce must be non-empty hex, got %q", *nonce)
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				ev, err := vtpm.Client{Socket: *sock}.Attest(ctx, args[0], n)
				if err != nil {
					return fmt.Errorf("attest %s: %w", args[0], err)
				}
				return vtpmJSON(g, ev)
			}
		}})
	register(command{name: "verify", usage: "EVIDENCE --policy POLICY --nonce HEX [--seen FILE]",
		setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
			policy := fs.String("policy", "", "policy file (JSON)")
			nonce := fs.String("nonce", "", "the nonce this verifier issued, hex")
			seen := fs.String("seen", "", "file of nonces already used: refuse a nonce found there, record it otherwise")
			return func(args []string) error {
				args, err := positionals(fs, args)
				if err != nil {
					return err
				}
				if err := needArgs("verify", args, 1, 1, "an evidence file"); err != nil {
					return err
				}
				n, err := hex.DecodeString(*nonce)
				if err != nil {
					return fmt.Errorf("verify: --nonce must be hex: %w", err)
				}
				ev, err := os.ReadFile(args[0])
				if err != nil {
					return fmt.Errorf("verify: %w", err)
				}
				pol, err := os.ReadFile(*policy)
				if err != nil {
					return fmt.Errorf("verify: --policy: %w", err)
				}
				var store verifier.NonceStore
				if *seen != "" {
					store = verifier.FileNonces{Path: *seen}
				}
				v, err := verifier.VerifyDocuments(ev, pol, n, store)
				if err != nil {
					return fmt.Errorf("verify %s: %w", args[0], err)
				}
				if err := vtpmJSON(g, v); err != nil {
					return err
				}
				if !v.Trusted {
					return &exitError{code: 1}
				}
				return nil
			}
		}})
}

// positionals lets flags follow positional arguments, as in
// `trustbox attest ID --nonce HEX`: std flag stops at the first positional,
// so parse the rest again after each one.
func positionals(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		pos = append(pos, args[0])
		if err := fs.Parse(args[1:]); err != nil {
			return nil, err
		}
		args = fs.Args()
	}
	return pos, nil
}

const vtpmOps = "list, show ID, destroy ID, attach ID, detach ID, ek ID or eventlog ID"

func vtpmOperator(g *Global, c vtpm.Client, args []string, attach vtpm.AttachRequest) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if args[0] == "list" && len(args) == 1 {
		list, err := c.List(ctx)
		if err != nil {
			return fmt.Errorf("vtpm list: %w", err)
		}
		w := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tPID\tRUNNING\tARCH\tATTACHED\tROOT\tCREATED")
		for _, i := range list {
			fmt.Fprintf(w, "%s\t%d\t%v\t%s\t%v\t%s\t%s\n", i.ID, i.PID, i.Running, i.Arch, i.Attached, i.RootKind, i.Created.Format(time.RFC3339))
		}
		return w.Flush()
	}
	if len(args) != 2 {
		return fmt.Errorf("vtpm: expected %s, got %q", vtpmOps, args)
	}
	op, id := args[0], args[1]
	var err error
	switch op {
	case "show":
		var i vtpm.Info
		if i, err = c.Show(ctx, id); err == nil {
			err = vtpmJSON(g, i)
		}
	case "destroy":
		err = c.Destroy(ctx, id)
	case "attach":
		var a vtpm.Attachment
		if a, err = c.Attach(ctx, id, attach); err == nil {
			err = vtpmJSON(g, a)
		}
	case "detach":
		err = c.Detach(ctx, id)
	case "ek":
		var chain [][]byte
		if chain, err = c.EKChain(ctx, id); err == nil {
			err = writePEM(g.Stdout, chain)
		}
	case "eventlog":
		var log []byte
		if log, err = c.EventLog(ctx, id); err == nil {
			_, err = g.Stdout.Write(log) // binary TCG log: pipe it to tpm2_eventlog
		}
	default:
		return fmt.Errorf("vtpm: expected %s, got %q", vtpmOps, args)
	}
	if err != nil {
		return fmt.Errorf("vtpm %s %s: %w", op, id, err)
	}
	return nil
}

// writePEM writes DER certificates (EK RSA, EK ECC, root) as PEM.
func writePEM(w io.Writer, ders [][]byte) error {
	for _, d := range ders {
		if err := pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: d}); err != nil {
			return err
		}
	}
	return nil
}

func vtpmJSON(g *Global, v any) error {
	enc := json.NewEncoder(g.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
