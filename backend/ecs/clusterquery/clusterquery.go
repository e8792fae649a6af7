// Package clusterquery parses and evaluates the ECS cluster query language:
// the expressions of memberOf placement constraints and of
// ListContainerInstances filters, such as
//
//	attribute:ecs.instance-type =~ t2.* and not(task:group == database)
//
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cluster-query-language.html
package clusterquery

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxLength is the longest expression ECS accepts, in characters: "The
// expression can have a maximum length of 2000 characters" (PlacementConstraint,
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PlacementConstraint.html).
const MaxLength = 2000

// MaxDepth bounds how deeply parentheses and not may nest. ECS documents no
// such bound; berth sets one so that parsing never recurses without limit,
// whatever the length bound.
const MaxDepth = 100

// Instance is what an expression can ask of a container instance.
type Instance struct {
	Ec2InstanceID     string
	AgentConnected    bool
	AgentVersion      string
	RegisteredAt      time.Time
	RunningTasksCount int
	Attributes        map[string]string // built-in and custom, by name
	TaskGroups        []string          // the groups of the tasks it runs
}

// Expr is a parsed expression.
type Expr interface {
	// Match reports whether the instance is in the group the expression
	// defines.
	Match(Instance) bool
}

// SyntaxError is an expression that does not parse.
type SyntaxError struct {
	Expr, Problem string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid cluster query expression %q: %s", e.Expr, e.Problem)
}

// Parse parses expression s. An expression longer than MaxLength or
// nested deeper than MaxDepth is a SyntaxError.
func Parse(s string) (Expr, error) {
	if len(s) > MaxLength && utf8.RuneCountInString(s) > MaxLength {
		return nil, &SyntaxError{shorten(s), fmt.Sprintf("longer than %d characters", MaxLength)}
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, &SyntaxError{s, err.Error()}
	}
	p := &parser{toks: toks}
	e, err := p.or()
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	if err != nil {
		return nil, &SyntaxError{s, err.Error()}
	}
	return e, nil
}

// shorten cuts a long expression for an error message.
func shorten(s string) string {
	const keep = 64
	if len(s) <= keep {
		return s
	}
	for i := range s {
		if i >= keep {
			return s[:i] + "..."
		}
	}
	return s
}

type (
	and struct{ l, r Expr }
	or  struct{ l, r Expr }
	not struct{ e Expr }
	cmp struct {
		subject, op string
		args        []string
		re          *regexp.Regexp
	}
)

func (e and) Match(i Instance) bool { return e.l.Match(i) && e.r.Match(i) }
func (e or) Match(i Instance) bool  { return e.l.Match(i) || e.r.Match(i) }
func (e not) Match(i Instance) bool { return !e.e.Match(i) }

// Match compares the subject's values with the arguments. A subject may
// have no value (an absent attribute) or several (task:group): == , in and
// =~ hold when any value does, and their negations when none does.
func (c cmp) Match(i Instance) bool {
	values := c.values(i)
	any := func(f func(v string) bool) bool { return slices.ContainsFunc(values, f) }
	switch c.op {
	case "exists":
		return len(values) > 0
	case "!exists":
		return len(values) == 0
	case "==", "in":
		return any(func(v string) bool { return slices.Contains(c.args, v) })
	case "!=", "!in":
		return !any(func(v string) bool { return slices.Contains(c.args, v) })
	case "=~":
		return any(c.re.MatchString)
	case "!~":
		return !any(c.re.MatchString)
	}
	return any(func(v string) bool { // an ordering
		n := c.compare(v, c.args[0])
		switch c.op {
		case ">":
			return n > 0
		case ">=":
			return n >= 0
		case "<":
			return n < 0
		}
		return n <= 0
	})
}

func (c cmp) values(i Instance) []string {
	switch c.subject {
	case "agentConnected":
		return []string{strconv.FormatBool(i.AgentConnected)}
	case "agentVersion":
		return []string{i.AgentVersion}
	case "ec2InstanceId":
		return []string{i.Ec2InstanceID}
	case "registeredAt":
		return []string{i.RegisteredAt.UTC().Format(time.RFC3339)}
	case "runningTasksCount":
		return []string{strconv.Itoa(i.RunningTasksCount)}
	case "task:group":
		return i.TaskGroups
	}
	if v, ok := i.Attributes[strings.TrimPrefix(c.subject, "attribute:")]; ok {
		return []string{v}
	}
	return nil
}

// compare orders a subject's value against an argument: as times for
// registeredAt, as dotted version numbers for agentVersion, as numbers
// where both are, else as strings.
func (c cmp) compare(v, arg string) int {
	if c.subject == "registeredAt" {
		a, _ := time.Parse(time.RFC3339, v)
		b, _ := parseDate(arg)
		return a.Compare(b)
	}
	if c.subject == "agentVersion" {
		return compareVersions(v, arg)
	}
	a, errA := strconv.ParseFloat(v, 64)
	b, errB := strconv.ParseFloat(arg, 64)
	if errA == nil && errB == nil {
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	}
	return strings.Compare(v, arg)
}

func compareVersions(a, b string) int {
	as, bs := strings.Split(strings.TrimPrefix(a, "v"), "."), strings.Split(strings.TrimPrefix(b, "v"), ".")
	for k := range max(len(as), len(bs)) {
		var x, y int
		if k < len(as) {
			x, _ = strconv.Atoi(as[k])
		}
		if k < len(bs) {
			y, _ = strconv.Atoi(bs[k])
		}
		if x != y {
			return x - y
		}
	}
	return 0
}

