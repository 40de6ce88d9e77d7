// Package plots draws the figures of a reclave run from its summary ([results.Summary], the
// content of summary.json). It only reads results: it never runs a workload and imports
// neither the harness nor the enclave packages, so figures can be redrawn from any archived
// summary.
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
// # Formats
//
// Every figure is written as PNG (300 dpi, for READMEs and quick looks), SVG (for the web;
// text stays text) and PDF (for LaTeX papers), 6 × 3.5 inches, wider (up to 12 inches) when
// there are many bars. Text is set in Liberation Sans, which is bundled with
// gonum.org/v1/plot: the PNG and the PDF carry it, the SVG names it (a viewer without it
// substitutes a similar sans-serif).
//
// # Simulated results
//
// When the summary's environment says the run was simulated (Env.Simulated), the caption of
// every figure says "simulated SGX". A simulated enclave does not pay the costs of SGX
// hardware (adding and measuring enclave pages at creation, enclave transitions, encrypted
// memory), so neither its absolute latencies nor its cold/rewind ratio may be quoted as
// hardware results; the label travels with the figure so that they are not. The caption also
// names the backend of the run.
package plots
