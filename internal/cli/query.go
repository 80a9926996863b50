package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/trustbox/trustbox/internal/runtime"
)

// stateJSON is runc's state output (the OCI state plus rootfs, created, owner).
type stateJSON struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func toJSON(st *runtime.State) stateJSON {
	pid := st.Pid
	if st.Status == "stopped" {
		pid = 0
	}
	return stateJSON{st.Version, st.ID, pid, string(st.Status), st.Bundle, st.Rootfs, st.Created, st.Owner, st.Annotations}
}

func init() {
	register(command{name: "state", usage: "ID", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		return func(args []string) error {
			if err := needArgs("state", args, 1, 1, "a container ID"); err != nil {
				return err
			}
			st, err := newRuntime(g).Load(args[0])
			if err != nil {
				return err
			}
			return printJSON(g, toJSON(st))
		}
	}})
	register(command{name: "list", usage: "[--format table|json] [-q]", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		format := fs.String("format", "table", "table or json")
		fs.StringVar(format, "f", "table", "table or json")
		quiet := fs.Bool("quiet", false, "print IDs only")
		fs.BoolVar(quiet, "q", false, "print IDs only")
		return func(args []string) error {
			sts, err := newRuntime(g).List()
			if err != nil {
				return err
			}
			switch {
			case *quiet:
				for _, st := range sts {
					fmt.Fprintln(g.Stdout, st.ID)
				}
			case *format == "json":
				out := make([]stateJSON, 0, len(sts))
				for _, st := range sts {
					out = append(out, toJSON(st))
				}
				return printJSON(g, out)
			case *format == "table":
				w := tabwriter.NewWriter(g.Stdout, 12, 1, 3, ' ', 0)
				fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
				for _, st := range sts {
					s := toJSON(st)
					fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
				}
				return w.Flush()
			default:
				return fmt.Errorf("list: unknown --format %q (table or json)", *format)
			}
			return nil
		}
	}})
	register(command{name: "ps", usage: "[--format table|json] ID [ps options]", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		format := fs.String("format", "table", "table or json")
		fs.StringVar(format, "f", "table", "table or json")
		return func(args []string) error {
			if err := needArgs("ps", args, 1, -1, "ID [ps options]"); err != nil {
				return err
			}
			pids, err := newRuntime(g).Pids(args[0])
			if err != nil {
				return err
			}
			if *format == "json" {
				if pids == nil {
					pids = []int{}
				}
				return printJSON(g, pids)
			}
			return psTable(g, pids, args[1:])
		}
	}})
}

func psTable(g *Global, pids []int, psArgs []string) error {
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	out, err := exec.Command("ps", psArgs...).Output()
	if err != nil {
		return fmt.Errorf("ps: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("ps: no PID column in the output of ps %s", strings.Join(psArgs, " "))
	}
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	fmt.Fprintln(g.Stdout, lines[0])
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) > col {
			if p, err := strconv.Atoi(f[col]); err == nil && in[p] {
				fmt.Fprintln(g.Stdout, l)
			}
		}
	}
	return nil
}

func printJSON(g *Global, v any) error {
	enc := json.NewEncoder(g.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
