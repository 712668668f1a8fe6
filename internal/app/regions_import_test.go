package app_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridcase/gridcase/internal/app"
)

const importFile = `{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"320613","name":"崇川区","level":"district","parent_code":"320600"},
  "geometry":{"type":"Polygon","coordinates":[[[120.5,31.5],[121,31.5],[121,32.5],[120.5,32.5],[120.5,31.5]]]}},
 {"type":"Feature","properties":{"code":"320600","name":"南通市","level":"city"},"geometry":null},
 {"type":"Feature","properties":{"code":"320613002","name":"坏街道","level":"street","parent_code":"320613"},
  "geometry":{"type":"Polygon","coordinates":[[[120,32],[120.1,32.1],[120.1,32],[120,32.1],[120,32]]]}}
]}`

func TestImportRegionsCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "regions.geojson")
	if err := os.WriteFile(file, []byte(importFile), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GRIDCASE_DATABASE_URL": filepath.Join(dir, "g.db"), "GRIDCASE_DATA_DIR": dir, "GRIDCASE_LOG_LEVEL": "error"}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := app.Run(context.Background(), args, func(k string) string { return env[k] }, &out)
		return out.String(), err
	}

	out, err := run("import", "regions", "-dry-run", file)
	if err == nil || !strings.Contains(err.Error(), "nothing was written") || !strings.Contains(out, "2 created, 0 updated, 0 unchanged, 1 invalid") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, err = run("import", "regions", file)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 features were invalid") {
		t.Fatalf("want a failing exit for the invalid feature, got %v", err)
	}
	for _, want := range []string{
		"checking 3/3 features\n", "saving 2/2 features\n",
		"imported 3 features in", "2 created, 0 updated, 0 unchanged, 1 invalid",
		"feature 2 (320613002) is invalid:", "geometry.coordinates[0] [self_intersection]:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\r") {
		t.Errorf("a progress bar was drawn on a non-terminal:\n%q", out)
	}

	// Again, without the bad feature: everything is unchanged and the command succeeds.
	good := strings.Replace(importFile, `"geometry":{"type":"Polygon","coordinates":[[[120,32],[120.1,32.1],[120.1,32],[120,32.1],[120,32]]]}`,
		`"geometry":null`, 1)
	if err := os.WriteFile(file, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run("import", "regions", file)
	if err != nil || !strings.Contains(out, "1 created, 0 updated, 2 unchanged, 0 invalid") {
		t.Fatalf("second import: %v\n%s", err, out)
	}
	if _, err := run("import", "regions"); err == nil {
		t.Fatal("no file accepted")
	}
	if _, err := run("import", "regions", filepath.Join(dir, "missing.geojson")); err == nil {
		t.Fatal("missing file accepted")
	}
}
