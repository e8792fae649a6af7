package cloudwatch

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Metric math
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html):
// berth evaluates the arithmetic operators + - * / on time series and
// scalars, parentheses, and the functions SUM, AVG, MIN and MAX, which
// give a scalar of one time series and a time series of an array of them
// ([m1, m2]). Time series combine at the timestamps they share.

// mathValue is a scalar or a time series (values by timestamp, ms).
type mathValue struct {
	scalar   float64
	series   map[int64]float64
	isSeries bool
}

func scalarValue(v float64) mathValue { return mathValue{scalar: v} }

// exprNode is a parsed expression.
type exprNode interface {
	eval(env func(id string) (mathValue, bool)) (mathValue, error)
}

type (
	numberNode float64
	idNode     string
	negNode    struct{ x exprNode }
	binaryNode struct {
		op   byte
		l, r exprNode
	}
	callNode struct {
		fn   string
		args []exprNode
		list bool // the argument was an array [a, b, ...]
	}
)

// mathFunctions are the functions berth evaluates.
var mathFunctions = []string{"SUM", "AVG", "MIN", "MAX"}

// Bounds of an expression, so that parsing and evaluating one costs
// little whatever its shape: the API takes expressions of up to 2,048
// characters
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html);
// nesting deeper than maxExprDepth is refused.
const (
	maxExprLength = 2048
	maxExprDepth  = 50
)

// parseExpr parses a metric math expression.
func parseExpr(s string) (exprNode, error) {
	if len(s) > maxExprLength {
		return nil, fmt.Errorf("the expression is longer than %d characters", maxExprLength)
	}
	p := &exprParser{s: s}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.skip(); p.i < len(p.s) {
		return nil, fmt.Errorf("unexpected %q at position %d", p.s[p.i:], p.i+1)
	}
	return n, nil
}

type exprParser struct {
	s     string
	i     int
	depth int // of parentheses, calls and signs around the parser
}

// enter counts one more level of nesting, refusing more than maxExprDepth;
// leave ends it.
func (p *exprParser) enter() error {
	if p.depth++; p.depth > maxExprDepth {
		return fmt.Errorf("the expression nests deeper than %d levels", maxExprDepth)
	}
	return nil
}

func (p *exprParser) leave() { p.depth-- }

func (p *exprParser) skip() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *exprParser) peek() byte {
	if p.skip(); p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *exprParser) expr() (exprNode, error) {
	l, err := p.term()
	for err == nil && (p.peek() == '+' || p.peek() == '-') {
		op := p.s[p.i]
		p.i++
		var r exprNode
		if r, err = p.term(); err == nil {
			l = binaryNode{op, l, r}
		}
	}
	return l, err
}

func (p *exprParser) term() (exprNode, error) {
	l, err := p.unary()
	for err == nil && (p.peek() == '*' || p.peek() == '/') {
		op := p.s[p.i]
		p.i++
		var r exprNode
		if r, err = p.unary(); err == nil {
			l = binaryNode{op, l, r}
		}
	}
	return l, err
}

func (p *exprParser) unary() (exprNode, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if p.peek() == '-' {
		p.i++
		x, err := p.unary()
		return negNode{x}, err
	}
	return p.primary()
}

func (p *exprParser) primary() (exprNode, error) {
	c := p.peek()
	switch {
	case c == '(':
		p.i++
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, fmt.Errorf("missing ) at position %d", p.i+1)
		}
		p.i++
		return n, nil
	case c >= '0' && c <= '9' || c == '.':
		start := p.i
		for p.i < len(p.s) && (p.s[p.i] >= '0' && p.s[p.i] <= '9' || p.s[p.i] == '.') {
			p.i++
		}
		f, err := strconv.ParseFloat(p.s[start:p.i], 64)
		if err != nil {
			return nil, fmt.Errorf("invalid number %q", p.s[start:p.i])
		}
		return numberNode(f), nil
	case c == '_' || unicode.IsLetter(rune(c)):
		start := p.i
		for p.i < len(p.s) && (p.s[p.i] == '_' || unicode.IsLetter(rune(p.s[p.i])) || unicode.IsDigit(rune(p.s[p.i]))) {
			p.i++
		}
		word := p.s[start:p.i]
		if p.peek() != '(' {
			return idNode(word), nil
		}
		if !slices.Contains(mathFunctions, strings.ToUpper(word)) {
			return nil, fmt.Errorf("unsupported function %s", word)
		}
		p.i++
		call := callNode{fn: strings.ToUpper(word)}
		closing := byte(')')
		if p.peek() == '[' {
			p.i++
			call.list, closing = true, ']'
		}
		for {
			arg, err := p.expr()
			if err != nil {
				return nil, err
			}
			call.args = append(call.args, arg)
			if p.peek() != ',' {
				break
			}
			p.i++
		}
		if p.peek() != closing {
			return nil, fmt.Errorf("missing %c at position %d", closing, p.i+1)
		}
		p.i++
		if call.list {
			if p.peek() != ')' {
				return nil, fmt.Errorf("missing ) at position %d", p.i+1)
			}
			p.i++
		} else if len(call.args) != 1 {
			return nil, fmt.Errorf("%s takes one argument", call.fn)
		}
		return call, nil
	}
	if c == 0 {
		return nil, fmt.Errorf("unexpected end of expression")
	}
	return nil, fmt.Errorf("unexpected %q at position %d", c, p.i+1)
}

