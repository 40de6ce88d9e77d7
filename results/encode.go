package results

import (
	"reflect"
	"strconv"
	"unicode/utf8"
)

// appendRecordFields is the number of [Record] fields AppendRecord writes. An [Encoder] checks
// it against Record and falls back to encoding/json when they differ, so that a field added to
// Record is never dropped from records.jsonl, only written more slowly until AppendRecord
// learns it (TestAppendRecord fails meanwhile).
const appendRecordFields = 53

// appendRecordCurrent reports whether AppendRecord knows every field of Record.
func appendRecordCurrent() bool { return reflect.TypeFor[Record]().NumField() == appendRecordFields }

// AppendRecord appends r as one JSON object, without a newline, to dst and returns the extended
// buffer. The bytes are exactly those of json.Marshal(r): the same field order, omitempty
// fields left out when empty, phases_ns with its keys sorted (null when nil), and strings
// escaped by encoding/json's rules (", \ and control characters; <, > and & as \u003c, \u003e,
// \u0026; U+2028 and U+2029; invalid UTF-8 as \ufffd). It exists because encoding/json's
// reflection is several times slower, and a run must write records much faster than it makes
// them; a test holds it to json.Marshal's output for every field of [Record].
func AppendRecord(dst []byte, r *Record) []byte {
	dst = append(dst, `{"schema_version":`...)
	dst = strconv.AppendInt(dst, int64(r.SchemaVersion), 10)
	dst = appendStringField(dst, `,"target":`, r.Target)
	if r.Experiment != "" {
		dst = appendStringField(dst, `,"experiment":`, r.Experiment)
	}
	dst = appendStringField(dst, `,"workload":`, r.Workload)
	if r.Mix != "" {
		dst = appendStringField(dst, `,"mix":`, r.Mix)
	}
	dst = appendStringField(dst, `,"mode":`, r.Mode)
	if r.Strategy != "" {
		dst = appendStringField(dst, `,"strategy":`, r.Strategy)
	}
	if r.StrategyConfigured != "" {
		dst = appendStringField(dst, `,"strategy_configured":`, r.StrategyConfigured)
	}
	if r.SnapshotPoint != "" {
		dst = appendStringField(dst, `,"snapshot_point":`, r.SnapshotPoint)
	}
	dst = appendStringField(dst, `,"size":`, r.Size)
	dst = appendIntField(dst, `,"memory_bytes":`, r.MemoryBytes)
	dst = appendBoolField(dst, `,"compartments":`, r.Compartments)
	dst = appendStringField(dst, `,"attestation":`, r.Attestation)
	dst = appendBoolField(dst, `,"compile_cache":`, r.CompileCache)
	if r.CompileCacheHit != nil {
		dst = appendBoolField(dst, `,"compile_cache_hit":`, *r.CompileCacheHit)
	}
	dst = appendStringField(dst, `,"load":`, r.Load)
	dst = appendIntField(dst, `,"concurrency":`, int64(r.Concurrency))
	dst = appendIntField(dst, `,"worker":`, int64(r.Worker))
	dst = appendIntField(dst, `,"repetition":`, int64(r.Repetition))
	dst = appendIntField(dst, `,"round":`, int64(r.Round))
	dst = appendIntField(dst, `,"seq":`, int64(r.Seq))
	dst = appendBoolField(dst, `,"warmup":`, r.Warmup)
	dst = appendIntField(dst, `,"intended_start_ns":`, r.IntendedStartNs)
	dst = appendIntField(dst, `,"start_ns":`, r.StartNs)
	dst = appendIntField(dst, `,"latency_ns":`, r.LatencyNs)
	dst = appendIntField(dst, `,"response_ns":`, r.ResponseNs)
	dst = appendIntField(dst, `,"rewind_ns":`, r.RewindNs)
	dst = appendIntField(dst, `,"exec_ns":`, r.ExecNs)
	if r.ProviderNs != 0 {
		dst = appendIntField(dst, `,"provider_ns":`, r.ProviderNs)
	}
	if r.InitNs != 0 {
		dst = appendIntField(dst, `,"init_ns":`, r.InitNs)
	}
	if r.WaitNs != 0 {
		dst = appendIntField(dst, `,"wait_ns":`, r.WaitNs)
	}
	dst = append(dst, `,"phases_ns":`...)
	dst = appendPhases(dst, r.PhasesNs)
	if r.Dropped {
		dst = append(dst, `,"dropped":true`...)
	}
	dst = appendStringField(dst, `,"reset":`, r.Reset)
	if r.StrategyNote != "" {
		dst = appendStringField(dst, `,"strategy_note":`, r.StrategyNote)
	}
	dst = appendStringField(dst, `,"enclave_id":`, r.EnclaveID)
	dst = append(dst, `,"epoch":`...)
	dst = strconv.AppendUint(dst, r.Epoch, 10)
	dst = appendIntField(dst, `,"memory_pages":`, int64(r.MemoryPages))
	dst = appendIntField(dst, `,"pages_restored":`, int64(r.PagesRestored))
	dst = appendIntField(dst, `,"bytes_restored":`, r.BytesRestored)
	if r.HostCalls != nil {
		dst = appendHostCalls(append(dst, `,"host_calls":`...), r.HostCalls)
	}
	if len(r.ResetHostCalls) > 0 {
		dst = appendHostCalls(append(dst, `,"reset_host_calls":`...), r.ResetHostCalls)
	}
	dst = appendIntField(dst, `,"input_bytes":`, int64(r.InputBytes))
	dst = appendIntField(dst, `,"output_bytes":`, int64(r.OutputBytes))
	if r.OutputSHA256 != "" {
		dst = appendStringField(dst, `,"output_sha256":`, r.OutputSHA256)
	}
	if r.Valid != nil {
		dst = appendBoolField(dst, `,"valid":`, *r.Valid)
	}
	if r.Invalid != "" {
		dst = appendStringField(dst, `,"invalid":`, r.Invalid)
	}
	if r.Error != "" {
		dst = appendStringField(dst, `,"error":`, r.Error)
	}
	if r.ErrorKind != "" {
		dst = appendStringField(dst, `,"error_kind":`, r.ErrorKind)
	}
	if r.Policy != "" {
		dst = appendStringField(dst, `,"policy":`, r.Policy)
	}
	if r.Decision != "" {
		dst = appendStringField(dst, `,"decision":`, r.Decision)
	}
	if r.Queued {
		dst = append(dst, `,"queued":true`...)
	}
	if r.TraceFunction != "" {
		dst = appendStringField(dst, `,"trace_function":`, r.TraceFunction)
	}
	return append(dst, '}')
}

