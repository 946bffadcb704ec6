package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/auth"
	"github.com/carebridge/carebridge/adapter/delivery"
	"github.com/carebridge/carebridge/adapter/healthcheck"
	"github.com/carebridge/carebridge/adapter/rest"
	"github.com/carebridge/carebridge/adapter/store"
	"github.com/carebridge/carebridge/adapter/store/postgres"
	"github.com/carebridge/carebridge/adapter/store/sqlite"
	"github.com/carebridge/carebridge/mappings"
)

func newServeCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway",
		Long: `Run the gateway: the FHIR R4 API at /fhir, /healthz, /readyz and /metrics,
and the delivery of Subscription notifications. Schema migrations are applied
at start (under a lock on PostgreSQL, so many gateways may start at once).
SIGTERM or SIGINT stops accepting connections and lets requests and
notifications in flight finish.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags(), e.getenv)
			if err != nil {
				return err
			}
			if cfg.InsecureNoAuth, err = insecureNoAuth(cmd, e); err != nil {
				return err
			}
			if !cfg.InsecureNoAuth && cfg.Auth.KeysDir == "" {
				return errors.New("serve requires authentication: give the gateway a signing key (carebridge keys generate --out DIR, then --auth-keys-dir DIR) and its clients (auth.clients in the --config file); --insecure-no-auth serves without it, for local experiments only")
			}
			a, err := newApp(cmd.Context(), cfg, e.stderr)
			if err != nil {
				return err
			}
			defer a.close()
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
			}
			a.log.Info("serving", "addr", ln.Addr().String(), "tls", tlsMode(cfg.TLS), "db", redactDB(cfg.DB), "version", version)
			return a.serve(cmd.Context(), ln)
		},
	}
	addSettingFlags(cmd.Flags())
	cmd.Flags().Bool("insecure-no-auth", false, "serve without authentication: every request unrestricted, as one anonymous client (local experiments only; also CAREBRIDGE_INSECURE_NO_AUTH=true)")
	return cmd
}

// insecureNoAuth reads --insecure-no-auth, or CAREBRIDGE_INSECURE_NO_AUTH.
func insecureNoAuth(cmd *cobra.Command, e *env) (bool, error) {
	if f := cmd.Flags().Lookup("insecure-no-auth"); f != nil && f.Changed {
		return cmd.Flags().GetBool("insecure-no-auth")
	}
	if v := e.getenv("CAREBRIDGE_INSECURE_NO_AUTH"); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("CAREBRIDGE_INSECURE_NO_AUTH: %q is not true or false", v)
		}
		return on, nil
	}
	return false, nil
}

// insecureWarning is logged at every start without authentication.
const insecureWarning = "AUTHENTICATION IS OFF (--insecure-no-auth): every request is served unrestricted, as one anonymous client, to anyone who can reach this address. For local experiments only: never with real patient data"

// tlsMode says how the server meets its clients: http, https or mtls.
func tlsMode(f rest.TLSFiles) string {
	switch {
	case f.ClientCAFile != "":
		return "mtls"
	case f.CertFile != "":
		return "https"
	}
	return "http"
}

// app is a gateway's parts, wired.
type app struct {
	log      *slog.Logger
	store    migratingStore
	auth     *auth.Service // nil without authentication
	server   *rest.Server
	gateway  *adapter.Gateway
	delivery *delivery.Worker
	// location is where clinical dates are calendar dates.
	location *time.Location
}

// migratingStore is a store that can apply its schema migrations.
type migratingStore interface {
	store.Store
	Migrate(ctx context.Context) error
}

func newApp(ctx context.Context, cfg Config, logOut io.Writer) (*app, error) {
	log, err := newLogger(cfg.Log, logOut)
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate the database: %w", err)
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		st.Close()
		return nil, err
	}
	maps, err := loadMappings(cfg.Mappings)
	if err != nil {
		st.Close()
		return nil, err
	}
	check, err := checkConfig(cfg.HealthCheck, loc, maps.CodeSetsVersion())
	if err != nil {
		st.Close()
		return nil, err
	}
	var authn *auth.Service
	if !cfg.InsecureNoAuth && cfg.Auth.KeysDir != "" {
		sources := profileSources(maps)
		for _, c := range cfg.Auth.Clients {
			if sources[c.Profile] == "" {
				st.Close()
				return nil, fmt.Errorf("authentication: client %q names mapping profile %q, which is not loaded (carebridge mappings list)", c.ID, c.Profile)
			}
		}
		ac := cfg.Auth
		if ac.Issuer == "" {
			ac.Issuer = cfg.BaseURL
		}
		if ac.Issuer == "" {
			st.Close()
			return nil, errors.New("authentication needs the gateway's public FHIR base URL (--base-url, or auth.issuer): it is the issuer and audience of its tokens")
		}
		if authn, err = auth.New(ctx, ac, st, log); err != nil {
			st.Close()
			return nil, fmt.Errorf("authentication: %w", err)
		}
	} else if cfg.InsecureNoAuth {
		log.Warn(insecureWarning)
	}
	gw := adapter.New(st, adapter.Config{
		Location:     loc,
		DefaultCount: cfg.Search.DefaultCount,
		MaxCount:     cfg.Search.MaxCount,
		Mappings:     maps,
		HealthCheck:  check,
		PCNs:         pcnPractices(cfg.HealthCheck.PCNs),
		OrgNames:     orgNames(maps, cfg.HealthCheck.PCNs),
		ClientOrgs:   clientOrgs(cfg.Auth.Clients),
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	rcfg := rest.Config{
		BaseURL:           cfg.BaseURL,
		MaxBodyBytes:      cfg.MaxBodyBytes,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		MaxURLBytes:       cfg.MaxURLBytes,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		RequestTimeout:    cfg.RequestTimeout,
		RateLimit:         cfg.RateLimit,
		TLS:               cfg.TLS,
		ShutdownTimeout:   cfg.ShutdownTimeout,
		Version:           version,
		ProfileSources:    profileSources(maps),
		ClientIDs:         clientIDs(cfg.Auth.Clients),
	}
	if authn != nil {
		rcfg.Auth, rcfg.TokenURL = authn, authn.TokenURL()
	}
	srv, err := rest.NewServer(rcfg, gw, log, reg, reg)
	if err != nil {
		st.Close()
		return nil, err
	}
	worker, err := delivery.New(cfg.Delivery, gw, log, reg)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &app{log: log, store: st, auth: authn, server: srv, gateway: gw, delivery: worker, location: loc}, nil
}

// serve runs the HTTP API on ln and the delivery of notifications until
// ctx ends, and returns once both have stopped: requests and attempts in
// flight finish first.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { a.delivery.Run(ctx) })
	if a.auth != nil {
		wg.Go(func() { a.auth.Run(ctx) })
	}
	err := a.server.Serve(ctx, ln)
	cancel()
	wg.Wait()
	return err
}

// checkConfig builds the health check configuration: nil when disabled.
func checkConfig(cfg CheckConfig, loc *time.Location, codeSets string) (*healthcheck.Config, error) {
	if cfg.Disabled {
		return nil, nil
	}
	rules, err := healthcheck.DefaultRules()
	if cfg.RulesFile != "" {
		var data []byte
		if data, err = os.ReadFile(cfg.RulesFile); err == nil {
			rules, err = healthcheck.ParseRules(data)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("health check rules: %w", err)
	}
	return &healthcheck.Config{
		Mode: healthcheck.Mode(cfg.Mode), Rules: rules, CodeSetsVersion: codeSets, Location: loc,
		MinAge: cfg.MinAge, DueSoonTasks: cfg.DueSoonTasks, NoWriteBack: cfg.NoWriteBack,
	}, nil
}

// clientOrgs are the ODS codes of the clients' organisations, by client id.
func clientOrgs(clients []auth.Client) map[string]string {
	out := make(map[string]string, len(clients))
	for _, c := range clients {
		out[c.ID] = c.ODS
	}
	return out
}

// clientIDs are the configured client ids.
func clientIDs(clients []auth.Client) []string {
	out := make([]string, len(clients))
	for i, c := range clients {
		out[i] = c.ID
	}
	return out
}

// profileSources are the meta.source values stamped on each profile's
// writes: the first source the profile claims, or a name of the profile
// when it claims none.
func profileSources(maps *mappings.Registry) map[string]string {
	out := map[string]string{}
	for _, id := range maps.IDs() {
		m, _ := maps.Mapper(id)
		if src := m.Profile().Sources; len(src) > 0 {
			out[id] = src[0]
		} else {
			out[id] = "urn:carebridge:profile:" + id
		}
	}
	return out
}

// pcnPractices is the PCN configuration as reports read it.
func pcnPractices(pcns []PCNConfig) map[string][]string {
	out := make(map[string][]string, len(pcns))
	for _, p := range pcns {
		out[p.Code] = p.Practices
	}
	return out
}

// orgNames are the names of the organisations the mapping profiles speak
// for and of the PCNs, by ODS code.
func orgNames(maps *mappings.Registry, pcns []PCNConfig) map[string]string {
	out := map[string]string{}
	for _, id := range maps.IDs() {
		m, _ := maps.Mapper(id)
		for _, o := range m.Profile().Organisations {
			out[o.ODS] = o.Name
		}
	}
	for _, p := range pcns {
		if p.Name != "" {
			out[p.Code] = p.Name
		}
	}
	return out
}

// loadMappings builds the mapping registry: the shipped profiles and code
// sets, and the profiles of cfg.Dir.
func loadMappings(cfg MappingConfig) (*mappings.Registry, error) {
	var extra []*mappings.Profile
	if cfg.Dir != "" {
		var err error
		if extra, err = mappings.LoadProfileDir(cfg.Dir); err != nil {
			return nil, fmt.Errorf("mapping profiles in %s: %w", cfg.Dir, err)
		}
	}
	return mappings.NewShippedRegistry(extra, cfg.DefaultProfile)
}

func (a *app) close() {
	if err := a.store.Close(); err != nil {
		a.log.Warn("closing the database", "err", err)
	}
}

// openStore chooses the engine by the scheme of the database setting.
func openStore(ctx context.Context, cfg Config) (migratingStore, error) {
	switch {
	case strings.HasPrefix(cfg.DB, "sqlite:"):
		return sqlite.Open(ctx, sqlite.Config{
			Path:        strings.TrimPrefix(cfg.DB, "sqlite:"),
			Synchronous: strings.ToUpper(cfg.SQLite.Synchronous),
		})
	case strings.HasPrefix(cfg.DB, "postgres://"), strings.HasPrefix(cfg.DB, "postgresql://"):
		return postgres.Open(ctx, postgres.Config{URL: cfg.DB, MaxConns: cfg.Postgres.MaxConns})
	}
	return nil, fmt.Errorf("database %q: use sqlite:PATH or a postgres:// URL", redactDB(cfg.DB))
}

// redactDB hides a password in a database URL, for logs and errors.
func redactDB(db string) string {
	at := strings.LastIndex(db, "@")
	scheme := strings.Index(db, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return db
	}
	userinfo := db[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return db[:scheme+3] + user + ":xxxxx" + db[at:]
	}
	return db
}

func newLogger(cfg LogConfig, out io.Writer) (*slog.Logger, error) {
	level, err := parseLevel(cfg.Level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.Format, "text") {
		return slog.New(slog.NewTextHandler(out, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(out, opts)), nil
}

func newMigrateCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database schema migrations and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd.Flags(), e.getenv)
			if err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Migrate(cmd.Context()); err != nil {
				return fmt.Errorf("migrate %s: %w", redactDB(cfg.DB), err)
			}
			_, err = fmt.Fprintf(e.stdout, "database %s is up to date\n", redactDB(cfg.DB))
			return err
		},
	}
	addSettingFlags(cmd.Flags(), "db", "sqlite-synchronous")
	return cmd
}
