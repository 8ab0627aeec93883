// Package static embeds the stylesheet and icon, served under content-hash
// URLs by web.AssetServer.
package static

import "embed"

// FS holds the static files.
//
//go:embed site.css icon.svg
var FS embed.FS
