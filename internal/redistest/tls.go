package redistest

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
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TLSServer is a redis-server that also listens with TLS, from [StartTLS].
type TLSServer struct {
	// Server is the plain-TCP side (for administration by the test).
	*Server
	tlsPort int
	// CAPool trusts the server's self-signed certificate.
	CAPool *x509.CertPool
	// CAFile is the certificate in PEM, for clients configured by file.
	CAFile string
}

// StartTLS starts a redis-server with a TLS port (tls-port) next to its
// plain one, with a self-signed certificate for 127.0.0.1 and localhost
// generated for the test. Clients need not present certificates. It skips
// the test when REDIS_URL is set (that server's TLS set-up is unknown) and
// fails when redis-server was built without TLS.
func StartTLS(t testing.TB) *TLSServer {
	t.Helper()
	if os.Getenv("REDIS_URL") != "" {
		t.Skip("redistest: REDIS_URL is set; StartTLS needs a redis-server of its own")
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "redis.crt"), filepath.Join(dir, "redis.key")
	pool, err := selfSigned(certFile, keyFile)
	if err != nil {
		t.Fatalf("redistest: certificate: %v", err)
	}
	var tlsPort int
	in, err := startInstance(dir, func(int) ([]string, error) {
		p, err := freePort()
		tlsPort = p
		return []string{"--tls-port", strconv.Itoa(p), "--tls-cert-file", certFile, "--tls-key-file", keyFile,
			"--tls-ca-cert-file", certFile, "--tls-auth-clients", "no"}, err
	})
	if err != nil {
		t.Fatalf("redistest: redis-server with TLS (built without TLS support?): %v", err)
	}
	t.Cleanup(func() { in.stop(false) })
	return &TLSServer{Server: &Server{b: in}, tlsPort: tlsPort, CAPool: pool, CAFile: certFile}
}

// TLSAddr is the address of the TLS port.
func (s *TLSServer) TLSAddr() string { return "127.0.0.1:" + strconv.Itoa(s.tlsPort) }

// TLSURL is a rediss:// URL of the TLS port.
func (s *TLSServer) TLSURL() string { return "rediss://" + s.TLSAddr() }

// TLSOptions returns client options for the TLS port that trust the
// server's certificate.
func (s *TLSServer) TLSOptions() *redis.Options {
	o, _ := redis.ParseURL(s.TLSURL())
	o.TLSConfig = &tls.Config{RootCAs: s.CAPool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return o
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and localhost
// and its key, and returns a pool trusting it.
func selfSigned(certFile, keyFile string) (*x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "redistest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool, nil
}
