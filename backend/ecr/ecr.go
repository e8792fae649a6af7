// Package ecr is Amazon Elastic Container Registry: the ECR API
// (repositories, their images, policies and tags, authorization tokens)
// and the registry itself, an OCI distribution API server that docker
// pushes to and pulls from and that berth's tasks pull their images from.
// Blobs are files under a directory, named by their digest; everything
// else is in the store.
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/Welcome.html
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md
//
// Every exported method but Registry, Resolve and Reset is one ECR
// operation with the SDK client's signature minus its options.
package ecr

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrapi "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// Backend serves the ECR API and the registry from the store and a
// directory of blobs.
type Backend struct {
	store   *sqlite.Store
	env     backend.Env
	blobs   *blobStore
	secret  []byte // signs authorization tokens
	uploads *uploads

	// Host is the registry's host:port, in repository URIs and the
	// proxy endpoint. Set it before serving.
	Host string
}

// New returns an ECR backend over store, keeping blobs under dir and
// signing its tokens with secret.
func New(store *sqlite.Store, env backend.Env, dir string, secret []byte) (*Backend, error) {
	blobs, err := newBlobStore(dir)
	if err != nil {
		return nil, err
	}
	return &Backend{store: store, env: env, blobs: blobs, secret: secret, uploads: newUploads(blobs, env.Clock)}, nil
}

// Reset removes every blob and upload, for a store that was wiped.
func (b *Backend) Reset() error {
	b.uploads.reset()
	return b.blobs.reset()
}

// Stored resource kinds. Images and layers are stored under their
// repository's name.
const (
	kindRepository = "ecr/repository" // repository: by name
	kindImage      = "ecr/image"      // image: by repository and digest
	kindLayer      = "ecr/layer"      // layer: a blob the repository holds, by repository and digest
)

// repository is a repository with what the API keeps beside it.
type repository struct {
	Repository      types.Repository
	Policy          string
	LifecyclePolicy string
	LifecycleAt     *time.Time
	Tags            []types.Tag
}

// repositoryName is ECR's pattern for repository names.
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
var repositoryName = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

func errInvalid(format string, args ...any) error {
	return awsproto.Modeled(&types.InvalidParameterException{}, format, args...)
}

func errRepositoryNotFound(s backend.Scope, name string) error {
	return awsproto.Modeled(&types.RepositoryNotFoundException{},
		"The repository with name '%s' does not exist in the registry with id '%s'", name, s.Account)
}

func isNotFound(err error) bool { return errors.Is(err, sqlite.ErrNotFound) }

// registryID is the registry of a request: the account's, or the one it
// names, which must be the account's (berth keeps no cross-account
// registries).
func registryID(s backend.Scope, id *string) (string, error) {
	if id != nil && *id != s.Account {
		return "", errInvalid("Invalid parameter at 'registryId' failed to satisfy constraint: 'registry %s is not the caller's registry'", *id)
	}
	return s.Account, nil
}

// path is the repository's path on berth's registry: the account and
// region come first, since one registry serves them all.
func path(s backend.Scope, name string) string { return s.Account + "/" + s.Region + "/" + name }

func loadRepository(tx *sqlite.Tx, s backend.Scope, name string) (repository, error) {
	var r repository
	err := tx.Get(s.Key(kindRepository, name), &r)
	if isNotFound(err) {
		return r, errRepositoryNotFound(s, name)
	}
	return r, err
}

// changeRepository changes a stored repository in one transaction.
func (b *Backend) changeRepository(ctx context.Context, registry, name *string, change func(*repository) error) (repository, error) {
	s := backend.ScopeFrom(ctx)
	var r repository
	if _, err := registryID(s, registry); err != nil {
		return r, err
	}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) (err error) {
		if r, err = loadRepository(tx, s, aws.ToString(name)); err != nil {
			return err
		}
		if err := change(&r); err != nil {
			return err
		}
		return tx.Put(s.Row(kindRepository, *r.Repository.RepositoryName, "", ""), r)
	})
	return r, err
}

