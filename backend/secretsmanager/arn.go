package secretsmanager

import (
	"encoding/hex"
	"strings"

	"berth/backend"
)

// A secret's ARN is arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>,
// the suffix six random alphanumeric characters that tell a secret from
// an earlier one of the same name. SecretId takes the name, the full ARN,
// or a partial ARN: the ARN without the suffix.
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen

const suffixLen = 6

const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newARN is the ARN of a new secret called name in scope s, its suffix
// drawn from ids.
func newARN(s backend.Scope, name string, ids backend.IDs) string {
	raw, _ := hex.DecodeString(ids.Hex(2 * suffixLen))
	suffix := make([]byte, suffixLen)
	for i := range suffix {
		suffix[i] = alphanumeric[int(raw[i])%len(alphanumeric)]
	}
	return "arn:aws:secretsmanager:" + s.Region + ":" + s.Account + ":secret:" + name + "-" + string(suffix)
}

// candidate is one reading of a SecretId: the secret called name in scope,
// which must have the ARN arn unless it is "".
type candidate struct {
	scope backend.Scope
	name  string
	arn   string
}

// candidates are the readings of SecretId id in scope s, most exact first:
// a name; or for an ARN, in the ARN's scope, the full ARN and then the
// partial ARN (a name that itself ends in a hyphen and six characters
// reads both ways, which is why AWS advises against such names).
func candidates(s backend.Scope, id string) []candidate {
	if !strings.HasPrefix(id, "arn:") {
		return []candidate{{scope: s, name: id}}
	}
	parts := strings.SplitN(id, ":", 7)
	if len(parts) != 7 || parts[2] != "secretsmanager" || parts[5] != "secret" || parts[6] == "" {
		return nil
	}
	scope := backend.Scope{Region: parts[3], Account: parts[4]}
	resource := parts[6]
	var out []candidate
	if name, ok := withoutSuffix(resource); ok {
		out = append(out, candidate{scope: scope, name: name, arn: id})
	}
	return append(out, candidate{scope: scope, name: resource})
}

// withoutSuffix returns resource without a trailing -<6 alphanumerics>.
func withoutSuffix(resource string) (string, bool) {
	i := len(resource) - suffixLen - 1
	if i < 1 || resource[i] != '-' {
		return "", false
	}
	for _, c := range resource[i+1:] {
		if !strings.ContainsRune(alphanumeric, c) {
			return "", false
		}
	}
	return resource[:i], true
}

// validName checks a secret name: 1 to 512 of ASCII letters, digits and
// /_+=.@- .
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html#SecretsManager-CreateSecret-request-Name
func validName(name string) error {
	ok := len(name) >= 1 && len(name) <= 512
	for _, c := range name {
		if !strings.ContainsRune(alphanumeric+"/_+=.@-", c) {
			ok = false
		}
	}
	if !ok {
		return errValidation("Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	return nil
}
