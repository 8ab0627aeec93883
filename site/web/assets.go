package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Assets are the URLs of the static files, each carrying a hash of its
// content so that it can be cached for a year.
type Assets struct {
	CSS  string
	Icon string
}

// AssetServer serves the embedded static files under content-hash URLs.
type AssetServer struct {
	byURL map[string]*Entry
	urls  map[string]string // file name → URL
}

// LoadAssets reads every file of fsys and gives it a URL /static/name.HASH.ext.
func LoadAssets(fsys fs.FS) (*AssetServer, error) {
	s := &AssetServer{byURL: map[string]*Entry{}, urls: map[string]string{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ext := path.Ext(p)
		url := "/static/" + strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		ctype := mime.TypeByExtension(ext)
		if strings.HasPrefix(ctype, "text/") && !strings.Contains(ctype, "charset") {
			ctype += "; charset=utf-8"
		}
		s.byURL[url] = NewEntry(ctype, b)
		s.urls[p] = url
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	return s, nil
}

// URL returns the content-hash URL of a file, or "" if there is none.
func (s *AssetServer) URL(name string) string { return s.urls[name] }

// Entry returns the cached entry behind an asset URL.
func (s *AssetServer) Entry(url string) (*Entry, bool) {
	e, ok := s.byURL[url]
	return e, ok
}

// Handler serves /static/*: an unknown name is a 404, a known one is
// immutable.
func (s *AssetServer) Handler(c *fiber.Ctx) error {
	e, ok := s.byURL[c.Path()]
	if !ok {
		return NotFound()
	}
	return e.Serve(c, "public, max-age=31536000, immutable")
}