// viewRepository loads a repository.
func (b *Backend) viewRepository(ctx context.Context, registry, name *string) (repository, error) {
	s := backend.ScopeFrom(ctx)
	var r repository
	if _, err := registryID(s, registry); err != nil {
		return r, err
	}
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		r, err = loadRepository(tx, s, aws.ToString(name))
		return err
	})
	return r, err
}

// CreateRepository creates a repository.
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
func (b *Backend) CreateRepository(ctx context.Context, in *ecrapi.CreateRepositoryInput) (*ecrapi.CreateRepositoryOutput, error) {
	s := backend.ScopeFrom(ctx)
	account, err := registryID(s, in.RegistryId)
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.RepositoryName)
	if len(name) < 2 || len(name) > 256 || !repositoryName.MatchString(name) {
		return nil, errInvalid("Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''")
	}
	mutability := in.ImageTagMutability
	if mutability == "" {
		mutability = types.ImageTagMutabilityMutable
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	encryption := in.EncryptionConfiguration
	if encryption == nil {
		encryption = &types.EncryptionConfiguration{EncryptionType: types.EncryptionTypeAes256}
	}
	scanning := in.ImageScanningConfiguration
	if scanning == nil {
		scanning = &types.ImageScanningConfiguration{}
	}
	now := b.env.Clock().UTC().Truncate(time.Second)
	r := repository{Tags: in.Tags, Repository: types.Repository{
		RepositoryName:             aws.String(name),
		RepositoryArn:              aws.String("arn:aws:ecr:" + s.Region + ":" + account + ":repository/" + name),
		RegistryId:                 aws.String(account),
		CreatedAt:                  &now,
		ImageTagMutability:         mutability,
		EncryptionConfiguration:    encryption,
		ImageScanningConfiguration: scanning,
	}}
	err = b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if ok, err := tx.Exists(s.Key(kindRepository, name)); err != nil || ok {
			if err == nil {
				err = awsproto.Modeled(&types.RepositoryAlreadyExistsException{},
					"The repository with name '%s' already exists in the registry with id '%s'", name, account)
			}
			return err
		}
		return tx.Put(s.Row(kindRepository, name, "", ""), r)
	})
	if err != nil {
		return nil, err
	}
	return &ecrapi.CreateRepositoryOutput{Repository: b.described(s, r)}, nil
}

// described is a repository as the API returns it, with its URI on
// berth's registry.
func (b *Backend) described(s backend.Scope, r repository) *types.Repository {
	out := r.Repository
	out.RepositoryUri = aws.String(b.Host + "/" + path(s, *out.RepositoryName))
	return &out
}

