package ssm

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// The keys a ParameterStringFilter may have, and which of them each
// operation takes: DescribeParameters all but Label, GetParametersByPath
// only Type, KeyId, Label and tags.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ParameterStringFilter.html
var (
	describeKeys = []string{"Path", "Name", "Type", "KeyId", "Tier", "DataType"}
	byPathKeys   = []string{"Type", "KeyId", "Label"}
)

// checkFilters validates ParameterFilters for an operation that takes the
// keys allowed (tag:<key> is always allowed).
func checkFilters(filters []types.ParameterStringFilter, allowed []string) error {
	seen := map[string]bool{}
	for _, f := range filters {
		key := aws.ToString(f.Key)
		if key == "" || len(key) > 132 {
			return errValidation("1 validation error detected: Value '%s' at 'parameterFilters.member.key' failed to satisfy constraint: Member must have length less than or equal to 132 and greater than or equal to 1", key)
		}
		tag := strings.HasPrefix(key, "tag:") && len(key) > len("tag:")
		if !tag && !slices.Contains(allowed, key) {
			return errFilterKey(key, allowed)
		}
		if seen[key] {
			return errFilterDuplicated(key)
		}
		seen[key] = true
		if !tag && len(f.Values) == 0 {
			return errFilterValuesMissing(key)
		}
		if len(f.Values) > 50 {
			return errValidation("1 validation error detected: Value at 'parameterFilters.member.values' failed to satisfy constraint: Member must have length less than or equal to 50")
		}
		option := filterOption(f)
		if options := filterOptions(key); !slices.Contains(options, option) {
			return errFilterOption(option, options)
		}
		for _, v := range f.Values {
			if err := checkFilterValue(key, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// filterOption is a filter's option, or its key's default.
func filterOption(f types.ParameterStringFilter) string {
	if f.Option != nil {
		return *f.Option
	}
	if aws.ToString(f.Key) == "Path" {
		return "OneLevel"
	}
	return "Equals"
}

// filterOptions are the options a filter key takes.
func filterOptions(key string) []string {
	switch key {
	case "Path":
		return []string{"Recursive", "OneLevel"}
	case "Name":
		return []string{"BeginsWith", "Equals", "Contains"}
	case "Type", "Tier", "DataType", "Label":
		return []string{"Equals"}
	}
	return []string{"Equals", "BeginsWith"} // KeyId, tag:<key>
}

func checkFilterValue(key, v string) error {
	if v == "" || len(v) > 1024 {
		return errValidation("1 validation error detected: Value at 'parameterFilters.member.values' failed to satisfy constraint: Member must have length less than or equal to 1024 and greater than or equal to 1")
	}
	valid := func(all ...string) error {
		if slices.Contains(all, v) {
			return nil
		}
		return errFilterValue(v, all)
	}
	switch key {
	case "Type":
		return valid("String", "StringList", "SecureString")
	case "Tier":
		return valid("Standard", "Advanced", "Intelligent-Tiering")
	case "DataType":
		return valid(dataTypeText, dataTypeImage, dataTypeWebhook)
	case "Path":
		if lower := strings.ToLower(v); strings.HasPrefix(lower, "/aws") || strings.HasPrefix(lower, "/ssm") {
			return errValidation(`Filters for common parameters can't be prefixed with "aws" or "ssm" (case-insensitive). When using global parameters, please specify within a global namespace.`)
		}
		return checkPath(v)
	}
	return nil
}

// matches reports whether version v of p passes every filter.
func matches(p *parameter, v *version, filters []types.ParameterStringFilter) bool {
	for _, f := range filters {
		if !matchesOne(p, v, f) {
			return false
		}
	}
	return true
}

func matchesOne(p *parameter, v *version, f types.ParameterStringFilter) bool {
	key, option := aws.ToString(f.Key), filterOption(f)
	var have []string
	switch {
	case key == "Path":
		return slices.ContainsFunc(f.Values, func(path string) bool { return underPath(p.Name, path, option == "Recursive") })
	case key == "Name":
		have = []string{p.Name}
		if !strings.HasPrefix(p.Name, "/") {
			have = append(have, "/"+p.Name) // Name filters see plain as /plain too
		}
	case key == "Type":
		have = []string{string(v.Type)}
	case key == "KeyId":
		have = []string{v.KeyID}
	case key == "Tier":
		have = []string{string(v.Tier)}
	case key == "DataType":
		have = []string{v.DataType}
	case key == "Label":
		have = v.Labels
	case strings.HasPrefix(key, "tag:"):
		i := slices.IndexFunc(p.Tags, func(t types.Tag) bool { return aws.ToString(t.Key) == key[len("tag:"):] })
		if i < 0 {
			return false
		}
		if len(f.Values) == 0 {
			return true
		}
		have = []string{aws.ToString(p.Tags[i].Value)}
	}
	return slices.ContainsFunc(have, func(h string) bool {
		return slices.ContainsFunc(f.Values, func(want string) bool {
			switch option {
			case "BeginsWith":
				return strings.HasPrefix(h, want)
			case "Contains":
				return strings.Contains(h, want)
			}
			return h == want
		})
	})
}

// legacyFilters turns DescribeParameters' older Filters into
// ParameterFilters: Name there matches names that begin with a value.
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ParametersFilter.html
func legacyFilters(filters []types.ParametersFilter) ([]types.ParameterStringFilter, error) {
	var out []types.ParameterStringFilter
	for _, f := range filters {
		option := "Equals"
		switch f.Key {
		case types.ParametersFilterKeyName:
			option = "BeginsWith"
		case types.ParametersFilterKeyType, types.ParametersFilterKeyKeyId:
		default:
			return nil, errValidation("1 validation error detected: Value '%s' at 'filters.member.key' failed to satisfy constraint: Member must satisfy enum value set: [Name, Type, KeyId]", f.Key)
		}
		if len(f.Values) == 0 {
			return nil, errFilterValuesMissing(string(f.Key))
		}
		out = append(out, types.ParameterStringFilter{Key: aws.String(string(f.Key)), Option: aws.String(option), Values: f.Values})
	}
	return out, nil
}

// checkPath validates a hierarchy path as a Path filter or
// GetParametersByPath takes it.
func checkPath(path string) error {
	bad := !strings.HasPrefix(path, "/") || strings.Contains(path, "//")
	for _, c := range path {
		bad = bad || !nameChar(c)
	}
	if bad {
		return errValidation(`The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash "/". It can't be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.`)
	}
	if levels(strings.TrimSuffix(path, "/")) > maxHierarchy {
		return errHierarchy()
	}
	return nil
}
