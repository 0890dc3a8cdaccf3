package main

// The pod's workload certificate, obtained as the istio-agent obtains it: the
// agent's secret cache (security/pkg/nodeagent/cache) generates the key and the
// CSR for the pod's SPIFFE identity and sends it through the Citadel CA client
// (security/pkg/nodeagent/caclient/providers/citadel) to istiod on 15012,
// authenticated by the pod's projected istio-ca token (credentialfetcher, the
// agent's JWT plugin), over TLS verified against the root certificate the pod
// mounts (istio-ca-root-cert) and the istiod host name the pod names.

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"time"

	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/security"
	"istio.io/istio/security/pkg/credentialfetcher"
	"istio.io/istio/security/pkg/nodeagent/cache"
	"istio.io/istio/security/pkg/nodeagent/caclient/providers/citadel"
	pkiutil "istio.io/istio/security/pkg/pki/util"
)

// rootCertPath is where the injected pod mounts istio-ca-root-cert (volume istiod-ca-cert).
const rootCertPath = "./var/run/secrets/istio/root-cert.pem"

// certificateSummary is what the stand-in reports about the certificate it got.
type certificateSummary struct {
	SPIFFE    string    `json:"spiffe"`
	Issuer    string    `json:"issuer"`
	Root      string    `json:"root"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	ChainLen  int       `json:"chainLength"`
	Serial    string    `json:"serial"`
}

// newSecretManager returns the agent's secret cache, talking to the CA at
// caAddress (a loopback address), verifying it as caSAN.
func newSecretManager(p *proxy, caAddress string) (*cache.SecretManagerClient, error) {
	if _, err := os.Stat(rootCertPath); err != nil {
		return nil, fmt.Errorf("the pod mounts no istiod root certificate at %s (ConfigMap istio-ca-root-cert): %v", rootCertPath, err)
	}
	credFetcher, err := credentialfetcher.NewCredFetcher(security.JWT, p.TrustDomain, constants.ThirdPartyJwtPath, "")
	if err != nil {
		return nil, err
	}
	opts := &security.Options{
		CAEndpoint:    caAddress,
		CAEndpointSAN: hostOf(p.CAAddress),
		ClusterID:     p.ClusterID,
		TrustDomain:   p.TrustDomain,
		// pilot-agent's defaults (SECRET_TTL, WORKLOAD_RSA_KEY_SIZE, SECRET_GRACE_PERIOD_RATIO).
		SecretTTL:                      24 * time.Hour,
		WorkloadRSAKeySize:             2048,
		SecretRotationGracePeriodRatio: 0.5,
		WorkloadNamespace:              p.Pod.Namespace,
		ServiceAccount:                 firstNonEmpty(p.Pod.Spec.ServiceAccountName, "default"),
		CredFetcher:                    credFetcher,
		PilotCertProvider:              "istiod",
		CAHeaders:                      map[string]string{},
		ECCSigAlg:                      p.EnvMap["ECC_SIGNATURE_ALGORITHM"],
		ECCCurve:                       p.EnvMap["ECC_CURVE"],
	}
	caClient, err := citadel.NewCitadelClient(opts, &citadel.TLSOptions{RootCert: rootCertPath})
	if err != nil {
		return nil, err
	}
	return cache.NewSecretManagerClient(caClient, opts)
}

// workloadCertificate asks for the pod's certificate and verifies it with Istio's
// own check: the chain leads to the root the pod mounts, carries the pod's
// SPIFFE identity and the usages of a workload certificate, and the key matches.
func workloadCertificate(sm security.SecretManager, p *proxy) (*security.SecretItem, *certificateSummary, error) {
	item, err := sm.GenerateSecret(security.WorkloadKeyCertResourceName)
	if err != nil {
		return nil, nil, fmt.Errorf("workload certificate for %s: %v", p.SPIFFE(), err)
	}
	root, err := os.ReadFile(rootCertPath)
	if err != nil {
		return nil, nil, err
	}
	// What a workload certificate must be to serve both ends of mTLS: a leaf
	// (no CA, no common name) for server and client authentication.
	want := &pkiutil.VerifyFields{
		Host:        p.SPIFFE(),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	if err := pkiutil.VerifyCertificate(item.PrivateKey, item.CertificateChain, root, want); err != nil {
		return nil, nil, fmt.Errorf("the certificate istiod issued for %s does not verify against the pod's root (istio-ca-root-cert): %v", p.SPIFFE(), err)
	}
	chain, err := parseChain(item.CertificateChain)
	if err != nil {
		return nil, nil, err
	}
	rootCerts, err := parseChain(root)
	if err != nil {
		return nil, nil, err
	}
	ids, err := pkiutil.ExtractIDs(chain[0].Extensions)
	if err != nil || len(ids) != 1 {
		return nil, nil, fmt.Errorf("the certificate carries identities %v (%v), want exactly %s", ids, err, p.SPIFFE())
	}
	s := &certificateSummary{
		SPIFFE:    ids[0],
		Issuer:    chain[0].Issuer.String(),
		Root:      rootCerts[0].Subject.String(),
		NotBefore: chain[0].NotBefore,
		NotAfter:  chain[0].NotAfter,
		ChainLen:  len(chain),
		Serial:    chain[0].SerialNumber.Text(16),
	}
	return item, s, nil
}

func parseChain(pemBytes []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := pemBytes; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no certificate in PEM")
	}
	return out, nil
}
