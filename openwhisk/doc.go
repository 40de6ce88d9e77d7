// Package openwhisk is reclave's harness target for an OpenWhisk deployment, built on
// github.com/apache/openwhisk-client-go: it creates actions that run reclave serve (package
// actionproxy) as blackbox Docker actions, invokes them blocking, reads their activation
// records and turns each into a result record (package results, target "openwhisk").
//
//	cfg, err := openwhisk.LoadConfig()          // ~/.wskprops or WSK_CONFIG_FILE, then __OW_* variables
//	tgt, err := openwhisk.NewTarget(cfg)        // safe for concurrent use by every worker
//	err = tgt.Deploy(ctx, "reclave-counter", wasm, openwhisk.DeployOptions{Image: "docker.io/you/reclave-serve"})
//	a, err := tgt.Invoke(ctx, "reclave-counter", input) // err: no activation (network, key, unknown action)
//	rec := a.Record(base)                       // base: workload, size, load, worker, seq, start_ns, ...
//
// # Cold or warm
//
// An activation is cold when its record has an initTime annotation — OpenWhisk adds it when it
// initialised a container for the activation (docs/annotations.md of apache/openwhisk) — and
// warm otherwise. The mode is never inferred from a latency. The record's mode is the mode
// the platform reported; what reclave serve does inside the container (rewind, cold, ...) is
// the image's configuration, which the activation does not report.
//
// # Record fields
//
//	target       openwhisk
//	mode         cold (initTime present) | warm
//	latency_ns   client-observed: the blocking invocation's round trip (plus, when the platform
//	             answered 202, reading the record until it was there); response_ns is the same
//	provider_ns  the activation's duration (which includes initTime for a cold activation)
//	init_ns      the initTime annotation (cold activations; 0 otherwise)
//	wait_ns      the waitTime annotation
//	output_bytes, output_sha256
//	             of response.result as the platform returned it (JSON)
//	error, error_kind
//	             a failed activation's error (the result's "error", else the status) and its kind:
//	             reclave serve starts its errors with the enclave's error kind ("trap: ...",
//	             "deadline: ..."), which is used; else function (an application or developer
//	             error), or internal (a whisk internal error)
//
// OpenWhisk records milliseconds, so provider_ns, init_ns and wait_ns are multiples of 1 ms.
// The other fields of the record (workload, size, load model, worker, seq, start_ns,
// input_bytes, ...) are the driver's, passed in as the base record; phases_ns is empty and
// exec_ns, rewind_ns and the enclave fields are zero: the platform does not report them.
//
// # Concurrency
//
// A [Target] is safe for concurrent use. The client library's clients are not —
// Activations.Get sets the client's namespace to "_" — so every call takes a client of its own
// from a pool and restores the configured namespace on it.
package openwhisk
