package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func init() {
	register(command{name: "update", usage: "[--memory N] [--pids-limit N] [--cpu-shares N] [--cpu-quota N] [--cpu-period N] [--cpuset-cpus S] [-r FILE] ID", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		mem := fs.Int64("memory", 0, "memory limit in bytes")
		pids := fs.Int64("pids-limit", 0, "maximum number of processes")
		shares := fs.Uint64("cpu-shares", 0, "CPU shares")
		quota := fs.Int64("cpu-quota", 0, "CFS quota in µs")
		period := fs.Uint64("cpu-period", 0, "CFS period in µs")
		cpus := fs.String("cpuset-cpus", "", "CPUs to run on")
		file := fs.String("resources", "", "JSON file of linux.resources ('-' for stdin)")
		fs.StringVar(file, "r", "", "JSON file of linux.resources ('-' for stdin)")
		return func(args []string) error {
			if err := needArgs("update", args, 1, 1, "a container ID"); err != nil {
				return err
			}
			r := &specs.LinuxResources{}
			if *file != "" {
				f := os.Stdin
				if *file != "-" {
					var err error
					if f, err = os.Open(*file); err != nil {
						return fmt.Errorf("update -r: %w", err)
					}
					defer f.Close()
				}
				if err := json.NewDecoder(f).Decode(r); err != nil {
					return fmt.Errorf("update -r %s: %w", *file, err)
				}
			}
			if *mem != 0 {
				r.Memory = &specs.LinuxMemory{Limit: mem}
			}
			if *pids != 0 {
				r.Pids = &specs.LinuxPids{Limit: pids}
			}
			if *shares != 0 || *quota != 0 || *period != 0 || *cpus != "" {
				r.CPU = &specs.LinuxCPU{Cpus: *cpus}
				if *shares != 0 {
					r.CPU.Shares = shares
				}
				if *quota != 0 {
					r.CPU.Quota = quota
				}
				if *period != 0 {
					r.CPU.Period = period
				}
			}
			return newRuntime(g).Update(args[0], r)
		}
	}})
	register(command{name: "events", usage: "[--stats] [--interval D] ID", setup: func(g *Global, fs *flag.FlagSet) func([]string) error {
		stats := fs.Bool("stats", false, "print one stats event and exit")
		interval := fs.Duration("interval", 5*time.Second, "time between stats events")
		return func(args []string) error {
			if err := needArgs("events", args, 1, 1, "a container ID"); err != nil {
				return err
			}
			rt := newRuntime(g)
			for {
				s, err := rt.Stats(args[0])
				if err != nil {
					return err
				}
				b, _ := json.Marshal(map[string]any{"type": "stats", "id": args[0], "data": s})
				fmt.Fprintf(g.Stdout, "%s\n", b)
				if *stats {
					return nil
				}
				time.Sleep(*interval)
			}
		}
	}})
}
