package ecr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
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

// image is a manifest stored in a repository, with its tags.
type image struct {
	Digest            string
	MediaType         string
	ArtifactMediaType string `json:",omitempty"`
	Manifest          string
	Tags              []string
	PushedAt          time.Time
	Size              int64    // of its layers, as ECR counts an image's size
	References        []string // the blobs (image manifests) or manifests (indexes) it refers to
}

// layer is a blob a repository holds: pushed to it, or mounted from
// another.
type layer struct {
	Size   int64
	Linked time.Time `json:",omitzero"` // when it was pushed or mounted; zero for layers of older berths
}

func imageID(repo, digest string) string { return repo + "@" + digest }

// Media types of manifests.
const (
	mediaDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mediaOCIIndex       = "application/vnd.oci.image.index.v1+json"
)

// manifest is what berth reads of a manifest or an index.
type manifest struct {
	SchemaVersion int    `json:"schemaVersion"`
	MediaType     string `json:"mediaType"`
	Config        *descriptor
	Layers        []descriptor
	Manifests     []descriptor
}

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

func digestOf(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// isDigest reports whether ref is a sha256 digest.
func isDigest(ref string) bool {
	hexPart, ok := strings.CutPrefix(ref, "sha256:")
	if !ok || len(hexPart) != 64 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil && strings.ToLower(hexPart) == hexPart
}

// tagPattern is the OCI pattern of tags.
func validTag(tag string) bool {
	if tag == "" || len(tag) > 128 {
		return false
	}
	for i, c := range tag {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || i > 0 && (c == '.' || c == '-')
		if !ok {
			return false
		}
	}
	return true
}

// putManifest stores a manifest in a repository and points tag (if any)
// at it. Its blobs (or, for an index, its manifests) must be in the
// repository already; in an immutable repository a tag may not move.
func (b *Backend) putManifest(ctx context.Context, s backend.Scope, repo, tag, mediaType string, body []byte) (image, error) {
	var m manifest
	if err := json.Unmarshal(body, &m); err != nil || m.SchemaVersion != 2 {
		return image{}, &registryError{http.StatusBadRequest, "MANIFEST_INVALID", "manifest invalid: not a schema 2 manifest or index", nil}
	}
	if m.MediaType != "" {
		mediaType = m.MediaType
	}
	if mediaType == "" {
		mediaType = mediaOCIManifest
		if m.Manifests != nil {
			mediaType = mediaOCIIndex
		}
	}
	img := image{Digest: digestOf(body), MediaType: mediaType, Manifest: string(body), PushedAt: b.env.Clock().UTC(), Tags: []string{}}
	switch mediaType {
	case mediaDockerManifest, mediaOCIManifest:
		if m.Config == nil {
			return image{}, &registryError{http.StatusBadRequest, "MANIFEST_INVALID", "manifest invalid: no config", nil}
		}
		img.ArtifactMediaType = m.Config.MediaType
		img.References = append(img.References, m.Config.Digest)
		for _, l := range m.Layers {
			img.References = append(img.References, l.Digest)
			img.Size += l.Size
		}
	case mediaDockerList, mediaOCIIndex:
		for _, d := range m.Manifests {
			img.References = append(img.References, d.Digest)
		}
	default:
		return image{}, &registryError{http.StatusBadRequest, "MANIFEST_INVALID", "manifest invalid: media type " + mediaType + " is not supported", nil}
	}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		r, err := loadRepository(tx, s, repo)
		if err != nil {
			return errNameUnknown(repo)
		}
		isIndex := mediaType == mediaDockerList || mediaType == mediaOCIIndex
		for _, d := range img.References {
			kind, id := kindLayer, imageID(repo, d)
			if isIndex {
				kind = kindImage
			}
			if ok, err := tx.Exists(s.Key(kind, id)); err != nil || !ok {
				if err == nil && isIndex {
					err = &registryError{http.StatusBadRequest, "MANIFEST_UNKNOWN", "manifest unknown: the index refers to " + d + ", which is not in the repository", map[string]string{"digest": d}}
				} else if err == nil {
					err = &registryError{http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry: " + d, map[string]string{"digest": d}}
				}
				return err
			}
		}
		var existing image
		switch err := tx.Get(s.Key(kindImage, imageID(repo, img.Digest)), &existing); {
		case err == nil:
			img.Tags, img.PushedAt = existing.Tags, existing.PushedAt
		case !isNotFound(err):
			return err
		}
		if tag != "" && !slices.Contains(img.Tags, tag) {
			if err := untag(tx, s, r, tag); err != nil {
				return err
			}
			img.Tags = append(img.Tags, tag)
		}
		return tx.Put(s.Row(kindImage, imageID(repo, img.Digest), repo, ""), img)
	})
	return img, err
}

