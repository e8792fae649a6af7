package ecr

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrapi "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"berth/backend"
	"berth/sqlite"
)

// registryError is an error of the registry API, with the code and
// status of the distribution spec.
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes
type registryError struct {
	Status  int
	Code    string
	Message string
	Detail  any
}

func (e *registryError) Error() string { return e.Code + ": " + e.Message }

func errNameUnknown(repo string) error {
	return &registryError{http.StatusNotFound, "NAME_UNKNOWN", "repository name not known to registry", map[string]string{"name": repo}}
}

// writeError answers with the registry's JSON error body.
func writeError(w http.ResponseWriter, err error) {
	var re *registryError
	if !errors.As(err, &re) {
		re = &registryError{http.StatusInternalServerError, "UNKNOWN", err.Error(), nil}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(re.Status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{"code": re.Code, "message": re.Message, "detail": re.Detail}}})
}

// tokenLifetime is how long an authorization token is valid, as in ECR.
const tokenLifetime = 12 * time.Hour

// password is a registry password for account, valid until expires: the
// account, the expiry and their signature.
func (b *Backend) password(account string, expires time.Time) string {
	claim := account + "." + strconv.FormatInt(expires.Unix(), 10)
	mac := hmac.New(sha256.New, b.secret)
	mac.Write([]byte(claim))
	return claim + "." + hex.EncodeToString(mac.Sum(nil))
}

// account returns the account a password was issued to, if berth issued
// it and it has not expired.
func (b *Backend) account(password string) (string, bool) {
	i := strings.LastIndex(password, ".")
	if i < 0 {
		return "", false
	}
	account, unix, _ := strings.Cut(password[:i], ".")
	expires, err := strconv.ParseInt(unix, 10, 64)
	if err != nil || !b.env.Clock().Before(time.Unix(expires, 0)) {
		return "", false
	}
	if !hmac.Equal([]byte(b.password(account, time.Unix(expires, 0))), []byte(password)) {
		return "", false
	}
	return account, true
}

// GetAuthorizationToken returns a token for docker login to berth's
// registry: base64 of AWS:<password>.
// https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html
func (b *Backend) GetAuthorizationToken(ctx context.Context, _ *ecrapi.GetAuthorizationTokenInput) (*ecrapi.GetAuthorizationTokenOutput, error) {
	s := backend.ScopeFrom(ctx)
	expires := b.env.Clock().Add(tokenLifetime).UTC().Truncate(time.Second)
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + b.password(s.Account, expires)))
	return &ecrapi.GetAuthorizationTokenOutput{AuthorizationData: []types.AuthorizationData{{
		AuthorizationToken: aws.String(token), ExpiresAt: &expires, ProxyEndpoint: aws.String("http://" + b.Host),
	}}}, nil
}

