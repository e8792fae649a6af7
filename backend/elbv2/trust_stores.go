package elbv2

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2api "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth/awsproto"
	"berth/sqlite"
)

// trustStore is a stored trust store. berth has no S3 to read bundles
// from, so it records where the bundle and revocation lists are.
type trustStore struct {
	types.TrustStore
	Bundle      types.RevocationContent // S3 location of the CA bundle
	Revocations []types.TrustStoreRevocation
	Contents    map[int64]types.RevocationContent
	NextID      int64
}

func (b *Backend) trustStore(tx *sqlite.Tx, s scope, arn string) (trustStore, error) {
	var ts trustStore
	if err := trustStoreArn.check(arn); err != nil {
		return ts, err
	}
	err := tx.Get(s.Key(kindTrustStore, arn), &ts)
	if isNotFound(err) {
		return ts, errTrustStoreNotFound()
	}
	return ts, err
}

func (b *Backend) putTrustStore(tx *sqlite.Tx, s scope, ts trustStore) error {
	var total int64
	for _, r := range ts.Revocations {
		total += aws.ToInt64(r.NumberOfRevokedEntries)
	}
	ts.TotalRevokedEntries = aws.Int64(total)
	return tx.Put(s.Row(kindTrustStore, *ts.TrustStoreArn, "", *ts.Name), ts)
}

