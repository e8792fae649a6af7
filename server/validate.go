package server

//go:generate go run gen_constraints.go

import (
	"cmp"
	"fmt"
	"math"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"berth/awsproto"
)

// violation is one member of a request failing one constraint of the API
// model: the value as AWS echoes it (nil for a sensitive member, whose
// value is never echoed), the member's path in the request and the
// constraint as AWS words it.
type violation struct {
	value            *string
	path, constraint string
	enum             []string // the value set, for a value outside it
	index            int      // for a list's items, the first failing one's (from 1)
	maxItems         int      // for a list longer than its maximum, that maximum
}

// maxViolations bounds the violations one refusal lists: AWS's common
// validation reports at most ten ("10 validation errors detected: ..."
// for a Kinesis PutRecords of 501 records with empty partition keys, as
// https://github.com/mhart/kinesalite/blob/master/test/putRecords.js
// records it from AWS).
const maxViolations = 10

// inputFault is how a service refuses a request whose members fail
// constraints of the API model (at least one violation; at most
// maxViolations). It returns nil when the service answers for itself for
// every one of them.
type inputFault func([]violation) error

// coralFault is the input validation error of the services AWS fronts
// with its common request validation, under the service's own code. It
// lists every violation, "; " between them:
//
//	1 validation error detected: Value 'SOMETHING' at 'launchType' failed to
//	satisfy constraint: Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL]
//
//	3 validation errors detected: Value '0' at 'shardCount' failed to satisfy
//	constraint: Member must have value greater than or equal to 1; Value ''
//	at 'streamName' failed to satisfy constraint: ...; Value '' at ...
//
// as the ECS and ELBv2 references' common errors and users' reports show
// it (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonErrors.html;
// https://github.com/mhart/kinesalite/blob/master/test/createStream.js;
// eight at once from CodePipeline in
// https://github.com/hashicorp/terraform-provider-aws/issues/41023).
func coralFault(code string) inputFault {
	return func(vs []violation) error {
		if len(vs) == 0 {
			return nil
		}
		return awsproto.ClientError(code, "%s", coralMessage(vs))
	}
}

func coralMessage(vs []violation) string {
	var b strings.Builder
	if len(vs) == 1 {
		b.WriteString("1 validation error detected: ")
	} else {
		fmt.Fprintf(&b, "%d validation errors detected: ", len(vs))
	}
	for i, v := range vs {
		if i > 0 {
			b.WriteString("; ")
		}
		if v.value == nil {
			fmt.Fprintf(&b, "Value at '%s' failed to satisfy constraint: %s", v.path, v.constraint)
		} else {
			fmt.Fprintf(&b, "Value '%s' at '%s' failed to satisfy constraint: %s", *v.value, v.path, v.constraint)
		}
	}
	return b.String()
}

