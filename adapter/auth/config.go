package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"
)

// Config of authentication (YAML under `auth:` in the carebridge
// configuration file).
type Config struct {
	// Issuer is the iss of the access tokens the gateway issues, and their
	// aud: the gateway's public FHIR base URL (https://host/fhir).
	Issuer string `yaml:"issuer"`
	// TokenURL is the token endpoint's public URL, the aud client
	// assertions must carry; default: auth/token beside the Issuer
	// (https://host/auth/token).
	TokenURL string `yaml:"tokenUrl"`
	// JWKSURL is where the gateway's public keys are published; default:
	// auth/jwks beside the Issuer.
	JWKSURL string `yaml:"jwksUrl"`
	// KeysDir holds the gateway's signing keys: PEM PKCS#8 private keys,
	// one per *.pem file. All are published; the newest signs.
	KeysDir string `yaml:"keysDir"`
	// TokenLifetime is how long access tokens live: default 5m, at most 1h.
	TokenLifetime time.Duration `yaml:"tokenLifetime"`
	// MaxAssertionLifetime bounds exp-iat of client assertions: default
	// and at most 5m (SMART backend services).
	MaxAssertionLifetime time.Duration `yaml:"maxAssertionLifetime"`
	// Leeway is the clock skew allowed on exp, nbf and iat: default 30s,
	// at most 5m.
	Leeway time.Duration `yaml:"leeway"`
	// ReloadInterval is how often Run reads the key files again: default 1m.
	ReloadInterval time.Duration `yaml:"reloadInterval"`
	// Clients are the systems allowed to call the gateway.
	Clients []Client `yaml:"clients"`
	// TrustedIssuers are optional external authorisation servers whose
	// access tokens are accepted for configured clients.
	TrustedIssuers []Issuer `yaml:"trustedIssuers"`
}

// Client is one system allowed to call the gateway, and the organisation
// it speaks for.
type Client struct {
	ID      string   `yaml:"id"`
	ODS     string   `yaml:"ods"`     // organisation ODS code
	Side    string   `yaml:"side"`    // primary (GP practice) or secondary (trust)
	Profile string   `yaml:"profile"` // mapping profile its writes are read with
	Scopes  []string `yaml:"scopes"`  // allowed SMART system scopes, v1 or v2
	Keys    []string `yaml:"keys"`    // files with the client's public keys (PEM, JWK or JWKS)
	JWKSURL string   `yaml:"jwksUrl"` // or: where its JWKS is published (https, or http on loopback only)
	// Operator lets the client run the gateway-wide operations
	// ($reconcile, $outbox, $redrive, $unmapped); its scopes still apply
	// to everything else.
	Operator bool `yaml:"operator"`
}

// Issuer is an external authorisation server whose access tokens the
// gateway accepts.
type Issuer struct {
	Issuer   string `yaml:"issuer"`   // its iss
	Audience string `yaml:"audience"` // the aud its tokens carry for the gateway; default: Config.Issuer
	JWKSFile string `yaml:"jwksFile"` // its public keys, or
	JWKSURL  string `yaml:"jwksUrl"`  // where it publishes them
	// ClientClaim names the claim holding the client id; default client_id.
	ClientClaim string `yaml:"clientClaim"`
}

// The sides of shared care a client can be on.
const (
	SidePrimary   = "primary"   // a GP practice
	SideSecondary = "secondary" // a mental health trust
)

// Limits and defaults of the lifetimes and clock skew.
const (
	DefaultTokenLifetime        = 5 * time.Minute
	MaxTokenLifetime            = time.Hour
	DefaultMaxAssertionLifetime = 5 * time.Minute
	DefaultLeeway               = 30 * time.Second
	MaxLeeway                   = 5 * time.Minute
)

