package ecr

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"berth/backend"
	"berth/sqlite"
)

// blobStore keeps blobs as files named by their digest, written whole
// before they are renamed into place, so a blob file is always complete.
// Only berth's user may read them: directories are 0700 (those of an
// existing install are tightened) and files 0600.
type blobStore struct{ dir string }

func newBlobStore(dir string) (*blobStore, error) {
	for _, sub := range []string{"", "blobs", "blobs/sha256", "uploads"} {
		if err := sqlite.Private(filepath.Join(dir, sub)); err != nil {
			return nil, err
		}
	}
	// Blobs an older berth wrote world-readable are made private too.
	blobs, _ := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	for _, b := range blobs {
		if info, err := b.Info(); err == nil && info.Mode().Perm() != 0o600 {
			os.Chmod(filepath.Join(dir, "blobs", "sha256", b.Name()), 0o600)
		}
	}
	// Uploads live as long as the process that started them.
	stale, _ := filepath.Glob(filepath.Join(dir, "uploads", "*"))
	for _, f := range stale {
		os.Remove(f)
	}
	return &blobStore{dir: dir}, nil
}

// reset removes every blob.
func (s *blobStore) reset() error {
	dir := filepath.Join(s.dir, "blobs")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return sqlite.Private(filepath.Join(dir, "sha256"))
}

func (s *blobStore) path(digest string) string {
	return filepath.Join(s.dir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

// open opens a blob with its size.
func (s *blobStore) open(digest string) (*os.File, int64, error) {
	f, err := os.Open(s.path(digest))
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// uploads are the blob uploads in progress, by id.
type uploads struct {
	blobs *blobStore
	clock backend.Clock
	mu    sync.Mutex
	open  map[string]*upload
}

func newUploads(blobs *blobStore, clock backend.Clock) *uploads {
	return &uploads{blobs: blobs, clock: clock, open: map[string]*upload{}}
}

// upload is one blob upload: a file it is written to and the digest of
// what it holds so far.
type upload struct {
	mu    sync.Mutex // held by the request that writes to the upload
	scope backend.Scope
	repo  string
	file  *os.File
	hash  hash.Hash
	size  int64
	used  time.Time // when a request last found it; under uploads.mu
}

// start starts an upload to a repository.
func (u *uploads) start(id string, s backend.Scope, repo string) (*upload, error) {
	f, err := os.OpenFile(filepath.Join(u.blobs.dir, "uploads", id), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	up := &upload{scope: s, repo: repo, file: f, hash: sha256.New(), used: u.clock()}
	u.mu.Lock()
	u.open[id] = up
	u.mu.Unlock()
	return up, nil
}

// get returns the upload id to a repository, or nil.
func (u *uploads) get(id string, s backend.Scope, repo string) *upload {
	u.mu.Lock()
	defer u.mu.Unlock()
	up := u.open[id]
	if up == nil || up.scope != s || up.repo != repo {
		return nil
	}
	up.used = u.clock()
	return up
}

// uploadIdle is how long an upload may go without a request before it is
// abandoned: its file closed and removed. A client that comes back later
// gets BLOB_UPLOAD_UNKNOWN and starts over, as the distribution spec
// allows a registry to expire uploads.
const uploadIdle = 15 * time.Minute

// expire ends the uploads no request has used for uploadIdle, except one
// that a request is writing to now. It returns how many it ended.
func (u *uploads) expire() int {
	now := u.clock()
	u.mu.Lock()
	var idle []*upload
	for id, up := range u.open {
		if now.Sub(up.used) < uploadIdle || !up.mu.TryLock() {
			continue
		}
		delete(u.open, id)
		idle = append(idle, up)
	}
	u.mu.Unlock()
	for _, up := range idle {
		up.file.Close()
		os.Remove(up.file.Name())
		up.mu.Unlock()
	}
	return len(idle)
}

// count returns how many uploads are open.
func (u *uploads) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.open)
}

// reset ends every upload.
func (u *uploads) reset() {
	u.mu.Lock()
	ids := make([]string, 0, len(u.open))
	for id := range u.open {
		ids = append(ids, id)
	}
	u.mu.Unlock()
	for _, id := range ids {
		u.end(id)
	}
}

// end forgets an upload and removes its file.
func (u *uploads) end(id string) {
	u.mu.Lock()
	up := u.open[id]
	delete(u.open, id)
	u.mu.Unlock()
	if up != nil {
		up.file.Close()
		os.Remove(up.file.Name())
	}
}

// write appends r to the upload in large chunks (blobs are big), each
// hashed while it is written.
func (up *upload) write(r io.Reader) error {
	buf := make([]byte, 1<<20)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			hashed := make(chan struct{})
			go func() { up.hash.Write(buf[:n]); close(hashed) }()
			_, werr := up.file.Write(buf[:n])
			<-hashed
			if werr != nil {
				return werr
			}
			up.size += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// errDigestMismatch says an upload does not hold the blob its digest
// names.
var errDigestMismatch = errors.New("digest mismatch")

// commit moves an upload's file into the store as the blob digest, if
// that is what it holds.
func (u *uploads) commit(id string, up *upload, digest string) error {
	if got := "sha256:" + hex.EncodeToString(up.hash.Sum(nil)); got != digest {
		u.end(id)
		return errDigestMismatch
	}
	if err := os.Rename(up.file.Name(), u.blobs.path(digest)); err != nil {
		return err
	}
	u.mu.Lock()
	delete(u.open, id)
	u.mu.Unlock()
	return up.file.Close()
}
