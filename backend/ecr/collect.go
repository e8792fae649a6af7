package ecr

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"berth/backend"
	"berth/sqlite"
)

// What berth collects, so that the registry's disk use follows what its
// repositories hold: uploads nobody finishes (after uploadIdle), and
// blobs no image manifest refers to any more (after BatchDeleteImage,
// DeleteRepository, or a push that never put its manifest).

// blobGrace is how long a blob that no manifest refers to is kept: a push
// uploads its blobs before the manifest that refers to them.
const blobGrace = time.Hour

// collectEvery is how often Run collects.
const collectEvery = 5 * time.Minute

// Run collects abandoned uploads and unreferenced blobs every
// collectEvery until ctx ends.
func (b *Backend) Run(ctx context.Context) {
	backend.Every(ctx, collectEvery, func(ctx context.Context) { b.Collect(ctx) })
}

// Collected says what one collection removed.
type Collected struct {
	Uploads, Layers, Blobs int
}

// Collect ends the uploads idle for uploadIdle, forgets the layers of a
// repository that none of its image manifests refers to and that were
// linked more than blobGrace ago, and removes the blob files that no
// repository holds any more and that are older than blobGrace.
func (b *Backend) Collect(ctx context.Context) (Collected, error) {
	out := Collected{Uploads: b.uploads.expire()}
	now := b.env.Clock()
	held := map[string]bool{} // digests some repository still holds
	err := b.store.Update(ctx, func(tx *sqlite.Tx) error {
		referenced := map[sqlite.Key]bool{} // layer keys an image manifest refers to
		images, err := sqlite.ScanAll[image](tx, kindImage, "")
		if err != nil {
			return err
		}
		for _, img := range images {
			k := img.Key
			repo := k.ID[:strings.LastIndex(k.ID, "@")]
			for _, d := range img.Value.References {
				referenced[sqlite.Key{Account: k.Account, Region: k.Region, Kind: kindLayer, ID: imageID(repo, d)}] = true
			}
		}
		layers, err := sqlite.ScanAll[layer](tx, kindLayer, "")
		if err != nil {
			return err
		}
		var stale []sqlite.Key
		for _, l := range layers {
			if referenced[l.Key] || now.Sub(l.Value.Linked) < blobGrace {
				held[l.Key.ID[strings.LastIndex(l.Key.ID, "@")+1:]] = true
				continue
			}
			stale = append(stale, l.Key)
		}
		for _, k := range stale {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		out.Layers = len(stale)
		return nil
	})
	if err != nil {
		return out, err
	}
	files, err := os.ReadDir(filepath.Join(b.blobs.dir, "blobs", "sha256"))
	if err != nil {
		return out, err
	}
	var unheld []string
	for _, f := range files {
		digest := "sha256:" + f.Name()
		if info, err := f.Info(); err == nil && !held[digest] && now.Sub(info.ModTime()) >= blobGrace {
			unheld = append(unheld, digest)
		}
	}
	if len(unheld) == 0 {
		return out, nil
	}
	// A push or mount since the scan may hold one again.
	err = b.store.View(ctx, func(tx *sqlite.Tx) error {
		return tx.Scan(kindLayer, "", func(k sqlite.Key, _ []byte) error {
			held[k.ID[strings.LastIndex(k.ID, "@")+1:]] = true
			return nil
		})
	})
	if err != nil {
		return out, err
	}
	for _, digest := range unheld {
		if !held[digest] && os.Remove(b.blobs.path(digest)) == nil {
			out.Blobs++
		}
	}
	return out, nil
}
