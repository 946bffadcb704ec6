package conformance

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/carebridge/carebridge/adapter/auth"
)

// KitActor is one client system `conformance init` prepares: the
// built-in suites act as these.
type KitActor struct {
	Name     string
	ClientID string
	ODS      string
	Side     string
	Profile  string
	Scopes   []string
	Operator bool
	// RequestsPerSecond and Burst are the client's rate limit; 0 is none.
	RequestsPerSecond float64
	Burst             int
}

// KitActors are the actors of the built-in suites (conformance/README.md,
// "Actors").
var KitActors = []KitActor{
	{Name: "practiceA", ClientID: "cb-practice-a", ODS: "A12345", Side: "primary", Profile: "uk-core-gp", Scopes: []string{"system/*.cruds"}},
	{Name: "practiceB", ClientID: "cb-practice-b", ODS: "B23456", Side: "primary", Profile: "uk-core-gp", Scopes: []string{"system/*.cruds"}},
	{Name: "practiceC", ClientID: "cb-practice-c", ODS: "C34567", Side: "primary", Profile: "gp-nhs-number-refs", Scopes: []string{"system/*.cruds"}},
	{Name: "trust", ClientID: "cb-trust", ODS: "RXX", Side: "secondary", Profile: "uk-core-trust", Scopes: []string{"system/*.cruds"}},
	{Name: "trustEpr", ClientID: "cb-trust-epr", ODS: "RYY", Side: "secondary", Profile: "trust-epr-icd10", Scopes: []string{"system/*.cruds"}},
	{Name: "readOnly", ClientID: "cb-read-only", ODS: "A12345", Side: "primary", Profile: "uk-core-gp", Scopes: []string{"system/Patient.rs"}},
	{Name: "throttled", ClientID: "cb-throttled", ODS: "A12345", Side: "primary", Profile: "uk-core-gp", Scopes: []string{"system/*.cruds"}, RequestsPerSecond: 1, Burst: 2},
	{Name: "operator", ClientID: "cb-operator", ODS: "X26", Side: "secondary", Profile: "uk-core-trust", Scopes: []string{"system/*.cruds", "system/AuditEvent.rs"}, Operator: true},
}

// KitPCN is the primary care network the built-in suites' practices form.
var KitPCN = struct {
	Code, Name string
	Practices  []string
}{"U99999", "Conformance PCN", []string{"A12345", "B23456", "C34567"}}

// InitOptions say where `conformance init` writes.
type InitOptions struct {
	// Dir receives the keys, carebridge.yaml and actors.yaml.
	Dir string
	// GatewayDir is where the gateway sees Dir (in a container, say); the
	// gateway configuration names its files from there. Default: Dir.
	GatewayDir string
	// BaseURL, when set, is written as the gateway's baseUrl.
	BaseURL string
	// KeepExisting leaves a directory that already holds carebridge.yaml
	// and actors.yaml as it is, instead of refusing it (a compose stack
	// started again on its volume).
	KeepExisting bool
}

// ErrKept is returned by Init when KeepExisting left an initialised
// directory as it was.
var ErrKept = errors.New("already initialised: kept as it is")

// gatewayConfig is the part of carebridge.yaml that init writes.
type gatewayConfig struct {
	BaseURL     string              `yaml:"baseUrl,omitempty"`
	Auth        gatewayAuth         `yaml:"auth"`
	RateLimit   gatewayRateLimit    `yaml:"rateLimit"`
	HealthCheck map[string][]pcnDef `yaml:"healthCheck"`
}

type gatewayAuth struct {
	KeysDir string          `yaml:"keysDir"`
	Clients []gatewayClient `yaml:"clients"`
}

type gatewayClient struct {
	ID       string   `yaml:"id"`
	ODS      string   `yaml:"ods"`
	Side     string   `yaml:"side"`
	Profile  string   `yaml:"profile"`
	Scopes   []string `yaml:"scopes"`
	Keys     []string `yaml:"keys"`
	Operator bool     `yaml:"operator,omitempty"`
}

