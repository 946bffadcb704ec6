package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/carebridge/carebridge/adapter/auth"
	"github.com/carebridge/carebridge/adapter/delivery"
	"github.com/carebridge/carebridge/adapter/rest"
)

// Config is the whole configuration of a carebridge process, resolved once:
// defaults, then the YAML file, then CAREBRIDGE_* environment variables,
// then flags.
type Config struct {
	Addr            string        `yaml:"addr"`
	DB              string        `yaml:"db"`
	BaseURL         string        `yaml:"baseUrl"`
	MaxBodyBytes    int64         `yaml:"maxBodyBytes"`
	TimeZone        string        `yaml:"timeZone"`
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`
	Log             LogConfig     `yaml:"log"`
	Search          SearchConfig  `yaml:"search"`
	SQLite          SQLiteConfig  `yaml:"sqlite"`
	Postgres        PGConfig      `yaml:"postgres"`
	Mappings        MappingConfig `yaml:"mappings"`
	HealthCheck     CheckConfig   `yaml:"healthCheck"`
	// Delivery tunes the sending of Subscription notifications.
	Delivery delivery.Config `yaml:"delivery"`
	// Auth configures authentication: the gateway's keys, its clients and
	// the issuers it trusts.
	Auth auth.Config `yaml:"auth"`
	// InsecureNoAuth serves without authentication (serve's
	// --insecure-no-auth; never from the file).
	InsecureNoAuth bool `yaml:"-"`
	// MaxHeaderBytes and MaxURLBytes bound the request line and headers
	// (431 beyond) and the request target (414 beyond).
	MaxHeaderBytes int `yaml:"maxHeaderBytes"`
	MaxURLBytes    int `yaml:"maxUrlBytes"`
	// Timeouts of the HTTP server (see rest.Config): reading the headers,
	// reading the request, writing the response, idle connections, and a
	// handler's work (a long poll gets its wait on top).
	ReadHeaderTimeout time.Duration `yaml:"readHeaderTimeout"`
	ReadTimeout       time.Duration `yaml:"readTimeout"`
	WriteTimeout      time.Duration `yaml:"writeTimeout"`
	IdleTimeout       time.Duration `yaml:"idleTimeout"`
	RequestTimeout    time.Duration `yaml:"requestTimeout"`
	// RateLimit limits each client's requests to the FHIR API.
	RateLimit rest.RateLimit `yaml:"rateLimit"`
	// TLS serves HTTPS, and mutual TLS with a client CA.
	TLS rest.TLSFiles `yaml:"tls"`
}

// CheckConfig configures the annual SMI physical health check: how Tasks
// are raised, and how reports group practices.
type CheckConfig struct {
	// Disabled turns off reconciliation on write (and the health check
	// operations).
	Disabled bool `yaml:"disabled"`
	// Mode is the window Tasks are raised in: rolling (default) or qof.
	Mode string `yaml:"mode"`
	// RulesFile holds thresholds and concept groups; the shipped rules
	// when empty.
	RulesFile string `yaml:"rulesFile"`
	// MinAge leaves out younger people; no minimum when 0.
	MinAge int `yaml:"minAge"`
	// DueSoonTasks also raises Tasks for components about to leave their
	// window.
	DueSoonTasks bool `yaml:"dueSoonTasks"`
	// NoWriteBack turns off the Tasks asking a practice to record a result
	// only the trust has.
	NoWriteBack bool `yaml:"noWriteBack"`
	// PCNs group practices for reports.
	PCNs []PCNConfig `yaml:"pcns"`
}

// PCNConfig is one primary care network: its ODS code and practices.
type PCNConfig struct {
	Code      string   `yaml:"code"`
	Name      string   `yaml:"name"`
	Practices []string `yaml:"practices"`
}

// MappingConfig chooses the mapping profiles: the shipped ones, plus every
// *.yaml profile in Dir, and the profile for writes whose meta.source names
// none.
type MappingConfig struct {
	Dir            string `yaml:"dir"`
	DefaultProfile string `yaml:"defaultProfile"`
}

// LogConfig chooses the log format and level.
type LogConfig struct {
	Format string `yaml:"format"` // json (default) or text
	Level  string `yaml:"level"`  // debug, info, warn, error
}

// SearchConfig bounds search pages.
type SearchConfig struct {
	DefaultCount int `yaml:"defaultCount"`
	MaxCount     int `yaml:"maxCount"`
}

// SQLiteConfig tunes the embedded database.
type SQLiteConfig struct {
	Synchronous string `yaml:"synchronous"` // FULL (default) or NORMAL
}

// PGConfig tunes the PostgreSQL connection pool.
type PGConfig struct {
	MaxConns int `yaml:"maxConns"`
}

func defaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DB:              "sqlite:carebridge.db",
		MaxBodyBytes:    16 << 20,
		TimeZone:        "Europe/London",
		ShutdownTimeout: 20 * time.Second,
		Log:             LogConfig{Format: "json", Level: "info"},
		Search:          SearchConfig{DefaultCount: 50, MaxCount: 1000},
		SQLite:          SQLiteConfig{Synchronous: "FULL"},
		Postgres:        PGConfig{MaxConns: 16},
		HealthCheck:     CheckConfig{Mode: "rolling"},
		Delivery:        delivery.DefaultConfig(),

		// HTTP limits and timeouts.
		MaxHeaderBytes:    rest.DefaultMaxHeaderBytes,
		MaxURLBytes:       rest.DefaultMaxURLBytes,
		ReadHeaderTimeout: rest.DefaultReadHeaderTimeout,
		ReadTimeout:       rest.DefaultReadTimeout,
		WriteTimeout:      rest.DefaultWriteTimeout,
		IdleTimeout:       rest.DefaultIdleTimeout,
		RequestTimeout:    rest.DefaultRequestTimeout,
		// A practice's poller asks every few seconds; a trust's bulk load
		// sends bundles back to back. 50 a second with bursts of 100 lets
		// both through and stops a runaway loop.
		RateLimit: rest.RateLimit{Limit: rest.Limit{RequestsPerSecond: 50, Burst: 100}},
	}
}

// setting is one scalar setting that a flag and an environment variable
// can set; YAML sets the same field through its tag.
type setting struct {
	flag  string
	usage string
	value func(*Config) string
	set   func(*Config, string) error
}

// envName is the environment variable of a flag: --max-body-bytes is
// CAREBRIDGE_MAX_BODY_BYTES.
func envName(flag string) string {
	return "CAREBRIDGE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// settings are the flags of the commands that run a gateway.
var settings = []setting{
	{"addr", "address to listen on (host:port)",
		func(c *Config) string { return c.Addr },
		func(c *Config, v string) error { c.Addr = v; return nil }},
	{"db", "database: sqlite:PATH for the embedded database, or a postgres:// URL",
		func(c *Config) string { return c.DB },
		func(c *Config, v string) error { c.DB = v; return nil }},
	{"base-url", "public FHIR base URL for links and Location headers (default: from each request's Host)",
		func(c *Config) string { return c.BaseURL },
		func(c *Config, v string) error { c.BaseURL = v; return nil }},
	{"max-body-bytes", "largest request body accepted; larger ones get 413",
		func(c *Config) string { return strconv.FormatInt(c.MaxBodyBytes, 10) },
		func(c *Config, v string) error { return parseInt(v, &c.MaxBodyBytes) }},
	countSetting("max-header-bytes", "largest request line and headers accepted; larger ones get 431",
		func(c *Config) *int { return &c.MaxHeaderBytes }),
	countSetting("max-url-bytes", "longest request URL (path and query) accepted; longer ones get 414",
		func(c *Config) *int { return &c.MaxURLBytes }),
	durationSetting("read-header-timeout", "how long a client may take to send the request headers",
		func(c *Config) *time.Duration { return &c.ReadHeaderTimeout }),
	durationSetting("read-timeout", "how long a client may take to send the whole request",
		func(c *Config) *time.Duration { return &c.ReadTimeout }),
	durationSetting("write-timeout", "how long a request may take from its headers to the end of the response (long polls get their wait on top)",
		func(c *Config) *time.Duration { return &c.WriteTimeout }),
	durationSetting("idle-timeout", "how long an idle keep-alive connection stays open",
		func(c *Config) *time.Duration { return &c.IdleTimeout }),
	durationSetting("request-timeout", "how long a handler may work on a request before it answers 503 (long polls get their wait on top)",
		func(c *Config) *time.Duration { return &c.RequestTimeout }),
	{"rate-limit-rps", "requests per second each client may send to the FHIR API; 0 turns rate limiting off",
		func(c *Config) string { return strconv.FormatFloat(c.RateLimit.RequestsPerSecond, 'g', -1, 64) },
		func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("%q is not a number", v)
			}
			c.RateLimit.RequestsPerSecond = f
			return nil
		}},
	countSetting("rate-limit-burst", "requests each client may send at once after a quiet spell",
		func(c *Config) *int { return &c.RateLimit.Burst }),
	textSetting("tls-cert", "PEM certificate chain: serve HTTPS (reloaded when the file changes)",
		func(c *Config) *string { return &c.TLS.CertFile }),
	textSetting("tls-key", "PEM private key of --tls-cert",
		func(c *Config) *string { return &c.TLS.KeyFile }),
	textSetting("tls-client-ca", "PEM CA bundle: require mutual TLS, with client certificates issued by these CAs",
		func(c *Config) *string { return &c.TLS.ClientCAFile }),
	{"timezone", "time zone of dates sent without one",
		func(c *Config) string { return c.TimeZone },
		func(c *Config, v string) error { c.TimeZone = v; return nil }},
	{"log-format", "log format: json or text",
		func(c *Config) string { return c.Log.Format },
		func(c *Config, v string) error { c.Log.Format = v; return nil }},
	{"log-level", "log level: debug, info, warn or error",
		func(c *Config) string { return c.Log.Level },
		func(c *Config, v string) error { c.Log.Level = v; return nil }},
	{"mappings-dir", "folder of extra mapping profiles (*.yaml), added to the shipped ones",
		func(c *Config) string { return c.Mappings.Dir },
		func(c *Config, v string) error { c.Mappings.Dir = v; return nil }},
	{"default-profile", "mapping profile for writes whose meta.source names no profile (default: such writes are stored but not mapped)",
		func(c *Config) string { return c.Mappings.DefaultProfile },
		func(c *Config, v string) error { c.Mappings.DefaultProfile = v; return nil }},
	{"check-mode", "health check window for Tasks: rolling (12 months to today) or qof (1 April to 31 March)",
		func(c *Config) string { return c.HealthCheck.Mode },
		func(c *Config, v string) error { c.HealthCheck.Mode = v; return nil }},
	{"sqlite-synchronous", "SQLite synchronous mode: FULL (no acknowledged write is lost on power failure) or NORMAL (faster)",
		func(c *Config) string { return c.SQLite.Synchronous },
		func(c *Config, v string) error { c.SQLite.Synchronous = v; return nil }},
	{"auth-keys-dir", "directory of the gateway's token signing keys (*.pem); the newest signs, all are published",
		func(c *Config) string { return c.Auth.KeysDir },
		func(c *Config, v string) error { c.Auth.KeysDir = v; return nil }},
	{"auth-issuer", "iss and aud of the access tokens the gateway issues (default: --base-url)",
		func(c *Config) string { return c.Auth.Issuer },
		func(c *Config, v string) error { c.Auth.Issuer = v; return nil }},
	countSetting("delivery-max-attempts", "attempts at a Subscription notification before it is dead",
		func(c *Config) *int { return &c.Delivery.MaxAttempts }),
	durationSetting("delivery-backoff-base", "wait before a notification's second attempt, at most; doubled per attempt",
		func(c *Config) *time.Duration { return &c.Delivery.BackoffBase }),
	durationSetting("delivery-backoff-cap", "longest wait between two attempts at a notification",
		func(c *Config) *time.Duration { return &c.Delivery.BackoffCap }),
	durationSetting("delivery-attempt-timeout", "how long one attempt at a notification may take",
		func(c *Config) *time.Duration { return &c.Delivery.AttemptTimeout }),
	countSetting("delivery-quick-retries", "quick retries of a failed connection within one attempt (0 for none)",
		func(c *Config) *int { return &c.Delivery.QuickRetries }),
	countSetting("delivery-workers", "notifications sent at once",
		func(c *Config) *int { return &c.Delivery.Workers }),
	countSetting("delivery-batch", "most notifications claimed at once",
		func(c *Config) *int { return &c.Delivery.Batch }),
	durationSetting("delivery-poll-interval", "how often the outbox is looked at for retries due and what other gateways queued",
		func(c *Config) *time.Duration { return &c.Delivery.PollInterval }),
	durationSetting("delivery-lease", "how long a claimed notification is kept from other gateways",
		func(c *Config) *time.Duration { return &c.Delivery.Lease }),
	durationSetting("delivery-retention", "how long delivered notifications stay in the outbox",
		func(c *Config) *time.Duration { return &c.Delivery.Retention }),
}

// textSetting is a setting holding text, such as a file name.
func textSetting(flag, usage string, field func(*Config) *string) setting {
	return setting{flag, usage,
		func(c *Config) string { return *field(c) },
		func(c *Config, v string) error { *field(c) = v; return nil }}
}

// countSetting is a setting holding a whole number.
func countSetting(flag, usage string, field func(*Config) *int) setting {
	return setting{flag, usage,
		func(c *Config) string { return strconv.Itoa(*field(c)) },
		func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			*field(c) = n
			return nil
		}}
}

// durationSetting is a setting holding a duration such as 10s or 5m.
func durationSetting(flag, usage string, field func(*Config) *time.Duration) setting {
	return setting{flag, usage,
		func(c *Config) string { return field(c).String() },
		func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration such as 10s or 5m", v)
			}
			*field(c) = d
			return nil
		}}
}

func parseInt(v string, dst *int64) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", v)
	}
	*dst = n
	return nil
}

// addSettingFlags registers --config and the settings as flags of fs.
func addSettingFlags(fs *pflag.FlagSet, only ...string) {
	def := defaultConfig()
	fs.String("config", "", "YAML configuration file (env CAREBRIDGE_CONFIG)")
	for _, s := range settings {
		if len(only) > 0 && !contains(only, s.flag) {
			continue
		}
		fs.String(s.flag, s.value(&def), s.usage+" (env "+envName(s.flag)+")")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// loadConfig resolves the configuration for a command whose flags are fs.
func loadConfig(fs *pflag.FlagSet, getenv func(string) string) (Config, error) {
	cfg := defaultConfig()
	path := getenv("CAREBRIDGE_CONFIG")
	if f := fs.Lookup("config"); f != nil && f.Changed {
		path = f.Value.String()
	}
	if path != "" {
		if err := readYAML(path, &cfg); err != nil {
			return cfg, err
		}
	}
	for _, s := range settings {
		f := fs.Lookup(s.flag)
		if f == nil {
			continue
		}
		v, from := getenv(envName(s.flag)), envName(s.flag)
		if f.Changed {
			v, from = f.Value.String(), "--"+s.flag
		}
		if v == "" {
			continue
		}
		if err := s.set(&cfg, v); err != nil {
			return cfg, fmt.Errorf("%s: %w", from, err)
		}
	}
	return cfg, cfg.check()
}

func readYAML(path string, cfg *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read configuration: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF: it sets nothing.
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("configuration %s: %w", path, err)
	}
	return nil
}

// check refuses settings that cannot work, before anything starts.
func (c Config) check() error {
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return fmt.Errorf("time zone %q: %w", c.TimeZone, err)
	}
	if err := c.checkHTTP(); err != nil {
		return err
	}
	switch strings.ToLower(c.Log.Format) {
	case "json", "text":
	default:
		return fmt.Errorf("log format %q: use json or text", c.Log.Format)
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		return err
	}
	switch c.HealthCheck.Mode {
	case "rolling", "qof":
	default:
		return fmt.Errorf("health check mode %q: use rolling or qof", c.HealthCheck.Mode)
	}
	for _, p := range c.HealthCheck.PCNs {
		if p.Code == "" || len(p.Practices) == 0 {
			return fmt.Errorf("health check PCN %q: a PCN needs a code and at least one practice", p.Name)
		}
	}
	switch strings.ToUpper(c.SQLite.Synchronous) {
	case "FULL", "NORMAL":
	default:
		return fmt.Errorf("sqlite synchronous %q: use FULL or NORMAL", c.SQLite.Synchronous)
	}
	return c.Delivery.Check()
}

// checkHTTP refuses limits and timeouts the HTTP server cannot work with.
func (c Config) checkHTTP() error {
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("max body size %d is too small; allow at least 1024 bytes", c.MaxBodyBytes)
	}
	if c.MaxHeaderBytes < 4096 {
		return fmt.Errorf("max header size %d is too small; allow at least 4096 bytes", c.MaxHeaderBytes)
	}
	if c.MaxURLBytes < 1024 {
		return fmt.Errorf("max URL length %d is too small; allow at least 1024 bytes", c.MaxURLBytes)
	}
	for name, d := range map[string]time.Duration{
		"read header timeout": c.ReadHeaderTimeout, "read timeout": c.ReadTimeout,
		"write timeout": c.WriteTimeout, "idle timeout": c.IdleTimeout, "request timeout": c.RequestTimeout,
	} {
		if d <= 0 {
			return fmt.Errorf("%s %s: use a duration above zero", name, d)
		}
	}
	if c.WriteTimeout <= c.RequestTimeout {
		return fmt.Errorf("write timeout %s must exceed the request timeout %s, so that a request out of time can still be answered", c.WriteTimeout, c.RequestTimeout)
	}
	if err := c.RateLimit.Check(); err != nil {
		return err
	}
	return c.TLS.Check()
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log level %q: use debug, info, warn or error", s)
	}
	return l, nil
}
