// Package results holds reclave's result data: the per-invocation [Record] streamed to
// records.jsonl, the per-configuration [Summary] written to summary.json, and the statistics
// that turn one into the other. It is plain data and statistics: it imports no enclave, harness
// or plotting code, so any tool can read a run with it.
//
// # Schemas (version 3)
//
// Both files carry schema_version (currently [SchemaVersion]). Later versions may add fields;
// a field's meaning never changes within a version. Readers refuse a version newer than they
// know; older versions are migrated when read (version 1 records: see [Record.Migrate];
// version 1 and 2 summaries: see [Summary.Migrate]). Durations are integers in nanoseconds
// (suffix _ns), sizes in bytes (suffix _bytes), pages are 64 KiB Wasm pages unless said
// otherwise.
//
// # What version 3 adds
//
// Version 3 is one bump shared by the changes made at the same time: each appends what it
// adds to this list (and documents its fields below), so that one version number covers them.
//
//   - Bounded summaries (results): a summary's memory no longer grows with the number of
//     invocations. Each result's statistics say how they were computed: quantiles (exact |
//     hdr), quantile_rel_error and reservoir; distinct outputs are counted up to
//     [MaxDistinctOutputs] (distinct_outputs_capped). Version 1 and 2 summaries are read with
//     quantiles exact and distinct_outputs_capped false, which is how they were computed.
//   - Records may be written compressed, records.jsonl.gz (a config's records: gzip), or not
//     at all (records: none); every reader of records reads either file ([FindRecords],
//     [ScanRecords]). Record lines are unchanged: a version 2 record reads as it is.
//   - resources.jsonl: the driver's RSS, open file descriptors, goroutines and Go heap,
//     sampled every few seconds during a run ([ResourceSample]).
//   - A record's reset may be retire: the enclave could not be reset after the invocation and
//     was destroyed (see the field). Readers of version 2 never see it.
//   - Rounds (issue 13): an experiment's configurations run interleaved, in rounds, each round
//     one repetition of every configuration (a config's order: round-robin, random or
//     sequential), so that a noisy stretch of the machine hits every configuration alike.
//     Records carry round; summaries add round_p50_ns per result, and schedule, paired (the
//     comparisons made round by round, with a confidence interval across rounds) and noise
//     (a calibration loop timed between rounds, CPU steal and other processes' CPU time).
//     Records without round (written before) are read with round = repetition.
//   - The summary's env names the runtime image the enclaves measured, runtime_image_bytes
//     and runtime_image_sha256: reclave-enclave, no longer the harness's own executable,
//     whose whole CLI runs made before counted in memory_bytes and every cold start.
//   - Strategy auto (issue 14): a record's strategy is the strategy the invocation ran under
//     (for auto: diff or tracked), strategy_configured the one the config named, and
//     strategy_note the enclave's reason when it decided or switched after the invocation. A
//     result's key carries the configured strategy; results add strategies (invocations per
//     strategy that ran) and strategy_choice. Older records, without strategy_configured,
//     are keyed by strategy, which was the configured one.
//   - Host calls (issue 15): records carry host_calls, the invocation's calls to the WASI
//     host by function with the bytes they moved in and out of linear memory, and
//     reset_host_calls, those of the reset (or, in mode cold, the creation) that belongs to
//     it; results add host_calls (medians per function); the summary adds exit_cost (the
//     per-exit cost of report.md's estimate); error_kind may be host_call_limit (a
//     manifest's limits.host_calls or limits.host_bytes was exceeded); a config's
//     trace_host_calls writes host_calls.jsonl, one line per host call. Records of version 1
//     and 2 read with host_calls absent: unknown, not zero; their summaries have none.
//   - Trace simulations (issue 17): `reclave trace simulate` writes a summary.json of a new
//     kind, "trace-simulation" (a kind field; no results): the trace, the cluster, the
//     measured costs and one object per policy × reuse technique (cold_fraction, latency_ns,
//     memory_gb_s, enclaves_created, ...). Its fields are documented in package trace's doc
//     ("Output"); they do not collide with this summary's, and ReadSummary of such a file
//     reads a summary without results.
//   - Mixes and generic enclaves (issue 16): an experiment may draw its invocations from a
//     mix of workloads (a config's mix), and mode generic serves them from generic enclaves
//     (one per worker, rewound to its runtime snapshot after every invocation, loading
//     whatever function comes next). Records add mix (the mix drawn from; workload is the
//     function that ran) and compile_cache_hit (mode generic: phase load found the module
//     compiled); phases_ns of mode generic has load, instantiate, fn_init, invoke and
//     rewind. A result's key adds mix. Older records have neither field.
//   - Trace replays (issue 17): `reclave trace replay` writes records of real invocations
//     driven by a policy over a trace, with four fields no other record has: policy,
//     decision, queued and trace_function (see below); its summary.json is a trace
//     simulation's (of the replayed slice) with a replay object (package trace's doc).
//
// # records.jsonl: one JSON object per line, one line per invocation, written as it completes
//
// With a config's records: gzip the same lines are in records.jsonl.gz (gzip, flushed through
// to the file at least every second: a run killed meanwhile loses at most that much, and its
// stream's end, which readers report as cut short); with records: none there is no records
// file at all (the summary and resources.jsonl are still written).
//
//	schema_version  3 (the fields of version 2 and those marked version 3 below)
//	target          what served the invocation: embedded (reclave's enclave runtime in the
//	                driver's process) | openwhisk (an OpenWhisk deployment)
//	experiment      the experiment of the config the record belongs to (a config's experiments:
//	                list); absent for a config without experiments
//	workload        workload name (the manifest's name): with a mix, the function that ran
//	mix             version 3: the mix of workloads the invocation was drawn from, as
//	                "W1:weight,W2:weight" (a config's mix); absent without one
//	mode            cold | warm | reinstantiate | rewind | generic (version 3: a generic
//	                enclave loaded the function, see mix). For target openwhisk the mode is what
//	                the platform reported: cold when the activation has an initTime annotation,
//	                warm otherwise
//	strategy        rewind strategy the invocation of mode rewind ran under (full | diff | cow |
//	                tracked); empty otherwise. Version 3: with strategy auto, the variant the
//	                enclave ran (diff or tracked); before, always the configured one
//	strategy_configured  version 3: the strategy the config named (auto | full | diff | cow |
//	                tracked), mode rewind only; a configuration's key carries it
//	snapshot_point  where mode rewind took its snapshot: function (after the function's init) or
//	                runtime (before the module was instantiated); empty otherwise
//	size            input size: test | small | large
//	memory_bytes    size of the enclave's memory region: the configured memory_mib plus the
//	                runtime image when it is measured (enclave.measure_runtime)
//	compartments    true when L0's protection and the import allow-list were on (per-function
//	                caps and deadlines are always on)
//	attestation     none | outer | inner: what evidence the enclaves produced
//	compile_cache   true when cold starts reused compiled code (as an ahead-of-time compiled
//	                artifact would); false when every cold start compiled the module
//	compile_cache_hit  version 3, mode generic only: true when the invocation's phase load
//	                found its module compiled in the generic enclave's cache, false when it
//	                compiled it
//	load            load model: closed (each worker starts its next invocation when its previous
//	                one ends) | open (arrivals on a schedule, constant or poisson, whether or
//	                not earlier ones have finished) | burst (groups of arrivals at once)
//	concurrency     closed: number of workers; open and burst: maximum invocations in flight
//	worker          0-based worker (closed) or in-flight slot (open, burst) that served it; each
//	                worker has its own enclave
//	repetition      0-based repetition of the (workload, mode, parameters) group: its round
//	round           version 3: the 0-based round the invocation ran in. An experiment's
//	                configurations run in rounds, a round being one repetition of every
//	                configuration of the experiment (its workloads × modes × compartment
//	                settings × concurrency levels), each with its own enclaves and warm-up, in
//	                the order the config's order key says (round-robin, random, or sequential:
//	                no interleaving). A configuration's r-th repetition runs in round r, so
//	                round equals repetition; repetition is kept for the readers that use it.
//	                Records written before rounds lack round and are read with round =
//	                repetition ([Record.Migrate])
//	seq             0-based index of the invocation within its (workload, mode, parameters),
//	                counting warm-up invocations first
//	warmup          true for warm-up invocations; summaries exclude them
//	intended_start_ns  when the invocation was due on the run's clock: its arrival time in
//	                the open and burst load models, equal to start_ns in the closed one
//	start_ns        start of the invocation on the run's monotonic clock (0 = run start). In the
//	                open model, start_ns − intended_start_ns is how late it was issued
//	latency_ns      service time: from the start of the invocation until the enclave is ready for
//	                the next one. It includes the reset that belongs to this invocation (the rewind
//	                or re-instantiation after the response, or creating and destroying the enclave
//	                in mode cold), so no mode looks cheaper by moving work out of view. In the
//	                open and burst models latency_ns and response_ns count from
//	                intended_start_ns, so that queueing behind a late start is not hidden
//	response_ns     from the start until the output was available to the caller (before the reset)
//	exec_ns         in-enclave execution: the function's own run (the Wasm call), inside the
//	                invoke phase
//	provider_ns     target openwhisk: the activation's duration as the platform recorded it
//	init_ns         target openwhisk: the activation's initTime annotation (cold starts)
//	wait_ns         target openwhisk: the activation's waitTime annotation (queueing)
//	dropped         true for an arrival of the open or burst model that was not issued because
//	                the maximum in flight was reached; such records have no latency and count
//	                as dropped, not as errors
//	rewind_ns       time of the reset after the response: latency_ns − response_ns for the
//	                modes that reset (0 for warm; for cold the destruction of the enclave)
//	phases_ns       named phases of the invocation, each in ns. Cold: ecreate, eadd_eextend,
//	                einit, runtime_init, compile, instantiate, fn_init, snapshot (a cold start is that of
//	                a reusable enclave: it takes the snapshot later requests are rewound to), quote
//	                (with attestation),
//	                invoke, destroy, and sign the first time a measurement is seen (the signer's
//	                build step, not part of a launch; warm-up absorbs it). Other
//	                modes: invoke, and the reset that followed (rewind, reinstantiate, recycle;
//	                a rewind to the runtime snapshot point adds instantiate and fn_init)
//	reset           how the state was reset: none | rewind | reinstantiate | recycle | create
//	                | retire (recycle: the instance was re-created because its state could not
//	                be reset the configured way, e.g. after a trap in mode warm or a deadline;
//	                retire, version 3: the reset failed — a re-created instance's start
//	                function or init overran its deadline, or a recycle could not rebuild the
//	                instance from the snapshot — so the enclave was destroyed and the next
//	                invocation creates one, its phase recreate; the invocation's own outcome
//	                stands, since it ran on a clean state)
//	strategy_note   version 3, strategy auto only: set when the enclave decided which variant to
//	                keep after this invocation ("tracked: execution 1.3 ms + reset 4 µs = …,
//	                below diff: …") or switched variants ("switched to tracked: exploring …";
//	                the reset is then recycle)
//	enclave_id      identifier of the enclave instance that served the invocation
//	epoch           number of resets the enclave had done before this invocation
//	memory_pages    linear memory size in Wasm pages when the handler returned
//	pages_restored  4 KiB pages of linear memory the reset restored (copied back, zeroed, or
//	                dropped by cow)
//	bytes_restored  bytes the reset copied or zeroed (linear memory and globals; cow copies
//	                none at reset time, it pays per page at the next write)
//	host_calls      version 3: the function's calls to the host (reclave's WASI host,
//	                wasi_snapshot_preview1) during the invocation, by function, in name order:
//	                {"fd_read":{"n":2,"in":15,"out":16},"fd_write":{"n":1,"in":4,"out":39}}.
//	                n counts the calls (one refused by the budget, and proc_exit, included);
//	                in the bytes the host wrote into linear memory (the data fd_read delivers,
//	                random bytes, clock values, result counts and structs); out the bytes it
//	                read from it (iovec arrays, the data fd_write takes, poll_oneoff's
//	                subscriptions). {} when the invocation made none; absent when not known
//	                (target process or openwhisk, records before version 3). On SGX hardware
//	                each call that leaves the enclave is an OCALL: see report.md's estimate
//	reset_host_calls  version 3: the same for the host calls of the reset that belongs to the
//	                invocation — the start function and init of a re-created instance
//	                (reinstantiate, recycle, a rewind to the runtime snapshot point) — and in
//	                mode cold (or a re-creation after an unusable enclave) of the enclave's
//	                creation; absent when there were none (a rewind to the function snapshot
//	                point makes none)
//	input_bytes     size of the input
//	output_bytes    size of the output
//	output_sha256   hex SHA-256 of the output (equal outputs have equal hashes)
//	valid           true when the output matched the workload's expected output for the input
//	                size, false when it did not; absent when the workload has no expectation for
//	                that size or the invocation ran on state a reset did not make clean (later
//	                invocations of mode warm of a stateful workload)
//	invalid         when valid is false: how the output differs from the expected one (or that
//	                the invocation failed); absent otherwise
//	error           the error, if the invocation failed; absent otherwise
//	error_kind      trap | deadline | exit | function | output_limit | host_call_limit (version
//	                3: more host calls or bytes than the manifest's limits.host_calls,
//	                limits.host_bytes) | internal; absent on success
//	policy          version 3, `reclave trace replay` only: the platform policy that decided
//	                (none | keepalive | hybrid-histogram | greedy-dual | predictive)
//	decision        version 3, trace replay only: how the invocation was served — cold (a new
//	                enclave was created for it), or the reuse technique of the kept enclave
//	                that served it (rewind | reinstantiate | warm)
//	queued          version 3, trace replay only: true when the invocation waited for enclave
//	                memory before it was served (its phases_ns has queue_wait); absent otherwise
//	trace_function  version 3, trace replay only: the trace's function (app/name, or
//	                owner/app/name) the invocation belongs to; workload is the reclave
//	                workload it was mapped onto
//
// # summary.json
//
//	schema_version  3 (version 1 summaries lack exec_ns, dropped, late, valid, invalid,
//	                repetitions and repetition_throughput_per_s, and have fewer key fields;
//	                version 1 and 2 summaries lack quantiles, quantile_rel_error, reservoir
//	                and distinct_outputs_capped, and are read with quantiles exact)
//	env             where the run was made:
//	  cpu, cores, kernel, os, arch, go_version
//	  dependencies    module path → version of the dependencies built in
//	  commit          git commit of reclave, or "unknown" outside a checkout
//	  backend         enclave backend (embedded)
//	  simulated       true when SGX is simulated (the embedded backend): figures say so
//	  config_sha256   SHA-256 of the config file's bytes
//	  runtime_image_bytes, runtime_image_sha256   version 3: size and hex SHA-256 of the
//	                  runtime image the enclaves measured (reclave-enclave, a config's
//	                  enclave.runtime_image); absent when none was (measure_runtime false)
//	  started_at, finished_at   RFC 3339 times
//	config          name and file of the experiment config (a copy is in the output folder)
//	results         one object per configuration ([Key]: target, experiment, workload, mode,
//	                strategy, snapshot_point, size, memory_bytes, compartments, attestation,
//	                compile_cache, load, concurrency — the key's fields are the object's own),
//	                in the plan's order (experiment by experiment: per workload, mode, compartment
//	                setting, concurrency level, whatever order the rounds ran them in; a
//	                [Summarizer] lists them in order of first appearance); workers, repetitions
//	                (rounds) and sequence numbers are pooled. Warm-up records are left out of
//	                everything below:
//	  n               measured invocations issued, failed ones included, dropped arrivals not
//	  errors          failed invocations; error_kinds counts them by error_kind
//	  dropped         arrivals of the open and burst models not issued (maximum in flight reached)
//	  late            invocations that started more than 1 ms ([LateNs]) after their intended
//	                  start: the driver fell behind the schedule. 1 ms is far above timer and
//	                  scheduler jitter, so a late invocation means the driver could not keep up
//	  valid, invalid  invocations whose output matched, or did not match, the workload's expected
//	                  output (records with valid absent are in neither)
//	  repetitions     number of repetitions seen
//	  quantiles       how the statistics below were computed, so that a configuration of any
//	                  length is summarised in bounded memory. "exact": from every sample, each
//	                  statistic (latency_ns, response_ns, ..., each phase, pages and bytes
//	                  restored) having at most [ExactLimit] (100,000) samples. "hdr": at least
//	                  one had more; from then on such a statistic is held as an HDR histogram
//	                  with [QuantileDigits] (3) significant digits, plus, for the five
//	                  distributions, a uniform reservoir of [ReservoirSize] (16,384) samples
//	                  (Vitter's algorithm R, seeded with [ReservoirSeed]: the same records give
//	                  the same summary). With "hdr": p50, p90, p99, p999, the phase medians and
//	                  the pages and bytes medians are within quantile_rel_error of the nearest-
//	                  rank value of the raw samples; n, min, max are exact; mean and stddev are
//	                  exact up to floating-point rounding (Welford's running moments); the
//	                  median's interval p50_ci95_lo, p50_ci95_hi is benchmath's of the reservoir
//	                  (so as wide as that of 16,384 samples, and the p50 of the histogram may
//	                  in rare cases lie just outside it)
//	  quantile_rel_error  with quantiles "hdr": the bound on the relative error of a quantile,
//	                  [QuantileRelError] (0.001: 0.1%); absent with "exact"
//	  reservoir       with quantiles "hdr": the number of samples in the reservoir of
//	                  latency_ns (and of the other distributions) that the median's interval
//	                  comes from; absent with "exact"
//	  latency_ns      distribution of latency_ns over the successful invocations: p50, p90, p99,
//	                  p999 (nearest rank of the raw samples: the value of rank ⌈n·p/100⌉; see
//	                  quantiles), mean, stddev (population: divided by n), min, max, p50_ci95_lo
//	                  and p50_ci95_hi (95% confidence interval of the median from order
//	                  statistics, benchmath's; null when n < 6, with a warning)
//	  response_ns, rewind_ns, exec_ns   the same for response_ns, rewind_ns and exec_ns
//	  startup_ns      the same for latency_ns − phases_ns.invoke: everything an invocation
//	                  costs but the function's own execution (creation, reset, overheads)
//	  throughput_per_s  successful invocations ÷ wall_ns
//	  repetition_throughput_per_s  the same per repetition, in repetition order: successful
//	                  invocations of the repetition ÷ its wall time (0 for a repetition of one
//	                  invocation, which has none)
//	  round_p50_ns    version 3: the median latency_ns of each round (each repetition), in round
//	                  order, 0 for a round without a successful invocation: what the paired
//	                  comparisons divide. Nearest rank, exact up to [ExactLimit] samples per
//	                  round, within [QuantileRelError] beyond; a configuration keeps only the
//	                  round being run in full, one number per round once it has ended
//	  wall_ns         wall time of the measured phase: the sum over the repetitions of last end −
//	                  first start (dropped arrivals excluded, failed invocations included), so the
//	                  pauses between repetitions do not count
//	  phases_p50_ns   median of each phase
//	  resets          count of each reset kind
//	  strategies      version 3, mode rewind: measured invocations per strategy they ran under
//	                  (under auto, how many ran as diff and as tracked)
//	  strategy_choice version 3, strategy auto: the last strategy_note of the configuration's
//	                  records, warm-up included (where the choice is mostly made): which
//	                  variant was kept and the figures it was chosen on. With several workers,
//	                  each enclave chooses for itself; strategies shows the mix
//	  pages_restored_p50, bytes_restored_p50   medians over successful invocations
//	  host_calls      version 3, when the records carry host_calls: over the successful
//	                  invocations that do, invocations (their number); calls_p50, calls_mean,
//	                  calls_max (host calls per invocation, every function together); in_p50,
//	                  out_p50 (bytes); functions, per function called by any of them, n_p50,
//	                  in_p50, out_p50 (an invocation that did not call it counts 0); and
//	                  reset_calls_p50, reset_calls_max (those of reset_host_calls). Medians are
//	                  nearest rank, exact up to 4096 distinct values, within
//	                  [QuantileRelError] beyond
//	  distinct_outputs  number of distinct outputs: 1 for a function whose state is reset and
//	                  whose input is fixed; more when state leaks across invocations (mode warm).
//	                  Counted exactly up to [MaxDistinctOutputs] (1024), where counting stops
//	  distinct_outputs_capped  true when counting stopped: there were at least
//	                  distinct_outputs (1024) distinct outputs, maybe more
//	  warnings        statistical and run warnings, as data, each one sentence: "latency_ns: need
//	                  >= 6 samples for confidence interval at level 0.95"; "latency_ns: high
//	                  variance: …" when the median's interval reaches more than 10%
//	                  ([HighVariance]) from the median on either side; failures, outputs that
//	                  did not match, dropped arrivals, late starts
//	schedule        version 3: per experiment, how its configurations were ordered:
//	  experiment      the experiment (absent without experiments)
//	  order           round-robin (rounds; in each, the configurations in plan order: per
//	                  workload, mode, compartment setting, concurrency level) | random (rounds;
//	                  each shuffled anew: Fisher–Yates with a PCG generator seeded with (seed,
//	                  round)) | sequential (no rounds: each configuration's repetitions back to
//	                  back, one configuration after another, as before version 3)
//	  seed            the seed of order random; absent otherwise
//	  rounds, configurations   the rounds (the config's repetitions) and the configurations
//	                  each round runs
//	paired          version 3: comparisons of two configurations of one experiment made round
//	                by round ([Paired], [Pairs]), so that what hit the machine during a round
//	                hits both sides of its ratio. One for every result with compartments on and
//	                its twin with compartments off (kind compartments: on ÷ off), and for every
//	                result of mode rewind and mode warm of the same workload and parameters,
//	                compartments included (kind rewind_vs_warm: rewind ÷ warm):
//	  kind, numerator, denominator   what is compared ([Key]s: numerator ÷ denominator)
//	  round_ratios    per round, the numerator's round_p50_ns ÷ the denominator's; 0 for a
//	                  round in which either had no successful invocation
//	  rounds          the rounds with a ratio: the n of the interval
//	  ratio           the geometric mean of the round ratios
//	  ci95_lo, ci95_hi  its 95% confidence interval across rounds: exp of the mean of the
//	                  logarithms of the ratios ± Student's t (n − 1 degrees of freedom) × their
//	                  standard error. null with fewer than [MinPairedRounds] (3) rounds, with a
//	                  warning: set repetitions to 3 or more
//	  warnings        too few rounds; an interval wider than ±[WideCI] (5%) around the ratio
//	noise           version 3: how steady the machine was during the run ([Noise]):
//	  calibration     each timing of the calibration loop, {t_ns, ns}: t_ns when it started on
//	                  the run's clock, ns how long it took. The loop is fixed, deterministic
//	                  work — SHA-256 over a fixed 64 KiB buffer, 192 passes (12 MiB, about 6 ms
//	                  of one core: longer than a scheduler time slice, so that a process
//	                  competing for the core shows) — run 3 times back to back, the fastest
//	                  kept (a transient interruption does not count, a sustained competitor
//	                  slows all three), at the start of every round of every experiment (with
//	                  order sequential, whenever the round changes) and at the end of the run,
//	                  after the records of the round before are written and a garbage
//	                  collection (runtime.GC), so that it times the machine, not the driver
//	  calibration_p50_ns  the median timing
//	  calibration_spread  the slowest timing ÷ the fastest − 1 (0 with fewer than two): under
//	                  10% on an idle 2-core VM; beyond [NoisySpread] (20%) a warning says the
//	                  machine was noisy
//	  steal_fraction  CPU steal over the run: the increase of /proc/stat's steal ticks (time
//	                  the hypervisor ran other guests on this VM's CPUs) ÷ the increase of all
//	                  its ticks (user, nice, system, idle, iowait, irq, softirq, steal; every
//	                  core), from the run's start to its end; null where /proc/stat cannot be
//	                  read. Beyond [NoisySteal] (1%) a warning
//	  other_busy_fraction  the CPU time other processes of the machine were busy over the run:
//	                  the increase of /proc/stat's busy ticks (user, nice, system, irq,
//	                  softirq) less that of the run's own (/proc/self/stat utime, stime and
//	                  its reaped children's), ÷ the increase of all ticks; null where unknown.
//	                  Beyond [NoisyOtherBusy] (5%) a warning
//	exit_cost       version 3: the cost per enclave exit that report.md's "estimated
//	                enclave-exit cost on SGX hardware" multiplies host calls by (the config's
//	                exit_cost): cycles (default 8200: [ExitCostSource]) and ghz (the clock that
//	                turns them into time; default 3). An estimate, never part of a measurement
//	warnings        run-wide warnings
//
// # host_calls.jsonl: one JSON object per host call (trace_host_calls: true)
//
// Written by a run whose config says trace_host_calls: true (and by `reclave invoke
// --trace-host-calls FILE`, without record and experiment), one line per host call, in the
// order of the records ([HostCallEvent], [ScanHostCallTrace]). Tracing times every call
// (two clock reads each), which the records of such a run include.
//
//	schema_version  3
//	record          0-based index of the invocation's record in the run's stream (its line in
//	                records.jsonl, warm-up records included)
//	experiment, workload, mode, warmup   as in the record (experiment and warmup absent when
//	                empty or false)
//	invocation      the record's seq (reclave invoke: the invocation's number, from 1)
//	phase           create (the enclave's creation that served the invocation: mode cold, or
//	                a re-creation), invoke (the function's own call) or reset (the reset after
//	                it, or a re-creation of the instance before it)
//	seq             0-based index of the call within the invocation, phases together, in order
//	function        the host function, e.g. fd_write
//	in, out         bytes the call wrote into and read from linear memory (see host_calls)
//	duration_ns     the time the host took to serve it
//	errno           the WASI errno returned; -1 when the call did not return
//	result          the errno's name (ESUCCESS, EBADF, ...), or why the call did not return:
//	                exit (proc_exit), budget (the invocation's budget was exceeded: the call
//	                was refused, or ended the invocation after it ran), aborted (interrupted)
//
// # resources.jsonl: the driver's resources during a run, one JSON object per line
//
// `reclave run` samples its own process when the run starts, every 5 s
// (harness.ResourceInterval) on a goroutine of its own, off the invocations' path, and when
// it ends; each sample is a line ([ResourceSample]), written at once. Whether a long run's
// memory is flat shows here.
//
//	schema_version  3
//	t_ns            when the sample was taken, on the run's clock (that of start_ns)
//	running         the group running then: "experiment: workload/mode" or "workload/mode",
//	                followed by " (round r/R)" when the experiment has several rounds; absent
//	                before the first group and in the last sample
//	records         records (warm-up included) consumed by the run so far
//	rss_bytes       resident set size: VmRSS of /proc/self/status; -1 where unknown
//	fds             open file descriptors: the entries of /proc/self/fd, less the one that
//	                lists them; -1 where unknown
//	goroutines      runtime.NumGoroutine()
//	heap_bytes      Go heap objects, live or not yet swept (runtime/metrics
//	                /memory/classes/heap/objects:bytes)
//
// # CSV (reclave export DIR --csv)
//
// A header row, then one row per record of records.jsonl (or records.jsonl.gz) in its order
// (warm-up records included, with warmup true). The columns are the fields of records.jsonl
// above, in the same order and with the same names, except phases_ns, which is replaced by
// one column per phase name seen in the run, phase_<name>_ns (phase_compile_ns,
// phase_invoke_ns, ...), sorted by name. Integers are written in decimal, booleans as true
// or false; valid is true, false or empty (unknown); a string or number absent from the JSON
// line (strategy outside mode rewind, error on success, provider_ns outside OpenWhisk) and a
// phase the invocation did not have are empty cells; host_calls and reset_host_calls hold
// their JSON object. See [CSVWriter].
package results
