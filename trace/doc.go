// Package trace evaluates platform policies for reusable enclaves under production traffic:
// it reads serverless traces, maps their functions onto reclave workloads, and simulates a
// cluster whose keep-alive and pre-warming policies decide which invocations pay a cold start,
// with the costs of starting and resetting an enclave measured by reclave's runtime.
//
// It imports results (result types, the measured costs of a run) and, to measure costs at
// start, harness and enclave; never plots. The plots package draws its output from the JSON
// alone.
//
// # Traces (never committed: download them)
//
//   - Azure Functions 2019 ("Serverless in the Wild", Shahrad et al., USENIX ATC'20;
//     https://github.com/Azure/AzurePublicDataset, AzureFunctionsDataset2019.md), per day NN:
//     invocations_per_function_md.anon.dNN.csv (HashOwner,HashApp,HashFunction,Trigger,1..1440:
//     invocations per minute), function_durations_percentiles.anon.dNN.csv (Average,Count,
//     Minimum,Maximum,percentile_Average_{0,1,25,50,75,99,100}, ms) and
//     app_memory_percentiles.anon.dNN.csv (SampleCount,AverageAllocatedMb,
//     AverageAllocatedMb_pct{1,...,100}, per app; a per-function variant with a HashFunction
//     column is read per function). The days of a folder are read in the order of their file
//     names. A function's durations and memory are those of the first file that gives them.
//   - Azure Functions invocation trace 2021 ("Faster and Cheaper Serverless Computing on
//     Harvested Resources", Zhang et al., SOSP'21; AzureFunctionsInvocationTrace2021.md in the
//     same repository): app,func,end_timestamp,duration in seconds, start = end − duration.
//   - Huawei public cloud trace 2023 ("How Does It Function?", Joosen et al., ACM SoCC'23;
//     https://github.com/sir-lab/data-release): requests_minute/day_NN.csv, columns day, time
//     (seconds from the trace's start) and one column per function named by its number, empty
//     or NaN for no request. The header is unambiguous (day, time, then only numbers), so it is
//     read; it gives no durations (LoadOptions.DefaultDuration, 100 ms) and no memory.
//
// The Azure datasets are made available under a Creative Commons Attribution (CC-BY) licence
// (the repository's LICENSE): cite the papers above when you publish results computed from
// them; Huawei's release states its own terms in its repository. reclave ships none of them; tests and ./run.sh use
// synthetic traces.
//
// A format is told by the column headers of the files, not their names ([Load]). Readers
// stream: memory holds the functions (and, per-minute traces, one day's non-zero minute counts
// per function), never the invocations. A malformed row is an error naming file:line. Arrivals
// within a minute are spread uniformly, as Poisson arrivals or evenly ([Arrivals], seeded;
// every minute keeps its count): n arrivals split the minute by n+1 gaps drawn from the
// distribution and scaled to sum to a minute. A trace can be cut to the top N functions by
// invocations, N functions at random (seeded), a time window, and sped up.
//
// # Synthetic traces
//
// [Synthesize] (`reclave trace synth`) writes the three Azure 2019 files per day. Its functions
// are, in fixed shares: 25% periodic (timer-triggered, every 1 to 1440 minutes), 15% diurnal
// (Poisson traffic with a ±60% daily cycle), 15% bursty (silences of about 3 hours, then
// bursts of about 10 minutes), 30% rare (1 to 5 invocations a day at random minutes) and 15%
// heavy-tailed (Pareto inter-arrival times, α 1.2 to 1.8, and durations whose 99th percentile
// is 45× the median). Rates are log-normal (σ = 2) so that popularity is skewed as in Azure's
// trace (its top 18.6% of functions make 99.6% of the invocations; a synthetic day's top 20%
// make more than 90%, a tested property). Durations have log-normal medians around 300 ms,
// every percentile within 10 minutes; memory is per app, log-normal around 150 MB. Apps hold
// one function about half the time. The same seed writes the same files.
//
// # Mapping and costs
//
// Each function runs a reclave workload: by default the measured workload whose execution
// time is nearest (on a log scale) to the function's mean duration in the trace; --workload
// maps all onto one. The function's duration comes from the trace; what starting and
// resetting its enclave costs comes from measurements: a run folder's summary.json
// ([LoadCosts]: medians of modes cold, rewind, reinstantiate, warm) or, without one,
// [MeasureCosts] runs the embedded runtime at start (16 MiB enclaves, no runtime image). No
// cost is a constant of this package. From a workload's results:
//
//   - cold start: the cold response less the function's execution (creation, EADD/EEXTEND,
//     EINIT, runtime start, compile, instantiate, init, snapshot, invoke overhead); with
//     --trace-memory, an enclave sized by the trace's memory scales its EADD/EEXTEND phase;
//   - reuse technique r (rewind, reinstantiate, warm): before the function, its response less
//     its execution; after it, its reset (rewind_ns), which keeps the enclave busy;
//   - generic (a model: derived from the measurements above, not from runs of the generic
//     enclaves that enclave.CreateGeneric builds and configs/generic.yaml measures, which
//     LoadCosts does not read): one pool of runtime enclaves
//     serves every function. Its reset after an invocation is the rewind's (a rewind to the
//     runtime snapshot); before an invocation it instantiates and initialises the function
//     (the measured reinstantiate reset) on top of the rewind's start, plus the cold start's
//     compile phase when the enclave last served another function. These are assumptions,
//     stated here.
//
// # The simulator
//
// A discrete-event simulation of a cluster of nodes, each with an enclave memory capacity
// (unbounded by default). An enclave serves one invocation at a time. An arrival takes the
// most recently used idle enclave of its pool (per function; one pool with generic), else a
// new enclave on the node with the most free memory, evicting idle enclaves (lowest policy
// priority first) when none has room; when even that fails it waits in a FIFO queue served as
// enclaves finish or memory frees. Latency counts from the arrival to the response (queueing,
// the cold start or the reuse overhead, the duration); start-up latency is latency less the
// duration. An enclave is busy from its creation or the start of an invocation until its
// reset ends, idle while kept; memory-time is bytes × time, in GB-s (GiB × s). Destroying an
// expired or evicted enclave is instantaneous (it is off every invocation's path); with
// policy none the destruction after each invocation keeps the enclave busy. Events at the
// same time run in the order they were scheduled, before an arrival at that time: an
// enclave whose keep-alive ends at t is gone for an arrival at t.
//
// # Replay (real enclaves)
//
// [Replay] (`reclave trace replay`) drives real enclaves of the embedded runtime on this
// machine with one policy and one reuse technique (rewind, reinstantiate or warm; generic is
// simulated only) over a slice of a trace (a window, sped up: arrivals and durations divided
// by the speed-up), with the same pools, mapping and policy calls as the simulator. One loop
// owns the pools and the policy; each invocation runs in its own goroutine, issued at its
// arrival whether or not earlier ones have finished, and timed from its intended start (no
// coordinated omission). It runs its mapped workload for real (its enclave created on the
// spot for a cold start: the real creation, not scaled), then keeps the enclave busy for the
// trace's duration divided by the speed-up (outside the function, as busy time; the reset
// of the session runs before it). Its response is the real one plus that duration, its
// latency ends when the enclave is free again. Enclaves are 16 MiB; the memory they may hold
// is bounded (--capacity-mib, 1 GiB by default, one node), beyond which arrivals wait in a
// FIFO queue, as in the simulator. Policy keepalive's TTL is in the trace's time and divided
// by the speed-up like the durations; the other policies' minute ticks and histogram bins
// are minutes of the replay's (sped-up) time, in both engines alike. The costs are measured
// at start with the same enclave size, and the simulator then runs the same slice with them.
//
// The replay measures the memory-time of the real enclaves it holds as the simulator
// models it: bytes held × wall time of the replay (the trace's time divided by the speed-up:
// multiply by speed_up for the trace's), busy from an enclave's creation (or pre-warming)
// and while an invocation runs on it, its reset included, and while it is kept busy for the
// trace's duration; idle while kept; nothing once destroyed. Its timeline samples the enclaves
// live and busy and the memory held at the start of every bin of the replay's wall time
// (the slice's length / 500, at least 1 ms: bin_ns), and the simulation of the slice samples
// with the same bins, so that policy_timeline draws both engines over the replay's time.
//
// The agreement check is the cold-start fraction: within [ColdBoundPP] (2) percentage points.
// It holds when the machine keeps up with the slice: a cold start that CPU contention
// delays leaves its enclave busy longer than the simulator assumes, so that later arrivals of
// the function find it busy and pay cold starts of their own, which delay the next ones — a
// cascade. On a 2-core machine the synthetic trace's top functions replay in agreement at a
// speed-up of 60 to 120; at 600 they do not. The replay reports the CPU queueing it met (per
// invocation, its start-up latency less its wait for memory and less the cost the simulator
// charges for its decision) and its dispatch lag; latency p50/p99 of both engines are
// reported, not gated. To tell the model's error from the engines' logic, the simulator
// also runs the slice with the replay's own timings (SimOptions.BusyNs: each enclave busy
// as long as the replay's was; each arrival when the replay's loop took it): its decisions
// then match the replay's however loaded the machine (the tests gate it always, the model's
// check when the CPU queueing is below half the slice's shortest gap between two arrivals
// of a function).
//
// # Policies (one file each)
//
// none (policy_none.go), keepalive (policy_keepalive.go, TTL 10 minutes), hybrid-histogram
// (policy_histogram.go: Shahrad et al.; its divergences from the paper are documented on
// [HybridHistogram]), greedy-dual (policy_greedydual.go: FaasCache), predictive
// (policy_predictive.go: HotC-style). A new policy implements [Policy] (and [Ticker] to
// resize pools every minute) and is named in [NewPolicy].
//
// # Output: summary.json of `reclave trace simulate` (schema_version 3, kind trace-simulation)
//
//	schema_version  3 (results.SchemaVersion: the version shared by the changes listed in
//	                results/doc.go)
//	kind            "trace-simulation": tells this summary from a run's
//	env             as in a run's summary.json
//	trace           path, format, functions, invocations, length_ns, arrivals, seed, top,
//	                random, from_ns, to_ns, speed_up; workloads: functions per mapped workload
//	cluster         nodes, capacity_bytes (0: unbounded), trace_memory, keepalive_ns
//	costs           source (a run folder, or "measured at start") and per workload:
//	                memory_bytes, exec_ns, create_ns, eadd_eextend_ns, compile_ns, destroy_ns,
//	                reuse.{rewind,generic,reinstantiate,warm}.{start_ns,reset_ns} (medians)
//	policies        one object per policy × reuse technique (policy none once, reuse none):
//	  policy, reuse, insecure (true for warm: state leaks; for reference only)
//	  invocations, cold_starts, cold_fraction, queued (arrivals that waited for room)
//	  latency_ns      p50, p99, p999, mean, max of arrival-to-response latency (HDR histogram,
//	                  3 significant digits); latency_cdf: [{q, ns}] at 0 to 100%
//	  startup_ns, startup_cdf  the same for latency less the function's duration
//	  memory_gb_s     busy, idle: enclave memory-time, GiB × seconds
//	  enclaves_created, prewarmed (enclaves created ahead of demand), prewarms_skipped (no
//	                  room), evictions, peak_memory_bytes
//	  policy_ns_per_invocation  wall time of the policy's decisions per invocation (one call
//	                  in 64 timed)
//	  sim_wall_ns, sim_invocations_per_s  the simulation's own speed (one core)
//	  timeline        bin_ns, and per bin (at its start) live_enclaves, busy_enclaves,
//	                  memory_bytes
//	warnings        costs that could not be used
//
//	replay          `reclave trace replay` only (policies then holds the simulation of the
//	                replayed slice): policy, reuse, speed_up, wall_ns, cores, errors;
//	  result          the replay's own outcome in the fields of a policy above (invocations,
//	                  cold_starts, cold_fraction, queued, latency_ns, startup_ns and their
//	                  CDFs, enclaves_created, prewarmed, evictions, peak_memory_bytes,
//	                  memory_gb_s and timeline — both in the replay's sped-up wall time, see
//	                  "Replay"; the sim_ fields are not measured: zero)
//	  agreement       cold_fraction_sim, cold_fraction_replay, cold_diff_pp (replay −
//	                  simulator, percentage points), bound_pp (2), cold_ok (|diff| ≤ bound:
//	                  the check), decisions_differ (invocations one engine served cold and the
//	                  other not); latency_sim_ns, latency_replay_ns, startup_sim_ns,
//	                  startup_replay_ns (reported, not gated); dispatch_lag_ns (how late
//	                  arrivals were issued) and cpu_queueing_ns (start-up latency less the
//	                  wait for memory and less the simulator's cost of the decision: what
//	                  the cores add that the simulator does not model), each p50, p99, p999,
//	                  mean, max; memory_gb_s_sim, memory_gb_s_replay (busy, idle: the
//	                  memory-time of both engines, GiB × s of the replay's time; reported,
//	                  not gated); cold_fraction_observed, decisions_differ_observed,
//	                  cold_observed_ok, memory_gb_s_observed: the simulator over the slice
//	                  again, each arrival when the replay's loop took it and each enclave
//	                  busy as long as the replay's was (CPU queueing included): the same
//	                  decisions given the same timings, whatever the machine's load
//
// A replay also writes records.jsonl, one record per invocation in the schema of
// results/doc.go (experiment trace-replay, load open, mode the reuse technique or cold for
// policy none) with policy, decision (cold or the reuse technique), queued and
// trace_function, latency and response from the intended start, and phases trace_busy (the
// duration slept) and queue_wait.
//
// `reclave plot DIR` draws policy_tradeoff, policy_cdf and policy_timeline from it, and
// report.md gets the agreement table of a replay.
//
// # Trace experiments (a config's kind: trace)
//
// A config's experiments list may hold items of kind trace (harness.Config documents the
// keys: synth or path, the options of simulate, and an optional replay). `reclave run` runs
// them after the invocation experiments with [RunExperiment], which writes
// RUN/trace/<name>/synth (the synthetic trace), simulate (summary.json) and replay
// (records.jsonl, summary.json) with the code of `reclave trace synth`, `simulate` and
// `replay` ([RunSimulate], [RunReplay]): the CLI's flags and the config's keys are the same
// options (internal/tracespec), with the same defaults. `reclave plot RUN` draws every
// simulate and replay folder and links them from the run's report.md.
package trace
