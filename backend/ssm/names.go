package ssm

import (
	"strconv"
	"strings"

	"berth/backend"
)

// Name rules of Parameter Store.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html#sysman-parameter-name-constraints
const (
	// maxArnLength is what a name may use of the 2048 characters the API
	// allows, counting the ARN before it: arn:aws:ssm:<region>:<account>:parameter/.
	maxArnLength = 1011
	maxHierarchy = 15 // levels of a hierarchical name
)

// validName reports whether name satisfies Parameter Store's naming rules
// for a parameter to create in scope s, as PutParameter checks them.
func validName(s backend.Scope, name string) error {
	if name == "" {
		return errValidation("1 validation error detected: Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(name) > 2048 {
		return errValidation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must have length less than or equal to 2048", name)
	}
	if arn := parameterArn(s, name); len(arn) > maxArnLength {
		return errValidation("Parameter name: can't be longer than %d characters, including the %d of its ARN before the name (%s).", maxArnLength, len(arn)-len(name), arn[:len(arn)-len(name)])
	}
	lower := strings.ToLower(strings.TrimPrefix(name, "/"))
	path := strings.Contains(name, "/")
	if strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") {
		if strings.HasPrefix(strings.ToLower(name), "/aws") && strings.Count(name, "/") > 1 {
			return errReserved(name)
		}
		if !path {
			return errValidation(`Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`)
		}
		return errNameChars()
	}
	if path && !strings.HasPrefix(name, "/") {
		return errValidation("Parameter name must be a fully qualified name.")
	}
	for _, c := range name {
		if !nameChar(c) {
			return errNameChars()
		}
	}
	if path && (strings.Contains(name, "//") || strings.HasSuffix(name, "/")) {
		return errNameChars()
	}
	if levels(name) > maxHierarchy {
		return errHierarchy()
	}
	return nil
}

func errNameChars() error {
	return errValidation(`Parameter name: can't be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`)
}

// nameChar reports whether c may appear in a parameter name.
func nameChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_.-/", c)
}

// levels is how many levels a name's hierarchy has: /a/b has two, plain one.
func levels(name string) int {
	return len(strings.Split(strings.TrimPrefix(name, "/"), "/"))
}

// selector is a parameter reference split into its parts: a name (an ARN
// already resolved to its name) and an optional version or label.
type selector struct {
	Name    string
	Version int64  // 0 for none
	Label   string // "" for none
	Scope   backend.Scope
	// ARN is set when the reference was an ARN: parameter/x is the ARN
	// of both x and /x.
	ARN bool
}

// parseSelector splits a reference, name[:version|:label] or an ARN of a
// parameter with the same suffix, into a selector in scope s. An ARN's own
// region wins over s. An ARN of another account names nothing: another
// account's parameter is readable only once shared through AWS RAM, which
// berth does not serve; the public parameters' ARNs have no account.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-versions.html
// https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-shared-parameters.html
func parseSelector(ref string, s backend.Scope) (selector, bool) {
	sel := selector{Name: ref, Scope: s}
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) != 6 || parts[2] != "ssm" || !strings.HasPrefix(parts[5], "parameter/") {
			return sel, false
		}
		if parts[4] != s.Account && parts[4] != "" {
			return sel, false
		}
		sel.Scope, sel.ARN = backend.Scope{Account: parts[4], Region: parts[3]}, true
		sel.Name = arnName(strings.TrimPrefix(parts[5], "parameter"))
	}
	name, suffix, ok := strings.Cut(sel.Name, ":")
	if !ok {
		return sel, sel.Name != ""
	}
	sel.Name = name
	if v, err := strconv.ParseInt(suffix, 10, 64); err == nil {
		sel.Version = v
		return sel, v > 0 && name != ""
	}
	sel.Label = suffix
	return sel, suffix != "" && name != "" && !strings.Contains(suffix, ":")
}

// arnName is the parameter name in the resource part of an ARN after
// "parameter": the ARN of /a/b ends parameter/a/b and that of plain ends
// parameter/plain, so a path of one level keeps no slash and a deeper one
// keeps its own.
func arnName(rest string) string {
	rest = strings.TrimPrefix(rest, "/")
	if strings.Contains(strings.SplitN(rest, ":", 2)[0], "/") {
		return "/" + rest
	}
	return rest
}

// parameterArn is the ARN of a parameter of scope s.
func parameterArn(s backend.Scope, name string) string {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	return "arn:aws:ssm:" + s.Region + ":" + s.Account + ":parameter" + name
}

// validLabel reports whether label may be attached to a parameter
// version: at most 100 letters, digits, periods, hyphens and underscores,
// not starting with a digit, aws or ssm.
// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-labels.html
func validLabel(label string) bool {
	if label == "" || len(label) > 100 || label[0] >= '0' && label[0] <= '9' {
		return false
	}
	lower := strings.ToLower(label)
	if strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") {
		return false
	}
	for _, c := range label {
		if !nameChar(c) || c == '/' {
			return false
		}
	}
	return true
}

// underPath reports whether name lies under path: as a direct child, or at
// any depth when recursive. A name without a leading slash sits at the
// root.
func underPath(name, path string, recursive bool) bool {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	prefix := strings.TrimSuffix(path, "/") + "/"
	if !strings.HasPrefix(name, prefix) || len(name) == len(prefix) {
		return false
	}
	return recursive || !strings.Contains(name[len(prefix):], "/")
}