// dateLayouts are the registeredAt formats the language accepts.
var dateLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"}

func parseDate(s string) (time.Time, error) {
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date such as 2018-06-18T22:28:28Z", s)
}

// Subjects and the operators each takes; attribute:<name> takes any.
var (
	equality  = []string{"==", "!=", "in", "!in", "=~", "!~"}
	orderings = []string{"==", "!=", ">", ">=", "<", "<="}
	operators = map[string][]string{
		"agentConnected":    equality,
		"agentVersion":      orderings,
		"ec2InstanceId":     equality,
		"registeredAt":      orderings,
		"runningTasksCount": orderings,
		"task:group":        equality,
	}
	allOperators = []string{"==", "!=", ">", ">=", "<", "<=", "exists", "!exists", "in", "!in", "=~", "!~"}
)

type token struct {
	text   string
	quoted bool // a quoted value, never a keyword or symbol
}

// tokenize splits s into symbols, quoted values and bare words.
func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		switch ch := s[i]; {
		case ch == ' ' || ch == '\t' || ch == '\n':
			i++
		case ch == '\'' || ch == '"':
			end := strings.IndexByte(s[i+1:], ch)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			toks = append(toks, token{text: s[i+1 : i+1+end], quoted: true})
			i += end + 2
		case strings.IndexByte("()[],", ch) >= 0:
			toks = append(toks, token{text: s[i : i+1]})
			i++
		case strings.IndexByte("=!<>&|", ch) >= 0:
			n := 1
			if i+1 < len(s) && strings.IndexByte("=~&|", s[i+1]) >= 0 {
				n = 2
			}
			toks = append(toks, token{text: s[i : i+n]})
			i += n
		default:
			end := i
			for end < len(s) && strings.IndexByte(" \t\n'\"()[],=!<>&|", s[end]) < 0 {
				end++
			}
			toks = append(toks, token{text: s[i:end]})
			i = end
		}
	}
	return toks, nil
}

type parser struct {
	toks  []token
	pos   int
	depth int // of ( and not around the token at pos
}

// enter descends one nesting level; leave must follow.
func (p *parser) enter() error {
	if p.depth++; p.depth > MaxDepth {
		return fmt.Errorf("nested deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) peek() (token, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return token{}, false
}

// accept consumes the next token if it is one of words (unquoted).
func (p *parser) accept(words ...string) bool {
	t, ok := p.peek()
	if ok && !t.quoted && slices.Contains(words, t.text) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) or() (Expr, error) {
	l, err := p.and()
	for err == nil && p.accept("or", "||") {
		var r Expr
		if r, err = p.and(); err == nil {
			l = or{l, r}
		}
	}
	return l, err
}

func (p *parser) and() (Expr, error) {
	l, err := p.unary()
	for err == nil && p.accept("and", "&&") {
		var r Expr
		if r, err = p.unary(); err == nil {
			l = and{l, r}
		}
	}
	return l, err
}

func (p *parser) unary() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if p.accept("not", "!") {
		e, err := p.unary()
		return not{e}, err
	}
	if p.accept("(") {
		e, err := p.or()
		if err == nil && !p.accept(")") {
			err = fmt.Errorf("missing )")
		}
		return e, err
	}
	return p.comparison()
}

func (p *parser) comparison() (Expr, error) {
	t, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("expression ends where a subject is expected")
	}
	p.pos++
	c := cmp{subject: t.text}
	valid, known := operators[c.subject]
	if !known {
		if !strings.HasPrefix(c.subject, "attribute:") || len(c.subject) == len("attribute:") {
			return nil, fmt.Errorf("unknown subject %q", c.subject)
		}
		valid = allOperators
	}
	op, ok := p.peek()
	if !ok {
		return nil, fmt.Errorf("missing operator after %s", c.subject)
	}
	p.pos++
	c.op = op.text
	if c.op == "!" && p.accept("in", "exists") { // "!in" and "!exists" are two tokens
		c.op += p.toks[p.pos-1].text
	}
	if op.quoted || !slices.Contains(valid, c.op) {
		return nil, fmt.Errorf("operator %q does not apply to %s", c.op, c.subject)
	}
	if c.op == "exists" || c.op == "!exists" {
		return c, nil
	}
	args, err := p.arguments()
	if err != nil {
		return nil, err
	}
	c.args = args
	switch c.op {
	case "=~", "!~":
		if c.re, err = regexp.Compile("^(?:" + args[0] + ")$"); err != nil {
			return nil, fmt.Errorf("bad pattern %q", args[0])
		}
	}
	if c.subject == "registeredAt" {
		if _, err := parseDate(args[0]); err != nil {
			return nil, err
		}
	}
	if len(args) > 1 && c.op != "in" && c.op != "!in" {
		return nil, fmt.Errorf("operator %s takes one value, not a list", c.op)
	}
	return c, nil
}

// arguments reads one value or a bracketed, comma-separated list.
func (p *parser) arguments() ([]string, error) {
	value := func() (string, error) {
		t, ok := p.peek()
		if !ok || !t.quoted && strings.Contains("()[],", t.text) {
			return "", fmt.Errorf("missing value")
		}
		p.pos++
		return t.text, nil
	}
	if !p.accept("[") {
		v, err := value()
		return []string{v}, err
	}
	var list []string
	for {
		v, err := value()
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		if p.accept("]") {
			return list, nil
		}
		if !p.accept(",") {
			return nil, fmt.Errorf("missing ] or ,")
		}
	}
}