// withDefaults fills the defaults in and refuses settings that cannot work.
// It does not read files.
func (c Config) withDefaults() (Config, error) {
	if err := checkURL("auth issuer", c.Issuer, false); err != nil {
		return c, err
	}
	var err error
	if c.TokenURL, err = besideIssuer(c.Issuer, c.TokenURL, "auth/token"); err != nil {
		return c, fmt.Errorf("auth token URL: %w", err)
	}
	if c.JWKSURL, err = besideIssuer(c.Issuer, c.JWKSURL, "auth/jwks"); err != nil {
		return c, fmt.Errorf("auth JWKS URL: %w", err)
	}
	if c.KeysDir == "" {
		return c, errors.New("auth keys directory is not set: make one with `carebridge keys generate --out DIR`")
	}
	for _, d := range []struct {
		name          string
		value         *time.Duration
		def, min, max time.Duration
	}{
		{"token lifetime", &c.TokenLifetime, DefaultTokenLifetime, 10 * time.Second, MaxTokenLifetime},
		{"max assertion lifetime", &c.MaxAssertionLifetime, DefaultMaxAssertionLifetime, 10 * time.Second, DefaultMaxAssertionLifetime},
		{"leeway", &c.Leeway, DefaultLeeway, 0, MaxLeeway},
		{"reload interval", &c.ReloadInterval, time.Minute, time.Second, 24 * time.Hour},
	} {
		if *d.value == 0 {
			*d.value = d.def
		}
		if *d.value < d.min || *d.value > d.max {
			return c, fmt.Errorf("auth %s %s: allow %s to %s", d.name, *d.value, d.min, d.max)
		}
	}
	seen := map[string]bool{}
	for i, cl := range c.Clients {
		if err := cl.check(seen); err != nil {
			return c, fmt.Errorf("auth clients[%d]: %w", i, err)
		}
	}
	issuers := map[string]bool{c.Issuer: true}
	for i := range c.TrustedIssuers {
		ti := &c.TrustedIssuers[i]
		if err := checkURL("issuer", ti.Issuer, false); err != nil {
			return c, fmt.Errorf("auth trustedIssuers[%d]: %w", i, err)
		}
		if issuers[ti.Issuer] {
			return c, fmt.Errorf("auth trustedIssuers[%d]: issuer %s is the gateway's own or listed twice", i, ti.Issuer)
		}
		issuers[ti.Issuer] = true
		if (ti.JWKSFile == "") == (ti.JWKSURL == "") {
			return c, fmt.Errorf("auth trustedIssuers[%d]: give jwksFile or jwksUrl, one of them", i)
		}
		if ti.JWKSURL != "" {
			if err := checkURL("jwksUrl", ti.JWKSURL, true); err != nil {
				return c, fmt.Errorf("auth trustedIssuers[%d]: %w", i, err)
			}
		}
		if ti.Audience == "" {
			ti.Audience = c.Issuer
		}
		if ti.ClientClaim == "" {
			ti.ClientClaim = "client_id"
		}
	}
	return c, nil
}

func (cl Client) check(seen map[string]bool) error {
	if cl.ID == "" {
		return errors.New("a client needs an id")
	}
	if seen[cl.ID] {
		return fmt.Errorf("client id %q appears twice", cl.ID)
	}
	seen[cl.ID] = true
	if cl.ODS == "" {
		return fmt.Errorf("client %q: needs the ODS code of its organisation", cl.ID)
	}
	if cl.Side != SidePrimary && cl.Side != SideSecondary {
		return fmt.Errorf("client %q: side %q: use primary (GP practice) or secondary (trust)", cl.ID, cl.Side)
	}
	if len(cl.Scopes) == 0 {
		return fmt.Errorf("client %q: allow it at least one scope", cl.ID)
	}
	for _, s := range cl.Scopes {
		if _, err := ParseScopes(s); err != nil {
			return fmt.Errorf("client %q: %w", cl.ID, err)
		}
	}
	if (len(cl.Keys) == 0) == (cl.JWKSURL == "") {
		return fmt.Errorf("client %q: give keys (files) or jwksUrl, one of them", cl.ID)
	}
	if cl.JWKSURL != "" {
		if err := checkURL("jwksUrl", cl.JWKSURL, true); err != nil {
			return fmt.Errorf("client %q: %w", cl.ID, err)
		}
	}
	return nil
}

// checkURL refuses what is not an absolute http(s) URL. Key sets must come
// over https unless from the loopback interface: a key fetched in the clear
// could be anyone's.
func checkURL(what, raw string, keys bool) error {
	if raw == "" {
		return fmt.Errorf("%s is not set", what)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%s %q is not an absolute http(s) URL", what, raw)
	}
	if keys && u.Scheme == "http" && !loopback(u.Hostname()) {
		return fmt.Errorf("%s %q: key sets are fetched over https (http only from the loopback interface)", what, raw)
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// besideIssuer is set, or else rel resolved beside the issuer's last path
// segment: https://host/fhir and auth/token make https://host/auth/token.
func besideIssuer(issuer, set, rel string) (string, error) {
	if set != "" {
		return set, checkURL("URL", set, false)
	}
	base, err := url.Parse(issuer)
	if err != nil {
		return "", err
	}
	return base.ResolveReference(&url.URL{Path: rel}).String(), nil
}
