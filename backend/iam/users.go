package iam

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamapi "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	stsapi "github.com/aws/aws-sdk-go-v2/service/sts"

	"berth/sqlite"
)

// kindAccount holds when berth first answered for an account's root user:
// its creation date as IAM reports it.
const kindAccount = "iam/account"

// GetUser describes an IAM user. berth keeps no IAM users: every access
// key it accepts is an account's root credentials (as STS
// GetCallerIdentity says), so with no UserName it answers for the
// account's root user as IAM does (its id is the account id, its ARN
// ends in :root, it has no name or path); temporary credentials of a role
// are not a user's and need a UserName; a named user does not exist.
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetUser.html
func (b *Backend) GetUser(ctx context.Context, in *iamapi.GetUserInput) (*iamapi.GetUserOutput, error) {
	if in.UserName != nil {
		name := aws.ToString(in.UserName)
		if err := validName("userName", name, 64); err != nil {
			return nil, err
		}
		return nil, errNoSuchEntity("The user with name %s cannot be found.", name)
	}
	me, err := b.caller.GetCallerIdentity(ctx, &stsapi.GetCallerIdentityInput{})
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(aws.ToString(me.Arn), ":root") {
		return nil, errValidation("Must specify userName when calling with non-User credentials")
	}
	created, err := b.accountCreated(ctx, aws.ToString(me.Account))
	if err != nil {
		return nil, err
	}
	return &iamapi.GetUserOutput{User: &types.User{UserId: me.Account, Arn: me.Arn, CreateDate: &created}}, nil
}

// accountCreated returns when berth first answered for account's root
// user, keeping it so that it never changes.
func (b *Backend) accountCreated(ctx context.Context, account string) (time.Time, error) {
	key := sqlite.Key{Account: account, Kind: kindAccount, ID: "root"}
	var created time.Time
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		err := tx.Get(key, &created)
		if !isNotFound(err) {
			return err
		}
		created = *b.now()
		return tx.Put(sqlite.Row{Key: key}, created)
	})
	return created, err
}
