package plots

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/reclave/reclave/results"
)

// ReportFile is the name of the report [WriteReport] writes in a run folder.
const ReportFile = "report.md"

// paperTitle names the paper whose claims the figures reproduce.
const paperTitle = `"Reusable Enclaves for Confidential Serverless Computing" (USENIX Security 2023)`

// WriteReport writes dir/report.md, the report of the run folder dir after [All] drew its
// figures with outcome o, and returns its path. The report is Markdown: the environment of
// the run (from summary.json, or else rewind_bench.json), the summary table
// ([results.WriteTable]) with the run's warnings, the estimated enclave-exit cost on SGX
// hardware (host calls × a per-exit cost: an estimate, apart from the measured latencies),
// the rewind benchmark's table when there is one ([results.WriteRewindTable]), then every
// figure drawn, embedded as PNG, with the claim of the paper it reproduces and how to read
// it, and last the figures skipped with the reason. A run with trace experiments gets the
// section "Platform policies over a trace" linking the report.md that WriteReport writes in
// each of their folders (o.Traces). Links are relative to dir, so the folder can be moved or
// archived whole.
func WriteReport(dir string, o *Outcome) (string, error) {
	if o == nil {
		return "", errors.New("report: no outcome of the figures")
	}
	if err := writeTraceReports(o); err != nil {
		return "", err
	}
	in := &inputs{dir: dir, read: map[string]bool{}, errs: map[string]error{}}
	var b bytes.Buffer
	if err := writeReport(&b, dir, in, o); err != nil {
		return "", fmt.Errorf("report of %s: %w", dir, err)
	}
	path := filepath.Join(dir, ReportFile)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("write report: %w", err)
	}
	return path, nil
}

// writeReport writes the report to b.
func writeReport(b *bytes.Buffer, dir string, in *inputs, o *Outcome) error {
	sumErr := in.load(summaryFile)
	benchErr := in.load(results.RewindBenchFile)

	name := filepath.Base(dir)
	if sumErr == nil && in.summary.Config.Name != "" {
		name = in.summary.Config.Name
	}
	fmt.Fprintf(b, "# reclave run: %s\n\n", name)
	fmt.Fprintf(b, "Written by `reclave plot` from the files of this folder. The figures reproduce claims of %s; each is in `%s/` as PNG, SVG and PDF.\n\n", paperTitle, Subdir)

	env, haveEnv := in.env(), sumErr == nil || benchErr == nil
	if haveEnv && env.Simulated {
		b.WriteString("> **Simulated SGX (no hardware).** The enclaves of this run were simulated: they do not pay " +
			"what SGX hardware costs (adding and measuring pages at creation, enclave transitions, encrypted " +
			"memory). Compare ratios and shapes with the paper, not absolute times.\n\n")
	}

	b.WriteString("## Environment\n\n")
	switch {
	case haveEnv:
		writeEnv(b, env, in.summary)
	case errors.Is(sumErr, fs.ErrNotExist):
		fmt.Fprintf(b, "No %s or %s in this folder.\n\n", summaryFile, results.RewindBenchFile)
	default:
		fmt.Fprintf(b, "%s is unreadable: %s\n\n", summaryFile, mdText(sumErr.Error()))
	}

	isTrace := in.load(policiesInput) == nil && in.policies.Kind == policyKind
	if isTrace {
		writePolicies(b, in.policies)
		writeAgreement(b, in.policies)
	}
	if sumErr == nil && !isTrace {
		b.WriteString("## Results\n\n")
		b.WriteString("Per workload and mode: measured invocations, failures, median, 90th and 99th percentile latency, " +
			"speed-up over mode cold, and the same for the start-up cost (latency minus the function's own " +
			"execution); at most three significant digits, and — where the data do not support a value (the " +
			"notes under the table say why).\n\n```text\n")
		if err := results.WriteTable(b, in.summary); err != nil {
			return err
		}
		b.WriteString("```\n\n")
		if len(in.summary.Warnings) > 0 {
			b.WriteString("Warnings:\n\n")
			for _, w := range in.summary.Warnings {
				fmt.Fprintf(b, "- %s\n", mdText(w))
			}
			b.WriteString("\n")
		}
		writeExitCost(b, in.summary)
		writeStrategies(b, in.summary)
		writeRewindWarm(b, in.summary)
		writeGeneric(b, in.summary)
	}
	if benchErr == nil {
		b.WriteString("## Rewind benchmark\n\n```text\n")
		if err := results.WriteRewindTable(b, in.bench); err != nil {
			return err
		}
		b.WriteString("```\n\n")
	}

	writeTraceSection(b, dir, o)

	specs := map[string]figureSpec{}
	for _, s := range figureSpecs() {
		specs[s.base] = s
	}
	b.WriteString("## Figures\n\n")
	drawn := o.Drawn()
	if len(drawn) == 0 {
		b.WriteString("No figure was drawn.\n\n")
	}
	for _, f := range drawn {
		spec := specs[f.Base]
		fmt.Fprintf(b, "### %s (`%s`)\n\n", mdText(f.Title), f.Base)
		var links []string
		image := map[string]string{} // format → path
		for _, p := range f.Paths {
			rel := relPath(dir, p)
			ext := strings.TrimPrefix(filepath.Ext(p), ".")
			links = append(links, fmt.Sprintf("[%s](%s)", strings.ToUpper(ext), rel))
			image[ext] = rel
		}
		// The PNG, or else the SVG (Markdown viewers show both, not PDF).
		if img := cmp.Or(image["png"], image["svg"]); img != "" {
			fmt.Fprintf(b, "![%s](%s)\n\n", mdText(f.Title), img)
		}
		if spec.claim != "" {
			fmt.Fprintf(b, "**Claim of the paper.** %s\n\n", spec.claim)
		}
		if spec.read != "" {
			fmt.Fprintf(b, "**How to read it.** %s\n\n", spec.read)
		}
		if w := wideCIWarning(spec, in); w != "" {
			fmt.Fprintf(b, "> %s\n\n", w)
		}
		fmt.Fprintf(b, "Files: %s\n\n", strings.Join(links, " · "))
	}

	var skipped []FigureOutcome
	for _, f := range o.Figures {
		if f.Skipped != "" {
			skipped = append(skipped, f)
		}
	}
	if len(skipped) > 0 {
		b.WriteString("## Figures not drawn\n\n")
		for _, f := range skipped {
			fmt.Fprintf(b, "- `%s` (%s): %s\n", f.Base, mdText(f.Title), mdText(f.Skipped))
		}
		b.WriteString("\n")
	}
	return nil
}