// CreateTrustStore records a trust store for mutual TLS.
func (b *Backend) CreateTrustStore(ctx context.Context, in *elbv2api.CreateTrustStoreInput) (*elbv2api.CreateTrustStoreOutput, error) {
	s := scopeOf(ctx)
	name := aws.ToString(in.Name)
	if !lbNamePattern.MatchString(name) {
		return nil, errValidation("Trust store name '%s' is not valid", name)
	}
	if in.CaCertificatesBundleS3Bucket == nil || in.CaCertificatesBundleS3Key == nil {
		return nil, errValidation("The CA certificates bundle S3 bucket and key must be specified")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	ts := trustStore{
		TrustStore: types.TrustStore{Name: in.Name, NumberOfCaCertificates: aws.Int32(1), Status: types.TrustStoreStatusActive},
		Bundle:     types.RevocationContent{S3Bucket: in.CaCertificatesBundleS3Bucket, S3Key: in.CaCertificatesBundleS3Key, S3ObjectVersion: in.CaCertificatesBundleS3ObjectVersion},
		Contents:   map[int64]types.RevocationContent{},
		NextID:     1,
	}
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		q := s.Query(kindTrustStore, "")
		q.Name = name
		if n, err := tx.Count(q); err != nil {
			return err
		} else if n > 0 {
			return awsproto.Modeled(&types.DuplicateTrustStoreNameException{}, "A trust store with the name '%s' already exists", name)
		}
		ts.TrustStoreArn = aws.String(s.arn("truststore/" + name + "/" + b.env.IDs.Hex(16)))
		if err := b.putTrustStore(tx, s, ts); err != nil {
			return err
		}
		return setTags(tx, s, *ts.TrustStoreArn, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	ts.TotalRevokedEntries = aws.Int64(0)
	return &elbv2api.CreateTrustStoreOutput{TrustStores: []types.TrustStore{ts.TrustStore}}, nil
}

// DescribeTrustStores describes trust stores by ARN, by name, or all.
func (b *Backend) DescribeTrustStores(ctx context.Context, in *elbv2api.DescribeTrustStoresInput) (*elbv2api.DescribeTrustStoresOutput, error) {
	s := scopeOf(ctx)
	for _, arn := range in.TrustStoreArns {
		if err := trustStoreArn.check(arn); err != nil {
			return nil, err
		}
	}
	out := &elbv2api.DescribeTrustStoresOutput{TrustStores: []types.TrustStore{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		q, err := page(s.Query(kindTrustStore, ""), in.Marker, in.PageSize, 400)
		if err != nil {
			return err
		}
		all, next, err := sqlite.ListPage(tx, q, func(ts trustStore) bool {
			return (len(in.TrustStoreArns) == 0 || slices.Contains(in.TrustStoreArns, *ts.TrustStoreArn)) &&
				(len(in.Names) == 0 || slices.Contains(in.Names, *ts.Name))
		})
		if err != nil {
			return err
		}
		if len(in.TrustStoreArns)+len(in.Names) > 0 && len(all) < len(in.TrustStoreArns)+len(in.Names) && next == "" {
			return errTrustStoreNotFound()
		}
		for _, ts := range all {
			out.TrustStores = append(out.TrustStores, ts.TrustStore)
		}
		out.NextMarker, err = marker(next, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ModifyTrustStore points a trust store at a new CA bundle.
func (b *Backend) ModifyTrustStore(ctx context.Context, in *elbv2api.ModifyTrustStoreInput) (*elbv2api.ModifyTrustStoreOutput, error) {
	s := scopeOf(ctx)
	var ts trustStore
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		var err error
		if ts, err = b.trustStore(tx, s, aws.ToString(in.TrustStoreArn)); err != nil {
			return err
		}
		ts.Bundle = types.RevocationContent{S3Bucket: in.CaCertificatesBundleS3Bucket, S3Key: in.CaCertificatesBundleS3Key, S3ObjectVersion: in.CaCertificatesBundleS3ObjectVersion}
		return b.putTrustStore(tx, s, ts)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyTrustStoreOutput{TrustStores: []types.TrustStore{ts.TrustStore}}, nil
}

// trustStoreUsers lists the listeners whose mutual TLS uses the store.
func trustStoreUsers(tx *sqlite.Tx, s scope, arn string) ([]string, error) {
	listeners, err := sqlite.ListAll[types.Listener](tx, s.Query(kindListener, ""))
	var users []string
	for _, l := range listeners {
		if m := l.MutualAuthentication; m != nil && aws.ToString(m.TrustStoreArn) == arn {
			users = append(users, *l.ListenerArn)
		}
	}
	return users, err
}

// DeleteTrustStore deletes a trust store no listener uses.
func (b *Backend) DeleteTrustStore(ctx context.Context, in *elbv2api.DeleteTrustStoreInput) (*elbv2api.DeleteTrustStoreOutput, error) {
	s := scopeOf(ctx)
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		ts, err := b.trustStore(tx, s, aws.ToString(in.TrustStoreArn))
		if err != nil {
			return err
		}
		users, err := trustStoreUsers(tx, s, *ts.TrustStoreArn)
		if err != nil {
			return err
		}
		if len(users) > 0 {
			return awsproto.Modeled(&types.TrustStoreInUseException{}, "Trust store '%s' is in use by a listener", *ts.TrustStoreArn)
		}
		for _, k := range []string{kindTrustStore, kindTags} {
			if err := tx.Delete(s.Key(k, *ts.TrustStoreArn)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DeleteTrustStoreOutput{}, nil
}

// AddTrustStoreRevocations records revocation lists (their S3 locations).
func (b *Backend) AddTrustStoreRevocations(ctx context.Context, in *elbv2api.AddTrustStoreRevocationsInput) (*elbv2api.AddTrustStoreRevocationsOutput, error) {
	s := scopeOf(ctx)
	out := &elbv2api.AddTrustStoreRevocationsOutput{TrustStoreRevocations: []types.TrustStoreRevocation{}}
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		ts, err := b.trustStore(tx, s, aws.ToString(in.TrustStoreArn))
		if err != nil {
			return err
		}
		for _, c := range in.RevocationContents {
			if c.RevocationType == "" {
				c.RevocationType = types.RevocationTypeCrl
			}
			r := types.TrustStoreRevocation{TrustStoreArn: ts.TrustStoreArn, RevocationId: aws.Int64(ts.NextID), RevocationType: c.RevocationType, NumberOfRevokedEntries: aws.Int64(0)}
			ts.Contents[ts.NextID] = c
			ts.NextID++
			ts.Revocations = append(ts.Revocations, r)
			out.TrustStoreRevocations = append(out.TrustStoreRevocations, r)
		}
		return b.putTrustStore(tx, s, ts)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveTrustStoreRevocations removes revocation lists by id.
func (b *Backend) RemoveTrustStoreRevocations(ctx context.Context, in *elbv2api.RemoveTrustStoreRevocationsInput) (*elbv2api.RemoveTrustStoreRevocationsOutput, error) {
	s := scopeOf(ctx)
	err := b.update(ctx, func(tx *sqlite.Tx) error {
		ts, err := b.trustStore(tx, s, aws.ToString(in.TrustStoreArn))
		if err != nil {
			return err
		}
		for _, id := range in.RevocationIds {
			i := slices.IndexFunc(ts.Revocations, func(r types.TrustStoreRevocation) bool { return *r.RevocationId == id })
			if i < 0 {
				return awsproto.Modeled(&types.RevocationIdNotFoundException{}, "Revocation ID '%d' not found", id)
			}
			ts.Revocations = slices.Delete(ts.Revocations, i, i+1)
			delete(ts.Contents, id)
		}
		return b.putTrustStore(tx, s, ts)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.RemoveTrustStoreRevocationsOutput{}, nil
}

// DescribeTrustStoreRevocations lists a trust store's revocation lists.
func (b *Backend) DescribeTrustStoreRevocations(ctx context.Context, in *elbv2api.DescribeTrustStoreRevocationsInput) (*elbv2api.DescribeTrustStoreRevocationsOutput, error) {
	s := scopeOf(ctx)
	out := &elbv2api.DescribeTrustStoreRevocationsOutput{TrustStoreRevocations: []types.DescribeTrustStoreRevocation{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		ts, err := b.trustStore(tx, s, aws.ToString(in.TrustStoreArn))
		if err != nil {
			return err
		}
		for _, id := range in.RevocationIds {
			if !slices.ContainsFunc(ts.Revocations, func(r types.TrustStoreRevocation) bool { return *r.RevocationId == id }) {
				return awsproto.Modeled(&types.RevocationIdNotFoundException{}, "Revocation ID '%d' not found", id)
			}
		}
		for _, r := range ts.Revocations {
			if len(in.RevocationIds) == 0 || slices.Contains(in.RevocationIds, *r.RevocationId) {
				out.TrustStoreRevocations = append(out.TrustStoreRevocations, types.DescribeTrustStoreRevocation(r))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DescribeTrustStoreAssociations lists the listeners that use a store.
func (b *Backend) DescribeTrustStoreAssociations(ctx context.Context, in *elbv2api.DescribeTrustStoreAssociationsInput) (*elbv2api.DescribeTrustStoreAssociationsOutput, error) {
	s := scopeOf(ctx)
	out := &elbv2api.DescribeTrustStoreAssociationsOutput{TrustStoreAssociations: []types.TrustStoreAssociation{}}
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		if _, err := b.trustStore(tx, s, aws.ToString(in.TrustStoreArn)); err != nil {
			return err
		}
		users, err := trustStoreUsers(tx, s, aws.ToString(in.TrustStoreArn))
		if err != nil {
			return err
		}
		page, next, err := pageStrings(users, in.Marker, in.PageSize, 400)
		for _, u := range page {
			out.TrustStoreAssociations = append(out.TrustStoreAssociations, types.TrustStoreAssociation{ResourceArn: aws.String(u)})
		}
		out.NextMarker = next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteSharedTrustStoreAssociation removes a cross-account association;
// berth has no sharing, so there is never one to remove.
func (b *Backend) DeleteSharedTrustStoreAssociation(ctx context.Context, in *elbv2api.DeleteSharedTrustStoreAssociationInput) (*elbv2api.DeleteSharedTrustStoreAssociationOutput, error) {
	if err := trustStoreArn.check(aws.ToString(in.TrustStoreArn)); err != nil {
		return nil, err
	}
	if err := loadBalancerArn.check(aws.ToString(in.ResourceArn)); err != nil {
		return nil, err
	}
	return nil, awsproto.Modeled(&types.TrustStoreAssociationNotFoundException{}, "No shared trust store association found for resource '%s'", aws.ToString(in.ResourceArn))
}

func s3URL(c types.RevocationContent) *string {
	return aws.String("https://" + aws.ToString(c.S3Bucket) + ".s3.amazonaws.com/" + aws.ToString(c.S3Key))
}

// GetTrustStoreCaCertificatesBundle returns where the CA bundle is.
func (b *Backend) GetTrustStoreCaCertificatesBundle(ctx context.Context, in *elbv2api.GetTrustStoreCaCertificatesBundleInput) (*elbv2api.GetTrustStoreCaCertificatesBundleOutput, error) {
	s := scopeOf(ctx)
	var loc *string
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		ts, err := b.trustStore(tx, s, aws.ToString(in.TrustStoreArn))
		loc = s3URL(ts.Bundle)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.GetTrustStoreCaCertificatesBundleOutput{Location: loc}, nil
}

// GetTrustStoreRevocationContent returns where a revocation list is.
func (b *Backend) GetTrustStoreRevocationContent(ctx context.Context, in *elbv2api.GetTrustStoreRevocationContentInput) (*elbv2api.GetTrustStoreRevocationContentOutput, error) {
	s := scopeOf(ctx)
	var loc *string
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		ts, err := b.trustStore(tx, s, aws.ToString(in.TrustStoreArn))
		if err != nil {
			return err
		}
		c, ok := ts.Contents[aws.ToInt64(in.RevocationId)]
		if !ok {
			return awsproto.Modeled(&types.RevocationIdNotFoundException{}, "Revocation ID '%d' not found", aws.ToInt64(in.RevocationId))
		}
		loc = s3URL(c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.GetTrustStoreRevocationContentOutput{Location: loc}, nil
}
