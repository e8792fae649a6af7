package server

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"berth/awsproto"
)

// enumFault is how a service refuses a member whose value is not one of
// its enumeration's: the value, the member's path in the request and the
// values allowed. It returns nil for a member the service answers for
// itself.
type enumFault func(value, path string, allowed []string) error

// coralEnumFault is the input validation error of the services AWS fronts
// with its common request validation, under the service's own code:
//
//	1 validation error detected: Value 'SOMETHING' at 'launchType' failed to
//	satisfy constraint: Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL]
//
// as the ECS and ELBv2 references' common errors and users' reports show
// it (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonErrors.html).
func coralEnumFault(code string) enumFault {
	return func(value, path string, allowed []string) error {
		return awsproto.ClientError(code, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
			value, path, strings.Join(allowed, ", "))
	}
}

// queryEnumFault is CloudWatch's refusal of a value outside an
// enumeration, with the member named as in the query protocol, as a field
// report shows it
// (https://github.com/awslabs/collectd-cloudwatch/pull/46):
//
//	The parameter MetricData.member.1.Unit must be a value in the set [ Seconds, ..., None ].
func queryEnumFault(code string) enumFault {
	return func(value, path string, allowed []string) error {
		return awsproto.ClientError(code, "The parameter %s must be a value in the set [ %s ].", queryPath(path), strings.Join(allowed, ", "))
	}
}

// queryPath turns a member path as walkEnums writes it
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
func except(fault enumFault, paths ...string) enumFault {
	return func(value, path string, allowed []string) error {
		if slices.Contains(paths, path) {
			return nil
		}
		return fault(value, path, allowed)
	}
}

// checkEnums finds the first member of the decoded input v (a pointer to
// an SDK input struct) whose value is not one its enumeration allows: the
// SDK's enum types list their values with Values(), so the sets are the
// SDK's, never typed by hand. Unset (empty) members pass.
func checkEnums(v reflect.Value, fault enumFault) error {
	if fault == nil {
		return nil
	}
	return walkEnums(v, "", fault)
}

func walkEnums(v reflect.Value, path string, fault enumFault) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return walkEnums(v.Elem(), path, fault)
	case reflect.Struct:
		if awsproto.IsTime(v.Type()) {
			return nil
		}
		for _, f := range awsproto.Fields(v.Type()) {
			if err := walkEnums(v.Field(f.Index), join(path, f.JSONName()), fault); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // a blob
		}
		for i := range v.Len() {
			if err := walkEnums(v.Index(i), fmt.Sprintf("%s.%d.member", path, i+1), fault); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := walkEnums(it.Value(), path, fault); err != nil {
				return err
			}
		}
	case reflect.String:
		if v.Len() == 0 {
			return nil
		}
		values := v.MethodByName("Values")
		if !values.IsValid() || values.Type().NumIn() != 0 || values.Type().NumOut() != 1 {
			return nil
		}
		allowed := values.Call(nil)[0]
		names := make([]string, allowed.Len())
		for i := range allowed.Len() {
			if names[i] = allowed.Index(i).String(); names[i] == v.String() {
				return nil
			}
		}
		if len(names) == 0 {
			return nil
		}
		if err := fault(v.String(), path, names); err != nil {
			return err
		}
	}
	return nil
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
