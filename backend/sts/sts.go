// Package sts is the AWS Security Token Service as callers of berth use it:
// who the caller is, and temporary credentials (for a role, or for the
// caller's own session) that berth then accepts on every API, scoped to
// their account.
// https://docs.aws.amazon.com/STS/latest/APIReference/welcome.html
//
// Every exported method but Lookup is one STS operation with the SDK
// client's signature minus its options.
package sts

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	stsapi "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// Backend serves the STS API from the store.
type Backend struct {
	store *sqlite.Store
	env   backend.Env
}

// New returns an STS backend over store.
func New(store *sqlite.Store, env backend.Env) *Backend {
	return &Backend{store: store, env: env}
}

// kindSession holds temporary credentials by access key id, outside any
// scope: the key alone says whose they are.
const kindSession = "sts/session"

// session is one set of temporary credentials and the identity they carry.
type session struct {
	Credentials types.Credentials
	Account     string
	Arn, UserId string
}

// temporaryPrefix starts every temporary access key id, as in AWS.
const temporaryPrefix = "ASIA"

var sessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

func errValidation(format string, args ...any) error {
	return awsproto.ClientError("ValidationError", format, args...)
}

// Lookup returns the account, secret key and session token of temporary
// credentials berth issued and that have not expired.
func (b *Backend) Lookup(ctx context.Context, accessKey string) (account, secret, token string, ok bool, err error) {
	s, err := b.session(ctx, accessKey)
	if err != nil || s == nil || !b.env.Clock().Before(*s.Credentials.Expiration) {
		return "", "", "", false, err
	}
	return s.Account, aws.ToString(s.Credentials.SecretAccessKey), aws.ToString(s.Credentials.SessionToken), true, nil
}

// GetCallerIdentity says who signed the request: the role session of
// temporary credentials, or else the account's root.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
func (b *Backend) GetCallerIdentity(ctx context.Context, _ *stsapi.GetCallerIdentityInput) (*stsapi.GetCallerIdentityOutput, error) {
	s := backend.ScopeFrom(ctx)
	out := &stsapi.GetCallerIdentityOutput{Account: aws.String(s.Account), Arn: aws.String("arn:aws:iam::" + s.Account + ":root"), UserId: aws.String(s.Account)}
	caller, err := b.session(ctx, backend.CallerFrom(ctx))
	if err != nil || caller == nil {
		return out, err
	}
	out.Account, out.Arn, out.UserId = aws.String(caller.Account), aws.String(caller.Arn), aws.String(caller.UserId)
	return out, nil
}

// session returns the temporary credentials of accessKey, or nil.
func (b *Backend) session(ctx context.Context, accessKey string) (*session, error) {
	if !strings.HasPrefix(accessKey, temporaryPrefix) {
		return nil, nil
	}
	var s session
	err := b.store.View(ctx, func(tx *sqlite.Tx) error { return tx.Get(sqlite.Key{Kind: kindSession, ID: accessKey}, &s) })
	if errors.Is(err, sqlite.ErrNotFound) {
		return nil, nil
	}
	return &s, err
}

// AssumeRole returns temporary credentials for a role session in the
// role's account. berth does not evaluate trust policies: every caller may
// assume every role.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
func (b *Backend) AssumeRole(ctx context.Context, in *stsapi.AssumeRoleInput) (*stsapi.AssumeRoleOutput, error) {
	arn, name := aws.ToString(in.RoleArn), aws.ToString(in.RoleSessionName)
	if len(arn) < 20 || len(arn) > 2048 {
		return nil, errValidation("1 validation error detected: Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", arn)
	}
	if !sessionName.MatchString(name) {
		return nil, errValidation("1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", name)
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return nil, errValidation("%s is invalid", arn)
	}
	duration, err := lifetime(in.DurationSeconds, 3600, 43200)
	if err != nil {
		return nil, err
	}
	role := parts[5][strings.LastIndex(parts[5], "/")+1:]
	id := "AROA" + strings.ToUpper(b.env.IDs.Hex(17))
	s, err := b.issue(ctx, session{
		Account: parts[4],
		Arn:     "arn:aws:sts::" + parts[4] + ":assumed-role/" + role + "/" + name,
		UserId:  id + ":" + name,
	}, duration)
	if err != nil {
		return nil, err
	}
	return &stsapi.AssumeRoleOutput{
		Credentials:      &s.Credentials,
		AssumedRoleUser:  &types.AssumedRoleUser{Arn: aws.String(s.Arn), AssumedRoleId: aws.String(s.UserId)},
		PackedPolicySize: aws.Int32(0), SourceIdentity: in.SourceIdentity,
	}, nil
}

// GetSessionToken returns temporary credentials for the caller itself.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
func (b *Backend) GetSessionToken(ctx context.Context, in *stsapi.GetSessionTokenInput) (*stsapi.GetSessionTokenOutput, error) {
	duration, err := lifetime(in.DurationSeconds, 43200, 129600)
	if err != nil {
		return nil, err
	}
	me, err := b.GetCallerIdentity(ctx, nil)
	if err != nil {
		return nil, err
	}
	s, err := b.issue(ctx, session{Account: *me.Account, Arn: *me.Arn, UserId: *me.UserId}, duration)
	if err != nil {
		return nil, err
	}
	return &stsapi.GetSessionTokenOutput{Credentials: &s.Credentials}, nil
}

// lifetime validates DurationSeconds: at least 15 minutes, at most max.
func lifetime(seconds *int32, def, max int32) (time.Duration, error) {
	n := def
	if seconds != nil {
		n = *seconds
	}
	if n < 900 || n > max {
		return 0, errValidation("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and %d", n, max)
	}
	return time.Duration(n) * time.Second, nil
}

// issue stores new temporary credentials for the session's identity.
func (b *Backend) issue(ctx context.Context, s session, d time.Duration) (session, error) {
	expires := b.env.Clock().UTC().Add(d).Truncate(time.Second)
	s.Credentials = types.Credentials{
		AccessKeyId:     aws.String(temporaryPrefix + strings.ToUpper(b.env.IDs.Hex(16))),
		SecretAccessKey: aws.String(b.env.IDs.Hex(40)),
		SessionToken:    aws.String("FwoGZXIvYXdzE" + b.env.IDs.Hex(64)),
		Expiration:      &expires,
	}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		return tx.Put(sqlite.Row{Key: sqlite.Key{Kind: kindSession, ID: *s.Credentials.AccessKeyId}}, s)
	})
	return s, err
}