// untag takes tag off the image of the repository that has it, if any:
// refused in an immutable repository.
func untag(tx *sqlite.Tx, s backend.Scope, r repository, tag string) error {
	repo := *r.Repository.RepositoryName
	images, err := repositoryImages(tx, s, repo)
	if err != nil {
		return err
	}
	for _, other := range images {
		if !slices.Contains(other.Tags, tag) {
			continue
		}
		if r.Repository.ImageTagMutability == types.ImageTagMutabilityImmutable {
			return &registryError{http.StatusBadRequest, "TAG_INVALID", fmt.Sprintf(
				"The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the repository is immutable.", tag, repo), nil}
		}
		other.Tags = slices.DeleteFunc(other.Tags, func(t string) bool { return t == tag })
		return tx.Put(s.Row(kindImage, imageID(repo, other.Digest), repo, ""), other)
	}
	return nil
}

func repositoryImages(tx *sqlite.Tx, s backend.Scope, repo string) ([]image, error) {
	q := s.Query(kindImage, repo)
	q.Limit = 1 << 30
	return sqlite.ListAll[image](tx, q)
}

// findImage is the repository's image that ref (a tag or a digest) names.
func findImage(tx *sqlite.Tx, s backend.Scope, repo, ref string) (image, bool, error) {
	if isDigest(ref) {
		var img image
		err := tx.Get(s.Key(kindImage, imageID(repo, ref)), &img)
		if isNotFound(err) {
			return img, false, nil
		}
		return img, err == nil, err
	}
	images, err := repositoryImages(tx, s, repo)
	if err != nil {
		return image{}, false, err
	}
	for _, img := range images {
		if slices.Contains(img.Tags, ref) {
			return img, true, nil
		}
	}
	return image{}, false, nil
}

// apiError is a registry error as the ECR API reports it.
func apiError(s backend.Scope, repo string, err error) error {
	re, ok := err.(*registryError)
	if !ok {
		return err
	}
	switch re.Code {
	case "NAME_UNKNOWN":
		return errRepositoryNotFound(s, repo)
	case "MANIFEST_BLOB_UNKNOWN":
		return awsproto.Modeled(&types.LayersNotFoundException{}, "Layers with digests '[%v]' required for pushing image into repository with name '%s' in the registry with id '%s' do not exist", re.Detail, repo, s.Account)
	case "MANIFEST_UNKNOWN":
		return awsproto.Modeled(&types.ReferencedImagesNotFoundException{}, "%s", re.Message)
	case "TAG_INVALID":
		return awsproto.Modeled(&types.ImageTagAlreadyExistsException{}, "%s", re.Message)
	}
	return errInvalid("%s", re.Message)
}

func validJSON(s *string) bool { return s != nil && json.Valid([]byte(*s)) }

// PutImage stores a manifest (whose layers the repository holds) under a
// tag or its digest.
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html
func (b *Backend) PutImage(ctx context.Context, in *ecrapi.PutImageInput) (*ecrapi.PutImageOutput, error) {
	s := backend.ScopeFrom(ctx)
	if _, err := registryID(s, in.RegistryId); err != nil {
		return nil, err
	}
	repo, tag := aws.ToString(in.RepositoryName), aws.ToString(in.ImageTag)
	if in.ImageManifest == nil {
		return nil, errInvalid("Invalid parameter at 'imageManifest' failed to satisfy constraint: 'Member must not be null'")
	}
	if tag != "" && !validTag(tag) {
		return nil, errInvalid("Invalid parameter at 'imageTag' failed to satisfy constraint: 'Member must satisfy regular expression pattern: [a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127}'")
	}
	body := []byte(*in.ImageManifest)
	if d := aws.ToString(in.ImageDigest); d != "" && d != digestOf(body) {
		return nil, awsproto.Modeled(&types.ImageDigestDoesNotMatchException{}, "Invalid parameter at 'imageDigest' failed to satisfy constraint: 'the digest %s does not match the manifest'", d)
	}
	var before image
	var had bool
	if err := b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		before, had, err = findImage(tx, s, repo, digestOf(body))
		return err
	}); err != nil {
		return nil, err
	}
	if had && (tag == "" || slices.Contains(before.Tags, tag)) {
		return nil, awsproto.Modeled(&types.ImageAlreadyExistsException{},
			"Image with digest '%s' and tag '%s' already exists in the repository with name '%s' in registry with id '%s'", before.Digest, tag, repo, s.Account)
	}
	img, err := b.putManifest(ctx, s, repo, tag, aws.ToString(in.ImageManifestMediaType), body)
	if err != nil {
		return nil, apiError(s, repo, err)
	}
	id := &types.ImageIdentifier{ImageDigest: aws.String(img.Digest)}
	if tag != "" {
		id.ImageTag = aws.String(tag)
	}
	return &ecrapi.PutImageOutput{Image: &types.Image{RegistryId: aws.String(s.Account), RepositoryName: aws.String(repo), ImageId: id,
		ImageManifest: aws.String(img.Manifest), ImageManifestMediaType: aws.String(img.MediaType)}}, nil
}

