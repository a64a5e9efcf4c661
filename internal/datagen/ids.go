package datagen

import (
	"encoding/hex"
	"math/rand/v2"
)

// golden is 2^64/phi, the usual odd constant for spreading counters.
const golden = 0x9e3779b97f4a7c15

// mix64 is the splitmix64 finalizer: a fast bijective 64-bit mixer.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// hashName is FNV-1a over a stream or table name.
func hashName(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// streamKey names an independent random stream of one dataset seed and batch.
// Streams that must stay stable across batches (the CDC key space) pass batch 0.
func streamKey(seed, batch int64, name string) uint64 {
	return mix64(mix64(hashName(name)^uint64(seed)) + uint64(batch)*golden)
}

// at hashes (key, i): the decision source for per-record choices that must
// not depend on generation order (malformed positions, review reuse).
func at(key, i uint64) uint64 {
	return mix64(key ^ mix64(i+golden))
}

// threshold turns a probability into a bound for at(...) < threshold.
func threshold(p float64) uint64 {
	switch {
	case p <= 0:
		return 0
	case p >= 1:
		return ^uint64(0)
	}
	return uint64(p * (1 << 64))
}

// idSpace turns (hi, lo) pairs into 128-bit ids through a 4-round Feistel
// network keyed by (seed, name). A Feistel network is a bijection, so distinct
// (batch, index) pairs can never produce the same id within one space; the ids
// still look random.
type idSpace struct{ k [4]uint64 }

func newIDSpace(seed int64, name string) idSpace {
	var s idSpace
	base := streamKey(seed, 0, "id/"+name)
	for i := range s.k {
		s.k[i] = mix64(base + uint64(i+1)*golden)
	}
	return s
}

// id returns the id of (hi, lo): hi is the batch (0 for the per-seed CDC key
// space), lo the row index.
func (s *idSpace) id(hi, lo uint64) [16]byte {
	l, r := hi, lo
	for _, k := range s.k {
		l, r = r, l^mix64(r^k)
	}
	var b [16]byte
	for i := range 8 {
		b[i] = byte(l >> (56 - 8*i))
		b[8+i] = byte(r >> (56 - 8*i))
	}
	return b
}

// appendID appends an id as 32 lowercase hex digits in double quotes, the way
// the original Olist files write ids.
func appendID(b []byte, id [16]byte) []byte {
	var h [34]byte
	h[0] = '"'
	hex.Encode(h[1:33], id[:])
	h[33] = '"'
	return append(b, h[:]...)
}

// rng is a math/rand/v2 PCG that is cheap to re-seed for every record, so a
// record's values depend only on (stream, index) and not on which goroutine
// produced it or what was generated before.
type rng struct {
	pcg rand.PCG
	*rand.Rand
}

func newRNG() *rng {
	r := &rng{}
	r.Rand = rand.New(&r.pcg)
	return r
}

// reseed positions the generator at record i of the stream key.
func (r *rng) reseed(key, i uint64) {
	a := at(key, i)
	r.pcg.Seed(a, mix64(a^golden))
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.Float64() < p }

// skewed returns an index in [0, n) where low indexes are much more likely
// (density ~ 1/sqrt(x)): popular products, busy sellers. Integer-only, so the
// result is the same on every platform.
func skewed(h uint64, n int64) int64 {
	x := h >> 32
	q := (x * x) >> 32
	return int64((q * uint64(n)) >> 32)
}
