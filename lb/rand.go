package lb

import (
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
)

func intn(n int) int { return mrand.IntN(n) }

// randomHex returns n random hexadecimal digits.
func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
