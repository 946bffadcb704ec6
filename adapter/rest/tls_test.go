package rest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/carebridge/carebridge/adapter"
	"github.com/carebridge/carebridge/adapter/rest"
)

// testPKI is a CA and the certificates it issued, in memory and as PEM files.
type testPKI struct {
	t      *testing.T
	dir    string
	ca     *issued // nil while the CA itself is issued
	serial int64
}

// issued is a certificate and its key.
type issued struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{t: t, dir: t.TempDir()}
	p.ca = p.issue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: "CareBridge test CA"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	})
	return p
}

// issue signs tmpl with the CA (or itself, for the CA).
func (p *testPKI) issue(tmpl *x509.Certificate) *issued {
	p.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serial++
	tmpl.SerialNumber = big.NewInt(p.serial)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	parent, signer := tmpl, key
	if p.ca != nil {
		parent, signer = p.ca.cert, p.ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		p.t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		p.t.Fatal(err)
	}
	return &issued{cert, key}
}

// leaf issues a server or client certificate.
func (p *testPKI) leaf(name string, usage x509.ExtKeyUsage) *issued {
	return p.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
	})
}

// writePEM writes c as PEM files named name.crt and name.key.
func (p *testPKI) writePEM(name string, c *issued) (certFile, keyFile string) {
	p.t.Helper()
	certFile, keyFile = filepath.Join(p.dir, name+".crt"), filepath.Join(p.dir, name+".key")
	p.write(certFile, "CERTIFICATE", c.cert.Raw)
	der, err := x509.MarshalECPrivateKey(c.key)
	if err != nil {
		p.t.Fatal(err)
	}
	p.write(keyFile, "EC PRIVATE KEY", der)
	return certFile, keyFile
}

func (p *testPKI) write(file, typ string, der []byte) {
	p.t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		p.t.Fatal(err)
	}
}

// client returns an HTTPS client that trusts the CA, presents certs, and
// opens a new connection (a new handshake) per request.
func (p *testPKI) client(certs ...tls.Certificate) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(p.ca.cert)
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, Certificates: certs},
		DisableKeepAlives: true,
	}}
}

func tlsCertificate(c *issued) tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{c.cert.Raw}, PrivateKey: c.key, Leaf: c.cert}
}

func TestHTTPS(t *testing.T) {
	pki := newTestPKI(t)
	certFile, keyFile := pki.writePEM("server", pki.leaf("carebridge", x509.ExtKeyUsageServerAuth))
	srv := newRESTServer(t, openSQLite(t), rest.Config{TLS: rest.TLSFiles{CertFile: certFile, KeyFile: keyFile}}, quietLog())
	root := serveOnLoopback(t, srv, "https")
	hc := pki.client()

	r := send(t, hc, "GET", root+"/fhir/metadata", nil).mustStatus(t, http.StatusOK)
	checkSecurityHeaders(t, "metadata over TLS", r.header, true)
	r = send(t, hc, "GET", root+"/fhir/Patient/nope", nil).mustStatus(t, http.StatusNotFound)
	checkSecurityHeaders(t, "404 over TLS", r.header, true)

	t.Run("HTTP/2 is served", func(t *testing.T) {
		h2 := pki.client()
		h2.Transport.(*http.Transport).ForceAttemptHTTP2 = true
		res, err := h2.Get(root + "/fhir/metadata")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.ProtoMajor != 2 {
			t.Errorf("got %d over %s, want 200 over HTTP/2", res.StatusCode, res.Proto)
		}
		checkSecurityHeaders(t, "metadata over HTTP/2", res.Header, true)
	})
	t.Run("TLS 1.1 is refused", func(t *testing.T) {
		old := pki.client()
		old.Transport.(*http.Transport).TLSClientConfig.MaxVersion = tls.VersionTLS11
		if res, err := old.Get(root + "/healthz"); err == nil {
			res.Body.Close()
			t.Error("a TLS 1.1 client was served")
		}
	})
	t.Run("plain HTTP is not served", func(t *testing.T) {
		res, err := http.Get("http://" + root[len("https://"):] + "/healthz")
		if err == nil {
			defer res.Body.Close()
			if res.StatusCode < 400 {
				t.Errorf("plain HTTP answered %d", res.StatusCode)
			}
		}
	})
	t.Run("a renewed certificate is served without a restart", func(t *testing.T) {
		pki.writePEM("server", pki.leaf("carebridge renewed", x509.ExtKeyUsageServerAuth))
		later := time.Now().Add(time.Minute) // in case the clock did not move between the writes
		for _, f := range []string{certFile, keyFile} {
			if err := os.Chtimes(f, later, later); err != nil {
				t.Fatal(err)
			}
		}
		res, err := hc.Get(root + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.TLS.PeerCertificates[0].Subject.CommonName; got != "carebridge renewed" {
			t.Errorf("served certificate %q, want the renewed one", got)
		}
	})
}

func TestMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	certFile, keyFile := pki.writePEM("server", pki.leaf("carebridge", x509.ExtKeyUsageServerAuth))
	caFile, _ := pki.writePEM("ca", pki.ca)
	srv := newRESTServer(t, openSQLite(t), rest.Config{TLS: rest.TLSFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: caFile}}, quietLog())
	root := serveOnLoopback(t, srv, "https")

	t.Run("a client with a certificate from the CA is served", func(t *testing.T) {
		hc := pki.client(tlsCertificate(pki.leaf("practice-a", x509.ExtKeyUsageClientAuth)))
		r := send(t, hc, "GET", root+"/fhir/metadata", nil).mustStatus(t, http.StatusOK)
		checkSecurityHeaders(t, "metadata over mutual TLS", r.header, true)
	})
	t.Run("a client without a certificate is refused", func(t *testing.T) {
		if res, err := pki.client().Get(root + "/healthz"); err == nil {
			res.Body.Close()
			t.Errorf("served %d without a client certificate", res.StatusCode)
		}
	})
	t.Run("a client with a certificate from another CA is refused", func(t *testing.T) {
		other := newTestPKI(t)
		hc := pki.client(tlsCertificate(other.leaf("intruder", x509.ExtKeyUsageClientAuth)))
		if res, err := hc.Get(root + "/healthz"); err == nil {
			res.Body.Close()
			t.Errorf("served %d with a certificate from another CA", res.StatusCode)
		}
	})
}

func TestTLSFilesThatDoNotLoadAreRefusedAtStart(t *testing.T) {
	pki := newTestPKI(t)
	certFile, keyFile := pki.writePEM("server", pki.leaf("carebridge", x509.ExtKeyUsageServerAuth))
	otherCert, _ := pki.writePEM("other", pki.leaf("other", x509.ExtKeyUsageServerAuth))
	gw := adapter.New(openSQLite(t), adapter.Config{Location: time.UTC})
	for _, tc := range []struct {
		name  string
		files rest.TLSFiles
	}{
		{"a missing certificate file", rest.TLSFiles{CertFile: filepath.Join(pki.dir, "nope.crt"), KeyFile: keyFile}},
		{"a key that is not the certificate's", rest.TLSFiles{CertFile: otherCert, KeyFile: keyFile}},
		{"a client CA file without certificates", rest.TLSFiles{CertFile: certFile, KeyFile: keyFile, ClientCAFile: keyFile}},
		{"a certificate without a key", rest.TLSFiles{CertFile: certFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			if _, err := rest.NewServer(rest.Config{TLS: tc.files}, gw, quietLog(), reg, reg); err == nil {
				t.Error("NewServer accepted them")
			}
		})
	}
}
