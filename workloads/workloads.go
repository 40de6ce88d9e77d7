// Package workloads reads reclave's workloads: folders holding a manifest (workload.yaml),
// the WebAssembly module it names and the inputs it generates. The manifest and the function
// ABI are documented in this folder's README.md. The workloads committed in this folder are
// embedded in the binary ([Builtin]); [Load] reads the same layout from any folder, so a
// researcher adds a workload without changing Go code.
package workloads

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/reclave/reclave/internal/strictyaml"
)

// ManifestFile is the name of a workload's manifest in its folder.
const ManifestFile = "workload.yaml"

// DefaultBuild is the build script a workload folder uses when its manifest names none.
const DefaultBuild = "build.sh"

// Sizes are the input sizes a manifest may define, smallest first.
var Sizes = []string{"test", "small", "large"}

//go:embed *
var builtin embed.FS

// Manifest is a parsed workload.yaml. See README.md for the schema.
type Manifest struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Language    string   `yaml:"language"`
	Kind        string   `yaml:"kind"`
	Module      string   `yaml:"module"`
	Limits      Limits   `yaml:"limits"`
	Imports     []string `yaml:"imports"`
	// StubImports are host functions ("module.name") the runtime satisfies with harmless
	// stubs, so that modules built for other harnesses (which import timing hooks, say) load.
	StubImports []string         `yaml:"stub_imports"`
	Inputs      map[string]Input `yaml:"inputs"`
	// Stateful says the output depends on earlier invocations' state: only outputs produced
	// on clean state are validated (callers decide which those are).
	Stateful bool `yaml:"stateful"`
	// Deterministic, when given, says whether the output is a function of the input on clean
	// state (the same input always gives the same output); nil when the manifest leaves it
	// out. Read it through [Manifest.IsDeterministic], which gives the default.
	Deterministic *bool `yaml:"deterministic"`
	// WarmupInput names one of Inputs (a size) as the workload's public warm-up input: what
	// snapshot point warmed feeds the function before it takes its snapshot (see
	// enclave.PointWarmed). It must hold nothing secret: its effect on the state becomes the
	// clean state every caller starts from. It should look like the traffic the enclave is
	// warmed for: a rewound invocation repeats whatever its first call from the snapshot does
	// that the warm-up's did not (a Go runtime's allocator refills, for instance; see
	// docs/design.md, "Why settle the warm-up"). Empty: the workload cannot be warmed.
	WarmupInput string `yaml:"warmup_input"`
	// Build is the script, relative to the folder and run from it, that rebuilds the module:
	// the manifest's build key, else "build.sh" if the folder has one, else "".
	Build string `yaml:"build"`
}

// Limits are the per-function caps the runtime enforces. Zero values take the runtime's
// defaults.
type Limits struct {
	MemoryPages    uint32        `yaml:"memory_pages"`
	MaxOutputBytes int           `yaml:"max_output_bytes"`
	Deadline       time.Duration `yaml:"deadline"`
	// HostCalls and HostBytes cap the host calls of one invocation and the bytes they move
	// in and out of linear memory (enclave.Function.MaxHostCalls, MaxHostBytes); 0: no cap.
	HostCalls int64 `yaml:"host_calls"`
	HostBytes int64 `yaml:"host_bytes"`
}

// Input describes one input size: exactly one of JSON, File or Generate, and optionally the
// output expected for it.
type Input struct {
	JSON     string  `yaml:"json"`
	File     string  `yaml:"file"`
	Generate string  `yaml:"generate"`
	Count    int     `yaml:"count"`
	Seed     uint64  `yaml:"seed"`
	Expect   *Expect `yaml:"expect"`
}

