package enclave

import (
	"errors"
	"fmt"
)

// ErrorKind classifies a failed invocation. The same words appear as error_kind in records.
type ErrorKind string

// Error kinds.
const (
	// KindTrap: the function trapped (unreachable, out-of-bounds access, division by zero...).
	KindTrap ErrorKind = "trap"
	// KindDeadline: the invocation ran past its deadline and was stopped.
	KindDeadline ErrorKind = "deadline"
	// KindCanceled: the caller's context was cancelled during the invocation.
	KindCanceled ErrorKind = "canceled"
	// KindExit: a command module exited with a non-zero code.
	KindExit ErrorKind = "exit"
	// KindFunction: the handler returned a non-zero status.
	KindFunction ErrorKind = "function"
	// KindOutputLimit: the function wrote more than its max_output_bytes.
	KindOutputLimit ErrorKind = "output_limit"
	// KindHostCallLimit: the function made more host calls, or moved more bytes through
	// them, than its budget allows (Function.MaxHostCalls, Function.MaxHostBytes).
	KindHostCallLimit ErrorKind = "host_call_limit"
	// KindInternal: the runtime failed (for example, it could not re-create an instance).
	KindInternal ErrorKind = "internal"
)

// InvokeError is the error of a failed invocation. The enclave has already been reset or
// recycled when it is returned, so the next invocation is not affected, unless
// errors.Is(err, ErrUnusable).
//
//	inv, err := e.Invoke(ctx, input)
//	var ie *enclave.InvokeError
//	if errors.As(err, &ie) && ie.Kind == enclave.KindDeadline {
//		// the function looped; inv.Reset tells how the enclave was cleaned
//	}
type InvokeError struct {
	Kind ErrorKind
	Err  error
}

func (e *InvokeError) Error() string { return fmt.Sprintf("%s: %v", e.Kind, e.Err) }

// Unwrap returns the underlying error.
func (e *InvokeError) Unwrap() error { return e.Err }

// ErrUnusable is wrapped by an invocation error after which the enclave could not be brought
// back to a clean state; it must be closed and a new one created.
var ErrUnusable = errors.New("enclave unusable")

// KindOf returns the kind of a failed invocation's error, or "" for nil.
func KindOf(err error) ErrorKind {
	if err == nil {
		return ""
	}
	var ie *InvokeError
	if errors.As(err, &ie) {
		return ie.Kind
	}
	return KindInternal
}
