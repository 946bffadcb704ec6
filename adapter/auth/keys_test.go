package auth

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// RFC 7638 §3.1 computes the thumbprint of this key.
func TestThumbprintIsRFC7638(t *testing.T) {
	const rfcKey = `{"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}`
	k, err := parseJWK([]byte(rfcKey))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Thumbprint(k.key)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("thumbprint = %s, want %s", got, want)
	}
	if k.kid != "2011-04-29" || k.alg != "RS256" {
		t.Errorf("kid, alg = %s, %s; want the JWK's own", k.kid, k.alg)
	}
}

func TestGenerateKeyMakesKeysThatSignAndVerify(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "ES384"} {
		t.Run(alg, func(t *testing.T) {
			priv, jwks, kid, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			key, err := ParsePrivateKey(priv)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := parsePublicKeys(jwks)
			if err != nil {
				t.Fatal(err)
			}
			pub, ok := keys[kid]
			if !ok || pub.alg != alg {
				t.Fatalf("JWKS %s lacks kid %s with alg %s", jwks, kid, alg)
			}
			if r, ok := key.Public().(*rsa.PublicKey); ok && r.N.BitLen() != generatedRSABits {
				t.Errorf("RSA key of %d bits, want %d", r.N.BitLen(), generatedRSABits)
			}
			a, err := MintAssertion(key, "", alg, "client", testTokenURL, time.Minute, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jwt.Parse(a, func(*jwt.Token) (any, error) { return pub.key, nil }, jwt.WithValidMethods([]string{alg}))
			if err != nil {
				t.Fatalf("assertion does not verify with the published key: %v", err)
			}
			if tok.Header["kid"] != kid {
				t.Errorf("assertion kid = %v, want %s", tok.Header["kid"], kid)
			}
		})
	}
	if _, _, _, err := GenerateKey("HS256"); err == nil {
		t.Error("GenerateKey made an HS256 key")
	}
}

func TestPublicKeyFiles(t *testing.T) {
	ec := newSigner(t, "ES256")
	der, err := x509.MarshalPKIXPublicKey(ec.Public())
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jwks := []byte(mustJWKS(t, ec))
	var set struct{ Keys []json.RawMessage }
	if err := json.Unmarshal(jwks, &set); err != nil {
		t.Fatal(err)
	}
	privPEM, _, _, err := GenerateKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, _ := x509.MarshalPKIXPublicKey(&small.PublicKey)

	for name, data := range map[string][]byte{"PEM": pemKey, "JWK": set.Keys[0], "JWKS": jwks} {
		keys, err := parsePublicKeys(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if k, ok := keys[kidOf(t, ec)]; !ok || !k.key.(*ecdsa.PublicKey).Equal(ec.Public()) {
			t.Errorf("%s: the key is not found under its thumbprint", name)
		}
	}
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"a private key":                {privPEM, "private key"},
		"an RSA key of 1024 bit":       {pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: smallDER}), "too short"},
		"an encryption JWK":            {[]byte(strings.Replace(string(set.Keys[0]), `"sig"`, `"enc"`, 1)), "not for signatures"},
		"an octet JWK":                 {[]byte(`{"kty":"oct","k":"c2VjcmV0"}`), "not RSA or EC"},
		"a P-521 JWK":                  {[]byte(`{"kty":"EC","crv":"P-521","x":"AA","y":"AA"}`), "not P-256 or P-384"},
		"an EC point off curve":        {[]byte(`{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`), "EC key"},
		"a JWK whose alg does not fit": {[]byte(strings.Replace(string(set.Keys[0]), `"kty"`, `"alg":"RS256","kty"`, 1)), "cannot be used with RS256"},
		"neither":                      {[]byte("hello"), "neither PEM nor JSON"},
	} {
		if _, err := parsePublicKeys(tc.data); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, tc.want)
		}
	}
}
