package secretsmanager

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"berth/backend"
	"berth/sqlite"
)

// CreateSecret creates a secret, with a first version (AWSCURRENT) when it
// has a value. Asked again with the same ClientRequestToken and value, it
// answers the same.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
func (b *Backend) CreateSecret(ctx context.Context, in *sm.CreateSecretInput) (*sm.CreateSecretOutput, error) {
	s, now := backend.ScopeFrom(ctx), b.now()
	name := aws.ToString(in.Name)
	if err := validName(name); err != nil {
		return nil, err
	}
	if len(in.AddReplicaRegions) > 0 {
		return nil, errInvalidRequest("berth does not replicate secrets: AddReplicaRegions is not supported.")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	if err := validDescription(in.Description); err != nil {
		return nil, err
	}
	hasValue := in.SecretString != nil || in.SecretBinary != nil
	var out *sm.CreateSecretOutput
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		k := s.Key(kindSecret, name)
		var old secret
		err := tx.Get(k, &old)
		switch {
		case errors.Is(err, sqlite.ErrNotFound):
		case err == nil && old.gone(now):
			if err := drop(tx, k, old.ARN); err != nil {
				return err
			}
		case err != nil:
			return err
		case old.scheduled():
			return errInvalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.")
		default:
			if token := aws.ToString(in.ClientRequestToken); hasValue && token != "" {
				if i := versionIndex(old.Versions, token); i >= 0 {
					// The same request again: the same answer, or a conflict.
					if _, err := b.addVersion(tx, k, &old, token, in.SecretString, in.SecretBinary, nil, now); err != nil {
						return err
					}
					out = &sm.CreateSecretOutput{ARN: &old.ARN, Name: &old.Name, VersionId: &token}
					return nil
				}
			}
			return errExists("The operation failed because the secret %s already exists.", name)
		}
		sec := secret{ARN: newARN(s, name, b.env.IDs), Name: name, Description: aws.ToString(in.Description),
			KmsKeyID: aws.ToString(in.KmsKeyId), Tags: in.Tags, Created: now, LastChanged: now}
		out = &sm.CreateSecretOutput{ARN: &sec.ARN, Name: &sec.Name}
		if hasValue {
			id, err := b.addVersion(tx, k, &sec, aws.ToString(in.ClientRequestToken), in.SecretString, in.SecretBinary, nil, now)
			if err != nil {
				return err
			}
			out.VersionId = &id
		}
		return put(tx, k, sec)
	})
	return out, err
}

func validDescription(d *string) error {
	if len(aws.ToString(d)) > 2048 {
		return errInvalidParameter("The description can hold at most 2048 characters.")
	}
	return nil
}

// read finds a secret, scheduled for deletion or not, in a transaction of
// its own.
func (b *Backend) read(ctx context.Context, id string) (sec secret, err error) {
	s, now := backend.ScopeFrom(ctx), b.now()
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		sec, _, err = find(tx, s, id, now)
		return err
	})
	return sec, err
}

// change applies fn to the secret id names, which must not be scheduled
// for deletion, and stores it.
func (b *Backend) change(ctx context.Context, id string, fn func(sec *secret, now time.Time) error) (secret, error) {
	s, now := backend.ScopeFrom(ctx), b.now()
	var sec secret
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var k sqlite.Key
		var err error
		if sec, k, err = live(tx, s, id, now); err != nil {
			return err
		}
		if err := fn(&sec, now); err != nil {
			return err
		}
		return put(tx, k, sec)
	})
	return sec, err
}

// DescribeSecret answers a secret's details, also while it is scheduled
// for deletion.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html
func (b *Backend) DescribeSecret(ctx context.Context, in *sm.DescribeSecretInput) (*sm.DescribeSecretOutput, error) {
	sec, err := b.read(ctx, aws.ToString(in.SecretId))
	if err != nil {
		return nil, err
	}
	e := sec.entry()
	return &sm.DescribeSecretOutput{ARN: e.ARN, Name: e.Name, Description: e.Description, KmsKeyId: e.KmsKeyId,
		CreatedDate: e.CreatedDate, LastChangedDate: e.LastChangedDate, LastAccessedDate: e.LastAccessedDate,
		DeletedDate: e.DeletedDate, RotationEnabled: e.RotationEnabled, Tags: e.Tags, PrimaryRegion: e.PrimaryRegion,
		VersionIdsToStages: e.SecretVersionsToStages}, nil
}

// entry is the secret as ListSecrets shows it, and DescribeSecret with the
// same fields.
func (sec *secret) entry() types.SecretListEntry {
	e := types.SecretListEntry{ARN: aws.String(sec.ARN), Name: aws.String(sec.Name),
		CreatedDate: date(sec.Created), LastChangedDate: date(sec.LastChanged),
		RotationEnabled: aws.Bool(false), Tags: backend.OrEmpty(sec.Tags), PrimaryRegion: aws.String(sec.region()),
		SecretVersionsToStages: map[string][]string{}}
	if sec.Description != "" {
		e.Description = aws.String(sec.Description)
	}
	if sec.KmsKeyID != "" {
		e.KmsKeyId = aws.String(sec.KmsKeyID)
	}
	if !sec.LastAccessed.IsZero() {
		e.LastAccessedDate = aws.Time(sec.LastAccessed)
	}
	if sec.scheduled() {
		e.DeletedDate = date(sec.Deleted)
	}
	for _, v := range sec.Versions {
		if len(v.Stages) > 0 {
			e.SecretVersionsToStages[v.ID] = v.Stages
		}
	}
	return e
}

