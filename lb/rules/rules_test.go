package rules

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func request(method, target string, header ...string) Request {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			r.Host = header[i+1]
			continue
		}
		r.Header.Add(header[i], header[i+1])
	}
	return FromHTTP(r, netip.MustParseAddr("192.0.2.10"))
}

// Each case cites the page its example comes from:
// [conditions] https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
// [host] https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HostHeaderConditionConfig.html
// [path] https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_PathPatternConditionConfig.html
// [header] https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HttpHeaderConditionConfig.html
// [method] https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HttpRequestMethodConditionConfig.html
// [query] https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_QueryStringConditionConfig.html
// [source] https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_SourceIpConditionConfig.html
func TestConditions(t *testing.T) {
	host := func(v ...string) Condition { return Condition{Field: "host-header", Values: v} }
	path := func(v ...string) Condition { return Condition{Field: "path-pattern", Values: v} }
	cases := []struct {
		name string
		c    Condition
		r    Request
		want bool
	}{
		// [host] *.example.com matches test.example.com but not example.com.
		{"host wildcard subdomain", host("*.example.com"), request("GET", "/", "Host", "test.example.com"), true},
		{"host wildcard needs a subdomain", host("*.example.com"), request("GET", "/", "Host", "example.com"), false},
		// [conditions] host names are not case-sensitive.
		{"host case-insensitive", host("example.com"), request("GET", "/", "Host", "EXAMPLE.com"), true},
		{"host ignores port", host("example.com"), request("GET", "/", "Host", "example.com:8080"), true},
		{"host ? is one character", host("mobile?.example.com"), request("GET", "/", "Host", "mobile1.example.com"), true},
		{"host ? is exactly one", host("mobile?.example.com"), request("GET", "/", "Host", "mobile.example.com"), false},
		{"host values are alternatives", host("www.example.com", "*.example.org"), request("GET", "/", "Host", "a.example.org"), true},
		// [conditions] example path patterns /img/*, /img/*/pics.
		{"path prefix", path("/img/*"), request("GET", "/img/logo.png"), true},
		{"path whole value", path("/img/*"), request("GET", "/img"), false},
		{"path inner wildcard", path("/img/*/pics"), request("GET", "/img/2024/pics"), true},
		// [path] case-sensitive, and only the path, not the query string.
		{"path case-sensitive", path("/img/*"), request("GET", "/IMG/logo.png"), false},
		{"path not query", path("*v1*"), request("GET", "/api?version=v1"), false},
		// [header] User-Agent example, values case-insensitive, wildcards.
		{"header wildcard", Condition{Field: "http-header", Header: "User-Agent", Values: []string{"*Chrome*", "*Safari*"}},
			request("GET", "/", "User-Agent", "Mozilla/5.0 chrome/120"), true},
		{"header absent", Condition{Field: "http-header", Header: "User-Agent", Values: []string{"*Chrome*"}}, request("GET", "/"), false},
		{"header any occurrence", Condition{Field: "http-header", Header: "X-Env", Values: []string{"beta"}},
			request("GET", "/", "X-Env", "prod", "X-Env", "beta"), true},
		// [method] exact and case-sensitive.
		{"method", Condition{Field: "http-request-method", Values: []string{"GET", "HEAD"}}, request("HEAD", "/"), true},
		{"method case-sensitive", Condition{Field: "http-request-method", Values: []string{"get"}}, request("GET", "/"), false},
		{"custom method", Condition{Field: "http-request-method", Values: []string{"CUSTOM-METHOD"}}, request("CUSTOM-METHOD", "/"), true},
		// [query] any pair matches; key optional; wildcards.
		{"query key and value", Condition{Field: "query-string", Query: []KeyValue{{"version", "v1"}, {"", "*example*"}}},
			request("GET", "/?version=v1"), true},
		{"query any key", Condition{Field: "query-string", Query: []KeyValue{{"version", "v1"}, {"", "*example*"}}},
			request("GET", "/?a=an-example-value"), true},
		{"query no pair", Condition{Field: "query-string", Query: []KeyValue{{"version", "v1"}, {"", "*example*"}}},
			request("GET", "/?version=v2"), false},
		{"query case-insensitive", Condition{Field: "query-string", Query: []KeyValue{{"Version", "V1"}}}, request("GET", "/?version=v1"), true},
		// [source] CIDRs of the connecting peer, IPv4 and IPv6.
		{"source ipv4", Condition{Field: "source-ip", Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, request("GET", "/"), true},
		{"source other", Condition{Field: "source-ip", Networks: []netip.Prefix{netip.MustParsePrefix("198.51.100.10/32")}}, request("GET", "/"), false},
		{"source ipv6", Condition{Field: "source-ip", Networks: []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}},
			FromHTTP(httptest.NewRequest("GET", "/", nil), netip.MustParseAddr("2001:db8::1")), true},
		{"source not x-forwarded-for", Condition{Field: "source-ip", Networks: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}},
			request("GET", "/", "X-Forwarded-For", "203.0.113.5"), false},
	}
	for _, c := range cases {
		if got := c.c.Match(c.r); got != c.want {
			t.Errorf("%s: Match = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestMatchAllIsAnd(t *testing.T) {
	conds := []Condition{
		{Field: "host-header", Values: []string{"api.example.com"}},
		{Field: "path-pattern", Values: []string{"/v1/*"}},
	}
	if !MatchAll(conds, request("GET", "/v1/users", "Host", "api.example.com")) {
		t.Error("both conditions hold, no match")
	}
	if MatchAll(conds, request("GET", "/v2/users", "Host", "api.example.com")) {
		t.Error("one condition fails, still a match")
	}
	if !MatchAll(nil, request(http.MethodGet, "/")) {
		t.Error("no conditions (the default rule) must match")
	}
}

func TestWildcard(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"", "", true}, {"", "a", false}, {"a*b*c", "abbbc", true}, {"a*b*c", "acb", false},
		{"*.*", "a.b.c", true}, {"??", "ab", true}, {"??", "abc", false}, {"*a", "bbba", true}, {"a**", "a", true},
	} {
		if got := Wildcard(c.p, c.s); got != c.want {
			t.Errorf("Wildcard(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

// ALB knows six condition fields ([conditions], and Field in
// API_RuleCondition); a condition of any other field, or of none, must
// match no request, so that a rule never catches more traffic than its
// conditions say.
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html
func TestUnknownFieldMatchesNothing(t *testing.T) {
	r := request("GET", "/anything?x=1", "Host", "example.com", "User-Agent", "curl")
	for _, c := range []Condition{
		{},
		{Field: "Host-Header", Values: []string{"*"}}, // fields are case-sensitive
		{Field: "cookie", Values: []string{"*"}},
		{Field: "path", Values: []string{"*"}},
	} {
		if c.Match(r) {
			t.Errorf("condition %+v matches", c)
		}
		if MatchAll([]Condition{{Field: "path-pattern", Values: []string{"*"}}, c}, r) {
			t.Errorf("a rule with condition %+v matches", c)
		}
	}
}
