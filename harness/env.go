package harness

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/reclave/reclave/results"
)

// CaptureEnv describes the machine and the build, and the config of a run when cfg is not nil,
// for the embedded (simulated) backend.
func CaptureEnv(ctx context.Context, cfg *Config) results.Env {
	env := results.Env{
		CPU:          cpuModel(),
		Cores:        runtime.NumCPU(),
		Kernel:       kernel(),
		OS:           runtime.GOOS,
		Arch:         runtime.GOARCH,
		GoVersion:    runtime.Version(),
		Dependencies: map[string]string{},
		Commit:       "unknown",
		Backend:      Backend,
		Simulated:    true,
		StartedAt:    time.Now().UTC().Format(time.RFC3339),
	}
	if cfg != nil {
		if cfg.Target != "" && cfg.Target != TargetEmbedded {
			// Enclaves outside the driver: reclave-enclave processes, or an OpenWhisk deployment
			// of them. Both run the simulated SGX backend unless built with EGo, which the
			// driver cannot see from here; the summary keeps simulated true and names the
			// target.
			env.Backend = cfg.Target
		}
		sum := sha256.Sum256(cfg.Raw)
		env.ConfigSHA256 = hex.EncodeToString(sum[:])
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			v := d.Version
			if d.Replace != nil {
				v += " => " + d.Replace.Path + " " + d.Replace.Version
			}
			env.Dependencies[d.Path] = v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				env.Commit = s.Value
			}
		}
	}
	if env.Commit == "unknown" {
		// go run and go test carry no VCS stamp; ask git about the working directory.
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output(); err == nil {
			if c := strings.TrimSpace(string(out)); len(c) == 40 {
				env.Commit = c
			}
		}
	}
	return env
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return string(bytes.TrimSpace(b))
}
