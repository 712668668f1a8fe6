//go:build tools

// Package deps pins modules that parts of gridcase under construction will import, so that
// go.mod is not edited by several hands at once. Delete an import here once real code uses it.
package deps

import (
	_ "github.com/disintegration/imaging"
	_ "github.com/gabriel-vasile/mimetype"
	_ "github.com/google/uuid"
	_ "github.com/paulmach/orb"
	_ "github.com/paulmach/orb/geojson"
	_ "github.com/paulmach/orb/planar"
	_ "github.com/riverqueue/river"
	_ "github.com/riverqueue/river/riverdriver/riverdatabasesql"
	_ "github.com/riverqueue/river/riverdriver/riverpgxv5"
	_ "github.com/riverqueue/river/riverdriver/riversqlite"
	_ "github.com/tidwall/rtree"
	_ "github.com/xuri/excelize/v2"
	_ "gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/s3blob"
	_ "golang.org/x/crypto/argon2"
	_ "golang.org/x/term"
)
