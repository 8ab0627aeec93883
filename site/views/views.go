// Package views embeds the site's html/template files: layouts/, partials/
// and one folder per feature.
package views

import "embed"

// FS holds every template.
//
//go:embed layouts partials pages countries errors staff contact gallery
var FS embed.FS
