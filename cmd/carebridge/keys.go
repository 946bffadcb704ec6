package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/spf13/cobra"

	"github.com/carebridge/carebridge/adapter/auth"
)

func newKeysCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Make signing keys for the gateway or a client",
	}
	cmd.AddCommand(newKeysGenerateCommand(e))
	return cmd
}

func newKeysGenerateCommand(e *env) *cobra.Command {
	var alg, dir, name string
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write a new private key and its public JWKS, and print its kid",
		Long: `Write NAME.pem (the private key, PKCS#8, readable by its owner only) and
NAME.jwks.json (the public key) into the --out directory, and print the key id
(its RFC 7638 thumbprint).

For the gateway: put the key in the directory of auth.keysDir; the newest key
there signs and all are published. For a client: keep NAME.pem with the client
and give the gateway NAME.jwks.json (a client's keys in auth.clients).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				name = "key-" + time.Now().UTC().Format("20060102-150405")
			}
			if name != filepath.Base(name) || strings.HasPrefix(name, ".") {
				return fmt.Errorf("--name %q: give a file name without a directory", name)
			}
			kid, err := writeKeyPair(dir, name, alg)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, kid)
			return err
		},
	}
	cmd.Flags().StringVar(&alg, "alg", "ES256", "signature algorithm: ES256, ES384, RS256, RS384, RS512 or PS256")
	cmd.Flags().StringVar(&dir, "out", ".", "directory to write the key files into")
	cmd.Flags().StringVar(&name, "name", "", "file name of the key, without extension (default key-DATE-TIME)")
	return cmd
}

// writeKeyPair makes a key pair: dir/name.pem (private, 0600) and
// dir/name.jwks.json (public), neither of which may exist yet, and
// returns the key id.
func writeKeyPair(dir, name, alg string) (string, error) {
	priv, pub, kid, err := auth.GenerateKey(alg)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("key directory: %w", err)
	}
	if err := writeNew(filepath.Join(dir, name+".jwks.json"), pub, 0o644); err != nil {
		return "", err
	}
	return kid, writeNew(filepath.Join(dir, name+".pem"), priv, 0o600)
}

// writeNew writes a file that must not exist yet: a key is never
// overwritten.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("key file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("key file %s: %w", path, err)
	}
	return f.Close()
}

// assertionFlags are what a client assertion is made of.
type assertionFlags struct {
	clientID, keyFile, kid, alg string
	lifetime                    time.Duration
}

func (a *assertionFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.clientID, "client-id", "", "the client's id, as configured in auth.clients")
	cmd.Flags().StringVar(&a.keyFile, "key", "", "the client's private key (PEM PKCS#8, as keys generate writes it)")
	cmd.Flags().StringVar(&a.kid, "kid", "", "key id in the header (default: the key's thumbprint, as keys generate prints it)")
	cmd.Flags().StringVar(&a.alg, "alg", "", "signature algorithm (default: RS256 for RSA keys, ES256 or ES384 for EC keys)")
	cmd.Flags().DurationVar(&a.lifetime, "lifetime", 2*time.Minute, "how long the assertion is valid; at most 5m")
	_ = cmd.MarkFlagRequired("client-id")
	_ = cmd.MarkFlagRequired("key")
}

// mint makes a client assertion for the token endpoint at tokenURL.
func (a *assertionFlags) mint(tokenURL string) (string, error) {
	data, err := os.ReadFile(a.keyFile)
	if err != nil {
		return "", fmt.Errorf("client key: %w", err)
	}
	key, err := auth.ParsePrivateKey(data)
	if err != nil {
		return "", fmt.Errorf("client key %s: %w", a.keyFile, err)
	}
	return auth.MintAssertion(key, a.kid, a.alg, a.clientID, tokenURL, a.lifetime, time.Now())
}

func newTokenCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Mint a client assertion, or get an access token from a gateway, for local testing",
		Long: `Act as a SMART backend services client: sign a client assertion with the
client's private key, or exchange one for an access token at a running
gateway's token endpoint.

  TOKEN=$(carebridge token access --target http://127.0.0.1:8080 \
      --client-id gp-a12345 --key gp-a12345.pem --scope "system/Task.rs")
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/fhir/Task`,
	}
	cmd.AddCommand(newTokenAssertionCommand(e), newTokenAccessCommand(e))
	return cmd
}

func newTokenAssertionCommand(e *env) *cobra.Command {
	var a assertionFlags
	var aud string
	cmd := &cobra.Command{
		Use:   "assertion",
		Short: "Print a client assertion (a JWT signed with the client's key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			assertion, err := a.mint(aud)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, assertion)
			return err
		},
	}
	a.register(cmd)
	cmd.Flags().StringVar(&aud, "aud", "", "the gateway's token endpoint URL (its auth.tokenUrl)")
	_ = cmd.MarkFlagRequired("aud")
	return cmd
}

func newTokenAccessCommand(e *env) *cobra.Command {
	var a assertionFlags
	var target, tokenURL, scope string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "access",
		Short: "Get an access token from a gateway and print it (the token only)",
		Long: `Exchange a freshly signed client assertion for an access token at a
gateway's token endpoint (client_credentials) and print the token alone, so
that TOKEN=$(carebridge token access ...) works. The assertion's audience is
the token URL: --token-url when the gateway's public auth.tokenUrl differs from
--target/auth/token (behind a proxy).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			endpoint := tokenURL
			if endpoint == "" {
				endpoint = strings.TrimSuffix(strings.TrimSuffix(target, "/"), "/fhir") + "/auth/token"
			}
			client := retryingClient(timeout)
			// An assertion is used once: every attempt carries a new one, so
			// the body's length is not known ahead (a MultiReader hides it).
			body := retryablehttp.ReaderFunc(func() (io.Reader, error) {
				form, err := tokenRequestBody(&a, endpoint, scope)
				return io.MultiReader(strings.NewReader(form)), err
			})
			req, err := retryablehttp.NewRequestWithContext(cmd.Context(), http.MethodPost, endpoint, body)
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "application/json")
			res, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("token endpoint %s: %w", endpoint, err)
			}
			defer res.Body.Close()
			token, err := readTokenResponse(res)
			if err != nil {
				return fmt.Errorf("token endpoint %s: %w", endpoint, err)
			}
			_, err = fmt.Fprintln(e.stdout, token)
			return err
		},
	}
	a.register(cmd)
	cmd.Flags().StringVar(&target, "target", "http://127.0.0.1:8080", "the gateway's base URL")
	cmd.Flags().StringVar(&tokenURL, "token-url", "", "the token endpoint (default: TARGET/auth/token)")
	cmd.Flags().StringVar(&scope, "scope", "", "SMART scopes to ask for, space-separated (default: all the client is allowed)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "time allowed for each attempt")
	return cmd
}

// tokenRequestBody is a client_credentials request with a new assertion.
func tokenRequestBody(a *assertionFlags, tokenURL, scope string) (string, error) {
	assertion, err := a.mint(tokenURL)
	if err != nil {
		return "", err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {auth.ClientAssertionType},
		"client_assertion":      {assertion},
	}
	if scope != "" {
		form.Set("scope", scope)
	}
	return form.Encode(), nil
}

// readTokenResponse is the access token of a token endpoint's answer, or
// its OAuth error.
func readTokenResponse(res *http.Response) (string, error) {
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK {
		var oerr auth.OAuthError
		if json.Unmarshal(data, &oerr) == nil && oerr.Code != "" {
			return "", fmt.Errorf("status %d: %s: %s", res.StatusCode, oerr.Code, oerr.Description)
		}
		return "", fmt.Errorf("status %d", res.StatusCode)
	}
	var tr auth.TokenResponse
	if err := json.Unmarshal(data, &tr); err != nil || tr.AccessToken == "" {
		return "", errors.New("the answer holds no access_token")
	}
	return tr.AccessToken, nil
}
