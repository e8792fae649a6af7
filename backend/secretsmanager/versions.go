package secretsmanager

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"berth/backend"
	"berth/sqlite"
)

// maxValue is the largest SecretString or SecretBinary, in bytes.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
const maxValue = 65536

// addVersion adds to sec a version with the value str or bin under the
// ClientRequestToken token ("" draws one), with stages (AWSCURRENT when
// nil), and returns its id. A token already used answers the same version
// when the value is the same, and ResourceExistsException otherwise.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html#SecretsManager-PutSecretValue-request-ClientRequestToken
//
// sec is stored at k; tx reads the value of a version already there.
func (b *Backend) addVersion(tx *sqlite.Tx, k sqlite.Key, sec *secret, token string, str *string, bin []byte, stages []string, now time.Time) (string, error) {
	if err := validValue(str, bin); err != nil {
		return "", err
	}
	if token == "" {
		token = backend.NewUUID(b.env.IDs)
	} else if len(token) < 32 || len(token) > 64 {
		return "", errInvalidParameter("ClientRequestToken must be between 32 and 64 characters long.")
	}
	if stages == nil {
		stages = []string{stageCurrent}
	}
	if err := validStages(stages); err != nil {
		return "", err
	}
	if i := versionIndex(sec.Versions, token); i >= 0 {
		v := sec.Versions[i]
		if err := loadValue(tx, k, sec.ARN, &v); err != nil {
			return "", err
		}
		if aws.ToString(v.String) == aws.ToString(str) && (v.String == nil) == (str == nil) && bytes.Equal(v.Binary, bin) {
			return token, nil
		}
		return "", errExists("You can't modify an existing version, you can only create a new version.")
	}
	if len(sec.Versions) == 0 && !slices.Contains(stages, stageCurrent) {
		// The first version of a secret is AWSCURRENT, whatever its stages.
		stages = append(slices.Clone(stages), stageCurrent)
	}
	sec.Versions = append(sec.Versions, version{ID: token, String: str, Binary: bin, Created: now, Stages: []string{}})
	for _, l := range stages {
		attach(sec.Versions, l, len(sec.Versions)-1)
	}
	if err := checkLabels(sec.Versions); err != nil {
		return "", err
	}
	if sec.Versions = prune(sec.Versions, now); len(sec.Versions) > maxVersions {
		return "", errLimit("You have exceeded the maximum number of versions of a secret (%d).", maxVersions)
	}
	sec.LastChanged = now
	return token, nil
}

func validValue(str *string, bin []byte) error {
	switch {
	case str != nil && bin != nil:
		return errInvalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.")
	case str == nil && bin == nil:
		return errInvalidParameter("You must provide either SecretString or SecretBinary.")
	case len(aws.ToString(str)) > maxValue || len(bin) > maxValue:
		return errInvalidParameter("The secret value can hold at most %d bytes.", maxValue)
	}
	return nil
}

// validStages checks VersionStages: 1 to 20 labels of 1 to 256 characters.
func validStages(stages []string) error {
	if len(stages) < 1 || len(stages) > 20 {
		return errInvalidParameter("VersionStages must hold between 1 and 20 staging labels.")
	}
	for _, l := range stages {
		if len(l) < 1 || len(l) > 256 {
			return errInvalidParameter("A staging label must be between 1 and 256 characters long.")
		}
	}
	return nil
}

// PutSecretValue adds a version to a secret; it takes AWSCURRENT unless
// VersionStages say otherwise (a first version takes it anyway), and the
// version that had AWSCURRENT gets AWSPREVIOUS.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html
func (b *Backend) PutSecretValue(ctx context.Context, in *sm.PutSecretValueInput) (*sm.PutSecretValueOutput, error) {
	if in.RotationToken != nil {
		return nil, errInvalidParameter("berth does not rotate secrets: RotationToken is not supported.")
	}
	s, now := backend.ScopeFrom(ctx), b.now()
	var out *sm.PutSecretValueOutput
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		sec, k, err := live(tx, s, aws.ToString(in.SecretId), now)
		if err != nil {
			return err
		}
		id, err := b.addVersion(tx, k, &sec, aws.ToString(in.ClientRequestToken), in.SecretString, in.SecretBinary, in.VersionStages, now)
		if err != nil {
			return err
		}
		out = &sm.PutSecretValueOutput{ARN: &sec.ARN, Name: &sec.Name, VersionId: &id,
			VersionStages: slices.Clone(sec.Versions[versionIndex(sec.Versions, id)].Stages)}
		return put(tx, k, sec)
	})
	return out, err
}

// GetSecretValue answers the value of the version that VersionId, else
// VersionStage, else AWSCURRENT picks.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
func (b *Backend) GetSecretValue(ctx context.Context, in *sm.GetSecretValueInput) (*sm.GetSecretValueOutput, error) {
	sec, v, err := b.value(ctx, backend.ScopeFrom(ctx), aws.ToString(in.SecretId), aws.ToString(in.VersionStage), aws.ToString(in.VersionId))
	if err != nil {
		return nil, err
	}
	return &sm.GetSecretValueOutput{ARN: &sec.ARN, Name: &sec.Name, VersionId: &v.ID, SecretString: v.String,
		SecretBinary: v.Binary, VersionStages: v.Stages, CreatedDate: date(v.Created)}, nil
}