// Workload is a workload found in a folder.
type Workload struct {
	Manifest
	fsys fs.FS  // the workload's folder
	dir  string // the folder's path, as errors name its files; "" when unknown
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// Builtin returns the workloads committed with reclave, embedded in the binary.
func Builtin() ([]*Workload, error) { return Load(builtin) }

// Skipped is a workload folder that [Load] skipped: its manifest could not be read or is
// invalid.
type Skipped struct {
	Folder string // the folder's name
	Err    error  // why, naming the manifest
}

// SkippedError is the error [Load] returns, together with every other workload, when it
// skipped workload folders whose manifests are broken: one broken manifest does not hide the
// folder's other workloads.
type SkippedError struct {
	Skipped []Skipped
}

func (e *SkippedError) Error() string {
	msgs := make([]string, len(e.Skipped))
	for i, s := range e.Skipped {
		msgs[i] = s.Err.Error()
	}
	return fmt.Sprintf("%d workload folder(s) skipped: %s", len(e.Skipped), strings.Join(msgs, "; "))
}

// Find returns why the folder named folder was skipped, or nil if it was not.
func (e *SkippedError) Find(folder string) error {
	for _, s := range e.Skipped {
		if s.Folder == folder {
			return s.Err
		}
	}
	return nil
}

// Load reads every workload in fsys: each folder directly under its root that holds a
// workload.yaml. Workloads are sorted by name; two with the same name are an error. A folder
// whose manifest cannot be read or is invalid is skipped: Load then returns the other
// workloads together with a *[SkippedError] naming each skipped folder and why. On any other
// error it returns no workloads.
func Load(fsys fs.FS) ([]*Workload, error) { return load(fsys, "") }

// LoadDir is [Load] of the folder dir of the file system, with errors that name files by
// their path under dir (a manifest as dir/NAME/workload.yaml, a module as dir/NAME/x.wasm).
func LoadDir(dir string) ([]*Workload, error) { return load(os.DirFS(dir), dir) }

// LoadFolder reads the one workload whose folder is dir (the folder holding its
// workload.yaml).
func LoadFolder(dir string) (*Workload, error) {
	where := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(where)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	w, err := Parse(b, where, os.DirFS(dir))
	if err != nil {
		return nil, err
	}
	w.dir = dir
	return w, nil
}

func load(fsys fs.FS, dir string) ([]*Workload, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		if dir != "" {
			return nil, fmt.Errorf("read workloads folder %s: %w", dir, withDir(err, dir))
		}
		return nil, fmt.Errorf("read workloads: %w", err)
	}
	var out []*Workload
	var skipped []Skipped
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		where := path.Join(e.Name(), ManifestFile)
		if dir != "" {
			where = filepath.Join(dir, e.Name(), ManifestFile)
		}
		b, err := fs.ReadFile(fsys, path.Join(e.Name(), ManifestFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			skipped = append(skipped, Skipped{e.Name(), fmt.Errorf("read manifest %s: %w", where, withDir(err, dir))})
			continue
		}
		sub, err := fs.Sub(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read workload %s: %w", e.Name(), err)
		}
		w, err := Parse(b, where, sub)
		if err != nil {
			skipped = append(skipped, Skipped{e.Name(), err})
			continue
		}
		if dir != "" {
			w.dir = filepath.Join(dir, e.Name())
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b *Workload) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			return nil, fmt.Errorf("two workloads are named %q", out[i].Name)
		}
	}
	if skipped != nil {
		return out, &SkippedError{skipped}
	}
	return out, nil
}

// withDir puts dir in front of the path of a *fs.PathError from a file system rooted at dir,
// so that the error names the file where it is ("open a.wasm" becomes "open DIR/w/a.wasm").
func withDir(err error, dir string) error {
	var pe *fs.PathError
	if dir == "" || !errors.As(err, &pe) {
		return err
	}
	p := filepath.Join(dir, filepath.FromSlash(pe.Path))
	return &fs.PathError{Op: pe.Op, Path: p, Err: pe.Err}
}

// pathError names the workload's file in err by its path under the workload's folder.
func (w *Workload) pathError(err error) error { return withDir(err, w.dir) }

// Parse parses and validates a manifest; dir is the workload's folder, which its module and
// input files are read from, and where names the manifest in errors.
func Parse(manifest []byte, where string, dir fs.FS) (*Workload, error) {
	w := &Workload{fsys: dir}
	if err := strictyaml.Decode(manifest, "manifest "+where, &w.Manifest); err != nil {
		return nil, err
	}
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("manifest %s: %s: %s", where, key, fmt.Sprintf(format, args...))
	}
	m := &w.Manifest
	switch {
	case !nameRE.MatchString(m.Name):
		return nil, bad("name", "%q: want lower-case letters, digits and '-'", m.Name)
	case m.Kind != "reactor" && m.Kind != "command":
		return nil, bad("kind", "%q: want reactor or command", m.Kind)
	case m.Module == "":
		return nil, bad("module", "missing")
	case m.Limits.MaxOutputBytes < 0:
		return nil, bad("limits.max_output_bytes", "%d: must not be negative", m.Limits.MaxOutputBytes)
	case m.Limits.Deadline < 0:
		return nil, bad("limits.deadline", "%v: must not be negative", m.Limits.Deadline)
	case m.Limits.MemoryPages > 65536:
		return nil, bad("limits.memory_pages", "%d: at most 65536", m.Limits.MemoryPages)
	case m.Limits.HostCalls < 0:
		return nil, bad("limits.host_calls", "%d: must not be negative", m.Limits.HostCalls)
	case m.Limits.HostBytes < 0:
		return nil, bad("limits.host_bytes", "%d: must not be negative", m.Limits.HostBytes)
	}
	for i, imp := range m.Imports {
		if mod, name, ok := strings.Cut(imp, "."); !ok || mod == "" || name == "" {
			return nil, bad(fmt.Sprintf("imports[%d]", i), "%q: want module.name", imp)
		}
	}
	for i, imp := range m.StubImports {
		key := fmt.Sprintf("stub_imports[%d]", i)
		if mod, name, ok := strings.Cut(imp, "."); !ok || mod == "" || name == "" {
			return nil, bad(key, "%q: want module.name", imp)
		}
		if slices.Index(m.StubImports, imp) != i {
			return nil, bad(key, "%q listed twice", imp)
		}
		if slices.Contains(m.Imports, imp) {
			return nil, bad(key, "%q is also in imports: an import is either granted or stubbed", imp)
		}
	}
	if m.Build != "" {
		if !fs.ValidPath(m.Build) || m.Build == "." {
			return nil, bad("build", "%q: want a path inside the workload folder, with '/'", m.Build)
		}
		if st, err := fs.Stat(dir, m.Build); err != nil || st.IsDir() {
			return nil, bad("build", "%q: no such file in the workload folder", m.Build)
		}
	} else if st, err := fs.Stat(dir, DefaultBuild); err == nil && !st.IsDir() {
		m.Build = DefaultBuild
	}
	if len(m.Inputs) == 0 {
		return nil, bad("inputs", "none: give at least one size (%s); an input with none of json, file or generate is empty, for a function that reads nothing", strings.Join(Sizes, ", "))
	}
	for _, size := range slices.Sorted(maps.Keys(m.Inputs)) {
		in, key := m.Inputs[size], "inputs."+size
		if !slices.Contains(Sizes, size) {
			return nil, bad(key, "unknown size: want one of %v", Sizes)
		}
		n := 0
		for _, set := range []bool{in.JSON != "", in.File != "", in.Generate != ""} {
			if set {
				n++
			}
		}
		if n > 1 {
			return nil, bad(key, "give at most one of json, file or generate (none: an empty input)")
		}
		if in.Generate == "" && (in.Count != 0 || in.Seed != 0) {
			return nil, bad(key, "count and seed belong to generate")
		}
		if in.Generate != "" {
			if _, ok := generators[in.Generate]; !ok {
				return nil, bad(key+".generate", "unknown generator %q", in.Generate)
			}
			if in.Count < 0 {
				return nil, bad(key+".count", "%d: must not be negative", in.Count)
			}
		}
		if in.Expect != nil {
			if err := in.Expect.validate(); err != nil {
				return nil, bad(key+".expect", "%v", err)
			}
		}
	}
	if m.WarmupInput != "" {
		if _, ok := m.Inputs[m.WarmupInput]; !ok {
			return nil, bad("warmup_input", "%q: not one of the manifest's inputs (%s)", m.WarmupInput, strings.Join(slices.Sorted(maps.Keys(m.Inputs)), ", "))
		}
		if m.Kind != "reactor" {
			return nil, bad("warmup_input", "a %s has nothing to warm: its _start is its whole life (reactors only)", m.Kind)
		}
	}
	return w, nil
}

