//go:build wasip1

// Command json-transform is a reclave workload (command kind, function ABI version 1, see
// ../README.md) written in Go: it parses a JSON document of sales records, filters them, groups
// them and aggregates each group, and writes the result as JSON. Built as a WASI preview1
// command with
//
//	GOOS=wasip1 GOARCH=wasm go build -trimpath -buildvcs=false -ldflags="-s -w" \
//	    -o json-transform.wasm .
//
// (see build.sh). The module exports _start, which starts the Go runtime, runs main and exits
// through proc_exit: 0 when main returns, 1 after an error.
//
// Input: a JSON object (the contract shared with expected/gen.py):
//
//	{"records":[RECORD,...]}            the document itself, or
//	{"generate":{"count":N,"seed":S}}   a document of N records generated in the module
//
// plus the optional transform parameters
//
//	"status":"ok"                        keep records of this status ("" keeps all); default "ok"
//	"min_amount":0                       keep records with amount >= min_amount; default 0
//	"group_by":["region","category"]     group by these fields, any of user, region, category
//	                                     and status, each once; default ["region","category"]
//
// RECORD is {"id":int,"user":string,"region":string,"category":string,"status":string,
// "amount":int (cents),"qty":int,"tags":[string,...]}; unknown fields are ignored, missing ones
// are zero; amount and qty beyond ±10^12 are an error (so that no sum overflows).
//
// With generate, the module writes the document as JSON text and then parses that text like an
// input document, so parsing is always part of the work while the input stays a few bytes.
// Generation uses SplitMix64 (as the manifest's generators, ../README.md) seeded with S; for
// record i = 0..N-1 it draws, in this order: user "u%03d" of next()%500, region
// regions[next()%7], category categories[next()%8], status statuses[next()%4], amount
// next()%100000, qty 1+next()%9, then next()%4 tags, each tags[next()%6]. The text is
// {"records":[...]} with the record fields in the order above (id first), no spaces.
//
// Output: {"records":<records parsed>,"matched":<records kept>,"document_bytes":<length of the
// JSON text parsed: the generated document or the input>,"document_sha256":"<its hex SHA-256>",
// "group_by":[...],"groups":[GROUP,...],"totals":{"count":..,"amount_sum":..,"qty_sum":..}}
// where GROUP is {"key":[<the group's values of the group_by fields, in order>],"count":..,
// "amount_sum":..,"amount_min":..,"amount_max":..,"amount_avg":<amount_sum/count, rounded
// down>,"qty_sum":..,"users":<distinct users>,"top_tag":"<most frequent tag, ties to the
// smallest; "" when none>"}. Groups are ordered by amount_sum descending, then key ascending
// (element by element, byte order). Bad input gives {"error":"..."} and exit code 1.
//
// The file name ends in _wasip1.go and carries a wasip1 build constraint so that the host
// build (go build/vet/test ./... in the reclave module) ignores this package.
package main

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

const (
	// maxGenerate bounds generate.count: about 140 bytes of JSON text per record.
	maxGenerate = 200000
	// maxValue bounds the magnitude of amount and qty, so that no sum can overflow 64 bits.
	maxValue = 1_000_000_000_000
)

var (
	regions    = [...]string{"eu-west", "eu-north", "us-east", "us-west", "ap-south", "ap-east", "sa-east"}
	categories = [...]string{"books", "games", "music", "garden", "tools", "food", "toys", "sports"}
	statuses   = [...]string{"ok", "pending", "refunded", "failed"}
	tagNames   = [...]string{"gift", "sale", "new", "bulk", "priority", "return"}
	groupable  = []string{"user", "region", "category", "status"}
)

type record struct {
	ID       int64    `json:"id"`
	User     string   `json:"user"`
	Region   string   `json:"region"`
	Category string   `json:"category"`
	Status   string   `json:"status"`
	Amount   int64    `json:"amount"`
	Qty      int64    `json:"qty"`
	Tags     []string `json:"tags"`
}

// field returns the record's value of a groupable field.
func (r *record) field(name string) string {
	switch name {
	case "user":
		return r.User
	case "region":
		return r.Region
	case "category":
		return r.Category
	default:
		return r.Status
	}
}

type generate struct {
	Count int64  `json:"count"`
	Seed  uint64 `json:"seed"`
}

type request struct {
	Records   json.RawMessage `json:"records"`
	Generate  *generate       `json:"generate"`
	Status    *string         `json:"status"`
	MinAmount int64           `json:"min_amount"`
	GroupBy   []string        `json:"group_by"`
}

type group struct {
	Key       []string `json:"key"`
	Count     int64    `json:"count"`
	AmountSum int64    `json:"amount_sum"`
	AmountMin int64    `json:"amount_min"`
	AmountMax int64    `json:"amount_max"`
	AmountAvg int64    `json:"amount_avg"`
	QtySum    int64    `json:"qty_sum"`
	Users     int      `json:"users"`
	TopTag    string   `json:"top_tag"`

	users map[string]bool
	tags  map[string]int
}

type totals struct {
	Count     int64 `json:"count"`
	AmountSum int64 `json:"amount_sum"`
	QtySum    int64 `json:"qty_sum"`
}

type response struct {
	Records        int      `json:"records"`
	Matched        int64    `json:"matched"`
	DocumentBytes  int      `json:"document_bytes"`
	DocumentSHA256 string   `json:"document_sha256"`
	GroupBy        []string `json:"group_by"`
	Groups         []*group `json:"groups"`
	Totals         totals   `json:"totals"`
}

