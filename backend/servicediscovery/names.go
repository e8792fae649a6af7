package servicediscovery

import (
	"regexp"
	"strings"
)

// The model's name patterns that Go's regexp cannot express (they
// use lookahead), which the server's generic validation therefore leaves
// to the backend, checked here as the model writes them.
// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateService.html
// https://docs.aws.amazon.com/cloud-map/latest/api/API_CreateHttpNamespace.html
const (
	serviceNamePattern    = `((?=^.{1,127}$)^([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])(\.([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*$)|(^\.$)`
	httpNamePattern       = `^(?!arn:)[!-~]{1,1024}$`
	privateDNSNamePattern = `^(?!arn:)[!-~]{1,253}$`
)

// serviceLabel is one dot-separated label of a service name, as
// serviceNamePattern has it without its length lookahead.
var serviceLabel = regexp.MustCompile(`^([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])$`)

// validServiceName checks a service name against serviceNamePattern: "."
// or 1 to 127 characters of dot-separated labels.
func validServiceName(member, name string) error {
	if name == "." {
		return nil
	}
	ok := len(name) >= 1 && len(name) <= 127
	for label := range strings.SplitSeq(name, ".") {
		ok = ok && serviceLabel.MatchString(label)
	}
	if !ok {
		return patternError(member, name, serviceNamePattern)
	}
	return nil
}

// validNamespaceName checks the name of an HTTP or private DNS namespace:
// printable ASCII, not an ARN, and no longer than the pattern's bound
// (the model's patterns; the generic validation checks the length of a
// request's name too, but not of the calls ECS makes for Service Connect).
func validNamespaceName(member, name, pattern string) error {
	limit := 1024
	if pattern == privateDNSNamePattern {
		limit = 253
	}
	if name == "" || len(name) > limit || strings.HasPrefix(name, "arn:") || strings.ContainsFunc(name, func(r rune) bool { return r < '!' || r > '~' }) {
		return patternError(member, name, pattern)
	}
	return nil
}

// patternError is the refusal of a value failing a pattern, in the words
// of AWS's common validation, under Cloud Map's InvalidInput.
func patternError(member, value, pattern string) error {
	return errInvalid("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", value, member, pattern)
}

// errNull is the refusal of a required member a request left out, in the
// words of AWS's common validation ("1 validation error detected: Value
// null at 'id' failed to satisfy constraint: Member must not be null",
// https://github.com/aws/aws-sdk-java/issues/1973). The SDKs check
// required members before sending; this answers the clients that don't.
func errNull(member string) error {
	return errInvalid("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}
