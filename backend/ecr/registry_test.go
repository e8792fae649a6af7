package ecr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrapi "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"berth/awsproto"
	"berth/backend"
	"berth/sqlite"
)

// The registry's behaviours that docker relies on, over HTTP, after the
// OCI distribution spec's conformance tests.
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md

var scope = backend.Scope{Account: "000000000000", Region: "us-east-1"}

type testRegistry struct {
	t        *testing.T
	b        *Backend
	url      string
	password string
	ctx      context.Context
	clock    *testClock
	dir      string // of the blobs
}

// testClock is the time now, moved on by advance.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func newTestRegistry(t *testing.T) *testRegistry {
	store, err := sqlite.Open(t.TempDir() + "/berth.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clock, dir := &testClock{}, t.TempDir()
	b, err := New(store, backend.Env{Clock: clock.now, IDs: &backend.SequentialIDs{}}, dir, []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.Registry())
	t.Cleanup(srv.Close)
	b.Host = strings.TrimPrefix(srv.URL, "http://")
	ctx := backend.WithScope(context.Background(), scope)
	for _, name := range []string{"app", "other"} {
		if _, err := b.CreateRepository(ctx, &ecrapi.CreateRepositoryInput{RepositoryName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	return &testRegistry{t: t, b: b, url: srv.URL, password: b.password(scope.Account, time.Now().Add(time.Hour)), ctx: ctx, clock: clock, dir: dir}
}

// do sends a request with the registry's credentials to a path under the
// repository's (or to an absolute path).
func (r *testRegistry) do(method, path string, body []byte, header ...string) *http.Response {
	r.t.Helper()
	if !strings.HasPrefix(path, "/v2/") {
		path = "/v2/000000000000/us-east-1/" + path
	}
	req, _ := http.NewRequest(method, r.url+path, bytes.NewReader(body))
	req.SetBasicAuth("AWS", r.password)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { res.Body.Close() })
	return res
}

func want(t *testing.T, res *http.Response, status int) {
	t.Helper()
	if res.StatusCode != status {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("%s %s = %d %s, want %d", res.Request.Method, res.Request.URL.Path, res.StatusCode, body, status)
	}
}

// wantError checks a registry error: its status and code in the spec's
// JSON body.
func wantError(t *testing.T, res *http.Response, status int, code string) {
	t.Helper()
	want(t, res, status)
	var body struct {
		Errors []struct{ Code, Message string }
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || len(body.Errors) != 1 || body.Errors[0].Code != code {
		t.Fatalf("error body = %+v (%v), want code %s", body, err, code)
	}
}

// push uploads a blob in one request.
func (r *testRegistry) push(repo string, blob []byte) string {
	r.t.Helper()
	d := digestOf(blob)
	want(r.t, r.do("POST", repo+"/blobs/uploads/?digest="+d, blob), http.StatusCreated)
	return d
}

// manifestOf is an image manifest of a config and layers.
func manifestOf(config string, layers ...[]byte) []byte {
	m := map[string]any{"schemaVersion": 2, "mediaType": mediaOCIManifest,
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2}}
	var ls []map[string]any
	for _, l := range layers {
		ls = append(ls, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digestOf(l), "size": len(l)})
	}
	m["layers"] = ls
	body, _ := json.Marshal(m)
	return body
}

func TestRegistryAuthentication(t *testing.T) {
	r := newTestRegistry(t)
	res, err := http.Get(r.url + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	wantError(t, res, http.StatusUnauthorized, "UNAUTHORIZED")
	if res.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("no WWW-Authenticate challenge")
	}
	want(t, r.do("GET", "/v2/", nil), http.StatusOK)
	r.password = r.b.password(scope.Account, time.Now().Add(-time.Minute))
	wantError(t, r.do("GET", "/v2/", nil), http.StatusUnauthorized, "UNAUTHORIZED")
	r.password = strings.Replace(r.b.password(scope.Account, time.Now().Add(time.Hour)), "000000000000", "111111111111", 1)
	wantError(t, r.do("GET", "/v2/", nil), http.StatusUnauthorized, "UNAUTHORIZED")
}

func TestRegistryChunkedResumableUpload(t *testing.T) {
	r := newTestRegistry(t)
	blob := bytes.Repeat([]byte("layer-bytes-"), 1000)
	res := r.do("POST", "app/blobs/uploads/", nil)
	want(t, res, http.StatusAccepted)
	location := res.Header.Get("Location")
	if res.Header.Get("Docker-Upload-UUID") == "" || !strings.HasPrefix(location, "/v2/000000000000/us-east-1/app/blobs/uploads/") {
		t.Fatalf("upload headers = %v", res.Header)
	}
	half := len(blob) / 2
	res = r.do("PATCH", location, blob[:half], "Content-Range", fmt.Sprintf("0-%d", half-1), "Content-Type", "application/octet-stream")
	want(t, res, http.StatusAccepted)
	if got := res.Header.Get("Range"); got != fmt.Sprintf("0-%d", half-1) {
		t.Fatalf("Range after the first chunk = %q", got)
	}
	// A chunk out of order is refused with where the upload stands.
	res = r.do("PATCH", location, blob[half+1:], "Content-Range", fmt.Sprintf("%d-%d", half+1, len(blob)-1))
	want(t, res, http.StatusRequestedRangeNotSatisfiable)
	// The status says where to resume.
	res = r.do("GET", location, nil)
	want(t, res, http.StatusNoContent)
	if got := res.Header.Get("Range"); got != fmt.Sprintf("0-%d", half-1) {
		t.Fatalf("upload status Range = %q", got)
	}
	want(t, r.do("PATCH", location, blob[half:], "Content-Range", fmt.Sprintf("%d-%d", half, len(blob)-1)), http.StatusAccepted)
	wantError(t, r.do("PUT", location+"?digest="+digestOf([]byte("other")), nil), http.StatusBadRequest, "DIGEST_INVALID")

	// The failed upload is gone; a new one, finished with its last chunk.
	wantError(t, r.do("GET", location, nil), http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
	location = r.do("POST", "app/blobs/uploads/", nil).Header.Get("Location")
	want(t, r.do("PATCH", location, blob[:half]), http.StatusAccepted)
	res = r.do("PUT", location+"?digest="+digestOf(blob), blob[half:])
	want(t, res, http.StatusCreated)
	if res.Header.Get("Docker-Content-Digest") != digestOf(blob) || res.Header.Get("Location") != "/v2/000000000000/us-east-1/app/blobs/"+digestOf(blob) {
		t.Fatalf("blob created headers = %v", res.Header)
	}
	res = r.do("HEAD", "app/blobs/"+digestOf(blob), nil)
	want(t, res, http.StatusOK)
	if res.ContentLength != int64(len(blob)) {
		t.Fatalf("HEAD blob Content-Length = %d", res.ContentLength)
	}
	res = r.do("GET", "app/blobs/"+digestOf(blob), nil, "Range", "bytes=0-9")
	want(t, res, http.StatusPartialContent)
	if got, _ := io.ReadAll(res.Body); string(got) != string(blob[:10]) {
		t.Fatalf("ranged GET = %q", got)
	}
	// Cancelling an upload forgets it.
	location = r.do("POST", "app/blobs/uploads/", nil).Header.Get("Location")
	want(t, r.do("DELETE", location, nil), http.StatusNoContent)
	wantError(t, r.do("PATCH", location, []byte("x")), http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
}

func TestReset(t *testing.T) {
	r := newTestRegistry(t)
	d := r.push("app", []byte("a layer"))
	location := r.do("POST", "app/blobs/uploads/", nil).Header.Get("Location")
	if err := r.b.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.b.blobs.open(d); err == nil {
		t.Fatal("a blob outlived the reset")
	}
	wantError(t, r.do("PATCH", location, []byte("x")), http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
}

func TestRegistryCrossRepositoryMount(t *testing.T) {
	r := newTestRegistry(t)
	blob := []byte("shared layer")
	d := r.push("other", blob)
	want(t, r.do("HEAD", "app/blobs/"+d, nil), http.StatusNotFound)
	wantError(t, r.do("GET", "app/blobs/"+d, nil), http.StatusNotFound, "BLOB_UNKNOWN")
	res := r.do("POST", "app/blobs/uploads/?mount="+d+"&from=000000000000/us-east-1/other", nil)
	want(t, res, http.StatusCreated)
	if res.Header.Get("Docker-Content-Digest") != d {
		t.Fatalf("mount headers = %v", res.Header)
	}
	want(t, r.do("HEAD", "app/blobs/"+d, nil), http.StatusOK)
	// A mount of a blob the source does not hold starts an upload instead.
	res = r.do("POST", "app/blobs/uploads/?mount="+digestOf([]byte("nowhere"))+"&from=000000000000/us-east-1/other", nil)
	want(t, res, http.StatusAccepted)
}

func TestRegistryManifests(t *testing.T) {
	r := newTestRegistry(t)
	config := r.push("app", []byte("{}"))
	layer := []byte("layer one")
	manifest := manifestOf(config, layer)
	// A manifest whose layer the repository does not hold is refused.
	wantError(t, r.do("PUT", "app/manifests/v1", manifest, "Content-Type", mediaOCIManifest), http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN")
	r.push("app", layer)
	res := r.do("PUT", "app/manifests/v1", manifest, "Content-Type", mediaOCIManifest)
	want(t, res, http.StatusCreated)
	digest := digestOf(manifest)
	if res.Header.Get("Docker-Content-Digest") != digest {
		t.Fatalf("manifest put headers = %v", res.Header)
	}
	for _, ref := range []string{"v1", digest} {
		res := r.do("GET", "app/manifests/"+ref, nil, "Accept", mediaOCIManifest)
		want(t, res, http.StatusOK)
		body, _ := io.ReadAll(res.Body)
		if !bytes.Equal(body, manifest) || res.Header.Get("Content-Type") != mediaOCIManifest || res.Header.Get("Docker-Content-Digest") != digest {
			t.Fatalf("GET manifest %s = %s %v", ref, body, res.Header)
		}
		want(t, r.do("HEAD", "app/manifests/"+ref, nil), http.StatusOK)
	}
	wantError(t, r.do("GET", "app/manifests/v2", nil), http.StatusNotFound, "MANIFEST_UNKNOWN")
	wantError(t, r.do("GET", "missing/manifests/v1", nil), http.StatusNotFound, "NAME_UNKNOWN")
	wantError(t, r.do("PUT", "app/manifests/"+digestOf([]byte("x")), manifest), http.StatusBadRequest, "DIGEST_INVALID")

	// An index of the manifest, and the tag list.
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mediaOCIIndex,
		"manifests": []map[string]any{{"mediaType": mediaOCIManifest, "digest": digest, "size": len(manifest)}}})
	want(t, r.do("PUT", "app/manifests/multi", index, "Content-Type", mediaOCIIndex), http.StatusCreated)
	want(t, r.do("PUT", "app/manifests/latest", manifest, "Content-Type", mediaOCIManifest), http.StatusCreated)
	var tags struct {
		Name string
		Tags []string
	}
	res = r.do("GET", "app/tags/list?n=2", nil)
	want(t, res, http.StatusOK)
	json.NewDecoder(res.Body).Decode(&tags)
	if tags.Name != "000000000000/us-east-1/app" || strings.Join(tags.Tags, ",") != "latest,multi" || !strings.Contains(res.Header.Get("Link"), "last=multi") {
		t.Fatalf("tags = %+v, Link %q", tags, res.Header.Get("Link"))
	}

	// The API sees the images.
	images, err := r.b.DescribeImages(r.ctx, &ecrapi.DescribeImagesInput{RepositoryName: aws.String("app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err != nil || len(images.ImageDetails) != 1 {
		t.Fatalf("DescribeImages = %+v %v", images, err)
	}
	d := images.ImageDetails[0]
	if *d.ImageDigest != digest || *d.ImageSizeInBytes != int64(len(layer)) || *d.ImageManifestMediaType != mediaOCIManifest ||
		strings.Join(d.ImageTags, ",") != "v1,latest" || d.ImagePushedAt == nil {
		t.Fatalf("image detail = %+v", d)
	}

	// Deleting by tag keeps the image while it has another; by digest, it goes.
	want(t, r.do("DELETE", "app/manifests/v1", nil), http.StatusAccepted)
	want(t, r.do("GET", "app/manifests/"+digest, nil), http.StatusOK)
	want(t, r.do("DELETE", "app/manifests/"+digest, nil), http.StatusAccepted)
	wantError(t, r.do("GET", "app/manifests/latest", nil), http.StatusNotFound, "MANIFEST_UNKNOWN")
	wantError(t, r.do("DELETE", "app/blobs/"+config, nil), http.StatusMethodNotAllowed, "UNSUPPORTED")
}

func TestRegistryImmutableTags(t *testing.T) {
	r := newTestRegistry(t)
	if _, err := r.b.PutImageTagMutability(r.ctx, &ecrapi.PutImageTagMutabilityInput{RepositoryName: aws.String("app"),
		ImageTagMutability: types.ImageTagMutabilityImmutable}); err != nil {
		t.Fatal(err)
	}
	config := r.push("app", []byte("{}"))
	one, two := []byte("one"), []byte("two")
	r.push("app", one)
	r.push("app", two)
	want(t, r.do("PUT", "app/manifests/v1", manifestOf(config, one), "Content-Type", mediaOCIManifest), http.StatusCreated)
	// The same manifest again is fine; another under the same tag is not.
	want(t, r.do("PUT", "app/manifests/v1", manifestOf(config, one), "Content-Type", mediaOCIManifest), http.StatusCreated)
	wantError(t, r.do("PUT", "app/manifests/v1", manifestOf(config, two), "Content-Type", mediaOCIManifest), http.StatusBadRequest, "TAG_INVALID")
	_, err := r.b.PutImage(r.ctx, &ecrapi.PutImageInput{RepositoryName: aws.String("app"), ImageTag: aws.String("v1"),
		ImageManifest: aws.String(string(manifestOf(config, two)))})
	var e *awsproto.Error
	if !asError(err, &e) || e.Code != "ImageTagAlreadyExistsException" {
		t.Fatalf("PutImage over an immutable tag: %v", err)
	}
	// A new tag is fine.
	want(t, r.do("PUT", "app/manifests/v2", manifestOf(config, two), "Content-Type", mediaOCIManifest), http.StatusCreated)
}

func asError(err error, target **awsproto.Error) bool {
	e, ok := err.(*awsproto.Error)
	*target = e
	return ok
}

func TestResolve(t *testing.T) {
	r := newTestRegistry(t)
	config := r.push("app", []byte("{}"))
	want(t, r.do("PUT", "app/manifests/v1", manifestOf(config), "Content-Type", mediaOCIManifest), http.StatusCreated)
	for image, wantRef := range map[string]string{
		"000000000000.dkr.ecr.us-east-1.amazonaws.com/app:v1":        r.b.Host + "/000000000000/us-east-1/app:v1",
		r.b.Host + "/000000000000/us-east-1/app:v1":                  r.b.Host + "/000000000000/us-east-1/app:v1",
		"000000000000.dkr.ecr.us-east-1.amazonaws.com/app@" + config: "",
	} {
		ref, auth, ok, err := r.b.Resolve(context.Background(), image)
		if wantRef == "" {
			if !ok || err == nil || !strings.HasSuffix(err.Error(), ": not found") {
				t.Fatalf("Resolve(%s) of no image = %v %v", image, ok, err)
			}
			continue
		}
		if !ok || err != nil || ref != wantRef || auth == "" {
			t.Fatalf("Resolve(%s) = %q %v %v", image, ref, ok, err)
		}
	}
	if _, _, ok, _ := r.b.Resolve(context.Background(), "nginx:latest"); ok {
		t.Fatal("Resolve took a Docker Hub image")
	}
}