// SecretString returns the SecretString of the version of secret id (a
// name, a full ARN or a partial ARN; an ARN's own region wins
// over s) that versionID, else versionStage, else AWSCURRENT picks, in
// scope s; "" for a version that holds a SecretBinary only, which the ECS
// agent injects as an empty variable (its asm package reads a missing
// SecretString as empty). Errors: ResourceNotFoundException (no such
// secret, version or stage), InvalidRequestException (scheduled for
// deletion). SDK types.
//
// It is one store read, and a write at most once a day per secret to
// record LastAccessedDate.
func (b *Backend) SecretString(ctx context.Context, s backend.Scope, id, versionStage, versionID string) (string, error) {
	_, v, err := b.value(ctx, s, id, versionStage, versionID)
	if err != nil {
		return "", err
	}
	return aws.ToString(v.String), nil
}

// value reads the version of a secret, then records the day it was read.
func (b *Backend) value(ctx context.Context, s backend.Scope, id, stage, versionID string) (secret, version, error) {
	now := b.now()
	var (
		sec secret
		k   sqlite.Key
		v   version
	)
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		if sec, k, err = live(tx, s, id, now); err != nil {
			return err
		}
		i, err := pick(sec.Versions, versionID, stage)
		if err != nil {
			return err
		}
		v = sec.Versions[i]
		return loadValue(tx, k, sec.ARN, &v)
	})
	if err != nil {
		return sec, v, err
	}
	return sec, v, b.touch(ctx, k, sec, now)
}

// touch records that the secret at k was read today: LastAccessedDate is
// a day, so this writes once a day at most.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html#SecretsManager-DescribeSecret-response-LastAccessedDate
func (b *Backend) touch(ctx context.Context, k sqlite.Key, sec secret, now time.Time) error {
	day := now.Truncate(24 * time.Hour)
	if sec.LastAccessed.Equal(day) {
		return nil
	}
	return b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var cur secret
		if err := tx.Get(k, &cur); err != nil || cur.ARN != sec.ARN {
			return nil // deleted meanwhile: nothing to record
		}
		cur.LastAccessed = day
		return put(tx, k, cur)
	})
}

// UpdateSecretVersionStage moves a staging label to MoveToVersionId (from
// RemoveFromVersionId, which must name the version that has it), or
// removes it from RemoveFromVersionId.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecretVersionStage.html
func (b *Backend) UpdateSecretVersionStage(ctx context.Context, in *sm.UpdateSecretVersionStageInput) (*sm.UpdateSecretVersionStageOutput, error) {
	s, now := backend.ScopeFrom(ctx), b.now()
	var out *sm.UpdateSecretVersionStageOutput
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		sec, k, err := live(tx, s, aws.ToString(in.SecretId), now)
		if err != nil {
			return err
		}
		if err := moveStage(sec.Versions, aws.ToString(in.VersionStage), aws.ToString(in.MoveToVersionId), aws.ToString(in.RemoveFromVersionId)); err != nil {
			return err
		}
		if err := checkLabels(sec.Versions); err != nil {
			return err
		}
		sec.LastChanged = now
		out = &sm.UpdateSecretVersionStageOutput{ARN: &sec.ARN, Name: &sec.Name}
		return put(tx, k, sec)
	})
	return out, err
}

// moveStage applies UpdateSecretVersionStage's rules to vs.
func moveStage(vs []version, label, moveTo, removeFrom string) error {
	if err := validStages([]string{label}); err != nil {
		return err
	}
	from := holder(vs, label)
	if removeFrom != "" {
		i := versionIndex(vs, removeFrom)
		if i < 0 {
			return errNoVersion(removeFrom)
		}
		if i != from {
			return errInvalidParameter("The staging label %s is not attached to version %s.", label, removeFrom)
		}
	}
	if moveTo == "" {
		if removeFrom == "" {
			return errInvalidParameter("You must specify MoveToVersionId, RemoveFromVersionId, or both.")
		}
		if label == stageCurrent {
			return errInvalidParameter("You can only move staging label %s to a different secret version. It can't be completely removed.", stageCurrent)
		}
		detach(vs, label, from)
		return nil
	}
	to := versionIndex(vs, moveTo)
	if to < 0 {
		return errNoVersion(moveTo)
	}
	if from >= 0 && from != to && removeFrom == "" {
		return errInvalidParameter("The staging label %s is currently attached to version %s. To move it, specify that version in RemoveFromVersionId.", label, vs[from].ID)
	}
	attach(vs, label, to)
	return nil
}

// ListSecretVersionIds lists a secret's versions, newest first; deprecated
// ones (without labels) only with IncludeDeprecated.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecretVersionIds.html
func (b *Backend) ListSecretVersionIds(ctx context.Context, in *sm.ListSecretVersionIdsInput) (*sm.ListSecretVersionIdsOutput, error) {
	if err := validMaxResults(in.MaxResults, 100); err != nil {
		return nil, err
	}
	sec, err := b.read(ctx, aws.ToString(in.SecretId))
	if err != nil {
		return nil, err
	}
	var all []types.SecretVersionsListEntry
	for i := len(sec.Versions) - 1; i >= 0; i-- {
		v := sec.Versions[i]
		if len(v.Stages) == 0 && !aws.ToBool(in.IncludeDeprecated) {
			continue
		}
		all = append(all, types.SecretVersionsListEntry{VersionId: aws.String(v.ID), VersionStages: v.Stages, CreatedDate: date(v.Created)})
	}
	// Newest first: the page key is the position from the newest.
	order := map[string]string{}
	for i, e := range all {
		order[*e.VersionId] = fmt.Sprintf("%06d", i)
	}
	page, next, err := backend.PageOf(all, func(e types.SecretVersionsListEntry) string { return order[*e.VersionId] }, in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, errInvalidNextToken()
	}
	return &sm.ListSecretVersionIdsOutput{ARN: &sec.ARN, Name: &sec.Name, Versions: backend.OrEmpty(page), NextToken: next}, nil
}
