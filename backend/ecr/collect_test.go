package ecr

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrapi "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"berth/backend"
)

// An upload nobody comes back to is ended after uploadIdle: its file is
// closed and removed, and the client that returns gets
// BLOB_UPLOAD_UNKNOWN, as the distribution spec has for an upload the
// registry no longer knows.
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes
func TestAbandonedUploadExpires(t *testing.T) {
	r := newTestRegistry(t)
	abandoned := r.do("POST", "app/blobs/uploads/", nil).Header.Get("Location")
	want(t, r.do("PATCH", abandoned, []byte("half a layer")), http.StatusAccepted)
	r.clock.advance(uploadIdle - time.Minute)
	active := r.do("POST", "app/blobs/uploads/", nil).Header.Get("Location")
	if c, err := r.b.Collect(r.ctx); err != nil || c.Uploads != 0 {
		t.Fatalf("Collect before the idle timeout = %+v, %v", c, err)
	}
	r.clock.advance(2 * time.Minute)
	want(t, r.do("PATCH", active, []byte("more")), http.StatusAccepted)
	if c, err := r.b.Collect(r.ctx); err != nil || c.Uploads != 1 {
		t.Fatalf("Collect after the idle timeout = %+v, %v; want 1 upload ended", c, err)
	}
	files, _ := os.ReadDir(filepath.Join(r.dir, "uploads"))
	if len(files) != 1 || r.b.uploads.count() != 1 {
		t.Fatalf("%d upload files and %d open uploads remain, want the active one", len(files), r.b.uploads.count())
	}
	wantError(t, r.do("PATCH", abandoned, []byte("rest")), http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
	want(t, r.do("PATCH", active, []byte("rest")), http.StatusAccepted)
}

// Blobs that no image manifest refers to any more, after the images are
// deleted, are removed once blobGrace has passed; blobs another
// repository's image still refers to stay.
func TestUnreferencedBlobsCollected(t *testing.T) {
	r := newTestRegistry(t)
	config := r.push("app", []byte("{}"))
	only := []byte("a layer only app has")
	shared := []byte("a layer both have")
	r.push("app", only)
	r.push("app", shared)
	want(t, r.do("PUT", "app/manifests/v1", manifestOf(config, only, shared), "Content-Type", mediaOCIManifest), http.StatusCreated)
	r.push("other", []byte("{}"))
	r.push("other", shared)
	want(t, r.do("PUT", "other/manifests/v1", manifestOf(config, shared), "Content-Type", mediaOCIManifest), http.StatusCreated)
	pending := r.push("app", []byte("a layer whose manifest is still coming"))

	if _, err := r.b.BatchDeleteImage(r.ctx, &ecrapi.BatchDeleteImageInput{RepositoryName: aws.String("app"),
		ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}}); err != nil {
		t.Fatal(err)
	}
	if c, err := r.b.Collect(r.ctx); err != nil || c.Blobs != 0 || c.Layers != 0 {
		t.Fatalf("Collect within the grace period = %+v, %v", c, err)
	}
	r.clock.advance(blobGrace + time.Minute)
	r.password = r.b.password(scope.Account, r.clock.now().Add(time.Hour))
	fresh := r.push("app", []byte("a layer pushed just now"))
	// File times are the real clock's; the collector compares them with
	// the injected one, which is now past the grace period.
	os.Chtimes(r.b.blobs.path(fresh), r.clock.now(), r.clock.now())
	c, err := r.b.Collect(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for digest, kept := range map[string]bool{digestOf(only): false, pending: false, digestOf(shared): true, config: true, fresh: true} {
		_, _, err := r.b.blobs.open(digest)
		if (err == nil) != kept {
			t.Errorf("blob %s kept = %v, want %v", digest, err == nil, kept)
		}
	}
	if c.Blobs != 2 || c.Layers != 4 { // app's config, only, shared, pending
		t.Errorf("Collect = %+v, want 2 blobs and 4 layers", c)
	}
	want(t, r.do("HEAD", "other/blobs/"+digestOf(shared), nil), http.StatusOK)
	want(t, r.do("HEAD", "app/blobs/"+digestOf(only), nil), http.StatusNotFound)

	// Deleting the other repository leaves its blobs unreferenced too.
	r.b.DeleteRepository(r.ctx, &ecrapi.DeleteRepositoryInput{RepositoryName: aws.String("other"), Force: true})
	if _, err := r.b.Collect(r.ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.b.blobs.open(digestOf(shared)); err == nil {
		t.Error("a blob of a deleted repository outlived the collection")
	}
}

// The registry's files are berth's user's only: directories 0700, blobs
// and uploads 0600, an existing install's directories tightened.
func TestRegistryFilesPrivate(t *testing.T) {
	r := newTestRegistry(t)
	d := r.push("app", []byte("a layer"))
	r.do("POST", "app/blobs/uploads/", nil)
	uploads, _ := filepath.Glob(filepath.Join(r.dir, "uploads", "*"))
	modes := map[string]os.FileMode{r.dir: 0o700, filepath.Join(r.dir, "blobs", "sha256"): 0o700, filepath.Join(r.dir, "uploads"): 0o700, r.b.blobs.path(d): 0o600}
	for _, u := range uploads {
		modes[u] = 0o600
	}
	for p, mode := range modes {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want mode %v", p, st.Mode().Perm(), err, mode)
		}
	}
	os.Chmod(filepath.Join(r.dir, "blobs"), 0o755)
	os.Chmod(r.b.blobs.path(d), 0o644)
	if _, err := newBlobStore(r.dir); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(r.dir, "blobs")); st.Mode().Perm() != 0o700 {
		t.Errorf("an existing blobs directory stays %v", st.Mode().Perm())
	}
	if st, _ := os.Stat(r.b.blobs.path(d)); st.Mode().Perm() != 0o600 {
		t.Errorf("an existing blob stays %v", st.Mode().Perm())
	}
}