// splitMix64 is the generator of the manifest's bytes and text inputs (../README.md).
type splitMix64 struct{ state uint64 }

func (s *splitMix64) next() uint64 {
	s.state += 0x9E3779B97F4A7C15
	z := s.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// generateDocument writes the JSON text of count generated records (see the package comment).
func generateDocument(count int64, seed uint64) []byte {
	r := splitMix64{seed}
	b := make([]byte, 0, 16+140*count)
	b = append(b, `{"records":[`...)
	for i := int64(0); i < count; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, i, 10)
		b = append(b, `,"user":"u`...)
		u := r.next() % 500
		b = append(b, byte('0'+u/100), byte('0'+u/10%10), byte('0'+u%10))
		b = append(b, `","region":"`...)
		b = append(b, regions[r.next()%uint64(len(regions))]...)
		b = append(b, `","category":"`...)
		b = append(b, categories[r.next()%uint64(len(categories))]...)
		b = append(b, `","status":"`...)
		b = append(b, statuses[r.next()%uint64(len(statuses))]...)
		b = append(b, `","amount":`...)
		b = strconv.AppendUint(b, r.next()%100000, 10)
		b = append(b, `,"qty":`...)
		b = strconv.AppendUint(b, 1+r.next()%9, 10)
		b = append(b, `,"tags":[`...)
		for t, n := uint64(0), r.next()%4; t < n; t++ {
			if t > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, tagNames[r.next()%uint64(len(tagNames))]...)
			b = append(b, '"')
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

func transform(in []byte) (*response, error) {
	var req request
	if err := json.Unmarshal(in, &req); err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	groupBy := req.GroupBy
	if groupBy == nil {
		groupBy = []string{"region", "category"}
	}
	for i, f := range groupBy {
		if !slices.Contains(groupable, f) {
			return nil, fmt.Errorf("group_by: %q: want one of %s", f, strings.Join(groupable, ", "))
		}
		if slices.Index(groupBy, f) != i {
			return nil, fmt.Errorf("group_by: %q listed twice", f)
		}
	}
	status := "ok"
	if req.Status != nil {
		status = *req.Status
	}

	doc := in
	switch {
	case req.Generate != nil && req.Records != nil:
		return nil, errors.New("input: give records or generate, not both")
	case req.Generate != nil:
		if n := req.Generate.Count; n < 0 || n > maxGenerate {
			return nil, fmt.Errorf("generate.count: %d: want 0 to %d", n, maxGenerate)
		}
		doc = generateDocument(req.Generate.Count, req.Generate.Seed)
	case req.Records == nil:
		return nil, errors.New("input: no records and no generate")
	}
	var parsed struct {
		Records []record `json:"records"`
	}
	if err := json.Unmarshal(doc, &parsed); err != nil {
		return nil, fmt.Errorf("records: %w", err)
	}

	sum := sha256.Sum256(doc)
	out := &response{
		Records:        len(parsed.Records),
		DocumentBytes:  len(doc),
		DocumentSHA256: hex.EncodeToString(sum[:]),
		GroupBy:        groupBy,
		Groups:         []*group{},
	}
	groups := map[string]*group{}
	for i := range parsed.Records {
		r := &parsed.Records[i]
		if r.Amount < -maxValue || r.Amount > maxValue || r.Qty < -maxValue || r.Qty > maxValue {
			return nil, fmt.Errorf("records[%d]: amount or qty beyond ±%d", i, int64(maxValue))
		}
		if (status != "" && r.Status != status) || r.Amount < req.MinAmount {
			continue
		}
		key := make([]string, len(groupBy))
		for j, f := range groupBy {
			key[j] = r.field(f)
		}
		id := strings.Join(key, "\x00")
		g := groups[id]
		if g == nil {
			g = &group{Key: key, AmountMin: r.Amount, AmountMax: r.Amount, users: map[string]bool{}, tags: map[string]int{}}
			groups[id] = g
			out.Groups = append(out.Groups, g)
		}
		g.Count++
		g.AmountSum += r.Amount
		g.AmountMin = min(g.AmountMin, r.Amount)
		g.AmountMax = max(g.AmountMax, r.Amount)
		g.QtySum += r.Qty
		g.users[r.User] = true
		for _, t := range r.Tags {
			g.tags[t]++
		}
		out.Matched++
		out.Totals.Count++
		out.Totals.AmountSum += r.Amount
		out.Totals.QtySum += r.Qty
	}
	for _, g := range out.Groups {
		g.AmountAvg = g.AmountSum / g.Count
		g.Users = len(g.users)
		best := 0
		for t, n := range g.tags {
			if n > best || (n == best && t < g.TopTag) {
				g.TopTag, best = t, n
			}
		}
	}
	slices.SortFunc(out.Groups, func(a, b *group) int {
		if c := cmp.Compare(b.AmountSum, a.AmountSum); c != 0 {
			return c
		}
		return slices.Compare(a.Key, b.Key)
	})
	return out, nil
}

func writeJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"error":"encoding the output failed"}`)
	}
	os.Stdout.Write(b)
}

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		writeJSON(map[string]string{"error": "read from stdin: " + err.Error()})
		os.Exit(1)
	}
	out, err := transform(in)
	if err != nil {
		writeJSON(map[string]string{"error": err.Error()})
		os.Exit(1)
	}
	writeJSON(out)
}