// WarmupInput returns the bytes of the workload's public warm-up input (the manifest's
// warmup_input), or nil when it names none.
func (w *Workload) WarmupInput() ([]byte, error) {
	if w.Manifest.WarmupInput == "" {
		return nil, nil
	}
	in, err := w.Input(w.Manifest.WarmupInput)
	if err != nil {
		return nil, fmt.Errorf("warm-up input: %w", err)
	}
	if in == nil {
		in = []byte{}
	}
	return in, nil
}

// IsDeterministic reports whether the workload's output is a function of its input on clean
// state: the manifest's deterministic key, or, when it leaves the key out, true when every
// input has an expected output (an exact expectation says the output does not vary) and false
// otherwise.
func (m *Manifest) IsDeterministic() bool {
	if m.Deterministic != nil {
		return *m.Deterministic
	}
	if len(m.Inputs) == 0 {
		return false
	}
	for _, in := range m.Inputs {
		if in.Expect == nil {
			return false
		}
	}
	return true
}

// RepeatsOutput reports whether, in the given mode (cold, warm, reinstantiate, rewind), every
// invocation of the workload with the same input must give the same output: the workload is
// deterministic and every invocation of the mode runs on clean state. That is every mode but
// warm, which resets nothing, so warm only for a workload that is not stateful (a stateful
// workload's output in warm depends on the invocations before, by design).
func (m *Manifest) RepeatsOutput(mode string) bool {
	return m.IsDeterministic() && (mode != "warm" || !m.Stateful)
}

// Dir is the workload's folder: its manifest, module, input and expectation files.
func (w *Workload) Dir() fs.FS { return w.fsys }

// Path returns the path of the workload's folder when it was loaded by [LoadDir], else "".
func (w *Workload) Path() string { return w.dir }

// Wasm reads the workload's module.
func (w *Workload) Wasm() ([]byte, error) {
	b, err := fs.ReadFile(w.fsys, w.Module)
	if err != nil {
		return nil, fmt.Errorf("workload %s: module: %w", w.Name, w.pathError(err))
	}
	return b, nil
}

// Input returns the input of the given size. The same size always yields the same bytes; an
// input the manifest gives with none of json, file or generate is empty.
func (w *Workload) Input(size string) ([]byte, error) {
	in, ok := w.Inputs[size]
	if !ok {
		return nil, fmt.Errorf("workload %s has no input of size %q", w.Name, size)
	}
	switch {
	case in.JSON != "":
		return []byte(in.JSON), nil
	case in.File != "":
		b, err := fs.ReadFile(w.fsys, in.File)
		if err != nil {
			return nil, fmt.Errorf("workload %s: input %s: %w", w.Name, size, w.pathError(err))
		}
		return b, nil
	case in.Generate != "":
		return generators[in.Generate](in), nil
	default:
		return []byte{}, nil
	}
}
