package actionproxy

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/reclave/reclave/enclave"
	"github.com/reclave/reclave/internal/jsonstrict"
)

// FunctionKey is the key of a /run value under which a server of generic enclaves
// (Options.Generic) takes the function the activation brings: an /init value, {"name",
// "main", "code", "binary": true, "env"}. It is taken out of the input, as AttestKey is.
const FunctionKey = "__reclave_function"

// initGeneric handles /init for a server of generic enclaves: it creates the generic enclave
// (measured without any function) and keeps v's function, when v brings code, as the one a
// /run without FunctionKey runs.
func (s *Server) initGeneric(w http.ResponseWriter, r *http.Request, v *initValue) {
	var fn *enclave.Function
	if v != nil && v.Code != "" {
		f, err := v.function()
		if err != nil {
			sendError(w, http.StatusBadRequest, "invalid action: "+err.Error())
			return
		}
		fn = &f
	}
	status, msg := s.createGeneric(r, fn)
	if status != http.StatusOK {
		sendError(w, status, msg)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"ok":true}`+"\n")
}

// createGeneric creates the generic enclave of the first /init and returns the status of the
// /init.
func (s *Server) createGeneric(r *http.Request, fn *enclave.Function) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready {
		return http.StatusForbidden, "Cannot initialize the action more than once."
	}
	enc, err := s.create(r.Context(), enclave.Function{})
	if err != nil {
		return http.StatusBadGateway, "cannot start the generic enclave: " + err.Error()
	}
	s.enc, s.fn, s.ready = enc, fn, true
	return http.StatusOK, ""
}

// takeFunction takes FunctionKey out of input (a /run value, a JSON object) and returns the
// rest, re-encoded compactly with sorted keys, and the function it brought; input as it is
// and nil when it brings none.
func takeFunction(input []byte) ([]byte, *enclave.Function, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(input, &fields); err != nil {
		return nil, nil, fmt.Errorf("value: want a JSON object (the action's parameters): %v", err)
	}
	raw, ok := fields[FunctionKey]
	if !ok {
		return input, nil, nil
	}
	var v initValue
	if err := jsonstrict.Unmarshal(raw, &v, jsonstrict.Options{}); err != nil {
		return nil, nil, fmt.Errorf("%s: want an /init value {\"name\", \"main\", \"code\", \"binary\": true, \"env\"}: %v", FunctionKey, err)
	}
	if v.Code == "" {
		return nil, nil, fmt.Errorf("%s: no code", FunctionKey)
	}
	fn, err := v.function()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", FunctionKey, err)
	}
	delete(fields, FunctionKey)
	out, err := json.Marshal(fields)
	if err != nil {
		return nil, nil, fmt.Errorf("value: %w", err)
	}
	return out, &fn, nil
}