// DescribeRepositories lists the account's repositories in the region, or
// those named.
func (b *Backend) DescribeRepositories(ctx context.Context, in *ecrapi.DescribeRepositoriesInput) (*ecrapi.DescribeRepositoriesOutput, error) {
	s := backend.ScopeFrom(ctx)
	if _, err := registryID(s, in.RegistryId); err != nil {
		return nil, err
	}
	var all []repository
	err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		if len(in.RepositoryNames) == 0 {
			q := s.Query(kindRepository, "")
			q.Limit = 1 << 30
			all, err = sqlite.ListAll[repository](tx, q)
			return err
		}
		for _, name := range in.RepositoryNames {
			r, err := loadRepository(tx, s, name)
			if err != nil {
				return err
			}
			all = append(all, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	name := func(r repository) string { return *r.Repository.RepositoryName }
	slices.SortFunc(all, func(a, b repository) int { return strings.Compare(name(a), name(b)) })
	all = slices.CompactFunc(all, func(a, b repository) bool { return name(a) == name(b) })
	page, next, err := pageOf(all, name, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &ecrapi.DescribeRepositoriesOutput{Repositories: []types.Repository{}, NextToken: next}
	for _, r := range page {
		out.Repositories = append(out.Repositories, *b.described(s, r))
	}
	return out, nil
}

// pageOf pages items by key with an opaque token, at most max (1000 by
// default) to a page.
func pageOf[T any](all []T, key func(T) string, token *string, max *int32) ([]T, *string, error) {
	out, next, err := backend.PageOf(all, key, token, max, 1000)
	if err != nil {
		return nil, nil, errInvalid("Invalid parameter at 'nextToken': the token is not valid")
	}
	return out, next, nil
}

// DeleteRepository deletes a repository: an empty one, or with force one
// and its images.
func (b *Backend) DeleteRepository(ctx context.Context, in *ecrapi.DeleteRepositoryInput) (*ecrapi.DeleteRepositoryOutput, error) {
	s := backend.ScopeFrom(ctx)
	if _, err := registryID(s, in.RegistryId); err != nil {
		return nil, err
	}
	name := aws.ToString(in.RepositoryName)
	var r repository
	err := b.store.Update(ctx, func(tx *sqlite.Tx) (err error) {
		if r, err = loadRepository(tx, s, name); err != nil {
			return err
		}
		images, _, err := tx.ListIDs(s.Query(kindImage, name))
		if err != nil {
			return err
		}
		if len(images) > 0 && !in.Force {
			return awsproto.Modeled(&types.RepositoryNotEmptyException{},
				"The repository with name '%s' in registry with id '%s' cannot be deleted because it still contains images", name, s.Account)
		}
		for _, kind := range []string{kindImage, kindLayer} {
			if err := tx.DeleteAll(s.Query(kind, name)); err != nil {
				return err
			}
		}
		return tx.Delete(s.Key(kindRepository, name))
	})
	if err != nil {
		return nil, err
	}
	return &ecrapi.DeleteRepositoryOutput{Repository: b.described(s, r)}, nil
}

// PutImageTagMutability sets whether the repository's tags may move.
func (b *Backend) PutImageTagMutability(ctx context.Context, in *ecrapi.PutImageTagMutabilityInput) (*ecrapi.PutImageTagMutabilityOutput, error) {
	if !slices.Contains(types.ImageTagMutability("").Values(), in.ImageTagMutability) {
		return nil, errInvalid("Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: %v'", types.ImageTagMutability("").Values())
	}
	r, err := b.changeRepository(ctx, in.RegistryId, in.RepositoryName, func(r *repository) error {
		r.Repository.ImageTagMutability = in.ImageTagMutability
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecrapi.PutImageTagMutabilityOutput{RegistryId: r.Repository.RegistryId, RepositoryName: r.Repository.RepositoryName,
		ImageTagMutability: r.Repository.ImageTagMutability}, nil
}

// PutImageScanningConfiguration stores whether images are scanned on
// push; berth scans nothing.
func (b *Backend) PutImageScanningConfiguration(ctx context.Context, in *ecrapi.PutImageScanningConfigurationInput) (*ecrapi.PutImageScanningConfigurationOutput, error) {
	if in.ImageScanningConfiguration == nil {
		return nil, errInvalid("Invalid parameter at 'imageScanningConfiguration': must not be null")
	}
	r, err := b.changeRepository(ctx, in.RegistryId, in.RepositoryName, func(r *repository) error {
		r.Repository.ImageScanningConfiguration = in.ImageScanningConfiguration
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecrapi.PutImageScanningConfigurationOutput{RegistryId: r.Repository.RegistryId, RepositoryName: r.Repository.RepositoryName,
		ImageScanningConfiguration: r.Repository.ImageScanningConfiguration}, nil
}

// DescribeRegistry describes the account's registry: no replication.
func (b *Backend) DescribeRegistry(ctx context.Context, _ *ecrapi.DescribeRegistryInput) (*ecrapi.DescribeRegistryOutput, error) {
	s := backend.ScopeFrom(ctx)
	return &ecrapi.DescribeRegistryOutput{RegistryId: aws.String(s.Account),
		ReplicationConfiguration: &types.ReplicationConfiguration{Rules: []types.ReplicationRule{}}}, nil
}

// maxTags is ECR's limit of tags per repository.
const maxTags = 50

func validTags(tags []types.Tag) error {
	if len(tags) > maxTags {
		return awsproto.Modeled(&types.TooManyTagsException{}, "Tag limit of %d exceeded", maxTags)
	}
	for _, t := range tags {
		if k := aws.ToString(t.Key); k == "" || len(k) > 128 || strings.HasPrefix(k, "aws:") {
			return awsproto.Modeled(&types.InvalidTagParameterException{}, "Invalid tag key '%s'", k)
		}
	}
	return nil
}

// repositoryOfArn is the repository name of a repository ARN in scope s.
func repositoryOfArn(s backend.Scope, arn string) (string, error) {
	prefix := "arn:aws:ecr:" + s.Region + ":" + s.Account + ":repository/"
	name, ok := strings.CutPrefix(arn, prefix)
	if !ok || name == "" {
		return "", errInvalid("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN %s'", arn)
	}
	return name, nil
}

// TagResource adds or replaces tags of a repository.
func (b *Backend) TagResource(ctx context.Context, in *ecrapi.TagResourceInput) (*ecrapi.TagResourceOutput, error) {
	name, err := repositoryOfArn(backend.ScopeFrom(ctx), aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	_, err = b.changeRepository(ctx, nil, &name, func(r *repository) error {
		for _, t := range in.Tags {
			r.Tags = slices.DeleteFunc(r.Tags, func(o types.Tag) bool { return aws.ToString(o.Key) == aws.ToString(t.Key) })
			r.Tags = append(r.Tags, t)
		}
		return validTags(r.Tags)
	})
	if err != nil {
		return nil, err
	}
	return &ecrapi.TagResourceOutput{}, nil
}

// UntagResource removes tags of a repository.
func (b *Backend) UntagResource(ctx context.Context, in *ecrapi.UntagResourceInput) (*ecrapi.UntagResourceOutput, error) {
	name, err := repositoryOfArn(backend.ScopeFrom(ctx), aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	_, err = b.changeRepository(ctx, nil, &name, func(r *repository) error {
		r.Tags = slices.DeleteFunc(r.Tags, func(t types.Tag) bool { return slices.Contains(in.TagKeys, aws.ToString(t.Key)) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecrapi.UntagResourceOutput{}, nil
}

// ListTagsForResource lists a repository's tags.
func (b *Backend) ListTagsForResource(ctx context.Context, in *ecrapi.ListTagsForResourceInput) (*ecrapi.ListTagsForResourceOutput, error) {
	name, err := repositoryOfArn(backend.ScopeFrom(ctx), aws.ToString(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	r, err := b.viewRepository(ctx, nil, &name)
	if err != nil {
		return nil, err
	}
	return &ecrapi.ListTagsForResourceOutput{Tags: backend.OrEmpty(r.Tags)}, nil
}

// SetRepositoryPolicy stores a repository's policy; berth never enforces
// it.
func (b *Backend) SetRepositoryPolicy(ctx context.Context, in *ecrapi.SetRepositoryPolicyInput) (*ecrapi.SetRepositoryPolicyOutput, error) {
	if !validJSON(in.PolicyText) {
		return nil, errInvalid("Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'")
	}
	r, err := b.changeRepository(ctx, in.RegistryId, in.RepositoryName, func(r *repository) error {
		r.Policy = *in.PolicyText
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecrapi.SetRepositoryPolicyOutput{RegistryId: r.Repository.RegistryId, RepositoryName: r.Repository.RepositoryName, PolicyText: in.PolicyText}, nil
}

// GetRepositoryPolicy returns a repository's policy.
func (b *Backend) GetRepositoryPolicy(ctx context.Context, in *ecrapi.GetRepositoryPolicyInput) (*ecrapi.GetRepositoryPolicyOutput, error) {
	r, err := b.viewRepository(ctx, in.RegistryId, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if r.Policy == "" {
		return nil, awsproto.Modeled(&types.RepositoryPolicyNotFoundException{},
			"Repository policy does not exist for the repository with name '%s' in the registry with id '%s'", *r.Repository.RepositoryName, *r.Repository.RegistryId)
	}
	return &ecrapi.GetRepositoryPolicyOutput{RegistryId: r.Repository.RegistryId, RepositoryName: r.Repository.RepositoryName, PolicyText: aws.String(r.Policy)}, nil
}

// DeleteRepositoryPolicy deletes a repository's policy.
func (b *Backend) DeleteRepositoryPolicy(ctx context.Context, in *ecrapi.DeleteRepositoryPolicyInput) (*ecrapi.DeleteRepositoryPolicyOutput, error) {
	var policy string
	r, err := b.changeRepository(ctx, in.RegistryId, in.RepositoryName, func(r *repository) error {
		if r.Policy == "" {
			return awsproto.Modeled(&types.RepositoryPolicyNotFoundException{},
				"Repository policy does not exist for the repository with name '%s' in the registry with id '%s'", *r.Repository.RepositoryName, *r.Repository.RegistryId)
		}
		policy, r.Policy = r.Policy, ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecrapi.DeleteRepositoryPolicyOutput{RegistryId: r.Repository.RegistryId, RepositoryName: r.Repository.RepositoryName, PolicyText: aws.String(policy)}, nil
}

// PutLifecyclePolicy stores a repository's lifecycle policy; berth never
// expires images by it.
func (b *Backend) PutLifecyclePolicy(ctx context.Context, in *ecrapi.PutLifecyclePolicyInput) (*ecrapi.PutLifecyclePolicyOutput, error) {
	if !validJSON(in.LifecyclePolicyText) {
		return nil, errInvalid("Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure'")
	}
	now := b.env.Clock().UTC()
	r, err := b.changeRepository(ctx, in.RegistryId, in.RepositoryName, func(r *repository) error {
		r.LifecyclePolicy, r.LifecycleAt = *in.LifecyclePolicyText, &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecrapi.PutLifecyclePolicyOutput{RegistryId: r.Repository.RegistryId, RepositoryName: r.Repository.RepositoryName,
		LifecyclePolicyText: in.LifecyclePolicyText}, nil
}

func errNoLifecyclePolicy(r repository) error {
	return awsproto.Modeled(&types.LifecyclePolicyNotFoundException{},
		"Lifecycle policy does not exist for the repository with name '%s' in the registry with id '%s'", *r.Repository.RepositoryName, *r.Repository.RegistryId)
}

// GetLifecyclePolicy returns a repository's lifecycle policy.
func (b *Backend) GetLifecyclePolicy(ctx context.Context, in *ecrapi.GetLifecyclePolicyInput) (*ecrapi.GetLifecyclePolicyOutput, error) {
	r, err := b.viewRepository(ctx, in.RegistryId, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if r.LifecyclePolicy == "" {
		return nil, errNoLifecyclePolicy(r)
	}
	return &ecrapi.GetLifecyclePolicyOutput{RegistryId: r.Repository.RegistryId, RepositoryName: r.Repository.RepositoryName,
		LifecyclePolicyText: aws.String(r.LifecyclePolicy), LastEvaluatedAt: r.LifecycleAt}, nil
}

// DeleteLifecyclePolicy deletes a repository's lifecycle policy.
func (b *Backend) DeleteLifecyclePolicy(ctx context.Context, in *ecrapi.DeleteLifecyclePolicyInput) (*ecrapi.DeleteLifecyclePolicyOutput, error) {
	var policy string
	var at *time.Time
	r, err := b.changeRepository(ctx, in.RegistryId, in.RepositoryName, func(r *repository) error {
		if r.LifecyclePolicy == "" {
			return errNoLifecyclePolicy(*r)
		}
		policy, at = r.LifecyclePolicy, r.LifecycleAt
		r.LifecyclePolicy, r.LifecycleAt = "", nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ecrapi.DeleteLifecyclePolicyOutput{RegistryId: r.Repository.RegistryId, RepositoryName: r.Repository.RepositoryName,
		LifecyclePolicyText: aws.String(policy), LastEvaluatedAt: at}, nil
}
