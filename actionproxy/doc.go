// Package actionproxy makes reclave an OpenWhisk action runtime: a [Server] speaks the action
// proxy protocol of OpenWhisk's action containers (POST /init, POST /run; docs/actions-new.md,
// "Action Interface", of apache/openwhisk) and serves a WebAssembly function from a reclave
// enclave, reset after every activation as the mode says. `reclave serve` runs it; the
// Dockerfile at the repository root packages it as a blackbox action image. See
// docs/openwhisk.md for deploying and measuring it.
//
// # /init
//
//	{"value": {"name": "...", "main": "...", "code": "<base64>", "binary": true, "env": {...}}}
//
// code is the function's module, base64-encoded (binary must be true): a bare .wasm, or a zip
// archive holding one .wasm file (or several, one of them named main.wasm), which is what
// `wsk action create NAME --docker IMAGE fn.zip` sends. main selects the module kind:
// reclave_handle (or OpenWhisk's default, main) a reactor, _start a command (see the function
// ABI in workloads/README.md). env may set the function's limits, as strings:
//
//	RECLAVE_MEMORY_PAGES      linear memory cap in 64 KiB pages   default enclave.DefaultMemoryPages
//	RECLAVE_MAX_OUTPUT_BYTES  output cap per invocation           default enclave.DefaultMaxOutputBytes
//	RECLAVE_DEADLINE          deadline per invocation (Go syntax) default enclave.DefaultDeadline
//	RECLAVE_IMPORTS           host functions granted beyond enclave.DefaultImports, comma-separated
//
// Other env keys are ignored; an unknown RECLAVE_ key is refused, and so is a bad value (400,
// naming the key): RECLAVE_MEMORY_PAGES 1 to 65536, RECLAVE_MAX_OUTPUT_BYTES and
// RECLAVE_DEADLINE positive, RECLAVE_IMPORTS a list of "module.name". /init creates the enclave —
// the cold start: the SGX life cycle (simulated), the outer attestation when the server has a
// quoter, compile, instantiate, the function's init, the snapshot — and answers 200
// {"ok":true}.
//
// # /run
//
//	{"value": {...}, "namespace": "...", "action_name": "...", "activation_id": "...", "deadline": <ms since the epoch>, ...}
//
// value (a JSON object; absent means {}) is the function's input, as bytes. A deadline stops
// the invocation when it passes, as the function's own deadline does. The activation context
// (namespace, action name, activation id, API key) is not passed to the function: the function
// ABI has no environment. After the invocation the enclave is reset per the mode (rewind,
// reinstantiate, warm: none) before the response is sent, so the reset is part of the
// activation's duration; in mode cold the enclave is destroyed and the next /run creates a
// fresh one (the first /run uses the enclave /init created).
//
// An attested run: value holds "__reclave_attest": {"nonce": "<64 hex digits>"} ([AttestKey]).
// The key is removed from the input; the function's input is the rest of value re-encoded
// compactly with sorted keys. The response object then carries, beside the function's result,
// "__reclave_attestation" ([AttestationKey], an [Attestation]): the bundle (outer evidence,
// inner report, output) to check with attest.Verify, the exact input bytes (base64) the
// inner report binds, and "simulated": true — the platform that quoted the enclave is
// simulated (reclave serve: an in-memory simulated platform, or the one kept in --platform
// DIR, whose root `reclave attest root --platform DIR` prints). An array result is wrapped as
// {"result": [...], "__reclave_attestation": ...}. A result object that holds
// "__reclave_attestation" itself (in any case) would make the response hold the key twice;
// it is refused (502).
//
// # Generic enclaves
//
// With [Options].Generic the server holds a generic enclave ([enclave.CreateGeneric]): /init
// needs no code and creates an enclave measured without any function; every /run brings its
// function under [FunctionKey] in its value, an /init value taken out of the input, which the
// enclave loads (from its compile cache when it has the module), runs and forgets, rewound to
// its runtime snapshot. A /run without it runs /init's code when there was some, and gets 400
// otherwise. docs/openwhisk.md says which invoker change a platform needs for this.
//
// # Strict JSON, slow clients
//
// An object the server reads may not hold a key twice, nor two keys that differ only in case
// after unescaping ("value" beside "Value" or "v\u0061lue"; case folded as encoding/json
// folds it): package internal/jsonstrict. That is every level of an /init body, and, of a
// /run body, its top level, value's own keys and the AttestKey object; the rest of value is
// the function's input, passed on as bytes. Such a request gets 400 naming the key. Unknown
// keys are accepted at every level: invokers add their own (activation_id, transaction_id).
//
// A request's whole body is read and parsed before the server takes any lock, so a client
// that sends it slowly, or stalls half-way, delays no other caller; it has
// [Options.ReadTimeout] (default [DefaultReadTimeout], 30 s) to send it and is answered 408
// after that.
//
// # Status codes
//
// They follow apache/openwhisk-runtime-go's action proxy (openwhisk/initHandler.go,
// runHandler.go); every non-200 body is {"error": "<message>"}:
//
//	200  /init loaded the function; /run succeeded — the function's output (a JSON object or
//	     array) is the body. A function's own {"error": ...} result (status code non-zero or
//	     not) is passed through with 200, as OpenWhisk runtimes do: the platform records it
//	     as an application error
//	400  malformed JSON or an unusable request: trailing data, a key twice or in two cases, a
//	     body cut off or over its size limit, no value object, a bad nonce, code that is not
//	     base64, not a module or zip, an unknown RECLAVE_ key or a bad env limit (named)
//	403  a second /init ("Cannot initialize the action more than once."), or /init without code
//	404  another path; 405 another method
//	408  the body did not arrive within Options.ReadTimeout
//	500  /run before a successful /init ("no action defined yet"); the runtime failed and
//	     could not restore a clean enclave (error kind internal); the next /run creates a new one
//	502  /init could not create the enclave (a module that does not compile, lacks the entry
//	     point or imports what it may not); /run's function failed: trap, deadline, exit,
//	     output limit, a failure status without an error result, or an output that is not a
//	     JSON object or array (or, in an attested run, holds __reclave_attestation). The message starts with the error kind ("trap: ...",
//	     "deadline: ..."), as in result records. The enclave was reset or recycled: the
//	     runtime stays usable
//
// # Logs
//
// After every /run — whatever its outcome — the server writes the function's stderr (its log)
// to Options.Stderr, then the [Sentinel] line XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX to
// Options.Stdout and to Options.Stderr, before it sends the response, as the Go runtime's
// executor does; OpenWhisk's invoker collects an activation's logs up to these lines. The
// function's stdout is its result, not a log.
package actionproxy
