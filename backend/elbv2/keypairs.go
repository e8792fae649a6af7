package elbv2

import (
	"crypto/sha256"
	"crypto/tls"
	"sync"
)

// keyPairs keeps the certificates the publisher parsed, so that a snapshot
// parses only those that are new or changed: by their certificate ARN (or
// load balancer ARN, for one berth issued) and a digest of their PEM, so a
// reimported certificate is parsed again. It holds those the last snapshot
// used and no others.
type keyPairs struct {
	mu        sync.Mutex
	used, old map[keyPairID]tls.Certificate
}

type keyPairID struct {
	arn    string
	digest [sha256.Size]byte
}

func newKeyPairs() *keyPairs {
	return &keyPairs{used: map[keyPairID]tls.Certificate{}, old: map[keyPairID]tls.Certificate{}}
}

// parse returns the key pair of cert and key, parsing them unless a
// snapshot already did.
func (k *keyPairs) parse(arn string, cert, key []byte) (tls.Certificate, error) {
	h := sha256.New()
	h.Write(cert)
	h.Write([]byte{0})
	h.Write(key)
	id := keyPairID{arn: arn}
	h.Sum(id.digest[:0])
	k.mu.Lock()
	defer k.mu.Unlock()
	if pair, ok := k.used[id]; ok {
		return pair, nil
	}
	if pair, ok := k.old[id]; ok {
		k.used[id] = pair
		return pair, nil
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return pair, err
	}
	k.used[id] = pair
	return pair, nil
}

// snapshotDone forgets the key pairs the snapshot just built did not use.
func (k *keyPairs) snapshotDone() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.old, k.used = k.used, map[keyPairID]tls.Certificate{}
}

// size returns how many key pairs are kept.
func (k *keyPairs) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.old) + len(k.used)
}
