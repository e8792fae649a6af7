// Package iam is the part of AWS Identity and Access Management that ECS
// stacks use: roles with their trust policies, inline role policies,
// managed policies (the account's and the AWS managed ones ECS needs),
// their attachments, and instance profiles. Policies are stored and
// returned, never enforced. IAM is global: its resources belong to an
// account, in no region.
// https://docs.aws.amazon.com/IAM/latest/APIReference/welcome.html
//
// Every exported method is one IAM action with the SDK client's signature
// minus its options.
package iam

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	stsapi "github.com/aws/aws-sdk-go-v2/service/sts"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// Backend serves the IAM API from the store.
type Backend struct {
	store  *sqlite.Store
	env    backend.Env
	caller Caller
}

// Caller tells who signed a request, as STS GetCallerIdentity does.
type Caller interface {
	GetCallerIdentity(ctx context.Context, in *stsapi.GetCallerIdentityInput) (*stsapi.GetCallerIdentityOutput, error)
}

// New returns an IAM backend over store; caller answers GetUser's
// question of who calls.
func New(store *sqlite.Store, env backend.Env, caller Caller) *Backend {
	return &Backend{store: store, env: env, caller: caller}
}

// Stored resource kinds, in the account's scope with no region.
const (
	kindRole            = "iam/role"             // by lower-case name
	kindRolePolicy      = "iam/role-policy"      // by role/policy name, under the role
	kindPolicy          = "iam/policy"           // by ARN
	kindAttachment      = "iam/attachment"       // by role and policy ARN, under the role, named by the policy ARN
	kindInstanceProfile = "iam/instance-profile" // by lower-case name
)

// account is the scope of the request's account: IAM has no region.
func account(ctx context.Context) backend.Scope {
	return backend.Scope{Account: backend.ScopeFrom(ctx).Account}
}

func arn(s backend.Scope, resource string) string {
	return "arn:aws:iam::" + s.Account + ":" + resource
}

// errNoSuchEntity, errExists and errConflict carry IAM's HTTP statuses.
func errNoSuchEntity(format string, args ...any) error {
	e := awsproto.Modeled(&types.NoSuchEntityException{}, format, args...)
	e.Status = http.StatusNotFound
	return e
}

func errExists(format string, args ...any) error {
	e := awsproto.Modeled(&types.EntityAlreadyExistsException{}, format, args...)
	e.Status = http.StatusConflict
	return e
}

func errConflict(format string, args ...any) error {
	e := awsproto.Modeled(&types.DeleteConflictException{}, format, args...)
	e.Status = http.StatusConflict
	return e
}

func errLimit(format string, args ...any) error {
	e := awsproto.Modeled(&types.LimitExceededException{}, format, args...)
	e.Status = http.StatusConflict
	return e
}

func errValidation(format string, args ...any) error {
	return awsproto.ClientError("ValidationError", format, args...)
}

func errInvalidInput(format string, args ...any) error {
	return awsproto.Modeled(&types.InvalidInputException{}, format, args...)
}

// checkTags refuses tags that give one key twice. IAM's tag keys are case
// insensitive ("you cannot have separate Department and department tag
// keys": https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html),
// and IAM answers in these words, as tests run against it record them
// (https://github.com/getmoto/moto/blob/master/tests/test_iam/test_iam.py,
// tag_role with the keys '0' and '0', and with 'a' and 'A').
func checkTags(tags []types.Tag) error {
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		key := strings.ToLower(aws.ToString(t.Key))
		if seen[key] {
			return errInvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[key] = true
	}
	return nil
}

var (
	namePattern = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathPattern = regexp.MustCompile(`^(/|/[\x21-\x7e]*/)$`)
)

func validName(field, name string, max int) error {
	if len(name) > max || !namePattern.MatchString(name) {
		return errValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", name, field)
	}
	return nil
}

func validPath(path *string) (string, error) {
	if path == nil {
		return "/", nil
	}
	if len(*path) > 512 || !pathPattern.MatchString(*path) {
		return "", errValidation("1 validation error detected: Value '%s' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F)", *path)
	}
	return *path, nil
}

// validDocument checks that a policy document is a JSON object.
func validDocument(doc *string) (string, error) {
	var v map[string]any
	if doc == nil || json.Unmarshal([]byte(*doc), &v) != nil {
		return "", awsproto.Modeled(&types.MalformedPolicyDocumentException{}, "This policy contains invalid Json")
	}
	return *doc, nil
}

// encodeDocument is how IAM returns policy documents: URL-encoded, as
// RFC 3986 says (a space is %20), which the SDKs and Terraform decode.
func encodeDocument(doc string) *string {
	return aws.String(strings.ReplaceAll(url.QueryEscape(doc), "+", "%20"))
}

// uniqueID is an IAM unique id: a 4-letter prefix by kind and 17 more
// upper-case letters and digits.
func (b *Backend) uniqueID(prefix string) string {
	return prefix + strings.ToUpper(b.env.IDs.Hex(17))
}

func (b *Backend) now() *time.Time {
	t := b.env.Clock().UTC().Truncate(time.Second)
	return &t
}

func isNotFound(err error) bool { return errors.Is(err, sqlite.ErrNotFound) }

// page pages items ordered by a unique key with IAM's Marker and
// MaxItems.
func page[T any](all []T, key func(T) string, marker *string, maxItems *int32) ([]T, *string, bool, error) {
	if maxItems != nil && (*maxItems < 1 || *maxItems > 1000) {
		return nil, nil, false, errValidation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", *maxItems)
	}
	items, next, err := backend.PageOf(all, key, marker, maxItems, 100)
	if err != nil {
		return nil, nil, false, errInvalidInput("Invalid Marker.")
	}
	return items, next, next != nil, nil
}