// wideCIWarning returns the warning paragraph of a figure whose whiskers are wide: bars whose
// 95% confidence interval (of the median, or of a paired ratio) reaches more than
// results.WideCI (±5%) from the bar, a change of the size `reclave compare` looks for cannot
// be read from them. It returns "" when there is none, or when the figure is not a bar
// chart with whiskers drawn from the summary.
func wideCIWarning(spec figureSpec, in *inputs) string {
	if spec.prepare == nil || spec.input != summaryFile || in.summary == nil {
		return ""
	}
	fig, err := spec.prepare(in)
	if err != nil {
		return ""
	}
	hf, ok := fig.(*headlineFigure)
	if !ok {
		return ""
	}
	var wide []string
	whiskers := 0
	for _, lb := range hf.series {
		for _, br := range lb.bars {
			if !br.ci {
				continue
			}
			whiskers++
			if w := results.CIHalfWidth(br.median, br.lo, br.hi); results.IsWideCI(w) {
				// Rounded up to 0.1%, so that a whisker just beyond ±5% does not read ±5%.
				wide = append(wide, fmt.Sprintf("%s %s ±%s%%", hf.workloads[br.group], lb.name,
					strconv.FormatFloat(math.Ceil(w*1000-1e-6)/10, 'f', -1, 64)))
			}
		}
	}
	if len(wide) == 0 {
		return ""
	}
	const listed = 8
	list := strings.Join(wide[:min(len(wide), listed)], ", ")
	if len(wide) > listed {
		list += fmt.Sprintf(" and %d more", len(wide)-listed)
	}
	return fmt.Sprintf("**Wide confidence intervals.** %d of the %d whiskers of this figure reach more than ±%.0f%% "+
		"from their bar (the relative half-width of the 95%% confidence interval of the median, or of the paired "+
		"ratio): %s. A difference smaller than that is not resolved by this run: give the config more "+
		"repetitions (rounds) or run it on a quieter machine (see the noise indicator in %s).",
		len(wide), whiskers, results.WideCI*100, mdText(list), summaryFile)
}

// writeEnv writes the environment as a table; s, when not nil, names the config.
func writeEnv(b *bytes.Buffer, env results.Env, s *results.Summary) {
	rows := [][2]string{}
	add := func(k, v string) {
		if v != "" {
			rows = append(rows, [2]string{k, v})
		}
	}
	if s != nil {
		cfg := s.Config.Name
		if s.Config.File != "" {
			cfg += " (" + s.Config.File + ")"
		}
		add("config", cfg)
	}
	backend := env.Backend
	if env.Simulated {
		backend += " (simulated SGX, no hardware)"
	}
	add("backend", backend)
	cpu := env.CPU
	if env.Cores > 0 {
		cpu += fmt.Sprintf(", %d cores", env.Cores)
	}
	add("CPU", cpu)
	osName := env.OS
	if env.Arch != "" {
		osName += "/" + env.Arch
	}
	if env.Kernel != "" {
		osName += ", kernel " + env.Kernel
	}
	add("OS", osName)
	add("Go", env.GoVersion)
	add("reclave commit", env.Commit)
	add("config SHA-256", env.ConfigSHA256)
	if env.RuntimeImageBytes > 0 {
		add("runtime image", fmt.Sprintf("%d bytes, SHA-256 %s", env.RuntimeImageBytes, env.RuntimeImageSHA256))
	}
	add("started", env.StartedAt)
	add("finished", env.FinishedAt)
	if len(rows) == 0 {
		b.WriteString("The environment was not recorded.\n\n")
		return
	}
	b.WriteString("| | |\n|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s |\n", r[0], mdCell(r[1]))
	}
	b.WriteString("\n")
}

// relPath returns path relative to dir with forward slashes, for a Markdown link; path itself
// when it is not under dir.
func relPath(dir, path string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(rel)
}

// mdText returns s on one line, for a Markdown paragraph or list item.
func mdText(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// mdCell returns s for a cell of a Markdown table: on one line, with its pipes escaped.
func mdCell(s string) string {
	return strings.ReplaceAll(mdText(s), "|", `\|`)
}
