// Package plots draws the figures of a reclave run from its results: the summary
// ([results.Summary], the content of summary.json), the records ([results.Record], the lines
// of records.jsonl) and the rewind benchmark ([results.RewindBench], the content of
// rewind_bench.json). It only reads results: it never runs a workload and imports neither the
// harness nor the enclave packages, so figures can be redrawn from any archived run. [All]
// draws every figure whose input is in a run folder, into its plots folder, and says which it
// skipped and why; [WriteReport] then writes the folder's report.md. `reclave plot DIR` does
// both.
//
// # Which result a figure draws
//
// A run may measure one workload and mode under several parameters: load models,
// concurrency levels, compartments on and off, and so on. A figure that compares modes draws
// one result per workload and mode, the same in every figure, its reference result: a closed
// loop rather than an open or burst load, then the lowest concurrency, then the first of those
// in the summary. Runs made before the load models were recorded (load "", concurrency 0)
// count as closed loops at concurrency 1. The throughput figure draws the concurrency levels
// of the reference's parameters; the overhead figure the reference with compartments on and
// off.
//
// # Figures
//
// [Headline] draws cold_vs_rewind, the headline figure. It reproduces the central claim of
// "Reusable Enclaves for Confidential Serverless Computing" (USENIX Security 2023): creating
// a fresh enclave for every invocation (a cold start) costs orders of magnitude more than
// reusing one enclave and rewinding it to a snapshot between invocations, which keeps
// invocations isolated from each other. For every workload (X axis) it draws one bar per
// mode of the summary, in the order
//
//   - cold: a fresh enclave per invocation, the secure baseline the paper improves on;
//   - reinstantiate: the enclave is kept, the Wasm instance is created again, the
//     middle ground;
//   - rewind: the enclave is kept and restored from its snapshot, the paper's proposal;
//   - warm: the enclave is reused without any reset, an insecure lower bound (state leaks
//     from one invocation to the next), shown for reference only;
//
// followed by any other mode, alphabetically. A bar is the median latency of the measured
// invocations; its whisker, when the summary has one, is the distribution-free 95%
// confidence interval of that median. The Y axis is logarithmic and labelled in units of
// time (1 µs, 10 µs, ..., 1 s), so the claim reads as the number of decades between the cold
// and the rewind bar of a workload. Results whose median is not positive are left out.
//
// [Attestation] draws attestation, from the same summary when the run measured attestation:
// what attesting an invocation costs, per workload (X axis), against what it is attached to.
// Its bars, on the same logarithmic time axis, are, in order, the median latency of a cold
// start (for context), the outer evidence (phase quote of the cold result: the platform quotes
// the enclave's L0 key once per enclave, so once per cold start), the inner report (phase
// attest of the rewind result, or else of another non-cold mode: the L0 key signs every
// invocation's report) and the rewind itself (phase rewind of the rewind result, for
// context). A reused enclave pays the inner report on every invocation and the outer evidence
// once, so the figure reads as what attestation adds to a rewound invocation, and to a cold
// start. Workloads without either attestation phase are left out; the caption notes that
// the outer evidence is a simulated quote (ECDSA P-256) and the inner report an L0 key
// signature.
//
// [RewindScaling] draws rewind_scaling, what a rewind costs as a function of what the
// invocation wrote: the median rewind time of every strategy (full, diff, cow, tracked, then
// any other, alphabetically) against the number of 4 KiB pages the invocation dirtied, both
// axes logarithmic, in one panel per linear memory size, the panels side by side on the same
// axes. A dashed black line in every panel is the time a plain memcpy of the same pages took
// in the same run, the physical lower bound of a rewind. Strategies that copy or scan the
// whole memory (full, diff) are flat lines that climb from panel to panel; strategies that
// restore only the dirty pages (cow, tracked) climb within a panel and, at best, follow the
// memcpy line. The part of an axis beyond the pages a memory has is shaded.
//
// [Breakdown] draws breakdown, where a cold start goes: one horizontal bar per workload, the
// median of each phase of its cold result (ecreate, eadd_eextend, einit, runtime_init,
// compile, instantiate, fn_init, snapshot, quote, attest, invoke, destroy, then any other,
// alphabetically) side by side, normalised to 100% of their sum, the sum in brackets after
// the workload's name. Normalised bars rather than stacked milliseconds: the workloads' cold
// starts differ by up to an order of magnitude, and a logarithmic axis cannot stack, so
// shares keep every workload's composition readable while the bracket keeps the absolute
// size. Medians do not add up exactly to the median latency, so the sum is that of the
// medians. Phase sign, the signer's build step (once per measurement, absorbed by warm-up),
// is not a launch cost and is left out; the caption says so when the summary has it. The
// figure reproduces the observation behind the paper: a cold start is mostly enclave
// creation and loading, which a reused enclave does not repeat.
//
// [CDF] draws cdf, the empirical cumulative distribution of the latency of every mode, one
// panel per workload, the X axis logarithmic (labelled in units of time), the Y axis the
// fraction of invocations from 0 to 1. It draws the measured records that succeeded and were
// not dropped; in the open and burst load models latency counts from the intended start, so
// queueing is not hidden (coordinated omission). Distributions of more than 400 invocations
// are drawn through 401 of their quantiles. [All] reads records.jsonl, or records.jsonl.gz,
// keeping at most 100,000 records per configuration (a seeded uniform sample of a longer
// one), so that a soak of millions of invocations is drawn in bounded memory. It shows that
// rewinding improves the tail, not only the median.
//
// [Throughput] draws throughput, successful invocations per second (a logarithmic axis)
// against the number of workers of a closed loop (logarithmic, labelled at the levels
// measured), one line per mode, one panel per workload. It needs closed loop results at two
// concurrency levels at least; the caption gives the number of cores, where the lines are
// expected to flatten.
//
// [Overhead] draws overhead, what compartments cost: per workload, the median latency of
// warm and rewind, each with compartments off and on, divided by that of warm with
// compartments off (the baseline, 1, a dashed line). The axis is linear from 0 while the
// largest ratio is at most 8, logarithmic beyond, so that a few percent of overhead stays
// visible. Latency is the service time (latency_ns), reset included: what an invocation
// costs the platform. It needs results with compartments on and off, and warm without
// compartments.
//
// The mix figure (mix.go) shows generic enclaves (issue 16), from the records and the summary:
// on top, per mix of workloads (a config's mix), load and pool, the median latency of every
// measured invocation of the mix whichever function ran, per-function rewind enclaves against
// a pool of generic enclaves (mode generic); below, per workload, the phase medians of a
// generic invocation (load, instantiate, fn_init, invoke, rewind) as shares of their sum.
// report.md's section "Generic enclaves" puts a generic invocation beside per-function rewind,
// reinstantiate and cold, and computes the memory of both pools.
//
// # Skipped figures and the report
//
// A figure whose input file is missing, or whose input holds nothing for it (no cold result
// for breakdown, a single concurrency level for throughput, no compartments on for overhead,
// no attestation phase, ...), is not drawn: [All] returns, for every figure, the files written
// or the reason it was skipped, and `reclave plot` prints the reasons on stderr. report.md
// (see [WriteReport]) holds the environment, the summary table, the rewind strategies, rewind
// against warm (the summary's paired comparisons of kind rewind_vs_warm, with their
// intervals), every figure drawn embedded with the claim of the paper it reproduces and how to
// read it, and the figures skipped with their reasons.
//
// # Formats
//
// Every figure is written as PNG (300 dpi, for READMEs and quick looks), SVG (for the web;
// text stays text) and PDF (for LaTeX papers). The headline and attestation figures are
// 6 × 3.5 inches, wider (up to 12 inches) when there are many bars; the rewind scaling figure
// is 7 inches wide (the text width of a two-column paper) with four panels in a row, 6 with
// fewer, and 3.4 inches high, 2.15 inches more for every further row of panels. The
// breakdown and overhead figures are a column of a two-column paper wide (3.4 inches; the
// overhead figure wider, up to 7 inches, with many bars), as are the cdf and throughput
// figures of one workload; with more workloads those have up to three panels in a row, up to
// 7 inches wide. Their text, 8 to 11.5 points, stays readable printed at that size. Text is set
// in Liberation Sans, which is bundled with gonum.org/v1/plot: the PNG and the PDF carry it,
// the SVG names it (a viewer without it substitutes a similar sans-serif).
//
// # Simulated results
//
// When the environment of the summary or of the benchmark says the run was simulated
// (Env.Simulated), the caption of the figure says "simulated SGX". A simulated enclave does
// not pay the costs of SGX hardware (adding and measuring enclave pages at creation, enclave
// transitions, encrypted memory), so neither its absolute latencies nor its cold/rewind ratio
// may be quoted as hardware results; the label travels with the figure so that they are not.
// The caption also names the backend of the run.
package plots