func appendStringField(dst []byte, name, v string) []byte {
	return appendJSONString(append(dst, name...), v)
}

func appendIntField(dst []byte, name string, v int64) []byte {
	return strconv.AppendInt(append(dst, name...), v, 10)
}

func appendBoolField(dst []byte, name string, v bool) []byte {
	return strconv.AppendBool(append(dst, name...), v)
}

// appendPhases appends a phase map as encoding/json does: null when nil, keys sorted.
func appendPhases(dst []byte, m map[string]int64) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	type phase struct {
		name string
		ns   int64
	}
	var arr [16]phase // the phases of one invocation fit; more spill to the heap
	ps := arr[:0]
	for k, v := range m {
		// Insertion sort as the pairs arrive: a dozen short names, no map look-ups after.
		i := len(ps)
		ps = append(ps, phase{})
		for ; i > 0 && ps[i-1].name > k; i-- {
			ps[i] = ps[i-1]
		}
		ps[i] = phase{k, v}
	}
	dst = append(dst, '{')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, p.name)
		dst = append(dst, ':')
		dst = strconv.AppendInt(dst, p.ns, 10)
	}
	return append(dst, '}')
}

// jsonSafe reports the ASCII bytes encoding/json writes as they are in a string (with its
// default HTML escaping): printable ASCII but ", \, <, > and &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json escapes it.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default: // other control characters, and <, >, &
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
