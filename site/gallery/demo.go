package gallery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"image/png"
	"math/rand/v2"
	"time"

	"github.com/familylinks/familylinks/content/vocab"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/photo"
	"github.com/familylinks/familylinks/site/store"
)

// DemoSociety publishes the demo entries. The public never sees it, and
// information about a demo photo is refused rather than sent to it.
const DemoSociety = "ch"

// SeedDemo publishes n demo entries whose photos are generated
// silhouettes, never faces, each marked as a demonstration on the site.
// Two disabled accounts, which nobody can sign in with, create and approve
// them. It returns how many it published.
func SeedDemo(ctx context.Context, st *store.Store, keys *crypt.Keyring, n int) (int, error) {
	var ids [2]int64
	for i, email := range []string{"demo-publisher@familylinks.invalid", "demo-approver@familylinks.invalid"} {
		a, err := st.DemoStaff(ctx, email, DemoSociety)
		if err != nil {
			return 0, fmt.Errorf("gallery: %w", err)
		}
		ids[i] = a.ID
	}
	origins := []string{"af", "sy", "so", "er", "ua", "sd", "ss", "ye", "iq", "cd", "et", "mm"}
	rels := vocab.Relationships.Codes()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	made := 0
	for i := 0; i < n; i++ {
		var buf bytes.Buffer
		if err := png.Encode(&buf, photo.Silhouette(r.Int64(), 600, 750)); err != nil {
			return made, err
		}
		ds, err := photo.Process(&buf)
		if err != nil {
			return made, err
		}
		photos := make([]store.Photo, len(ds))
		for j, d := range ds {
			sum := sha256.Sum256(d.JPEG)
			photos[j] = store.Photo{Width: d.Width, Height: d.Height, JPEG: d.JPEG, ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
		}
		seeking := []string{rels[r.IntN(len(rels))]}
		if r.IntN(3) == 0 {
			if extra := rels[r.IntN(len(rels))]; extra != seeking[0] {
				seeking = append(seeking, extra)
			}
		}
		ref := "TTF-" + demoRef(r)
		kid, sealed := keys.SealAt([]byte("DEMO"), crypt.GalleryCase(ref))
		e, err := st.CreateGalleryEntry(ctx, store.GalleryEntry{
			Ref: ref, Society: DemoSociety, Gender: vocab.Genders.Codes()[r.IntN(2)], AgeGroup: vocab.AgeGroups.Codes()[r.IntN(5)],
			Seeking: seeking, Origin: origins[r.IntN(len(origins))], Languages: []string{},
			CaseKeyID: kid, CaseSealed: sealed, ConsentDate: time.Now(), ConsentFormVersion: "demo",
			ConsentRecordedBy: "demo", ReviewDate: time.Now().AddDate(1, 0, 0), CreatedBy: ids[0], Demo: true,
		}, photos)
		if err != nil {
			return made, err
		}
		if err := st.ApproveGalleryEntry(ctx, e.ID, ids[1]); err != nil {
			return made, err
		}
		made++
	}
	return made, nil
}

func demoRef(r *rand.Rand) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 5)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}
