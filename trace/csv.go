package trace

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Kinds of trace files, told apart by their header.
const (
	kindAzure19Invocations = "azure2019-invocations"
	kindAzure19Durations   = "azure2019-durations"
	kindAzure19Memory      = "azure2019-memory"
	kindAzure21            = "azure2021"
	kindHuawei             = "huawei-requests"
)

// csvFile reads a CSV trace file row by row, reusing its buffers, and knows the line of
// every row for errors.
type csvFile struct {
	path   string
	f      *os.File
	r      *csv.Reader
	header []string
	col    map[string]int
	line   int
}

func openCSV(path string) (*csvFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<16))
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	c := &csvFile{path: path, f: f, r: r, col: map[string]int{}}
	h, err := r.Read()
	if err != nil {
		f.Close()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file", path)
		}
		return nil, fmt.Errorf("%s:1: header: %w", path, err)
	}
	c.header = make([]string, len(h))
	for i, name := range h {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))
		c.header[i] = name
		c.col[name] = i
	}
	c.line = 1
	return c, nil
}

// row returns the next row, or nil at the end of the file. A row whose number of fields
// differs from the header's is an error.
func (c *csvFile) row() ([]string, error) {
	rec, err := c.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, errAt(c.path, pe.Line, "%v", pe.Err)
		}
		return nil, fmt.Errorf("%s: %w", c.path, err)
	}
	c.line, _ = c.r.FieldPos(0)
	if len(rec) != len(c.header) {
		return nil, c.errorf("%d fields, the header has %d", len(rec), len(c.header))
	}
	return rec, nil
}

func (c *csvFile) errorf(format string, args ...any) error {
	return errAt(c.path, c.line, format, args...)
}

// has reports whether the header has every one of names.
func (c *csvFile) has(names ...string) bool {
	for _, n := range names {
		if _, ok := c.col[n]; !ok {
			return false
		}
	}
	return true
}

// float parses the field of column name of rec.
func (c *csvFile) float(rec []string, name string) (float64, error) {
	s := strings.TrimSpace(rec[c.col[name]])
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != v {
		return 0, c.errorf("column %s: %q is not a number", name, s)
	}
	return v, nil
}

// count parses a non-negative invocation count; an empty field (or NaN, as Huawei's files
// write a minute without invocations) is 0.
func (c *csvFile) count(s string, name string) (uint32, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "NaN" || s == "nan" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(n), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v != float64(uint32(v)) {
		return 0, c.errorf("column %s: %q is not an invocation count", name, s)
	}
	return uint32(v), nil
}

func (c *csvFile) Close() error { return c.f.Close() }

// classify returns the kind of the trace file at path from its header, or "" for a file
// of no known kind.
func classify(path string) (string, error) {
	c, err := openCSV(path)
	if err != nil {
		return "", err
	}
	defer c.Close()
	switch {
	case c.has("HashOwner", "HashApp", "HashFunction", "Trigger", "1"):
		return kindAzure19Invocations, nil
	case c.has("HashOwner", "HashApp", "HashFunction", "Average", "Count", "Minimum", "Maximum",
		"percentile_Average_0", "percentile_Average_50", "percentile_Average_100"):
		return kindAzure19Durations, nil
	case c.has("HashOwner", "HashApp", "SampleCount", "AverageAllocatedMb"):
		return kindAzure19Memory, nil
	case c.has("app", "func", "end_timestamp", "duration"):
		return kindAzure21, nil
	case c.has("day", "time") && len(c.header) > 2:
		for _, h := range c.header {
			if h == "day" || h == "time" {
				continue
			}
			if _, err := strconv.ParseUint(h, 10, 32); err != nil {
				return "", errAt(path, 1, "header has day and time but column %q is not a function number: not a Huawei requests_minute file", h)
			}
		}
		return kindHuawei, nil
	}
	return "", nil
}
