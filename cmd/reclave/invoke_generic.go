package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/enclave/attest"
	"github.com/reclave/reclave/harness"
)

// genericMode is the mode invoke --generic records: one generic enclave, rewound to its
// runtime snapshot after every invocation.
const genericMode = "generic"

// genericRecord is what invoke --generic prints for one invocation: invoke's record, and
// what a generic enclave adds — the module that was loaded, whether its compiled code was
// cached, and the enclave's MRENCLAVE, the same for every function.
type genericRecord struct {
	invocationRecord
	ModuleHash   attest.Digest `json:"module_hash"`
	CompileCache string        `json:"compile_cache"` // "hit" or "miss"
	MRENCLAVE    attest.Digest `json:"mrenclave"`
}

// cmdInvokeGeneric is reclave invoke --generic W1,W2,...: the workloads, round-robin, -n
// rounds, in one generic enclave.
func cmdInvokeGeneric(ctx context.Context, fs *flag.FlagSet, o invokeOpts, stdout, stderr io.Writer) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	names := strings.Split(o.generic, ",")
	switch {
	case fs.NArg() != 0:
		return fmt.Errorf("%w: invoke --generic names its workloads in the flag: drop %q", errUsage, fs.Args())
	case o.n < 1:
		return fmt.Errorf("%w: -n %d: must be at least 1", errUsage, o.n)
	case o.memoryMiB < 2:
		return fmt.Errorf("%w: --memory-mib %d: must be at least 2", errUsage, o.memoryMiB)
	case set["input"]:
		return fmt.Errorf("%w: --generic uses each workload's input of --size, not --input", errUsage)
	case set["mode"] || o.attest:
		return fmt.Errorf("%w: --generic serves every invocation from one generic enclave rewound to its runtime snapshot: drop --mode and --attest", errUsage)
	case set["snapshot-point"] && o.snapshotPoint != string(enclave.PointRuntime):
		return fmt.Errorf("%w: --generic snapshots at the runtime point: drop --snapshot-point %s", errUsage, o.snapshotPoint)
	}
	var targets []invokeTarget
	for _, name := range names {
		if name == "" {
			return fmt.Errorf("%w: --generic %q: an empty workload name", errUsage, o.generic)
		}
		to := o
		to.target = name
		t, err := loadTarget(ctx, to, stderr)
		if err != nil {
			return err
		}
		targets = append(targets, t)
	}
	cfg := enclave.Config{MemoryBytes: int64(o.memoryMiB) << 20, Strategy: enclave.Strategy(o.strategy),
		TraceHostCalls: o.traceHostCalls != ""}
	trace, err := createHostCallTrace(o.traceHostCalls)
	if err != nil {
		return err
	}
	defer trace.Close()
	e, err := enclave.CreateGeneric(ctx, cfg)
	if err != nil {
		return err
	}
	defer e.Close(context.WithoutCancel(ctx))
	failed, invalid, total := 0, 0, o.n*len(targets)
	for i := range total {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		t := targets[i%len(targets)]
		inv, err := e.InvokeFunction(ctx, t.fn, t.input)
		if e.Unusable() != nil {
			return withImportHint(fmt.Errorf("the generic enclave retired: %w", err), t.w != nil)
		}
		c := &harness.Call{Invocation: inv, Err: err, Enclave: e, Clean: true}
		if inv != nil {
			c.Start, c.Latency, c.Response = inv.Start, inv.Total, inv.Response
		}
		rec := genericRecord{invocationRecord: invocationRecord{Seq: i + 1, Function: t.fn.Name, Mode: genericMode},
			MRENCLAVE: e.MREnclave()}
		rec.fill(c, genericMode)
		if inv != nil && inv.Load != nil {
			rec.ModuleHash, rec.CompileCache = inv.Load.ModuleHash, "miss"
			if inv.Load.CacheHit {
				rec.CompileCache = "hit"
			}
		}
		if err := writeHostCallTrace(trace, c, t.fn.Name, genericMode, i+1); err != nil {
			return err
		}
		if rec.checkExpected(t, c) {
			invalid++
		}
		if err != nil {
			failed++
			rec.Error = withImportHint(err, t.w != nil).Error()
		}
		if err := rec.print(stdout, o.json); err != nil {
			return err
		}
	}
	switch {
	case failed > 0 && invalid > failed:
		return fmt.Errorf("%d of %d invocations failed, and %d outputs did not match the expectation", failed, total, invalid-failed)
	case failed > 0:
		return fmt.Errorf("%d of %d invocations failed", failed, total)
	case invalid > 0:
		return fmt.Errorf("%d of %d outputs did not match the expectation", invalid, total)
	}
	return nil
}

// print writes the record: as a JSON line, or as invoke's text followed by the generic lines.
func (r *genericRecord) print(w io.Writer, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(r)
	}
	if err := r.invocationRecord.print(w, false); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "  generic:  module %s (compile cache %s), mrenclave %s\n", r.ModuleHash, r.CompileCache, r.MRENCLAVE)
	return err
}
