package server

//go:generate go run gen_constraints.go

import (
	"cmp"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"berth/awsproto"
)

// inputFault is how a service refuses a member that fails a constraint of
// the API model: the value (nil for a sensitive member, whose value is
// never echoed), the member's path in the request and the constraint as
// AWS words it. It returns nil for a member the service answers for
// itself.
type inputFault func(value *string, path, constraint string) error

// coralFault is the input validation error of the services AWS fronts
// with its common request validation, under the service's own code:
//
//	1 validation error detected: Value 'SOMETHING' at 'launchType' failed to
//	satisfy constraint: Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL]
//
// as the ECS and ELBv2 references' common errors and users' reports show
// it (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonErrors.html).
func coralFault(code string) inputFault {
	return func(value *string, path, constraint string) error {
		if value == nil {
			return awsproto.ClientError(code, "1 validation error detected: Value at '%s' failed to satisfy constraint: %s", path, constraint)
		}
		return awsproto.ClientError(code, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", *value, path, constraint)
	}
}

// queryFault is CloudWatch's refusal of a value outside an enumeration,
// with the member named as in the query protocol, as a field report shows
// it (https://github.com/awslabs/collectd-cloudwatch/pull/46):
//
//	The parameter MetricData.member.1.Unit must be a value in the set [ Seconds, ..., None ].
//
// Other constraints read as the common validation words them.
func queryFault(code string) inputFault {
	coral := coralFault(code)
	return func(value *string, path, constraint string) error {
		if set, ok := strings.CutPrefix(constraint, "Member must satisfy enum value set: ["); ok {
			return awsproto.ClientError(code, "The parameter %s must be a value in the set [ %s ].", queryPath(path), strings.TrimSuffix(set, "]"))
		}
		return coral(value, path, constraint)
	}
}

// queryPath turns a member path as the validator writes it
// ("metricData.1.member.unit") into the query protocol's
// ("MetricData.member.1.Unit").
func queryPath(path string) string {
	parts := strings.Split(path, ".")
	var out []string
	for i := 0; i < len(parts); i++ {
		if i+1 < len(parts) && parts[i+1] == "member" && parts[i] != "" && parts[i][0] >= '0' && parts[i][0] <= '9' {
			out = append(out, "member", parts[i])
			i++
			continue
		}
		out = append(out, strings.ToUpper(parts[i][:1])+parts[i][1:])
	}
	return strings.Join(out, ".")
}

// except is fault but for the members at the given paths, which the
// service answers for itself with an error of its own model (SSM's
// UnsupportedParameterType for a PutParameter type, for one).
func except(fault inputFault, paths ...string) inputFault {
	return func(value *string, path, constraint string) error {
		if slices.Contains(paths, path) {
			return nil
		}
		return fault(value, path, constraint)
	}
}

// validator checks a decoded input against the API model before the
// operation runs, as AWS validates a request before anything is looked
// up: every enum-typed member against the SDK's enum (its Values(), never
// a hand-typed list), and every member the published model constrains
// (lengths, ranges, patterns: constraints_gen.go) against that.
type validator struct {
	fault       inputFault
	constraints map[string]constraint // by "Type.member"; nil for none
}

// constraint is one member's constraint in the API model.
type constraint struct {
	kind           constraintKind
	min, max       float64
	hasMin, hasMax bool
	pattern, shown string // the pattern as Go writes it, and as the model does when that differs
	sensitive      bool
}

type constraintKind int

const (
	lengthOf constraintKind = iota // of a string, blob, list or map
	valueOf                        // of a number
)

// patterns compiles the model's patterns once, on first use: a memo of
// immutable facts.
var patterns sync.Map // string -> *regexp.Regexp

func match(pattern, s string) bool {
	re, ok := patterns.Load(pattern)
	if !ok {
		re, _ = patterns.LoadOrStore(pattern, regexp.MustCompile(`^(?:`+pattern+`)$`))
	}
	return re.(*regexp.Regexp).MatchString(s)
}

// check checks the decoded input v, a pointer to an SDK input struct.
func (val validator) check(v reflect.Value) error {
	if val.fault == nil {
		return nil
	}
	return val.walk(v, "")
}

func (val validator) walk(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return val.walk(v.Elem(), path)
	case reflect.Struct:
		if awsproto.IsTime(v.Type()) {
			return nil
		}
		for _, f := range awsproto.Fields(v.Type()) {
			fv, name := v.Field(f.Index), join(path, f.JSONName())
			key := v.Type().Name() + "." + f.JSONName()
			if c, ok := val.constraints[key]; ok {
				if err := val.constrain(fv, name, c, false); err != nil {
					return err
				}
			}
			if c, ok := val.constraints[key+"[]"]; ok && fv.Kind() == reflect.Slice {
				if err := val.items(fv, name, c); err != nil {
					return err
				}
			}
			if err := val.walk(fv, name); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // a blob
		}
		for i := range v.Len() {
			if err := val.walk(v.Index(i), fmt.Sprintf("%s.%d.member", path, i+1)); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := val.walk(it.Value(), path); err != nil {
				return err
			}
		}
	case reflect.String:
		return val.enum(v, path)
	}
	return nil
}

