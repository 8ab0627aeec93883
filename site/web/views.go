package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/klauspost/compress/gzip"
)

// Views holds every page template, parsed once at start-up. Each page is the
// layout, the partials and one page file that defines "content".
type Views struct {
	pages map[string]*template.Template
}

// ParseViews parses layouts/*.html and partials/*.html with each other
// *.html file under the given folders. A page is named by its path without
// ".html", for example "countries/show".
func ParseViews(fsys fs.FS, folders ...string) (*Views, error) {
	root, err := template.New("").Funcs(template.FuncMap{"has": slices.Contains[[]string], "int": func(n int64) int { return int(n) }}).ParseFS(fsys, "layouts/*.html", "partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layouts: %w", err)
	}
	v := &Views{pages: map[string]*template.Template{}}
	for _, dir := range folders {
		files, err := fs.Glob(fsys, dir+"/*.html")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			t, err := root.Clone()
			if err != nil {
				return nil, err
			}
			if _, err := t.ParseFS(fsys, f); err != nil {
				return nil, fmt.Errorf("web: parse %s: %w", f, err)
			}
			v.pages[strings.TrimSuffix(f, path.Ext(f))] = t
		}
	}
	return v, nil
}

// Execute renders a page into a new buffer.
func (v *Views) Execute(name string, data any) ([]byte, error) {
	t, ok := v.pages[name]
	if !ok {
		return nil, fmt.Errorf("web: no view %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// Render renders a page that differs per request and sends it.
func Render(c *fiber.Ctx, v *Views, name string, data any) error {
	b, err := execute(c, v, name, data)
	if err != nil {
		return err
	}
	return c.Send(b)
}

// execute renders a page and sets the headers every rendered page has.
func execute(c *fiber.Ctx, v *Views, name string, data any) ([]byte, error) {
	b, err := v.Execute(name, data)
	if err != nil {
		return nil, err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return b, nil
}

// RenderCompressed is Render for a page whose only secret, if any, is a
// CSRF token (fresh and salted on every page, so that the compressed size
// cannot reveal it: BREACH). Pages that echo personal data are not
// compressed: use Render.
func RenderCompressed(c *fiber.Ctx, v *Views, name string, data any) error {
	b, err := execute(c, v, name, data)
	if err != nil {
		return err
	}
	return SendCompressed(c, b)
}

// SendCompressed sends body gzipped when the client accepts it. Pages made
// per request are gzipped at level 5 with a pooled writer: on a 27 KB
// gallery page that took 0.09 ms for 5.7 KB, where pooled brotli took
// 0.41 ms at level 4 (5.5 KB) and 0.10 ms at level 1 (6.4 KB), and a
// fresh gzip writer per page took 0.69 ms (go test -bench, 2 cores).
func SendCompressed(c *fiber.Ctx, body []byte) error {
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if !c.Request().Header.HasAcceptEncoding("gzip") {
		return c.Send(body)
	}
	c.Set(fiber.HeaderContentEncoding, "gzip")
	w := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(w)
	var buf bytes.Buffer
	buf.Grow(len(body) / 3)
	w.Reset(&buf)
	_, _ = w.Write(body)
	_ = w.Close()
	return c.Send(buf.Bytes())
}

// gzipWriters are reused across requests: a gzip writer's set-up costs more
// than compressing a page.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, 5)
	return w
}}

// Cached serves a page that is the same for every visitor: rendered on first
// use under key, then served from memory. key must be built from validated
// values only.
func (k *Kit) Cached(c *fiber.Ctx, key, view string, data func() any) error {
	e, err := k.Pages.Get(key, fiber.MIMETextHTMLCharsetUTF8, func() ([]byte, error) {
		return k.Views.Execute(view, data())
	})
	if err != nil {
		return err
	}
	return e.Serve(c, PublicPage)
}
