package route53

import "testing"

// The forms are those of Route 53's domain name format page:
// https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/DomainNameFormat.html
// (lower case, "*" returned as \052, the trailing dot optional on input).
func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Example.COM":           "example.com.",
		"www.example.com.":      "www.example.com.",
		"*.example.com":         `\052.example.com.`,
		`\052.example.com`:      `\052.example.com.`,
		"_sip._tcp.example.com": "_sip._tcp.example.com.",
	} {
		got, err := normalize(in)
		if err != nil || got != want {
			t.Errorf("normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", ".", "a..b", `\05`, `\999.example.com`} {
		if got, err := normalize(bad); err == nil {
			t.Errorf("normalize(%q) = %q, want an error", bad, got)
		}
	}
}

// Route 53 lists record sets by name with the labels reversed
// (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ListResourceRecordSets.html:
// "com.example.www" sorts after "com.example" and before "com.examplea").
func TestSortKey(t *testing.T) {
	if !(sortKey("example.com.") < sortKey("www.example.com.") && sortKey("www.example.com.") < sortKey("a.examplea.com.")) {
		t.Errorf("order: %q %q %q", sortKey("example.com."), sortKey("www.example.com."), sortKey("a.examplea.com."))
	}
}
