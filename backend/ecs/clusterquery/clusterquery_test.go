package clusterquery

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The expressions are the examples of the cluster query language page:
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-query-language.html
func TestMatch(t *testing.T) {
	i := Instance{
		Ec2InstanceID:     "i-abcd1234",
		AgentConnected:    true,
		AgentVersion:      "1.86.2",
		RegisteredAt:      time.Date(2018, 6, 20, 10, 0, 0, 0, time.UTC),
		RunningTasksCount: 1,
		Attributes: map[string]string{
			"ecs.instance-type":     "t2.small",
			"ecs.availability-zone": "us-east-1a",
			"ecs.os-type":           "linux",
			"stack":                 "prod",
		},
		TaskGroups: []string{"service:production", "family:web"},
	}
	cases := []struct {
		expr string
		want bool
	}{
		{"attribute:ecs.instance-type == t2.small", true},
		{"attribute:ecs.instance-type == t2.medium", false},
		{"attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", true},
		{"attribute:ecs.availability-zone !in [us-east-1a, us-east-1b]", false},
		{"attribute:ecs.instance-type =~ t2.*", true},
		{"attribute:ecs.instance-type =~ g2.*", false},
		{"attribute:ecs.instance-type !~ g2.*", true},
		{"attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d", true},
		{"attribute:ecs.instance-type =~ t2.* && attribute:ecs.availability-zone == us-east-1d", false},
		{"attribute:ecs.instance-type == t2.medium or attribute:stack == prod", true},
		{"attribute:ecs.instance-type == t2.medium || attribute:stack == dev", false},
		{"task:group == service:production", true},
		{"not(task:group == database)", true},
		{"not(task:group == service:production)", false},
		{"!(task:group == service:production)", false},
		{"task:group in [database, family:web]", true},
		{"runningTasksCount == 1", true},
		{"runningTasksCount > 0", true},
		{"runningTasksCount <= 0", false},
		{"ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", true},
		{"ec2InstanceId =~ 'i-a.*'", true},
		{"agentConnected == false", false},
		{"agentVersion >= 1.10.0", true},
		{"agentVersion < 1.9.0", false},
		{"registeredAt < 2018-07-01", true},
		{"registeredAt > 2018-06-18T22:28:28+00:00", true},
		{"registeredAt >= 2018-06-21T00:00:00Z", false},
		{"attribute:stack exists", true},
		{"attribute:color exists", false},
		{"attribute:color !exists", true},
		{"attribute:color != red", true},
		{"(attribute:stack == prod or attribute:stack == dev) and attribute:ecs.os-type == linux", true},
	}
	for _, c := range cases {
		e, err := Parse(c.expr)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.expr, err)
			continue
		}
		if got := e.Match(i); got != c.want {
			t.Errorf("%q matched %v, want %v", c.expr, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, expr := range []string{
		"",
		"attribute:stack",
		"attribute: == x",
		"color == red",
		"runningTasksCount =~ 1",
		"task:group > x",
		"attribute:stack == [a, b]",
		"attribute:stack in [a, b",
		"(attribute:stack == prod",
		"attribute:stack == prod and",
		"attribute:stack == 'prod",
		"attribute:stack =~ '('",
		"registeredAt < yesterday",
		"attribute:stack == prod extra",
	} {
		_, err := Parse(expr)
		var syntax *SyntaxError
		if !errors.As(err, &syntax) {
			t.Errorf("Parse(%q) = %v, want a SyntaxError", expr, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("attribute:ecs.instance-type =~ t2.* and not(task:group == database)")
	f.Add("ec2InstanceId in ['i-1', 'i-2'] || runningTasksCount > 3")
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := Parse(s); err == nil {
			e.Match(Instance{})
		}
	})
}

// TestLengthBound: ECS takes expressions of up to 2000 characters
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PlacementConstraint.html,
// expression: "maximum length of 2000 characters"); longer ones, however
// valid, are refused before they are parsed.
func TestLengthBound(t *testing.T) {
	// valid is an expression of exactly n characters that parses.
	valid := func(n int) string {
		const term = "attribute:a == b or "
		s := strings.Repeat(term, (n-len(term))/len(term))
		s += "attribute:a == " + strings.Repeat("x", n-len(s)-len("attribute:a == "))
		if len(s) != n {
			t.Fatalf("built %d characters, want %d", len(s), n)
		}
		return s
	}
	if _, err := Parse(valid(MaxLength)); err != nil {
		t.Errorf("a %d-character expression: %v", MaxLength, err)
	}
	// Characters, not bytes: 2000 two-byte characters are within the bound.
	if _, err := Parse("attribute:a == " + strings.Repeat("é", MaxLength-len("attribute:a == "))); err != nil {
		t.Errorf("a %d-character expression of multibyte characters: %v", MaxLength, err)
	}
	nested := func(depth int) string {
		return strings.Repeat("(", depth) + "attribute:a exists" + strings.Repeat(")", depth)
	}
	for name, expr := range map[string]string{
		"2001 characters":        valid(MaxLength + 1),
		"1 MB of valid terms":    valid(1 << 20),
		"1 MB of nesting":        nested(1 << 19),
		"1 MB of opening parens": strings.Repeat("(", 1<<20),
		"1 MB of not":            strings.Repeat("!", 1<<20) + "attribute:a exists",
	} {
		_, err := Parse(expr)
		var syntax *SyntaxError
		if !errors.As(err, &syntax) || !strings.Contains(syntax.Problem, "longer than 2000 characters") {
			t.Errorf("%s: %v, want a SyntaxError for the length", name, err)
		} else if len(syntax.Error()) > 200 {
			t.Errorf("%s: the error repeats the whole expression (%d bytes)", name, len(syntax.Error()))
		}
	}
}

// TestDepthBound: nesting within the length bound is bounded too, so that
// no expression makes the parser recurse without limit.
func TestDepthBound(t *testing.T) {
	for _, c := range []struct {
		open, close string
		levels      int // nesting levels per repetition
	}{{"(", ")", 1}, {"not(", ")", 2}, {"!", "", 1}} {
		expr := func(depth int) string {
			n := depth / c.levels
			return strings.Repeat(c.open, n) + "attribute:a exists" + strings.Repeat(c.close, n)
		}
		if _, err := Parse(expr(MaxDepth - 2)); err != nil {
			t.Errorf("%q nested %d deep: %v", c.open, MaxDepth-2, err)
		}
		_, err := Parse(expr(MaxDepth + 2))
		var syntax *SyntaxError
		if !errors.As(err, &syntax) || !strings.Contains(syntax.Problem, "nested deeper") {
			t.Errorf("%q nested %d deep: %v, want a SyntaxError for the depth", c.open, MaxDepth+2, err)
		}
	}
}
