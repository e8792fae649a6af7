package clusterquery

import (
	"errors"
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