type gatewayRateLimit struct {
	Clients map[string]rate `yaml:"clients"`
}

type rate struct {
	RequestsPerSecond float64 `yaml:"requestsPerSecond"`
	Burst             int     `yaml:"burst,omitempty"`
}

type pcnDef struct {
	Code      string   `yaml:"code"`
	Name      string   `yaml:"name"`
	Practices []string `yaml:"practices"`
}

// Init writes what it takes to test a CareBridge deployment with the
// built-in suites: the gateway's signing key, a key pair per kit actor,
// the gateway configuration that knows them (carebridge.yaml) and the
// kit's actors.yaml. It refuses a directory that already holds them.
func Init(o InitOptions) error {
	if o.Dir == "" {
		return errors.New("init: give a directory")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	gw := o.GatewayDir
	if gw == "" {
		gw = dir
	}
	existing := 0
	for _, f := range []string{"carebridge.yaml", "actors.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			existing++
			if !o.KeepExisting {
				return fmt.Errorf("init: %s already exists; choose an empty directory", filepath.Join(dir, f))
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("init: %w", err)
		}
	}
	switch existing {
	case 2:
		return ErrKept
	case 1:
		return fmt.Errorf("init: %s holds only part of a kit; choose an empty directory", dir)
	}
	if err := writeKey(filepath.Join(dir, "gateway-keys"), "gateway"); err != nil {
		return err
	}
	cfg := gatewayConfig{
		BaseURL:     o.BaseURL,
		Auth:        gatewayAuth{KeysDir: filepath.ToSlash(filepath.Join(gw, "gateway-keys"))},
		RateLimit:   gatewayRateLimit{Clients: map[string]rate{}},
		HealthCheck: map[string][]pcnDef{"pcns": {{Code: KitPCN.Code, Name: KitPCN.Name, Practices: KitPCN.Practices}}},
	}
	actors := map[string]ActorSpec{}
	for _, a := range KitActors {
		if err := writeKey(filepath.Join(dir, "clients"), a.ClientID); err != nil {
			return err
		}
		cfg.Auth.Clients = append(cfg.Auth.Clients, gatewayClient{
			ID: a.ClientID, ODS: a.ODS, Side: a.Side, Profile: a.Profile, Scopes: a.Scopes, Operator: a.Operator,
			Keys: []string{filepath.ToSlash(filepath.Join(gw, "clients", a.ClientID+".jwks.json"))},
		})
		cfg.RateLimit.Clients[a.ClientID] = rate{RequestsPerSecond: a.RequestsPerSecond, Burst: a.Burst}
		actors[a.Name] = ActorSpec{ClientID: a.ClientID, Key: "clients/" + a.ClientID + ".pem", Fields: map[string]any{
			"ods": a.ODS, "side": a.Side, "profile": a.Profile, "operator": a.Operator,
		}}
	}
	actors["default"] = ActorSpec{Same: "practiceA"}
	gwYAML, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	head := "# CareBridge gateway configuration for the conformance kit's actors (conformance init).\n" +
		"# Add it to the gateway's own settings: --config this file, --base-url the URL the kit targets.\n"
	if err := os.WriteFile(filepath.Join(dir, "carebridge.yaml"), append([]byte(head), gwYAML...), 0o644); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	actorsYAML, err := marshalActors(actors)
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	head = "# The conformance kit's actors (conformance init): run --actors this file.\n"
	if err := os.WriteFile(filepath.Join(dir, "actors.yaml"), append([]byte(head), actorsYAML...), 0o644); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	return nil
}

// writeKey writes NAME.pem (0600) and NAME.jwks.json into dir.
func writeKey(dir, name string) error {
	priv, pub, _, err := auth.GenerateKey("ES256")
	if err != nil {
		return fmt.Errorf("init: key %s: %w", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".jwks.json"), pub, 0o644); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	// The key files are readable by the gateway's user in a container, which
	// may not be the user that ran init: they are test keys, made for a test.
	if err := os.WriteFile(filepath.Join(dir, name+".pem"), priv, 0o644); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	return nil
}
