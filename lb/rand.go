package lb

import "math/rand/v2"

func intn(n int) int { return rand.IntN(n) }

// randomHex returns n random hexadecimal digits (n ≤ 32).
func randomHex(n int) string {
	const digits = "0123456789abcdef"
	var b [32]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := range n {
		v := lo
		if i >= 16 {
			v = hi
		}
		b[i] = digits[v>>(4*(i%16))&0xf]
	}
	return string(b[:n])
}
