package vtpmbench

import (
	"context"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"github.com/trustbox/trustbox/internal/attest"
	"github.com/trustbox/trustbox/internal/measure"
	"github.com/trustbox/trustbox/internal/tpmprov"
	"github.com/trustbox/trustbox/internal/verifier"
	"github.com/trustbox/trustbox/internal/vtpm"
	"github.com/trustbox/trustbox/pkg/attestapi"
)

func need(b *testing.B) {
	if _, err := exec.LookPath("swtpm"); err != nil {
		b.Skip("swtpm not installed")
	}
}

func key() []byte {
	k := make([]byte, vtpm.KeySize)
	rand.Read(k)
	return k
}

var input = attestapi.MeasureInput{
	Runtime:    attestapi.Runtime{BinarySHA256: "rt", Version: "0.1.0"},
	OCIConfig:  []byte(`{"ociVersion":"1.2.0","process":{"args":["/bin/sh"]}}`),
	Image:      attestapi.Image{RootfsDigest: "sha256:img"},
	Policy:     attestapi.SecurityPolicy{Profile: "default"},
	Entrypoint: attestapi.Entrypoint{Argv: []string{"/bin/sh"}},
}

// BenchmarkSwtpmStart: swtpm up and answering, then destroyed.
func BenchmarkSwtpmStart(b *testing.B) {
	need(b)
	dir := b.TempDir()
	for i := 0; b.Loop(); i++ {
		inst, err := vtpm.Start(context.Background(), vtpm.Config{StateDir: filepath.Join(dir, strconv.Itoa(i)), Key: key()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := (tpm2.GetRandom{BytesRequested: 8}).Execute(inst); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		inst.Destroy(context.Background())
		b.StartTimer()
	}
}

// BenchmarkCreateFresh: the extra container-start cost of a vTPM that must
// be provisioned: swtpm start, RSA+ECC EKs and certificates, AK enrolment,
// launch measurement, adapter.
func BenchmarkCreateFresh(b *testing.B) {
	need(b)
	m, err := vtpm.Open(context.Background(), vtpm.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("c%d", i)
		if _, err := m.Create(context.Background(), id, vtpm.CreateRequest{Measure: input}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		m.Destroy(context.Background(), id)
		b.StartTimer()
	}
}

// BenchmarkCreatePooled: Create taking a vTPM from the manager's pool
// (started, EKs generated): certify, enrol, measure, serve. Run it with
// -benchtime Nx: the pool holds N.
func BenchmarkCreatePooled(b *testing.B) {
	need(b)
	m, err := vtpm.Open(context.Background(), vtpm.Options{Dir: b.TempDir(), PoolSize: b.N})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := m.WaitPoolFull(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("c%d", i)
		if _, err := m.Create(context.Background(), id, vtpm.CreateRequest{Measure: input}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		m.Destroy(context.Background(), id)
		b.StartTimer()
	}
}

// BenchmarkCreateProvisioned: the same with EKs, certificates and AK already
// in the state (a pre-provisioned pool): start swtpm on a copy of a
// provisioned state and measure the launch.
func BenchmarkCreateProvisioned(b *testing.B) {
	need(b)
	base := b.TempDir()
	k := key()
	tmpl := filepath.Join(base, "template")
	inst, err := vtpm.Start(context.Background(), vtpm.Config{StateDir: tmpl, Key: k})
	if err != nil {
		b.Fatal(err)
	}
	root, _ := tpmprov.LoadOrCreateSoftwareRoot(filepath.Join(base, "ca"))
	end, err := tpmprov.Provision(inst, root, "pool")
	if err == nil {
		_, err = attest.Enrol(inst, root, "pool", &end.ECC)
	}
	if err != nil {
		b.Fatal(err)
	}
	inst.Stop(context.Background())
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		dir := filepath.Join(base, strconv.Itoa(i))
		if out, err := exec.Command("cp", "-a", tmpl, dir).CombinedOutput(); err != nil {
			b.Fatalf("%v %s", err, out)
		}
		b.StartTimer()
		inst, err := vtpm.Start(context.Background(), vtpm.Config{StateDir: dir, Key: k})
		if err != nil {
			b.Fatal(err)
		}
		events, _ := measure.LaunchEvents("c", attestapi.Launch{}, input)
		for _, e := range events {
			if err := inst.Do(measure.Locality(e.PCR), func(t transport.TPM) error { return measure.Extend(t, e) }); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		inst.Destroy(context.Background())
		b.StartTimer()
	}
}

func quoteLoop(b *testing.B, t transport.TPM) {
	ak, err := attest.LoadAK(t)
	if err != nil {
		b.Fatal(err)
	}
	defer ak.Close()
	nonce := []byte("benchmark-nonce")
	for b.Loop() {
		if _, err := attest.Quote(t, ak, nonce, attestapi.LaunchPCRs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQuote compares a quote (plus PCR read) sent directly on the
// manager's swtpm connection with one sent by a tenant through the adapter.
func BenchmarkQuote(b *testing.B) {
	need(b)
	dir := b.TempDir()
	inst, err := vtpm.Start(context.Background(), vtpm.Config{StateDir: filepath.Join(dir, "t"), Key: key()})
	if err != nil {
		b.Fatal(err)
	}
	defer inst.Destroy(context.Background())
	sock := filepath.Join(dir, "tpm.sock")
	a, err := vtpm.ServeAdapter("q", inst, sock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	b.Run("direct", func(b *testing.B) { quoteLoop(b, inst) })
	b.Run("adapter", func(b *testing.B) {
		c, err := net.Dial("unix", sock)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		quoteLoop(b, transport.FromReadWriter(c))
	})
}

// BenchmarkEnrolQuoteVerify: AK enrolment by credential activation, a quote
// with evidence, and its appraisal, for one container.
func BenchmarkEnrolQuoteVerify(b *testing.B) {
	need(b)
	dir := b.TempDir()
	inst, err := vtpm.Start(context.Background(), vtpm.Config{StateDir: filepath.Join(dir, "t"), Key: key()})
	if err != nil {
		b.Fatal(err)
	}
	defer inst.Destroy(context.Background())
	root, _ := tpmprov.LoadOrCreateSoftwareRoot(filepath.Join(dir, "ca"))
	end, err := tpmprov.Provision(inst, root, "c")
	if err != nil {
		b.Fatal(err)
	}
	p := &attestapi.Policy{Version: attestapi.PolicyVersion, AllowSoftwareRoot: true,
		TrustedRoots: []string{string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Cert.Raw}))}}
	log := attestapi.EncodeEventLog(nil)
	nonce := []byte("n")
	for b.Loop() {
		akCert, err := attest.Enrol(inst, root, "c", &end.ECC)
		if err != nil {
			b.Fatal(err)
		}
		ev, err := attest.Collect(inst, attest.Input{ContainerID: "c", Nonce: nonce, EventLog: log, AKCert: akCert,
			EKCert: end.ECC.CertDER, Chain: [][]byte{root.Cert.Raw}})
		if err != nil {
			b.Fatal(err)
		}
		verifier.Appraise(ev, verifier.Options{Policy: p, Nonce: nonce}) // refuses the empty log; the work is done
	}
}

// BenchmarkIdleMemory creates N idle vTPMs through the manager
// (TRUSTBOX_BENCH_IDLE, default 100) and reports swtpm memory per vTPM and
// the manager's own RSS growth per vTPM (adapter, connections, records).
func BenchmarkIdleMemory(b *testing.B) {
	need(b)
	n := 100
	if v, err := strconv.Atoi(os.Getenv("TRUSTBOX_BENCH_IDLE")); err == nil {
		n = v
	}
	for b.Loop() {
		m, err := vtpm.Open(context.Background(), vtpm.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		before := statusKB("/proc/self/status", "VmRSS:")
		for i := 0; i < n; i++ {
			if _, err := m.Create(context.Background(), fmt.Sprintf("idle%d", i), vtpm.CreateRequest{Measure: input}); err != nil {
				b.Fatal(err)
			}
		}
		after := statusKB("/proc/self/status", "VmRSS:")
		var rss, pss int64
		for _, info := range m.List() {
			rss += statusKB(fmt.Sprintf("/proc/%d/status", info.PID), "VmRSS:")
			pss += statusKB(fmt.Sprintf("/proc/%d/smaps_rollup", info.PID), "Pss:")
		}
		for _, info := range m.List() {
			m.Destroy(context.Background(), info.ID)
		}
		m.Close()
		b.ReportMetric(float64(rss)/float64(n), "swtpm-rss-kB/vtpm")
		b.ReportMetric(float64(pss)/float64(n), "swtpm-pss-kB/vtpm")
		b.ReportMetric(float64(after-before)/float64(n), "manager-kB/vtpm")
		b.ReportMetric(float64(after), "manager-rss-kB")
	}
}

func statusKB(path, field string) int64 {
	b, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return 0
}