// enum checks a string against its enumeration, if its type has one.
// Unset (empty) members pass.
func (val validator) enum(v reflect.Value, path string) error {
	if v.Len() == 0 {
		return nil
	}
	allowed := enumValues(v.Type())
	if len(allowed) == 0 || slices.Contains(allowed, v.String()) {
		return nil
	}
	value := v.String()
	return val.fault(&value, path, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// enums memoizes enumValues: the value sets are immutable facts of the
// SDK's types, read once per type rather than on every request.
var enums sync.Map // reflect.Type -> []string

// enumValues is the value set of an SDK enum type, from its Values()
// method; nil for a string type that is no enum.
func enumValues(t reflect.Type) []string {
	if v, ok := enums.Load(t); ok {
		return v.([]string)
	}
	var names []string
	if m, ok := t.MethodByName("Values"); ok && m.Type.NumIn() == 1 && m.Type.NumOut() == 1 {
		allowed := m.Func.Call([]reflect.Value{reflect.Zero(t)})[0]
		for i := range allowed.Len() {
			names = append(names, allowed.Index(i).String())
		}
	}
	enums.Store(t, names)
	return names
}

// constrain checks one set member, or one item of a list, against its
// constraint, in Coral's words ("Member must have length less than or
// equal to 32", ...).
func (val validator) constrain(v reflect.Value, path string, c constraint, item bool) error {
	switch {
	case v.Kind() == reflect.Pointer && v.IsNil():
		return nil
	case v.Kind() == reflect.Pointer:
		v = v.Elem()
	case v.IsZero() && !item:
		return nil // a member without a pointer is unset at its zero value
	}
	var n float64
	shown := ""
	switch v.Kind() {
	case reflect.String:
		if c.kind != lengthOf {
			return nil
		}
		n, shown = float64(utf8.RuneCountInString(v.String())), v.String()
	case reflect.Slice, reflect.Map:
		if v.IsNil() || c.kind != lengthOf {
			return nil
		}
		n, shown = float64(v.Len()), javaString(v)
	case reflect.Int32, reflect.Int64, reflect.Int:
		n = float64(v.Int())
	case reflect.Float32, reflect.Float64:
		n = v.Float()
	default:
		return nil
	}
	what := "length"
	if c.kind == valueOf {
		what = "value"
		shown = fmt.Sprint(n)
	}
	value := &shown
	if c.sensitive || v.Type() == reflect.TypeFor[[]byte]() {
		value = nil // a secret or a blob is never echoed
	}
	switch {
	case c.hasMin && n < c.min:
		return val.fault(value, path, fmt.Sprintf("Member must have %s greater than or equal to %v", what, c.min))
	case c.hasMax && n > c.max:
		return val.fault(value, path, fmt.Sprintf("Member must have %s less than or equal to %v", what, c.max))
	case c.pattern != "" && v.Kind() == reflect.String && !match(c.pattern, v.String()):
		return val.fault(value, path, "Member must satisfy regular expression pattern: "+cmp.Or(c.shown, c.pattern))
	}
	return nil
}

// items checks the items of a list against their constraint. AWS refuses
// the list as a whole, at the list's path, with every constraint of its
// items:
//
//	Value '[]' at 'targetGroupARNs' failed to satisfy constraint: Member must
//	satisfy constraint: [Member must have length less than or equal to 511,
//	Member must have length greater than or equal to 1, Member must satisfy
//	regular expression pattern: ...]
//
// as Auto Scaling answered a list holding one empty string (a field report:
// https://github.com/zalando-incubator/kube-ingress-aws-controller/issues/248).
func (val validator) items(list reflect.Value, path string, c constraint) error {
	for i := range list.Len() {
		if val.constrain(list.Index(i), path, c, true) == nil {
			continue
		}
		what := "length"
		if c.kind == valueOf {
			what = "value"
		}
		var all []string
		if c.hasMax {
			all = append(all, fmt.Sprintf("Member must have %s less than or equal to %v", what, c.max))
		}
		if c.hasMin {
			all = append(all, fmt.Sprintf("Member must have %s greater than or equal to %v", what, c.min))
		}
		if c.pattern != "" {
			all = append(all, "Member must satisfy regular expression pattern: "+cmp.Or(c.shown, c.pattern))
		}
		var value *string
		if !c.sensitive {
			shown := javaString(list)
			value = &shown
		}
		return val.fault(value, path, "Member must satisfy constraint: ["+strings.Join(all, ", ")+"]")
	}
	return nil
}

// javaString is a list or map as Java prints it in AWS's messages:
// [a, b] and {k=v}. Items that are structures print their set members
// the same way, {key=k, value=v} (never the Go pointers they hold).
func javaString(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "null"
		}
		return javaString(v.Elem())
	case reflect.Map:
		var parts []string
		for it := v.MapRange(); it.Next(); {
			parts = append(parts, javaString(it.Key())+"="+javaString(it.Value()))
		}
		slices.Sort(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "java.nio.HeapByteBuffer" // a blob is never echoed
		}
		parts := make([]string, v.Len())
		for i := range v.Len() {
			parts[i] = javaString(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Struct:
		if awsproto.IsTime(v.Type()) {
			return fmt.Sprint(v.Interface())
		}
		var parts []string
		for _, f := range awsproto.Fields(v.Type()) {
			if fv := v.Field(f.Index); !fv.IsZero() {
				parts = append(parts, f.JSONName()+"="+javaString(fv))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v.Interface())
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