// queryFault is CloudWatch's refusal. A value outside an enumeration is
// refused under code, with the member (a list's item) named as in the
// query protocol, as field reports show it
// (https://github.com/awslabs/collectd-cloudwatch/pull/46,
// https://github.com/arabold/aws-to-slack/issues/74):
//
//	The parameter MetricData.member.1.Unit must be a value in the set [ Seconds, ..., None ].
//	The parameter Statistics.member.1 must be a value in the set [ Minimum, ... ].
//
// Every other constraint is the common validation's, under the unmodelled
// code ValidationError, alike in the query, JSON and CBOR protocols, as
// the SDK's end-to-end test against CloudWatch has it:
//
//	ValidationError: 1 validation error detected: Value '' at 'alarmName'
//	failed to satisfy constraint: Member must have length greater than or equal to 1
//
// (https://github.com/aws/aws-sdk-js-v3/blob/main/clients/client-cloudwatch/test/e2e/query-compatibility.e2e.spec.ts),
// but for a list longer than its maximum, refused under code in
// CloudWatch's words:
//
//	The collection MetricData.member.1.Values must not have a size greater than 150.
//
// (https://github.com/aws/aws-sdk-java-v2/issues/3080,
// https://github.com/jmxtrans/jmxtrans/issues/665).
func queryFault(code string) inputFault {
	coral := coralFault("ValidationError")
	return func(vs []violation) error {
		if len(vs) == 0 {
			return nil
		}
		if v := vs[0]; v.enum != nil {
			path := v.path
			if v.index > 0 {
				path = fmt.Sprintf("%s.%d.member", path, v.index)
			}
			return awsproto.ClientError(code, "The parameter %s must be a value in the set [ %s ].", queryPath(path), strings.Join(v.enum, ", "))
		}
		if vs[0].maxItems > 0 {
			return awsproto.ClientError(code, "The collection %s must not have a size greater than %d.", queryPath(vs[0].path), vs[0].maxItems)
		}
		return coral(vs)
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
	return func(vs []violation) error {
		vs = slices.DeleteFunc(slices.Clone(vs), func(v violation) bool { return slices.Contains(paths, v.path) })
		if len(vs) == 0 {
			return nil
		}
		return fault(vs)
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

// check checks the decoded input v, a pointer to an SDK input struct, and
// refuses it with every violation found (up to maxViolations), in the
// order of the model's members, each member's own constraints before
// those of what it holds.
func (val validator) check(v reflect.Value) error {
	if val.fault == nil {
		return nil
	}
	var vs []violation
	val.walk(v, "", &vs)
	if len(vs) == 0 {
		return nil
	}
	return val.fault(vs)
}

// report records a violation unless maxViolations are recorded already.
func report(vs *[]violation, v violation) {
	if len(*vs) < maxViolations {
		*vs = append(*vs, v)
	}
}

func (val validator) walk(v reflect.Value, path string, vs *[]violation) {
	if len(*vs) >= maxViolations {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			val.walk(v.Elem(), path, vs)
		}
	case reflect.Struct:
		if awsproto.IsTime(v.Type()) {
			return
		}
		for _, f := range modelFields(v.Type()) {
			fv, name := v.Field(f.Index), join(path, f.JSONName())
			key := v.Type().Name() + "." + f.JSONName()
			if c, ok := val.constraints[key]; ok {
				for _, constraint := range val.constrain(fv, c, false) {
					bad := violation{value: echo(fv, c), path: name, constraint: constraint}
					if fv.Kind() == reflect.Slice && c.hasMax && float64(fv.Len()) > c.max {
						bad.maxItems = int(c.max)
					}
					report(vs, bad)
				}
			}
			val.walk(fv, name, vs)
			switch fv.Kind() {
			case reflect.Slice:
				val.items(fv, name, val.constraints[key+"[]"], vs)
			case reflect.Map:
				val.entries(fv, name, val.constraints[key+"{key}"], val.constraints[key+"{value}"], vs)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // a blob
		}
		if holdsMembers(v.Type().Elem()) { // a list of strings or numbers is checked whole (items)
			for i := range v.Len() {
				val.walk(v.Index(i), fmt.Sprintf("%s.%d.member", path, i+1), vs)
			}
		}
	case reflect.Map:
		if holdsMembers(v.Type().Elem()) { // as are its keys and values (entries)
			for it := v.MapRange(); it.Next(); {
				val.walk(it.Value(), path, vs)
			}
		}
	case reflect.String:
		if value := v.String(); value != "" {
			if allowed := enumValues(v.Type()); len(allowed) > 0 && !slices.Contains(allowed, value) {
				report(vs, violation{value: &value, path: path, constraint: enumConstraint(allowed), enum: allowed})
			}
		}
	}
}

// ordered memoizes modelFields: immutable facts of the SDK's types and
// the models, sorted once per type.
var ordered sync.Map // reflect.Type -> []awsproto.Field

// modelFields are the wire members of the SDK struct type t in the order
// of its model (modelOrder), which the SDK does not keep (it puts the
// required members first); members the model table does not name follow
// in the SDK's order.
func modelFields(t reflect.Type) []awsproto.Field {
	if v, ok := ordered.Load(t); ok {
		return v.([]awsproto.Field)
	}
	fields := slices.Clone(awsproto.Fields(t))
	if order, ok := modelOrder[path.Base(strings.TrimSuffix(t.PkgPath(), "/types"))+"."+t.Name()]; ok {
		rank := func(f awsproto.Field) int {
			if i := slices.Index(order, f.JSONName()); i >= 0 {
				return i
			}
			return len(order)
		}
		slices.SortStableFunc(fields, func(a, b awsproto.Field) int { return cmp.Compare(rank(a), rank(b)) })
	}
	ordered.Store(t, fields)
	return fields
}

// holdsMembers reports whether a value of type t (through pointers) may
// hold members of its own to check: a structure other than a time, a
// union (an interface), a list or a map.
func holdsMembers(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		return !awsproto.IsTime(t)
	case reflect.Interface, reflect.Slice, reflect.Map:
		return true
	}
	return false
}

func enumConstraint(allowed []string) string {
	return "Member must satisfy enum value set: [" + strings.Join(allowed, ", ") + "]"
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

// constrain checks one set member, or one item of a list or key or value
// of a map, against its constraint, and returns the constraints it fails
// in Coral's words ("Member must have length less than or equal to 32",
// ...): its pattern first, then its bounds, each its own violation, as
// Kinesis refuses an empty stream name (recorded from AWS by
// https://github.com/mhart/kinesalite/blob/master/test/createStream.js):
//
//	Value '' at 'streamName' failed to satisfy constraint: Member must satisfy
//	regular expression pattern: [a-zA-Z0-9_.-]+; Value '' at 'streamName'
//	failed to satisfy constraint: Member must have length greater than or equal to 1
func (val validator) constrain(v reflect.Value, c constraint, item bool) []string {
	switch {
	case v.Kind() == reflect.Pointer && v.IsNil():
		return nil
	case v.Kind() == reflect.Pointer:
		v = v.Elem()
	case v.IsZero() && !item:
		return nil // a member without a pointer is unset at its zero value
	}
	var n float64
	switch v.Kind() {
	case reflect.String:
		if c.kind != lengthOf {
			return nil
		}
		n = float64(utf8.RuneCountInString(v.String()))
	case reflect.Slice, reflect.Map:
		if v.IsNil() || c.kind != lengthOf {
			return nil
		}
		n = float64(v.Len())
	case reflect.Int32, reflect.Int64, reflect.Int:
		n = float64(v.Int())
	case reflect.Float32, reflect.Float64:
		n = v.Float()
	default:
		return nil
	}
	var failed []string
	if c.pattern != "" && v.Kind() == reflect.String && !match(c.pattern, v.String()) {
		failed = append(failed, patternConstraint(c))
	}
	floating := v.Kind() == reflect.Float32 || v.Kind() == reflect.Float64
	switch {
	case c.hasMin && n < c.min:
		failed = append(failed, boundConstraint(c, false, floating))
	case c.hasMax && n > c.max:
		failed = append(failed, boundConstraint(c, true, floating))
	}
	return failed
}

func patternConstraint(c constraint) string {
	return "Member must satisfy regular expression pattern: " + cmp.Or(c.shown, c.pattern)
}

// boundConstraint words c's upper or lower bound: a length or an
// integer's value as an integer, a double's as Java prints a double.
func boundConstraint(c constraint, upper, floating bool) string {
	what, bound, side := "length", c.min, "greater"
	if c.kind == valueOf {
		what = "value"
	}
	if upper {
		bound, side = c.max, "less"
	}
	shown := strconv.FormatFloat(bound, 'f', -1, 64)
	if floating {
		shown = javaDouble(bound)
	}
	return fmt.Sprintf("Member must have %s %s than or equal to %s", what, side, shown)
}

// allConstraints is every constraint of a list's items or a map's keys or
// values, in the order AWS lists them when one item fails (its upper
// bound, its lower bound, its pattern, its enumeration).
func allConstraints(c constraint, t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	floating := t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64
	var all []string
	if c.hasMax {
		all = append(all, boundConstraint(c, true, floating))
	}
	if c.hasMin {
		all = append(all, boundConstraint(c, false, floating))
	}
	if c.pattern != "" {
		all = append(all, patternConstraint(c))
	}
	if allowed := enumValues(t); len(allowed) > 0 {
		all = append(all, enumConstraint(allowed))
	}
	return all
}

// fails reports whether one item, key or value fails its constraint or
// its enumeration, and the enumeration's values if it is outside them.
func (val validator) fails(v reflect.Value, c constraint) (bool, []string) {
	failed := len(val.constrain(v, c, true)) > 0
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.String || v.Len() == 0 {
		return failed, nil
	}
	if allowed := enumValues(v.Type()); len(allowed) > 0 && !slices.Contains(allowed, v.String()) {
		return true, allowed
	}
	return failed, nil
}

// items checks the items of a list against their constraint and their
// enumeration. AWS refuses the list as a whole, once, at the list's path,
// with every constraint of its items:
//
//	Value '[]' at 'targetGroupARNs' failed to satisfy constraint: Member must
//	satisfy constraint: [Member must have length less than or equal to 511,
//	Member must have length greater than or equal to 1, Member must satisfy
//	regular expression pattern: ...]
//
// as Auto Scaling answered a list holding one empty string (a field report:
// https://github.com/zalando-incubator/kube-ingress-aws-controller/issues/248),
// and so for an enumeration ("Value '[CAPABILITY_NAMED_IAM, ...]' at
// 'capabilities' failed to satisfy constraint: Member must satisfy
// constraint: [Member must satisfy enum value set: [...]]",
// https://github.com/CodeGenieApp/serverless-express/issues/59).
func (val validator) items(list reflect.Value, path string, c constraint, vs *[]violation) {
	if list.Type().Elem().Kind() == reflect.Uint8 {
		return // a blob
	}
	all := allConstraints(c, list.Type().Elem())
	if len(all) == 0 {
		return
	}
	for i := range list.Len() {
		if failed, enum := val.fails(list.Index(i), c); failed {
			report(vs, violation{value: echo(list, c), path: path, constraint: "Member must satisfy constraint: [" + strings.Join(all, ", ") + "]", enum: enum, index: i + 1})
			return
		}
	}
}

// entries checks the keys and the values of a map against their
// constraints and enumerations. AWS refuses the map at its path, once for
// its keys and once for its values, keys first:
//
//	Value '{de onde?=$.detail.sourceIPAddress}' at
//	'targets.1.member.inputTransformer.inputPathsMap' failed to satisfy
//	constraint: Map keys must satisfy constraint: [Member must have length
//	less than or equal to 256, Member must have length greater than or
//	equal to 1, Member must satisfy regular expression pattern: [A-Za-z0-9\_\-]+]
//
// (EventBridge's, as a user recorded it) and "Map value must satisfy
// constraint: [...]" for the values
// (https://github.com/hashicorp/terraform-provider-aws/issues/41023).
func (val validator) entries(m reflect.Value, path string, kc, vc constraint, vs *[]violation) {
	for _, side := range []struct {
		c     constraint
		t     reflect.Type
		words string
		of    func(*reflect.MapIter) reflect.Value
	}{
		{kc, m.Type().Key(), "Map keys must satisfy constraint: [", (*reflect.MapIter).Key},
		{vc, m.Type().Elem(), "Map value must satisfy constraint: [", (*reflect.MapIter).Value},
	} {
		all := allConstraints(side.c, side.t)
		if len(all) == 0 {
			continue
		}
		for it := m.MapRange(); it.Next(); {
			if failed, _ := val.fails(side.of(it), side.c); failed {
				var value *string
				if !kc.sensitive && !vc.sensitive {
					shown := javaString(m)
					value = &shown
				}
				report(vs, violation{value: value, path: path, constraint: side.words + strings.Join(all, ", ") + "]"})
				break
			}
		}
	}
}

// echo is a member's value as AWS echoes it in a refusal: a string as it
// is, an integer as an integer, a double as Java prints it, a list or map
// as Java prints it; nil for a secret or a blob, never echoed.
func echo(v reflect.Value, c constraint) *string {
	for v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if c.sensitive || v.Type() == reflect.TypeFor[[]byte]() {
		return nil
	}
	shown := javaString(v)
	return &shown
}

// javaDouble is a double as Java's Double.toString prints it: 1.0, 0.5,
// 1.0E10.
func javaDouble(f float64) string {
	if a := math.Abs(f); a != 0 && (a < 1e-3 || a >= 1e7) {
		s := strconv.FormatFloat(f, 'E', -1, 64)
		mant, exp, _ := strings.Cut(s, "E")
		if !strings.Contains(mant, ".") {
			mant += ".0"
		}
		sign, digits := "", strings.TrimPrefix(exp, "+")
		if rest, ok := strings.CutPrefix(digits, "-"); ok {
			sign, digits = "-", rest
		}
		return mant + "E" + sign + strings.TrimLeft(digits, "0")
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
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
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float32, reflect.Float64:
		return javaDouble(v.Float())
	case reflect.String:
		return v.String()
	}
	return fmt.Sprint(v.Interface())
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
