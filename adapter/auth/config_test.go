package auth

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNewRefusesConfigurationsThatCannotWork(t *testing.T) {
	f := newFixture(t)
	emptyDir := t.TempDir()
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no issuer", func(c *Config) { c.Issuer = "" }, "issuer is not set"},
		{"a relative issuer", func(c *Config) { c.Issuer = "/fhir" }, "not an absolute"},
		{"no keys directory", func(c *Config) { c.KeysDir = "" }, "keys directory is not set"},
		{"a keys directory without keys", func(c *Config) { c.KeysDir = emptyDir }, "holds no *.pem key"},
		{"a token lifetime over an hour", func(c *Config) { c.TokenLifetime = 2 * time.Hour }, "token lifetime"},
		{"an assertion lifetime over five minutes", func(c *Config) { c.MaxAssertionLifetime = 10 * time.Minute }, "assertion lifetime"},
		{"a leeway over five minutes", func(c *Config) { c.Leeway = 10 * time.Minute }, "leeway"},
		{"two clients with one id", func(c *Config) { c.Clients[1].ID = c.Clients[0].ID }, "appears twice"},
		{"a client without id", func(c *Config) { c.Clients[0].ID = "" }, "needs an id"},
		{"a client without ODS code", func(c *Config) { c.Clients[0].ODS = "" }, "ODS code"},
		{"a client on no known side", func(c *Config) { c.Clients[0].Side = "tertiary" }, "use primary"},
		{"a client without scopes", func(c *Config) { c.Clients[0].Scopes = nil }, "at least one scope"},
		{"a client with a patient scope", func(c *Config) { c.Clients[0].Scopes = []string{"patient/*.rs"} }, "patient/"},
		{"a client without keys", func(c *Config) { c.Clients[0].Keys = nil }, "one of them"},
		{"a client with keys and a JWKS URL", func(c *Config) { c.Clients[0].JWKSURL = "https://gp.test/jwks" }, "one of them"},
		{"a client JWKS URL over plain http", func(c *Config) { c.Clients[2].JWKSURL = "http://gp.test/jwks" }, "over https"},
		{"a client key file that is missing", func(c *Config) { c.Clients[0].Keys = []string{filepath.Join(emptyDir, "nope.pem")} }, "key file"},
		{"a trusted issuer that is the gateway", func(c *Config) { c.TrustedIssuers[0].Issuer = testIssuer }, "gateway's own"},
		{"a trusted issuer without keys", func(c *Config) { c.TrustedIssuers[0].JWKSURL = "" }, "one of them"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := f.cfg
			cfg.Clients = append([]Client(nil), f.cfg.Clients...)
			cfg.TrustedIssuers = append([]Issuer(nil), f.cfg.TrustedIssuers...)
			tc.edit(&cfg)
			_, err := New(context.Background(), cfg, f.nonces, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New error = %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestSMARTConfigurationDescribesTheTokenEndpoint(t *testing.T) {
	f := newFixture(t)
	cfg := f.cfg
	cfg.TokenURL = ""
	svc := f.newService(cfg)
	var doc struct {
		Issuer        string   `json:"issuer"`
		TokenEndpoint string   `json:"token_endpoint"`
		JWKSURI       string   `json:"jwks_uri"`
		AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
		Grants        []string `json:"grant_types_supported"`
		Algs          []string `json:"token_endpoint_auth_signing_alg_values_supported"`
		Capabilities  []string `json:"capabilities"`
	}
	if err := json.Unmarshal(svc.SMARTConfiguration(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.TokenEndpoint != "https://carebridge.test/auth/token" || doc.JWKSURI != "https://carebridge.test/auth/jwks" || doc.Issuer != testIssuer {
		t.Errorf("endpoints = %s, %s, %s; want the auth/ URLs beside %s", doc.Issuer, doc.TokenEndpoint, doc.JWKSURI, testIssuer)
	}
	if strings.Join(doc.AuthMethods, " ") != "private_key_jwt" || strings.Join(doc.Grants, " ") != "client_credentials" {
		t.Errorf("auth methods %v, grants %v", doc.AuthMethods, doc.Grants)
	}
	for _, need := range []string{"RS384", "ES384"} { // SMART: servers SHALL support both
		if !strings.Contains(strings.Join(doc.Algs, " "), need) {
			t.Errorf("signing algorithms %v lack %s", doc.Algs, need)
		}
	}
	if !strings.Contains(strings.Join(doc.Capabilities, " "), "client-confidential-asymmetric") {
		t.Errorf("capabilities %v", doc.Capabilities)
	}
}

func TestJWKSPublishesPublicKeysOnly(t *testing.T) {
	f := newFixture(t)
	jwks := f.svc.JWKS()
	keys, err := parseJWKS(jwks, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := keys[f.gatewaySigner().kid]; !ok || len(keys) != 1 {
		t.Errorf("JWKS keys %v, want the one gateway key", keys)
	}
	for _, private := range []string{`"d"`, `"p"`, `"q"`, "PRIVATE"} {
		if strings.Contains(string(jwks), private) {
			t.Errorf("JWKS holds %s:\n%s", private, jwks)
		}
	}
	// Files beside the keys (the public JWKS keys generate writes) are not
	// read as keys.
	writeFile(t, filepath.Join(f.keysDir, "gateway-1.jwks.json"), jwks)
	if err := f.svc.Reload(context.Background()); err != nil {
		t.Fatalf("Reload with a JWKS beside the key: %v", err)
	}
}
