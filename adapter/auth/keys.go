package auth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// minRSABits is the smallest RSA modulus accepted; generated keys use
// generatedRSABits.
const (
	minRSABits       = 2048
	generatedRSABits = 3072
)

// acceptedAlgs are the JWS algorithms tokens and assertions may be signed
// with: asymmetric only, so that no public key can ever be used as an HMAC
// secret, and "none" is never accepted.
var acceptedAlgs = []string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"}

// publicKey is a verification key with its key id and, when its JWK said
// so, the one algorithm it may be used with.
type publicKey struct {
	kid string
	alg string
	key crypto.PublicKey
}

// keySet maps key ids to keys.
type keySet map[string]publicKey

// jwk is the JSON form of a public key (RFC 7517), RSA or EC.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
}

// jwkSet is a JSON Web Key Set.
type jwkSet struct {
	Keys []json.RawMessage `json:"keys"`
}

var b64 = base64.RawURLEncoding

// checkKeyAlg reports whether key may verify (or make) signatures with alg:
// RSA keys for RS* and PS*, P-256 keys for ES256, P-384 keys for ES384.
func checkKeyAlg(key crypto.PublicKey, alg string) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS") {
			return nil
		}
	case *ecdsa.PublicKey:
		if (alg == "ES256" && k.Curve == elliptic.P256()) || (alg == "ES384" && k.Curve == elliptic.P384()) {
			return nil
		}
	}
	return fmt.Errorf("a %s key cannot be used with %s", keyType(key), alg)
}

// keyType names a key for messages: RSA, EC P-256, EC P-384.
func keyType(key crypto.PublicKey) string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name
	}
	return fmt.Sprintf("%T", key)
}

// defaultAlg is the algorithm a key signs with when none is named: RS256 for
// RSA keys, ES256 for P-256 and ES384 for P-384.
func defaultAlg(key crypto.PublicKey) (string, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return "RS256", nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256", nil
		case elliptic.P384():
			return "ES384", nil
		}
	}
	return "", fmt.Errorf("unsupported %s key: use RSA (at least %d bits), EC P-256 or EC P-384", keyType(key), minRSABits)
}

// checkPublicKey refuses key types and sizes the gateway does not accept.
func checkPublicKey(key crypto.PublicKey) error {
	if k, ok := key.(*rsa.PublicKey); ok && k.N.BitLen() < minRSABits {
		return fmt.Errorf("RSA key of %d bits is too short; use at least %d", k.N.BitLen(), minRSABits)
	}
	_, err := defaultAlg(key)
	return err
}

// toJWK is the public JWK of key, with kid and alg.
func toJWK(key crypto.PublicKey, kid, alg string) (jwk, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return jwk{Kty: "RSA", Kid: kid, Use: "sig", Alg: alg,
			N: b64.EncodeToString(k.N.Bytes()), E: b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())}, nil
	case *ecdsa.PublicKey:
		point, err := k.Bytes()
		if err != nil {
			return jwk{}, fmt.Errorf("encode EC key: %w", err)
		}
		size := (len(point) - 1) / 2
		return jwk{Kty: "EC", Kid: kid, Use: "sig", Alg: alg, Crv: k.Curve.Params().Name,
			X: b64.EncodeToString(point[1 : 1+size]), Y: b64.EncodeToString(point[1+size:])}, nil
	}
	return jwk{}, fmt.Errorf("unsupported %s key", keyType(key))
}

// Thumbprint is the RFC 7638 JWK thumbprint of a public key (SHA-256,
// base64url): the key id CareBridge gives every key it generates or loads
// without one.
func Thumbprint(key crypto.PublicKey) (string, error) {
	j, err := toJWK(key, "", "")
	if err != nil {
		return "", err
	}
	// RFC 7638 §3.2: the required members only, in lexicographic order, no
	// white space. The values are base64url or fixed names: nothing to escape.
	var canonical string
	switch j.Kty {
	case "RSA":
		canonical = fmt.Sprintf(`{"e":%q,"kty":"RSA","n":%q}`, j.E, j.N)
	default:
		canonical = fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, j.Crv, j.X, j.Y)
	}
	sum := sha256.Sum256([]byte(canonical))
	return b64.EncodeToString(sum[:]), nil
}

// parseJWK turns one JWK into a verification key; its kid is the JWK's own
// or else its thumbprint.
func parseJWK(data []byte) (publicKey, error) {
	var j jwk
	if err := json.Unmarshal(data, &j); err != nil {
		return publicKey{}, fmt.Errorf("not a JWK: %w", err)
	}
	if j.Use != "" && j.Use != "sig" {
		return publicKey{}, fmt.Errorf("key %q is for %q, not for signatures", j.Kid, j.Use)
	}
	var key crypto.PublicKey
	switch j.Kty {
	case "RSA":
		n, errN := b64.DecodeString(j.N)
		e, errE := b64.DecodeString(j.E)
		if errN != nil || errE != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return publicKey{}, fmt.Errorf("RSA key %q: n or e is not base64url", j.Kid)
		}
		exp := new(big.Int).SetBytes(e)
		if exp.Int64() < 3 || exp.Int64()%2 == 0 {
			return publicKey{}, fmt.Errorf("RSA key %q: unusable exponent", j.Kid)
		}
		key = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}
	case "EC":
		curve, size := elliptic.Curve(nil), 0
		switch j.Crv {
		case "P-256":
			curve, size = elliptic.P256(), 32
		case "P-384":
			curve, size = elliptic.P384(), 48
		default:
			return publicKey{}, fmt.Errorf("EC key %q: curve %q is not P-256 or P-384", j.Kid, j.Crv)
		}
		x, errX := b64.DecodeString(j.X)
		y, errY := b64.DecodeString(j.Y)
		if errX != nil || errY != nil || len(x) != size || len(y) != size {
			return publicKey{}, fmt.Errorf("EC key %q: x or y is not a %d-byte base64url value", j.Kid, size)
		}
		k, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return publicKey{}, fmt.Errorf("EC key %q: %w", j.Kid, err)
		}
		key = k
	default:
		return publicKey{}, fmt.Errorf("key %q: key type %q is not RSA or EC", j.Kid, j.Kty)
	}
	if err := checkPublicKey(key); err != nil {
		return publicKey{}, fmt.Errorf("key %q: %w", j.Kid, err)
	}
	if j.Alg != "" {
		if err := checkKeyAlg(key, j.Alg); err != nil {
			return publicKey{}, fmt.Errorf("key %q: %w", j.Kid, err)
		}
	}
	return withKid(publicKey{kid: j.Kid, alg: j.Alg, key: key})
}

