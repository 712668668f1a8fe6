//go:build tools

// Package deps pins modules that parts of gridcase under construction will import, so that
// go.mod is not edited by several hands at once. Delete an import here once real code uses it.
package deps

import (
	_ "github.com/google/uuid"
	_ "github.com/paulmach/orb/geojson"
	_ "github.com/xuri/excelize/v2"
)
