// Package config reads gridcase's settings from the environment, once, in run.
package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is every setting of the service. Defaults make `make run` work with no set-up.
type Config struct {
	HTTPAddr string `env:"GRIDCASE_HTTP_ADDR" envDefault:":8080"`
	// PublicURL is where people reach the server; used in printed links and Open311 discovery.
	PublicURL string `env:"GRIDCASE_PUBLIC_URL"`
	// DatabaseURL is postgres://… for PostgreSQL, or a SQLite file path (optionally file:…).
	DatabaseURL string `env:"GRIDCASE_DATABASE_URL" envDefault:"./data/gridcase.db"`
	// DataDir holds the SQLite file, generated keys and uploaded files by default.
	DataDir string `env:"GRIDCASE_DATA_DIR" envDefault:"./data"`

	// JWTPrivateKey is a PEM PKCS#8 Ed25519 private key that signs access tokens. Empty: a key
	// is generated once and kept in DataDir (fine for one replica; set it for several).
	JWTPrivateKey string `env:"GRIDCASE_JWT_PRIVATE_KEY"`
	// JWTPreviousKeys are PEM public (or private) keys still accepted after a rotation.
	JWTPreviousKeys string        `env:"GRIDCASE_JWT_PREVIOUS_KEYS"`
	JWTIssuer       string        `env:"GRIDCASE_JWT_ISSUER" envDefault:"gridcase"`
	JWTAudience     string        `env:"GRIDCASE_JWT_AUDIENCE" envDefault:"gridcase-api"`
	AccessTTL       time.Duration `env:"GRIDCASE_ACCESS_TTL" envDefault:"15m"`
	RefreshTTL      time.Duration `env:"GRIDCASE_REFRESH_TTL" envDefault:"720h"`

	// BootstrapAdminPassword creates user admin with this password when no user exists.
	BootstrapAdminPassword string `env:"GRIDCASE_BOOTSTRAP_ADMIN_PASSWORD"`
	// Demo loads the Nantong demo city into an empty database on start.
	Demo bool `env:"GRIDCASE_DEMO" envDefault:"false"`

	CORSOrigins  []string `env:"GRIDCASE_CORS_ORIGINS" envSeparator:","`
	MaxBodyBytes int64    `env:"GRIDCASE_MAX_BODY_BYTES" envDefault:"1048576"`
	// MaxImportBytes bounds a GeoJSON region import.
	MaxImportBytes int64 `env:"GRIDCASE_MAX_IMPORT_BYTES" envDefault:"20971520"`

	LogLevel  string `env:"GRIDCASE_LOG_LEVEL" envDefault:"info"`
	LogFormat string `env:"GRIDCASE_LOG_FORMAT" envDefault:"json"`

	// LoginMaxFailures within LoginWindow locks an account or address out for LoginWindow.
	LoginMaxFailures int           `env:"GRIDCASE_LOGIN_MAX_FAILURES" envDefault:"5"`
	LoginWindow      time.Duration `env:"GRIDCASE_LOGIN_WINDOW" envDefault:"15m"`

	// RegionRefresh is how often a replica checks whether another changed region boundaries.
	RegionRefresh time.Duration `env:"GRIDCASE_REGION_REFRESH" envDefault:"5s"`

	ShutdownTimeout time.Duration `env:"GRIDCASE_SHUTDOWN_TIMEOUT" envDefault:"20s"`
}

// Parse reads the configuration from getenv.
func Parse(getenv func(string) string) (Config, error) {
	var c Config
	environ := map[string]string{}
	for _, k := range keys() {
		if v := getenv(k); v != "" {
			environ[k] = v
		}
	}
	if err := env.ParseWithOptions(&c, env.Options{Environment: environ}); err != nil {
		return c, fmt.Errorf("parse configuration: %w", err)
	}
	if c.PublicURL == "" {
		host := c.HTTPAddr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		c.PublicURL = "http://" + host
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	return c, nil
}

// IsPostgres reports whether the database URL names PostgreSQL.
func (c Config) IsPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

func keys() []string {
	ks, _ := env.GetFieldParams(&Config{})
	out := make([]string, 0, len(ks))
	for _, k := range ks {
		out = append(out, k.Key)
	}
	return out
}