// withKid gives k its thumbprint as key id when it has none.
func withKid(k publicKey) (publicKey, error) {
	if k.kid != "" {
		return k, nil
	}
	kid, err := Thumbprint(k.key)
	k.kid = kid
	return k, err
}

// parseJWKS reads a JWKS document. Keys that are not signature keys of a
// supported type are left out when skipUnusable is set (a published JWKS
// may hold encryption keys too); otherwise they are errors.
func parseJWKS(data []byte, skipUnusable bool) (keySet, error) {
	var set jwkSet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("not a JWKS: %w", err)
	}
	keys := keySet{}
	for i, raw := range set.Keys {
		k, err := parseJWK(raw)
		if err != nil {
			if skipUnusable {
				continue
			}
			return nil, fmt.Errorf("keys[%d]: %w", i, err)
		}
		if _, dup := keys[k.kid]; dup {
			return nil, fmt.Errorf("keys[%d]: key id %q appears twice", i, k.kid)
		}
		keys[k.kid] = k
	}
	return keys, nil
}

// parsePublicKeys reads a client's key file: a PEM public key (or several),
// a JWK or a JWKS. A private key is refused: the gateway holds only the
// public half of a client's key.
func parsePublicKeys(data []byte) (keySet, error) {
	trimmed := bytes.TrimSpace(data)
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		var probe struct {
			Keys json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(trimmed, &probe); err != nil {
			return nil, fmt.Errorf("neither PEM nor JSON: %w", err)
		}
		if probe.Keys != nil {
			return parseJWKS(trimmed, false)
		}
		k, err := parseJWK(trimmed)
		if err != nil {
			return nil, err
		}
		return keySet{k.kid: k}, nil
	}
	keys := keySet{}
	for rest := trimmed; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, errors.New("holds a private key: give the gateway the client's public key only")
		}
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("PEM block %q is not a PUBLIC KEY", block.Type)
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		if err := checkPublicKey(pub); err != nil {
			return nil, err
		}
		k, err := withKid(publicKey{key: pub})
		if err != nil {
			return nil, err
		}
		keys[k.kid] = k
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM block found")
	}
	return keys, nil
}

// ParsePrivateKey reads a PEM PKCS#8 private key (RSA of at least 2048 bits,
// EC P-256 or P-384), as `carebridge keys generate` writes them.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("PEM block %q is not a PKCS#8 PRIVATE KEY", block.Type)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported %T private key", key)
	}
	if err := checkPublicKey(signer.Public()); err != nil {
		return nil, err
	}
	return signer, nil
}

// GenerateKey makes a signing key for alg (RS256, RS384, RS512 and PS256
// make an RSA 3072-bit key; ES256 a P-256 key; ES384 a P-384 key). It
// returns the private key as PEM PKCS#8, the public key as a JWKS document
// naming alg, and the key id (the key's RFC 7638 thumbprint).
func GenerateKey(alg string) (privatePEM, publicJWKS []byte, kid string, err error) {
	var signer crypto.Signer
	switch alg {
	case "RS256", "RS384", "RS512", "PS256":
		signer, err = rsa.GenerateKey(rand.Reader, generatedRSABits)
	case "ES256":
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		signer, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		return nil, nil, "", fmt.Errorf("algorithm %q: use one of %s", alg, strings.Join(acceptedAlgs, ", "))
	}
	if err != nil {
		return nil, nil, "", fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		return nil, nil, "", fmt.Errorf("encode private key: %w", err)
	}
	if kid, err = Thumbprint(signer.Public()); err != nil {
		return nil, nil, "", err
	}
	publicJWKS, err = jwksDocument([]publicKey{{kid: kid, alg: alg, key: signer.Public()}})
	if err != nil {
		return nil, nil, "", err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), publicJWKS, kid, nil
}

// jwksDocument is the JWKS JSON of keys, in order.
func jwksDocument(keys []publicKey) ([]byte, error) {
	doc := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for _, k := range keys {
		j, err := toJWK(k.key, k.kid, k.alg)
		if err != nil {
			return nil, err
		}
		doc.Keys = append(doc.Keys, j)
	}
	return json.MarshalIndent(doc, "", "  ")
}

// Algorithm is the signature algorithm CareBridge uses with a key of this
// type: RS256 for RSA, ES256 for EC P-256, ES384 for EC P-384.
func Algorithm(key crypto.PublicKey) (string, error) { return defaultAlg(key) }
