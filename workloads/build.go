package workloads

import (
	"fmt"
	"io/fs"
)

// BuildLibFile is the shared library of the workloads' build scripts, buildlib.sh. A
// folder's build.sh sources it as
//
//	source "${RECLAVE_BUILDLIB:-../buildlib.sh}"
//
// so that it is found beside the folder in the checkout, and through RECLAVE_BUILDLIB
// anywhere else (reclave workloads build --workloads DIR sets it to a copy of [BuildLib]).
const BuildLibFile = "buildlib.sh"

// BuildLib returns the build library, buildlib.sh, as committed with reclave.
func BuildLib() ([]byte, error) {
	b, err := fs.ReadFile(builtin, BuildLibFile)
	if err != nil {
		return nil, fmt.Errorf("build library: %w", err)
	}
	return b, nil
}