// A token is its account's: GetAuthorizationToken in account A gives a
// password that reaches none of account B's repositories, as an ECR token
// reaches the registries the caller's IAM permissions allow.
// https://docs.aws.amazon.com/AmazonECR/latest/userguide/registry_auth.html
func TestRegistryTokenBoundToAccount(t *testing.T) {
	r := newTestRegistry(t)
	b := backend.Scope{Account: "111111111111", Region: "us-east-1"}
	ctxB := backend.WithScope(r.ctx, b)
	if _, err := r.b.CreateRepository(ctxB, &ecrapi.CreateRepositoryInput{RepositoryName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	const pathB = "/v2/111111111111/us-east-1/app/"
	blob := []byte("account B's layer")
	wantError(t, r.do("POST", pathB+"blobs/uploads/?digest="+digestOf(blob), blob), http.StatusForbidden, "DENIED")
	wantError(t, r.do("GET", pathB+"tags/list", nil), http.StatusForbidden, "DENIED")
	wantError(t, r.do("GET", pathB+"manifests/latest", nil), http.StatusForbidden, "DENIED")

	// B's own token, from the API, works.
	out, err := r.b.GetAuthorizationToken(ctxB, &ecrapi.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	user, password := basicCredentials(t, *out.AuthorizationData[0].AuthorizationToken)
	if user != "AWS" {
		t.Fatalf("token user %q", user)
	}
	r.password = password
	want(t, r.do("POST", pathB+"blobs/uploads/?digest="+digestOf(blob), blob), http.StatusCreated)
	wantError(t, r.do("GET", "app/tags/list", nil), http.StatusForbidden, "DENIED")
}

// basicCredentials decodes an authorization token: base64 of user:password.
func basicCredentials(t *testing.T, token string) (user, password string) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	user, password, _ = strings.Cut(string(raw), ":")
	return user, password
}