// selectImages resolves image ids in a repository: the images found, with
// the id that found each, and a failure for each id that names none.
func selectImages(images []image, ids []types.ImageIdentifier) (found []image, by []types.ImageIdentifier, failures []types.ImageFailure) {
	for _, id := range ids {
		digest, tag := aws.ToString(id.ImageDigest), aws.ToString(id.ImageTag)
		i := slices.IndexFunc(images, func(img image) bool {
			return (digest == "" || img.Digest == digest) && (tag == "" || slices.Contains(img.Tags, tag))
		})
		switch {
		case digest == "" && tag == "":
			failures = append(failures, types.ImageFailure{ImageId: &id, FailureCode: types.ImageFailureCodeMissingDigestAndTag,
				FailureReason: aws.String("Invalid request parameters: both tag and digest cannot be null")})
		case i < 0 && digest != "" && tag != "" && slices.ContainsFunc(images, func(img image) bool { return img.Digest == digest }):
			failures = append(failures, types.ImageFailure{ImageId: &id, FailureCode: types.ImageFailureCodeImageTagDoesNotMatchDigest,
				FailureReason: aws.String("Invalid image digest or tag")})
		case i < 0:
			failures = append(failures, types.ImageFailure{ImageId: &id, FailureCode: types.ImageFailureCodeImageNotFound,
				FailureReason: aws.String("Requested image not found")})
		default:
			found, by = append(found, images[i]), append(by, id)
		}
	}
	return found, by, failures
}

// loadImages loads a repository's images.
func (b *Backend) loadImages(ctx context.Context, registry, name *string) (backend.Scope, []image, error) {
	s := backend.ScopeFrom(ctx)
	if _, err := registryID(s, registry); err != nil {
		return s, nil, err
	}
	var images []image
	err := b.store.View(ctx, func(tx *sqlite.Tx) error {
		if _, err := loadRepository(tx, s, aws.ToString(name)); err != nil {
			return err
		}
		var err error
		images, err = repositoryImages(tx, s, aws.ToString(name))
		return err
	})
	return s, images, err
}

// tagged reports whether img passes a tagStatus filter.
func tagged(img image, f *types.DescribeImagesFilter) bool {
	if f == nil {
		return true
	}
	switch f.TagStatus {
	case types.TagStatusTagged:
		return len(img.Tags) > 0
	case types.TagStatusUntagged:
		return len(img.Tags) == 0
	}
	return true
}

