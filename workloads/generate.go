package workloads

import (
	"math/rand/v2"
	"strconv"
)

// generators make deterministic inputs; each is documented in README.md.
var generators = map[string]func(Input) []byte{
	"numbers": genNumbers,
}

// genNumbers returns {"values":[...]} with in.Count integers in [0, 1000000) drawn from a
// PCG generator seeded with (in.Seed, 0).
func genNumbers(in Input) []byte {
	r := rand.NewPCG(in.Seed, 0)
	b := make([]byte, 0, 12+8*in.Count)
	b = append(b, `{"values":[`...)
	for i := 0; i < in.Count; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, r.Uint64()%1000000, 10)
	}
	return append(b, "]}"...)
}
