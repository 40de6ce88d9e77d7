package workloads

import (
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
)

// generators make deterministic inputs; each is documented in README.md, precisely enough to
// reproduce it in another language.
var generators = map[string]func(Input) []byte{
	"numbers": genNumbers,
	"bytes":   genBytes,
	"text":    genText,
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

// splitMix64 is Steele, Lea and Flood's SplitMix64 generator, the source of the bytes and
// text generators: simple to reimplement exactly in any language.
type splitMix64 struct{ state uint64 }

func (s *splitMix64) next() uint64 {
	s.state += 0x9E3779B97F4A7C15
	z := s.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// genBytes returns {"data":"<base64>"}: in.Count bytes, the successive values of SplitMix64
// seeded with in.Seed written little-endian (8 bytes each, the last one truncated), encoded
// as standard base64 with padding.
func genBytes(in Input) []byte {
	r := splitMix64{in.Seed}
	raw := make([]byte, (in.Count+7)&^7)
	for i := 0; i < len(raw); i += 8 {
		binary.LittleEndian.PutUint64(raw[i:], r.next())
	}
	raw = raw[:in.Count]
	b := make([]byte, 0, 11+base64.StdEncoding.EncodedLen(len(raw)))
	b = append(b, `{"data":"`...)
	b = base64.StdEncoding.AppendEncode(b, raw)
	return append(b, `"}`...)
}

// textWords are the words of genText, in this order: frequent English words, all plain ASCII,
// so the text needs no JSON escaping. (The list the generator was specified with went on with
// "no make than first been", which next() % 64 never reaches: the output is the same.)
var textWords = [...]string{
	"the", "of", "and", "to", "in", "is", "it", "that", "was", "for", "on", "are", "with", "as",
	"be", "at", "by", "this", "have", "from", "or", "one", "had", "not", "but", "what", "all",
	"were", "when", "we", "there", "can", "an", "your", "which", "their", "said", "if", "do",
	"will", "each", "about", "how", "up", "out", "them", "then", "she", "many", "some", "so",
	"these", "would", "other", "into", "has", "more", "her", "two", "like", "him", "see", "time",
	"could",
}

// genText returns {"text":"..."}: in.Count words joined by single spaces, word i being
// textWords[next() % 64] for the i-th value of SplitMix64 seeded with in.Seed.
func genText(in Input) []byte {
	r := splitMix64{in.Seed}
	b := make([]byte, 0, 12+5*in.Count)
	b = append(b, `{"text":"`...)
	for i := 0; i < in.Count; i++ {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, textWords[r.next()%uint64(len(textWords))]...)
	}
	return append(b, `"}`...)
}