// DescribeImages describes a repository's images, or those named.
func (b *Backend) DescribeImages(ctx context.Context, in *ecrapi.DescribeImagesInput) (*ecrapi.DescribeImagesOutput, error) {
	s, images, err := b.loadImages(ctx, in.RegistryId, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	repo := aws.ToString(in.RepositoryName)
	if len(in.ImageIds) > 0 {
		found, _, failures := selectImages(images, in.ImageIds)
		if len(failures) > 0 {
			id := failures[0].ImageId
			return nil, awsproto.Modeled(&types.ImageNotFoundException{},
				"The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'",
				aws.ToString(id.ImageDigest), aws.ToString(id.ImageTag), repo, s.Account)
		}
		images = found
	}
	images = slices.DeleteFunc(images, func(img image) bool { return !tagged(img, in.Filter) })
	slices.SortFunc(images, func(a, b image) int { return strings.Compare(a.Digest, b.Digest) })
	images = slices.CompactFunc(images, func(a, b image) bool { return a.Digest == b.Digest })
	page, next, err := pageOf(images, func(img image) string { return img.Digest }, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &ecrapi.DescribeImagesOutput{ImageDetails: []types.ImageDetail{}, NextToken: next}
	for _, img := range page {
		pushed := img.PushedAt
		d := types.ImageDetail{RegistryId: aws.String(s.Account), RepositoryName: aws.String(repo), ImageDigest: aws.String(img.Digest),
			ImageSizeInBytes: aws.Int64(img.Size), ImagePushedAt: &pushed, ImageManifestMediaType: aws.String(img.MediaType),
			ImageStatus: types.ImageStatusActive}
		if len(img.Tags) > 0 {
			d.ImageTags = img.Tags
		}
		if img.ArtifactMediaType != "" {
			d.ArtifactMediaType = aws.String(img.ArtifactMediaType)
		}
		out.ImageDetails = append(out.ImageDetails, d)
	}
	return out, nil
}

// ListImages lists a repository's image ids: one per tag, and the digest
// alone of an untagged image.
func (b *Backend) ListImages(ctx context.Context, in *ecrapi.ListImagesInput) (*ecrapi.ListImagesOutput, error) {
	_, images, err := b.loadImages(ctx, in.RegistryId, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	var ids []types.ImageIdentifier
	for _, img := range images {
		status := types.TagStatusAny
		if in.Filter != nil {
			status = in.Filter.TagStatus
		}
		if len(img.Tags) == 0 && status != types.TagStatusTagged {
			ids = append(ids, types.ImageIdentifier{ImageDigest: aws.String(img.Digest)})
		}
		for _, t := range img.Tags {
			if status != types.TagStatusUntagged {
				ids = append(ids, types.ImageIdentifier{ImageDigest: aws.String(img.Digest), ImageTag: aws.String(t)})
			}
		}
	}
	key := func(id types.ImageIdentifier) string { return *id.ImageDigest + ":" + aws.ToString(id.ImageTag) }
	slices.SortFunc(ids, func(a, b types.ImageIdentifier) int { return strings.Compare(key(a), key(b)) })
	page, next, err := pageOf(ids, key, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &ecrapi.ListImagesOutput{ImageIds: backend.OrEmpty(page), NextToken: next}, nil
}

// BatchGetImage returns the manifests of images.
func (b *Backend) BatchGetImage(ctx context.Context, in *ecrapi.BatchGetImageInput) (*ecrapi.BatchGetImageOutput, error) {
	s, images, err := b.loadImages(ctx, in.RegistryId, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	found, by, failures := selectImages(images, in.ImageIds)
	out := &ecrapi.BatchGetImageOutput{Images: []types.Image{}, Failures: backend.OrEmpty(failures)}
	for i, img := range found {
		id := by[i]
		id.ImageDigest = aws.String(img.Digest)
		out.Images = append(out.Images, types.Image{RegistryId: aws.String(s.Account), RepositoryName: in.RepositoryName, ImageId: &id,
			ImageManifest: aws.String(img.Manifest), ImageManifestMediaType: aws.String(img.MediaType)})
	}
	return out, nil
}

// BatchDeleteImage deletes images: by digest, the image and its tags; by
// tag, the tag, and the image when it was its last.
func (b *Backend) BatchDeleteImage(ctx context.Context, in *ecrapi.BatchDeleteImageInput) (*ecrapi.BatchDeleteImageOutput, error) {
	s := backend.ScopeFrom(ctx)
	if _, err := registryID(s, in.RegistryId); err != nil {
		return nil, err
	}
	repo := aws.ToString(in.RepositoryName)
	out := &ecrapi.BatchDeleteImageOutput{ImageIds: []types.ImageIdentifier{}, Failures: []types.ImageFailure{}}
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		if _, err := loadRepository(tx, s, repo); err != nil {
			return err
		}
		images, err := repositoryImages(tx, s, repo)
		if err != nil {
			return err
		}
		found, by, failures := selectImages(images, in.ImageIds)
		out.Failures = append(out.Failures, failures...)
		for i, img := range found {
			if err := tx.Get(s.Key(kindImage, imageID(repo, img.Digest)), &img); isNotFound(err) {
				continue // deleted by an earlier id of this call
			} else if err != nil {
				return err
			}
			if tag := aws.ToString(by[i].ImageTag); tag != "" && by[i].ImageDigest == nil {
				img.Tags = slices.DeleteFunc(img.Tags, func(t string) bool { return t == tag })
				out.ImageIds = append(out.ImageIds, types.ImageIdentifier{ImageDigest: aws.String(img.Digest), ImageTag: aws.String(tag)})
				if len(img.Tags) > 0 {
					if err := tx.Put(s.Row(kindImage, imageID(repo, img.Digest), repo, ""), img); err != nil {
						return err
					}
					continue
				}
			} else {
				out.ImageIds = append(out.ImageIds, types.ImageIdentifier{ImageDigest: aws.String(img.Digest)})
			}
			if err := tx.Delete(s.Key(kindImage, imageID(repo, img.Digest))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
