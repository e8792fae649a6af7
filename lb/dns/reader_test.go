package dns

import (
	"errors"
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/rs/zerolog"
)

// packets is a Reader that returns its messages in turn.
type packets [][]byte

func (p *packets) next() []byte {
	m := (*p)[0]
	*p = (*p)[1:]
	return m
}

func (p *packets) ReadTCP(net.Conn, time.Duration) ([]byte, error) { return p.next(), nil }
func (p *packets) ReadUDP(*net.UDPConn, time.Duration) ([]byte, *mdns.SessionUDP, error) {
	return p.next(), nil, nil
}

// TestSafeReader: a message whose reading panics is dropped over UDP
// (the next one is read) and ends its TCP connection; the panic does not
// leave the reader.
func TestSafeReader(t *testing.T) {
	check := func(m []byte) {
		if m[0] == 0xff {
			panic("bad message")
		}
	}
	in := &packets{{0xff}, {0x01}}
	r := safeReader{Reader: in, check: check, log: zerolog.Nop()}
	if m, _, err := r.ReadUDP(nil, 0); err != nil || len(m) != 1 || m[0] != 0x01 {
		t.Errorf("UDP: %v, %v; want the message after the bad one", m, err)
	}
	in = &packets{{0xff}, {0x01}}
	r.Reader = in
	if _, err := r.ReadTCP(nil, 0); !errors.As(err, new(panicError)) {
		t.Errorf("TCP: %v, want the connection ended", err)
	}
}