// region is the region in the secret's ARN.
func (sec *secret) region() string {
	if c := candidates(backend.Scope{}, sec.ARN); len(c) > 0 {
		return c[0].scope.Region
	}
	return ""
}

// UpdateSecret changes a secret's description or KMS key, and with a value
// adds a version as PutSecretValue does.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecret.html
func (b *Backend) UpdateSecret(ctx context.Context, in *sm.UpdateSecretInput) (*sm.UpdateSecretOutput, error) {
	if err := validDescription(in.Description); err != nil {
		return nil, err
	}
	var (
		id  *string
		sec secret
	)
	s, now := backend.ScopeFrom(ctx), b.now()
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		var k sqlite.Key
		var err error
		if sec, k, err = live(tx, s, aws.ToString(in.SecretId), now); err != nil {
			return err
		}
		if in.Description != nil {
			sec.Description = *in.Description
		}
		if in.KmsKeyId != nil {
			sec.KmsKeyID = *in.KmsKeyId
		}
		if in.SecretString != nil || in.SecretBinary != nil {
			v, err := b.addVersion(tx, k, &sec, aws.ToString(in.ClientRequestToken), in.SecretString, in.SecretBinary, nil, now)
			if err != nil {
				return err
			}
			id = &v
		}
		sec.LastChanged = now
		return put(tx, k, sec)
	})
	if err != nil {
		return nil, err
	}
	return &sm.UpdateSecretOutput{ARN: &sec.ARN, Name: &sec.Name, VersionId: id}, nil
}

// DeleteSecret schedules a secret's deletion after RecoveryWindowInDays
// (7 to 30, default 30), or deletes it at once with
// ForceDeleteWithoutRecovery. Until then RestoreSecret brings it back.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
func (b *Backend) DeleteSecret(ctx context.Context, in *sm.DeleteSecretInput) (*sm.DeleteSecretOutput, error) {
	force := aws.ToBool(in.ForceDeleteWithoutRecovery)
	if force && in.RecoveryWindowInDays != nil {
		return nil, errInvalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	days := aws.ToInt64(in.RecoveryWindowInDays)
	if in.RecoveryWindowInDays == nil {
		days = 30
	}
	if !force && (days < 7 || days > 30) {
		return nil, errInvalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
	}
	s, now := backend.ScopeFrom(ctx), b.now()
	var out *sm.DeleteSecretOutput
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		sec, k, err := find(tx, s, aws.ToString(in.SecretId), now)
		if err != nil {
			return err
		}
		out = &sm.DeleteSecretOutput{ARN: &sec.ARN, Name: &sec.Name}
		if force {
			out.DeletionDate = date(now)
			return drop(tx, k, sec.ARN)
		}
		if sec.scheduled() {
			return errInvalidRequest("You tried to perform the operation on a secret that's currently marked deleted.")
		}
		sec.Deleted, sec.Purge = now, now.Add(time.Duration(days)*24*time.Hour)
		out.DeletionDate = date(sec.Purge)
		return put(tx, k, sec)
	})
	return out, err
}

// RestoreSecret cancels a secret's scheduled deletion.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RestoreSecret.html
func (b *Backend) RestoreSecret(ctx context.Context, in *sm.RestoreSecretInput) (*sm.RestoreSecretOutput, error) {
	s, now := backend.ScopeFrom(ctx), b.now()
	var out *sm.RestoreSecretOutput
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		sec, k, err := find(tx, s, aws.ToString(in.SecretId), now)
		if err != nil {
			return err
		}
		sec.Deleted, sec.Purge = time.Time{}, time.Time{}
		out = &sm.RestoreSecretOutput{ARN: &sec.ARN, Name: &sec.Name}
		return put(tx, k, sec)
	})
	return out, err
}

// RotateSecret is refused: berth does not rotate secrets (that needs a
// rotation Lambda function).
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotateSecret.html
func (b *Backend) RotateSecret(ctx context.Context, in *sm.RotateSecretInput) (*sm.RotateSecretOutput, error) {
	return nil, errInvalidRequest("berth does not rotate secrets: RotateSecret is not supported.")
}

// CancelRotateSecret is refused as RotateSecret is.
// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CancelRotateSecret.html
func (b *Backend) CancelRotateSecret(ctx context.Context, in *sm.CancelRotateSecretInput) (*sm.CancelRotateSecretOutput, error) {
	return nil, errInvalidRequest("berth does not rotate secrets: CancelRotateSecret is not supported.")
}
