package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

var settingName = regexp.MustCompile(`GRIDCASE_[A-Z0-9_]*[A-Z0-9]`)

// TestEverySettingIsDocumented keeps docs/configuration.md true: every GRIDCASE_* variable
// the service reads must be described there, and nothing there may be stale.
func TestEverySettingIsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	known := map[string]bool{}
	for _, k := range keys() {
		known[k] = true
		if !strings.Contains(doc, "`"+k+"`") {
			t.Errorf("%s is not described in docs/configuration.md", k)
		}
	}
	for _, w := range settingName.FindAllString(doc, -1) {
		if !known[w] && !strings.HasPrefix(w, "GRIDCASE_TEST_") {
			t.Errorf("docs/configuration.md describes %s, which the service does not read", w)
		}
	}
}

func TestParseDefaultsAndOverrides(t *testing.T) {
	env := map[string]string{"GRIDCASE_HTTP_ADDR": "127.0.0.1:9000", "GRIDCASE_ACCESS_TTL": "5m", "GRIDCASE_CORS_ORIGINS": "https://a.example,https://b.example"}
	c, err := Parse(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:9000" || c.AccessTTL != 5*time.Minute || len(c.CORSOrigins) != 2 {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if c.DatabaseURL != "./data/gridcase.db" || c.PublicURL != "http://127.0.0.1:9000" || c.IsPostgres() {
		t.Fatalf("defaults: %q %q", c.DatabaseURL, c.PublicURL)
	}
	if _, err := Parse(func(k string) string {
		if k == "GRIDCASE_ACCESS_TTL" {
			return "soon"
		}
		return ""
	}); err == nil {
		t.Fatal("a malformed duration must be refused")
	}
}
