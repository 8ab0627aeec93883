// Package static embeds the stylesheets and icon, served under content-hash
// URLs by web.AssetServer.
package static

import "embed"

// FS holds the static files.
//
//go:embed site.css staff.css icon.svg
var FS embed.FS
