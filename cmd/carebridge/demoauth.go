package main

import (
	"path/filepath"

	"github.com/carebridge/carebridge/adapter/auth"
)

// demoOperator is the demo's operator client: it runs the gateway-wide
// operations and reads the audit trail. Its organisation is NHS England.
const demoOperator = "demo-operator"

// demoClientID is the id of the demo client of the organisation ods.
func demoClientID(ods string) string { return "demo-" + ods }

// demoAuth makes the demo's keys in dir and returns the authentication
// configuration that uses them: the gateway's signing key, a client for
// each practice of pcn and for the trust, and the operator. The clients'
// private keys are dir/clients/ID.pem, for carebridge token.
func demoAuth(dir string, pcn PCNConfig, trust string) (auth.Config, error) {
	keys, clients := filepath.Join(dir, "keys"), filepath.Join(dir, "clients")
	if _, err := writeKeyPair(keys, "gateway", "ES256"); err != nil {
		return auth.Config{}, err
	}
	cfg := auth.Config{KeysDir: keys}
	add := func(c auth.Client) error {
		if _, err := writeKeyPair(clients, c.ID, "ES256"); err != nil {
			return err
		}
		c.Keys = []string{filepath.Join(clients, c.ID+".jwks.json")}
		cfg.Clients = append(cfg.Clients, c)
		return nil
	}
	for _, ods := range pcn.Practices {
		if err := add(auth.Client{ID: demoClientID(ods), ODS: ods, Side: auth.SidePrimary, Profile: "uk-core-gp", Scopes: []string{"system/*.cruds"}}); err != nil {
			return cfg, err
		}
	}
	if err := add(auth.Client{ID: demoClientID(trust), ODS: trust, Side: auth.SideSecondary, Profile: "uk-core-trust", Scopes: []string{"system/*.cruds"}}); err != nil {
		return cfg, err
	}
	err := add(auth.Client{ID: demoOperator, ODS: "X26", Side: auth.SideSecondary, Profile: "uk-core-trust",
		Scopes: []string{"system/AuditEvent.rs"}, Operator: true})
	return cfg, err
}