func (n numberNode) eval(func(string) (mathValue, bool)) (mathValue, error) {
	return scalarValue(float64(n)), nil
}

func (n idNode) eval(env func(string) (mathValue, bool)) (mathValue, error) {
	v, ok := env(string(n))
	if !ok {
		return mathValue{}, fmt.Errorf("unknown metric or expression id %s", string(n))
	}
	return v, nil
}

func (n negNode) eval(env func(string) (mathValue, bool)) (mathValue, error) {
	x, err := n.x.eval(env)
	if err != nil {
		return x, err
	}
	return combine(scalarValue(-1), x, '*'), nil
}

func (n binaryNode) eval(env func(string) (mathValue, bool)) (mathValue, error) {
	l, err := n.l.eval(env)
	if err != nil {
		return l, err
	}
	r, err := n.r.eval(env)
	if err != nil {
		return r, err
	}
	return combine(l, r, n.op), nil
}

// arith applies op; false for a division by zero, which has no value.
func arith(a, b float64, op byte) (float64, bool) {
	switch op {
	case '+':
		return a + b, true
	case '-':
		return a - b, true
	case '*':
		return a * b, true
	}
	if b == 0 {
		return 0, false
	}
	return a / b, true
}

// combine applies op to two values: a scalar applies to every point of a
// series; two series combine at their common timestamps.
func combine(l, r mathValue, op byte) mathValue {
	if !l.isSeries && !r.isSeries {
		v, ok := arith(l.scalar, r.scalar, op)
		if !ok {
			return mathValue{series: map[int64]float64{}, isSeries: true}
		}
		return scalarValue(v)
	}
	out := mathValue{series: map[int64]float64{}, isSeries: true}
	at := func(v mathValue, ts int64) (float64, bool) {
		if !v.isSeries {
			return v.scalar, true
		}
		x, ok := v.series[ts]
		return x, ok
	}
	ref := l
	if !l.isSeries {
		ref = r
	}
	for ts := range ref.series {
		a, okA := at(l, ts)
		b, okB := at(r, ts)
		if !okA || !okB {
			continue
		}
		if v, ok := arith(a, b, op); ok {
			out.series[ts] = v
		}
	}
	return out
}

func (n callNode) eval(env func(string) (mathValue, bool)) (mathValue, error) {
	args := make([]mathValue, len(n.args))
	for i, a := range n.args {
		v, err := a.eval(env)
		if err != nil {
			return v, err
		}
		args[i] = v
	}
	reduce := func(vs []float64) float64 {
		slices.Sort(vs) // the same sum whatever the map order
		acc := vs[0]
		for _, v := range vs[1:] {
			switch n.fn {
			case "SUM", "AVG":
				acc += v
			case "MIN":
				acc = min(acc, v)
			case "MAX":
				acc = max(acc, v)
			}
		}
		if n.fn == "AVG" {
			acc /= float64(len(vs))
		}
		return acc
	}
	if !n.list {
		if !args[0].isSeries {
			return args[0], nil
		}
		if len(args[0].series) == 0 {
			return mathValue{series: map[int64]float64{}, isSeries: true}, nil
		}
		vs := make([]float64, 0, len(args[0].series))
		for _, v := range args[0].series {
			vs = append(vs, v)
		}
		return scalarValue(reduce(vs)), nil
	}
	// An array of time series: one value per timestamp, of the series
	// that have a point there.
	byTS := map[int64][]float64{}
	for _, a := range args {
		if !a.isSeries {
			return mathValue{}, fmt.Errorf("%s of an array takes time series", n.fn)
		}
		for ts, v := range a.series {
			byTS[ts] = append(byTS[ts], v)
		}
	}
	out := mathValue{series: map[int64]float64{}, isSeries: true}
	for ts, vs := range byTS {
		out.series[ts] = reduce(vs)
	}
	return out, nil
}
