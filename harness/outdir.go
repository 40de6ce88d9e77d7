package harness

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// NewRunDir creates base/<UTC timestamp> (with a suffix if that exists) for a run and points
// the symbolic link base/latest at it.
func NewRunDir(base string, now time.Time) (string, error) {
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("output folder: %w", err)
	}
	stamp := now.UTC().Format("20060102-150405")
	name := stamp
	for i := 2; ; i++ {
		err := os.Mkdir(filepath.Join(base, name), 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("output folder: %w", err)
		}
		name = fmt.Sprintf("%s-%d", stamp, i)
	}
	// Replace the link atomically: make a new one beside it, then rename over it.
	link := filepath.Join(base, "latest")
	tmp := link + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(name, tmp); err != nil {
		return "", fmt.Errorf("link latest: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		return "", fmt.Errorf("link latest: %w", err)
	}
	return filepath.Join(base, name), nil
}
