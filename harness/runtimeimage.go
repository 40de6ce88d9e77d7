package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/reclave/reclave/internal/runtimeimage"
)

// RuntimeImagePath returns the enclave runtime image of the config: the reclave-enclave
// binary (cmd/reclave-enclave) that cold starts add and measure as the enclave's code
// (enclave.measure_runtime) and that target process starts by default. It is
// enclave.runtime_image when the config gives it (relative to the config file), else
// reclave-enclave beside the running reclave executable — bin/reclave-enclave beside
// bin/reclave, as ./run.sh builds them. It does not check that the file exists.
func (c *Config) RuntimeImagePath() (string, error) {
	if c.Enclave.RuntimeImage != "" {
		return c.Enclave.RuntimeImage, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("config %s: enclave.runtime_image: not given, and the running executable, beside which the default is, is unknown: %w", c.File, err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return runtimeimage.Beside(exe), nil
}

// runtimeImageError is the error of a runtime image at path that cannot be used: it names the
// path, the config key that chose it and how to build it; alt says how to do without it.
func (c *Config) runtimeImageError(path string, err error, alt string) error {
	from := "enclave.runtime_image"
	if c.Enclave.RuntimeImage == "" {
		from = "the default, beside the running reclave executable; another with enclave.runtime_image"
	}
	if pe, ok := err.(*fs.PathError); ok {
		err = pe.Err // the path is named already
	}
	hint := ""
	if errors.Is(err, fs.ErrNotExist) {
		out := path
		if abs, err := filepath.Abs(path); err == nil {
			out = abs
		}
		hint = fmt.Sprintf("; build it with `%s`, from the repository's root (./run.sh builds bin/%s)", runtimeimage.BuildCommandFor(out), runtimeimage.Name)
	}
	return fmt.Errorf("config %s: runtime image %s (%s): %w%s, or %s", c.File, path, from, err, hint, alt)
}

// loadRuntimeImage reads the config's runtime image (see [Config.RuntimeImagePath]).
func (c *Config) loadRuntimeImage() ([]byte, error) {
	path, err := c.RuntimeImagePath()
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err == nil && !st.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	var image []byte
	if err == nil {
		image, err = os.ReadFile(path)
	}
	if err == nil && len(image) == 0 {
		err = errors.New("empty file")
	}
	if err != nil {
		return nil, c.runtimeImageError(path, err, "set enclave.measure_runtime: false to measure no runtime image")
	}
	return image, nil
}