// ecrHost matches the host of an ECR registry in AWS.
var ecrHost = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com$`)

// Resolve maps an image that names an ECR repository, in ECR's form
// (<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest])
// or by its URI on berth's registry, to the reference the Docker Engine
// pulls from berth's registry and the credentials to pull with (the
// X-Registry-Auth value). ok is false for any other image. A repository
// or image that does not exist is an error.
func (b *Backend) Resolve(ctx context.Context, imageRef string) (ref, auth string, ok bool, err error) {
	host, rest, _ := strings.Cut(imageRef, "/")
	var s backend.Scope
	if m := ecrHost.FindStringSubmatch(host); m != nil {
		s = backend.Scope{Account: m[1], Region: m[2]}
	} else if host == b.Host && b.Host != "" {
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) < 3 {
			return "", "", false, nil
		}
		s, rest = backend.Scope{Account: parts[0], Region: parts[1]}, parts[2]
	} else {
		return "", "", false, nil
	}
	repo, reference := rest, "latest"
	if name, digest, found := strings.Cut(rest, "@"); found {
		repo, reference = name, digest
	} else if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		repo, reference = rest[:i], rest[i+1:]
	}
	var found bool
	err = b.store.View(ctx, func(tx *sqlite.Tx) (err error) {
		if _, err := loadRepository(tx, s, repo); err != nil {
			return nil
		}
		_, found, err = findImage(tx, s, repo, reference)
		return err
	})
	if err != nil {
		return "", "", true, err
	}
	if !found {
		return "", "", true, fmt.Errorf("%s: not found", imageRef)
	}
	sep := ":"
	if isDigest(reference) {
		sep = "@"
	}
	creds, _ := json.Marshal(map[string]string{"username": "AWS", "password": b.password(s.Account, b.env.Clock().Add(time.Hour)), "serveraddress": b.Host})
	return b.Host + "/" + path(s, repo) + sep + reference, base64.URLEncoding.EncodeToString(creds), true, nil
}

// maxManifest bounds the size of a manifest, as ECR's 4 MiB.
const maxManifest = 4 << 20

// Registry is the registry's HTTP handler: the OCI distribution API on
// the paths /v2/<account>/<region>/<repository>/..., for the holders of
// a token from GetAuthorizationToken (basic authentication, user AWS).
func (b *Backend) Registry() http.Handler { return http.HandlerFunc(b.serveRegistry) }

func (b *Backend) serveRegistry(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	user, password, ok := r.BasicAuth()
	account, valid := b.account(password)
	if !ok || user != "AWS" || !valid {
		w.Header().Set("WWW-Authenticate", `Basic realm="berth ECR"`)
		writeError(w, &registryError{http.StatusUnauthorized, "UNAUTHORIZED", "authentication required: log in with a token from aws ecr get-login-password", nil})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	if r.URL.Path == "/v2" || ok && rest == "" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
		return
	}
	var name, route, arg string
	for _, sep := range []string{"/blobs/uploads", "/manifests/", "/blobs/", "/tags/list"} {
		if i := strings.LastIndex(rest, sep); i > 0 {
			name, route, arg = rest[:i], sep, strings.TrimPrefix(rest[i+len(sep):], "/")
			break
		}
	}
	parts := strings.SplitN(name, "/", 3)
	if route == "" || len(parts) < 3 {
		writeError(w, &registryError{http.StatusNotFound, "NAME_INVALID", "invalid repository name: " + name, nil})
		return
	}
	s, repo := backend.Scope{Account: parts[0], Region: parts[1]}, parts[2]
	if s.Account != account {
		// A token is the account's, as GetAuthorizationToken's are: it
		// reaches no other account's repositories.
		writeError(w, &registryError{http.StatusForbidden, "DENIED", "requested access to the resource is denied: the token is for account " + account, nil})
		return
	}
	ctx := r.Context()
	if err := b.store.View(ctx, func(tx *sqlite.Tx) error { _, err := loadRepository(tx, s, repo); return err }); err != nil {
		if errors.Is(err, context.Canceled) {
			return
		}
		writeError(w, errNameUnknown(repo))
		return
	}
	reg := registryRequest{b: b, w: w, r: r, s: s, name: name, repo: repo}
	var err error
	switch {
	case route == "/manifests/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		err = reg.getManifest(arg)
	case route == "/manifests/" && r.Method == http.MethodPut:
		err = reg.putManifest(arg)
	case route == "/manifests/" && r.Method == http.MethodDelete:
		err = reg.deleteManifest(arg)
	case route == "/blobs/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		err = reg.getBlob(arg)
	case route == "/blobs/uploads" && r.Method == http.MethodPost && arg == "":
		err = reg.startUpload()
	case route == "/blobs/uploads" && arg != "" && r.Method == http.MethodPatch:
		err = reg.patchUpload(arg)
	case route == "/blobs/uploads" && arg != "" && r.Method == http.MethodPut:
		err = reg.finishUpload(arg)
	case route == "/blobs/uploads" && arg != "" && r.Method == http.MethodGet:
		err = reg.uploadStatus(arg)
	case route == "/blobs/uploads" && arg != "" && r.Method == http.MethodDelete:
		err = reg.cancelUpload(arg)
	case route == "/tags/list" && r.Method == http.MethodGet:
		err = reg.listTags()
	default:
		err = &registryError{http.StatusMethodNotAllowed, "UNSUPPORTED", "the operation is unsupported", nil}
	}
	if err != nil {
		writeError(w, err)
	}
}

// registryRequest is one request to a repository of the registry.
type registryRequest struct {
	b          *Backend
	w          http.ResponseWriter
	r          *http.Request
	s          backend.Scope
	name, repo string // the name in the path (account/region/repository), the repository's
}

func (q registryRequest) getManifest(ref string) error {
	var img image
	var found bool
	if err := q.b.store.View(q.r.Context(), func(tx *sqlite.Tx) (err error) {
		img, found, err = findImage(tx, q.s, q.repo, ref)
		return err
	}); err != nil {
		return err
	}
	if !found {
		return &registryError{http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown", map[string]string{"tag": ref}}
	}
	h := q.w.Header()
	h.Set("Content-Type", img.MediaType)
	h.Set("Docker-Content-Digest", img.Digest)
	h.Set("Content-Length", strconv.Itoa(len(img.Manifest)))
	h.Set("ETag", `"`+img.Digest+`"`)
	if q.r.Method == http.MethodGet {
		io.WriteString(q.w, img.Manifest)
	}
	return nil
}

func (q registryRequest) putManifest(ref string) error {
	body, err := io.ReadAll(io.LimitReader(q.r.Body, maxManifest+1))
	if err != nil {
		return err
	}
	if len(body) > maxManifest {
		return &registryError{http.StatusRequestEntityTooLarge, "SIZE_INVALID", "manifest larger than 4 MiB", nil}
	}
	tag := ref
	if isDigest(ref) {
		if digestOf(body) != ref {
			return &registryError{http.StatusBadRequest, "DIGEST_INVALID", "provided digest did not match uploaded content", nil}
		}
		tag = ""
	} else if !validTag(ref) {
		return &registryError{http.StatusBadRequest, "TAG_INVALID", "manifest tag did not match URI", nil}
	}
	img, err := q.b.putManifest(q.r.Context(), q.s, q.repo, tag, strings.TrimSpace(strings.Split(q.r.Header.Get("Content-Type"), ";")[0]), body)
	if err != nil {
		return err
	}
	h := q.w.Header()
	h.Set("Location", "/v2/"+q.name+"/manifests/"+img.Digest)
	h.Set("Docker-Content-Digest", img.Digest)
	q.w.WriteHeader(http.StatusCreated)
	return nil
}

// deleteManifest deletes an image by digest, or a tag.
func (q registryRequest) deleteManifest(ref string) error {
	id := types.ImageIdentifier{ImageTag: aws.String(ref)}
	if isDigest(ref) {
		id = types.ImageIdentifier{ImageDigest: aws.String(ref)}
	}
	ctx := backend.WithScope(q.r.Context(), q.s)
	out, err := q.b.BatchDeleteImage(ctx, &ecrapi.BatchDeleteImageInput{RepositoryName: aws.String(q.repo), ImageIds: []types.ImageIdentifier{id}})
	if err != nil {
		return err
	}
	if len(out.ImageIds) == 0 {
		return &registryError{http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown", map[string]string{"tag": ref}}
	}
	q.w.WriteHeader(http.StatusAccepted)
	return nil
}

// hasLayer reports whether the repository holds the blob digest.
func (q registryRequest) hasLayer(repo, digest string) (bool, error) {
	var ok bool
	err := q.b.store.View(q.r.Context(), func(tx *sqlite.Tx) (err error) {
		ok, err = tx.Exists(q.s.Key(kindLayer, imageID(repo, digest)))
		return err
	})
	return ok, err
}

// link records that the repository holds the blob digest.
func (q registryRequest) link(digest string, size int64) error {
	return q.b.store.Update(q.r.Context(), func(tx *sqlite.Tx) error {
		return tx.Put(q.s.Row(kindLayer, imageID(q.repo, digest), q.repo, ""), layer{Size: size, Linked: q.b.env.Clock().UTC()})
	})
}

func errBlobUnknown(digest string) error {
	return &registryError{http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry", map[string]string{"digest": digest}}
}

func (q registryRequest) getBlob(digest string) error {
	if !isDigest(digest) {
		return &registryError{http.StatusBadRequest, "DIGEST_INVALID", "provided digest is not a sha256 digest", nil}
	}
	if ok, err := q.hasLayer(q.repo, digest); err != nil || !ok {
		if err == nil {
			err = errBlobUnknown(digest)
		}
		return err
	}
	f, _, err := q.b.blobs.open(digest)
	if err != nil {
		return errBlobUnknown(digest)
	}
	defer f.Close()
	h := q.w.Header()
	h.Set("Docker-Content-Digest", digest)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("ETag", `"`+digest+`"`)
	http.ServeContent(q.w, q.r, "", time.Time{}, f)
	return nil
}

// accepted answers an upload in progress: where it goes on, and what it
// holds so far.
func (q registryRequest) accepted(id string, size int64, status int) {
	h := q.w.Header()
	h.Set("Location", "/v2/"+q.name+"/blobs/uploads/"+id)
	h.Set("Range", fmt.Sprintf("0-%d", max(size-1, 0)))
	h.Set("Docker-Upload-UUID", id)
	h.Set("Content-Length", "0")
	q.w.WriteHeader(status)
}

// created answers a blob that is now in the repository.
func (q registryRequest) created(digest string) {
	h := q.w.Header()
	h.Set("Location", "/v2/"+q.name+"/blobs/"+digest)
	h.Set("Docker-Content-Digest", digest)
	h.Set("Content-Length", "0")
	q.w.WriteHeader(http.StatusCreated)
}

// startUpload starts a blob upload, or mounts a blob from another
// repository of the registry, or takes a whole blob in one request.
func (q registryRequest) startUpload() error {
	query := q.r.URL.Query()
	if mount := query.Get("mount"); mount != "" && isDigest(mount) {
		if from := strings.SplitN(query.Get("from"), "/", 3); len(from) == 3 && from[0] == q.s.Account && from[1] == q.s.Region {
			if ok, err := q.hasLayer(from[2], mount); err != nil {
				return err
			} else if ok {
				f, size, err := q.b.blobs.open(mount)
				if err == nil {
					f.Close()
					if err := q.link(mount, size); err != nil {
						return err
					}
					q.created(mount)
					return nil
				}
			}
		}
	}
	id := backend.NewUUID(q.b.env.IDs)
	up, err := q.b.uploads.start(id, q.s, q.repo)
	if err != nil {
		return err
	}
	if digest := query.Get("digest"); digest != "" {
		return q.finish(id, up, digest)
	}
	q.accepted(id, 0, http.StatusAccepted)
	return nil
}

func errUploadUnknown() error {
	return &registryError{http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", nil}
}

// patchUpload appends a chunk: in order, as its Content-Range says.
func (q registryRequest) patchUpload(id string) error {
	up := q.b.uploads.get(id, q.s, q.repo)
	if up == nil {
		return errUploadUnknown()
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	if cr := q.r.Header.Get("Content-Range"); cr != "" {
		start, _, _ := strings.Cut(strings.TrimPrefix(cr, "bytes="), "-")
		if n, err := strconv.ParseInt(start, 10, 64); err != nil || n != up.size {
			q.accepted(id, up.size, http.StatusRequestedRangeNotSatisfiable)
			return nil
		}
	}
	if err := up.write(q.r.Body); err != nil {
		return err
	}
	q.accepted(id, up.size, http.StatusAccepted)
	return nil
}

// finishUpload takes the last chunk, if any, and stores the blob.
func (q registryRequest) finishUpload(id string) error {
	up := q.b.uploads.get(id, q.s, q.repo)
	if up == nil {
		return errUploadUnknown()
	}
	return q.finish(id, up, q.r.URL.Query().Get("digest"))
}

func (q registryRequest) finish(id string, up *upload, digest string) error {
	up.mu.Lock()
	defer up.mu.Unlock()
	if !isDigest(digest) {
		return &registryError{http.StatusBadRequest, "DIGEST_INVALID", "provided digest is not a sha256 digest", nil}
	}
	if err := up.write(q.r.Body); err != nil {
		return err
	}
	if err := q.b.uploads.commit(id, up, digest); err != nil {
		if errors.Is(err, errDigestMismatch) {
			return &registryError{http.StatusBadRequest, "DIGEST_INVALID", "provided digest did not match uploaded content", nil}
		}
		return err
	}
	if err := q.link(digest, up.size); err != nil {
		return err
	}
	q.created(digest)
	return nil
}

func (q registryRequest) uploadStatus(id string) error {
	up := q.b.uploads.get(id, q.s, q.repo)
	if up == nil {
		return errUploadUnknown()
	}
	up.mu.Lock()
	defer up.mu.Unlock()
	q.accepted(id, up.size, http.StatusNoContent)
	return nil
}

func (q registryRequest) cancelUpload(id string) error {
	if q.b.uploads.get(id, q.s, q.repo) == nil {
		return errUploadUnknown()
	}
	q.b.uploads.end(id)
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// listTags lists the repository's tags in order, n at a time after last.
func (q registryRequest) listTags() error {
	var tags []string
	if err := q.b.store.View(q.r.Context(), func(tx *sqlite.Tx) error {
		images, err := repositoryImages(tx, q.s, q.repo)
		for _, img := range images {
			tags = append(tags, img.Tags...)
		}
		return err
	}); err != nil {
		return err
	}
	slices.Sort(tags)
	query := q.r.URL.Query()
	if last := query.Get("last"); last != "" {
		tags = slices.DeleteFunc(tags, func(t string) bool { return t <= last })
	}
	if n, err := strconv.Atoi(query.Get("n")); err == nil && n >= 0 && n < len(tags) {
		tags = tags[:n]
		if n > 0 {
			q.w.Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list?n=%d&last=%s>; rel="next"`, q.name, n, url.QueryEscape(tags[n-1])))
		}
	}
	q.w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(q.w).Encode(map[string]any{"name": q.name, "tags": backend.OrEmpty(tags)})
}
