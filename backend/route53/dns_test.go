package route53

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	mdns "github.com/miekg/dns"
)

// TestDNSNames: a record set's name with Route 53's escapes (\ and three
// octal digits for a character other than a-z, 0-9, - and _;
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html)
// is, in berth's DNS server, the name of the same labels on the wire
// (RFC 1035 §3.1: each label its length and bytes): a space, ; or ( is a
// byte of its label (not a zone file's separator, comment or group), \052
// is the wildcard *.
func TestDNSNames(t *testing.T) {
	b, ctx, _ := newBackend(t, 0)
	z := zoneOf(t, b, ctx, "example.com")
	for _, name := range []string{`a\040b.example.com`, `a;b.example.com`, `(x).example.com`, `\052.example.com`, `UP.example.com`} {
		if err := changes(b, ctx, z, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: set(name, types.RRTypeA, "192.0.2.1")}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	zones, err := b.Zones(ctx)
	if err != nil || len(zones) != 1 {
		t.Fatalf("Zones = %+v, %v", zones, err)
	}
	wire := map[string]bool{}
	for _, s := range zones[0].DNS().Sets {
		for _, rr := range s.Records {
			buf := make([]byte, 256)
			n, err := mdns.PackDomainName(mdns.CanonicalName(rr.Header().Name), buf, 0, nil, false)
			if err != nil {
				t.Fatalf("%s: %v", rr.Header().Name, err)
			}
			wire[string(buf[:n])] = true
		}
	}
	for _, want := range []string{
		"\x03a b\x07example\x03com\x00",
		"\x03a;b\x07example\x03com\x00",
		"\x03(x)\x07example\x03com\x00",
		"\x01*\x07example\x03com\x00",
		"\x02up\x07example\x03com\x00",
	} {
		if !wire[want] {
			t.Errorf("no record set named %q on the wire; have %v", want, wire)
		}
	}
	if got := zones[0].Name; got != "example.com." {
		t.Errorf("zone name %q", got)
	}
}
