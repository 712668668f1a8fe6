// Package config reads gridcase's settings from the environment, once, in run.
package config

import (
	"fmt"
	"net/netip"
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

	// BlobURL is where photos are kept, as a gocloud.dev/blob URL: file:///srv/gridcase/blobs
	// for a directory, or s3://bucket?endpoint=https://…&region=… for S3-compatible storage
	// (MinIO, OSS, COS; credentials from the usual AWS_* variables). Empty: DataDir/blobs.
	BlobURL string `env:"GRIDCASE_BLOB_URL"`
	// MaxUploadBytes bounds one photo as sent (15 MiB by default: a phone's photo is 2–8 MB).
	MaxUploadBytes int64 `env:"GRIDCASE_MAX_UPLOAD_BYTES" envDefault:"15728640"`
	// MaxImagePixels bounds width × height, read before decoding (decompression bombs).
	MaxImagePixels int64 `env:"GRIDCASE_MAX_IMAGE_PIXELS" envDefault:"50000000"`

	LogLevel  string `env:"GRIDCASE_LOG_LEVEL" envDefault:"info"`
	LogFormat string `env:"GRIDCASE_LOG_FORMAT" envDefault:"json"`

	// LoginMaxFailures within LoginWindow locks an account or address out for LoginWindow.
	LoginMaxFailures int           `env:"GRIDCASE_LOGIN_MAX_FAILURES" envDefault:"5"`
	LoginWindow      time.Duration `env:"GRIDCASE_LOGIN_WINDOW" envDefault:"15m"`
	// TrustedProxies are the addresses or CIDRs of reverse proxies whose X-Forwarded-For is
	// believed when finding a client's address (for the per-address sign-in limit). Empty:
	// none, the TCP peer is the client.
	TrustedProxies []string `env:"GRIDCASE_TRUSTED_PROXIES" envSeparator:","`

	// RegionRefresh is how often a replica checks whether another changed region boundaries.
	RegionRefresh time.Duration `env:"GRIDCASE_REGION_REFRESH" envDefault:"5s"`
	// CalendarRefresh is how often a replica checks whether another changed a work calendar,
	// stage limits or supervision rules.
	CalendarRefresh time.Duration `env:"GRIDCASE_CALENDAR_REFRESH" envDefault:"5s"`

	// ReopenWindow is how long after closing a case may be reopened (重启).
	ReopenWindow time.Duration `env:"GRIDCASE_REOPEN_WINDOW" envDefault:"168h"`
	// DeskLevel is the level whose desk first holds a new case: street (街道, default),
	// district or city for a centralised centre, community for community desks.
	DeskLevel string `env:"GRIDCASE_DESK_LEVEL" envDefault:"street"`
	// IdempotencyTTL is how long an Idempotency-Key's first response is kept for retries.
	IdempotencyTTL time.Duration `env:"GRIDCASE_IDEMPOTENCY_TTL" envDefault:"168h"`
	// ExportMaxRows caps a case export (GET /cases/export): more matching cases is refused
	// before anything is sent. MapMaxFeatures caps the points of GET /cases.geojson.
	ExportMaxRows  int `env:"GRIDCASE_EXPORT_MAX_ROWS" envDefault:"100000"`
	MapMaxFeatures int `env:"GRIDCASE_MAP_MAX_FEATURES" envDefault:"5000"`

	ShutdownTimeout time.Duration `env:"GRIDCASE_SHUTDOWN_TIMEOUT" envDefault:"20s"`

	// Job queue (River, in the same database). JobsWork=false makes an API-only replica that
	// enqueues jobs but leaves working them to other replicas. JobsPollInterval is how often
	// an idle worker looks for due jobs (PostgreSQL also wakes workers by LISTEN/NOTIFY).
	// JobsRescueAfter is how long a job may run before it is taken for a crashed worker's and
	// run again.
	JobsWork         bool          `env:"GRIDCASE_JOBS_WORK" envDefault:"true"`
	JobsWorkers      int           `env:"GRIDCASE_JOBS_WORKERS" envDefault:"10"`
	JobsPollInterval time.Duration `env:"GRIDCASE_JOBS_POLL_INTERVAL" envDefault:"1s"`
	JobsRescueAfter  time.Duration `env:"GRIDCASE_JOBS_RESCUE_AFTER" envDefault:"10m"`

	// Webhooks (docs/webhooks.md). WebhookAllowHosts lists hosts ("host" or "host:port")
	// that endpoints may reach even though they resolve to loopback, private or link-local
	// addresses (an integrator inside the city's network); nothing else may. WebhookSecretKey
	// (base64 of 32 bytes) seals endpoint secrets in the database; empty: a key generated in
	// DataDir (set it, the same, on every replica). WebhookRetryDelays are the waits between
	// attempts; when they run out a delivery is dead (replay it by hand).
	WebhookAllowHosts     []string        `env:"GRIDCASE_WEBHOOK_ALLOW_HOSTS" envSeparator:","`
	WebhookSecretKey      string          `env:"GRIDCASE_WEBHOOK_SECRET_KEY"`
	WebhookRetryDelays    []time.Duration `env:"GRIDCASE_WEBHOOK_RETRY_DELAYS" envSeparator:"," envDefault:"10s,1m,5m,30m,2h,5h,10h"`
	WebhookTimeout        time.Duration   `env:"GRIDCASE_WEBHOOK_TIMEOUT" envDefault:"10s"`
	WebhookConnectTimeout time.Duration   `env:"GRIDCASE_WEBHOOK_CONNECT_TIMEOUT" envDefault:"5s"`
	WebhookWorkers        int             `env:"GRIDCASE_WEBHOOK_WORKERS" envDefault:"10"`
	WebhookSecretGrace    time.Duration   `env:"GRIDCASE_WEBHOOK_SECRET_GRACE" envDefault:"24h"`
	WebhookRetention      time.Duration   `env:"GRIDCASE_WEBHOOK_RETENTION" envDefault:"720h"`
	// EventsPublishInterval is how often each replica publishes what waits in the event
	// outbox (the safety net behind the publish job); StreamPollInterval how often it looks
	// for new events for its server-sent event streams, which get a heartbeat comment every
	// StreamHeartbeat when idle.
	EventsPublishInterval time.Duration `env:"GRIDCASE_EVENTS_PUBLISH_INTERVAL" envDefault:"500ms"`
	StreamPollInterval    time.Duration `env:"GRIDCASE_STREAM_POLL_INTERVAL" envDefault:"1s"`
	StreamHeartbeat       time.Duration `env:"GRIDCASE_STREAM_HEARTBEAT" envDefault:"15s"`
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
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				return c, fmt.Errorf("GRIDCASE_TRUSTED_PROXIES: %q is neither an address nor a CIDR", p)
			}
		}
	}
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
