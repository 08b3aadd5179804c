// Command crosscheck reads what @contrast/mesh-pki wrote into a directory and checks it with Go's
// standard library, the code upstream Contrast's Coordinator, initializer and CLI run on:
// crypto/x509 chain verification, a crypto/tls mutual handshake, the PEM key types, the seed
// share decryption and the transition signatures. It prints one JSON object; the test decides.
//
// Only the standard library is used, so `go run` works offline (GOPROXY=off).
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

var dir string

func read(name string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		fail(err)
	}
	return b
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(2)
}

// block returns the only PEM block of a file and checks its type.
func block(name, wantType string) []byte {
	b, rest := pem.Decode(read(name))
	if b == nil || len(rest) != 0 && len(pemBlocks(rest)) != 0 {
		fail(fmt.Errorf("%s: want exactly one PEM block", name))
	}
	if b.Type != wantType {
		fail(fmt.Errorf("%s: PEM type %q, want %q", name, b.Type, wantType))
	}
	return b.Bytes
}

func pemBlocks(data []byte) []*pem.Block {
	var out []*pem.Block
	for {
		b, rest := pem.Decode(data)
		if b == nil {
			return out
		}
		out = append(out, b)
		data = rest
	}
}

func certs(name string) []*x509.Certificate {
	var out []*x509.Certificate
	for _, b := range pemBlocks(read(name)) {
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			fail(fmt.Errorf("%s: %w", name, err))
		}
		out = append(out, c)
	}
	return out
}

func pool(cs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range cs {
		p.AddCert(c)
	}
	return p
}

func status(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}

// verify checks a chain file (leaf first) against the given roots, for both TLS roles.
func verify(chain []*x509.Certificate, roots *x509.CertPool, dnsName string) string {
	inter := pool(chain[1:]...)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		_, err := chain[0].Verify(x509.VerifyOptions{
			Roots: roots, Intermediates: inter, DNSName: dnsName, KeyUsages: []x509.ExtKeyUsage{usage},
		})
		if err != nil {
			return err.Error()
		}
	}
	return "ok"
}

// handshake runs mutual TLS in memory: both sides present the issued chain and trust the mesh CA.
func handshake(chainPEM, keyPEM []byte, meshCA *x509.CertPool, serverName string) error {
	cert, err := tls.X509KeyPair(chainPEM, keyPEM)
	if err != nil {
		return err
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	_ = a.SetDeadline(time.Now().Add(10 * time.Second))
	_ = b.SetDeadline(time.Now().Add(10 * time.Second))
	server := tls.Server(a, &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientCAs: meshCA, ClientAuth: tls.RequireAndVerifyClientCert,
		MinVersion: tls.VersionTLS13,
	})
	client := tls.Client(b, &tls.Config{
		Certificates: []tls.Certificate{cert}, RootCAs: meshCA, ServerName: serverName, MinVersion: tls.VersionTLS13,
	})
	done := make(chan error, 1)
	go func() { done <- server.Handshake() }()
	cerr := client.Handshake()
	serr := <-done
	if cerr != nil {
		return fmt.Errorf("client: %w", cerr)
	}
	if serr != nil {
		return fmt.Errorf("server: %w", serr)
	}
	return nil
}

// rebuild issues, with Go's x509.CreateCertificate, the certificate that a template of upstream's
// internal/ca would give for the same key, names, serial number and validity as ours, and says
// whether its to-be-signed part is byte-identical to ours (only the ECDSA signature is random).
func rebuild(ours *x509.Certificate, template, parent *x509.Certificate, pub any, key *ecdsa.PrivateKey) string {
	template.SerialNumber = ours.SerialNumber
	template.NotBefore = ours.NotBefore
	template.NotAfter = ours.NotAfter
	der, err := x509.CreateCertificate(rand.Reader, template, parent, pub, key)
	if err != nil {
		return err.Error()
	}
	theirs, err := x509.ParseCertificate(der)
	if err != nil {
		return err.Error()
	}
	if bytes.Equal(theirs.RawTBSCertificate, ours.RawTBSCertificate) {
		return "identical"
	}
	return fmt.Sprintf("differs:\ngo   %x\nours %x", theirs.RawTBSCertificate, ours.RawTBSCertificate)
}

func caTemplate(commonName string) *x509.Certificate {
	return &x509.Certificate{
		Subject: pkix.Name{CommonName: commonName}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
}

// leafTemplate is upstream's mesh certificate template. The claims go into ExtraExtensions in the
// order the certificate has them, then the workload secret ID, which upstream appends last.
func leafTemplate(ours *x509.Certificate) *x509.Certificate {
	secretOID := asn1.ObjectIdentifier{1, 3, 9901, 3, 1}
	var extra, secret []pkix.Extension
	for _, e := range ours.Extensions {
		switch {
		case e.Id.Equal(secretOID):
			secret = append(secret, e)
		case strings.HasPrefix(e.Id.String(), "1.3.9901."):
			extra = append(extra, e)
		}
	}
	return &x509.Certificate{
		Subject:               pkix.Name{CommonName: ours.DNSNames[0]},
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		ExtraExtensions:       append(extra, secret...),
		DNSNames:              ours.DNSNames,
		IPAddresses:           ours.IPAddresses,
		URIs:                  ours.URIs,
	}
}

func ecKey(name string) *ecdsa.PrivateKey {
	k, err := x509.ParseECPrivateKey(block(name, "EC PRIVATE KEY"))
	if err != nil {
		fail(err)
	}
	return k
}

// digestCase is one ECDSA verification over a given digest that the TypeScript side also judged.
type digestCase struct {
	PublicKey []byte `json:"publicKey"`
	Digest    []byte `json:"digest"`
	Signature []byte `json:"signature"`
}

// digestVerdicts answers each case with ecdsa.VerifyASN1, which upstream's history uses for
// transitions/latest.
func digestVerdicts() []bool {
	var cases []digestCase
	if err := json.Unmarshal(read("digest-cases.json"), &cases); err != nil {
		fail(err)
	}
	out := make([]bool, len(cases))
	for i, c := range cases {
		pub, err := x509.ParsePKIXPublicKey(c.PublicKey)
		if err != nil {
			fail(err)
		}
		key, ok := pub.(*ecdsa.PublicKey)
		out[i] = ok && ecdsa.VerifyASN1(key, c.Digest, c.Signature)
	}
	return out
}

type seedShareDoc struct {
	SeedShares []struct {
		PublicKey     string
		EncryptedSeed []byte
	}
	Salt []byte `json:"salt"`
}

func main() {
	dir = os.Args[1]
	out := map[string]any{}

	root := certs("root.pem")[0]
	meshCA := certs("mesh-ca.pem")[0]
	chain := certs("certChain.pem")
	foreign := certs("foreign-chain.pem")
	out["chainLength"] = len(chain)
	out["verifyToRoot"] = verify(chain, pool(root), "web")
	out["verifyToMeshCa"] = verify(chain[:1], pool(meshCA), "web")
	out["verifyWrongName"] = verify(chain, pool(root), "not-web")
	out["verifyForeign"] = verify(foreign, pool(meshCA), "web")

	leaf := chain[0]
	ips := []string{}
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	uris := []string{}
	for _, u := range leaf.URIs {
		uris = append(uris, u.String())
	}
	oids := []string{}
	secretID := ""
	for _, e := range leaf.Extensions {
		oids = append(oids, e.Id.String())
		if e.Id.Equal(asn1.ObjectIdentifier{1, 3, 9901, 3, 1}) {
			var id []byte
			if _, err := asn1.Unmarshal(e.Value, &id); err != nil {
				fail(err)
			}
			secretID = string(id)
		}
	}
	out["leaf"] = map[string]any{
		"commonName": leaf.Subject.CommonName, "dns": leaf.DNSNames, "ips": ips, "uris": uris,
		"extensions": oids, "workloadSecretId": secretID, "issuer": leaf.Issuer.CommonName,
		"isCA": leaf.IsCA, "keyUsage": int(leaf.KeyUsage), "basicConstraintsValid": leaf.BasicConstraintsValid,
	}

	// The same certificates, re-issued by Go from upstream's templates.
	rootKey, meshKey := ecKey("root-key.pem"), ecKey("mesh-ca-key.pem")
	intermediate := chain[1]
	claimsLeaf := certs("claims-chain.pem")[0]
	out["rebuild"] = map[string]string{
		"root": rebuild(root, caTemplate("system:coordinator:root"), caTemplate("system:coordinator:root"),
			&rootKey.PublicKey, rootKey),
		"intermediate": rebuild(intermediate, caTemplate("system:coordinator:intermediate"), root,
			&meshKey.PublicKey, rootKey),
		"meshCa": rebuild(meshCA, caTemplate("system:coordinator:intermediate"),
			caTemplate("system:coordinator:intermediate"), &meshKey.PublicKey, meshKey),
		"leaf":       rebuild(leaf, leafTemplate(leaf), meshCA, leaf.PublicKey, meshKey),
		"claimsLeaf": rebuild(claimsLeaf, leafTemplate(claimsLeaf), meshCA, claimsLeaf.PublicKey, meshKey),
	}
	out["rootCommonName"] = root.Subject.CommonName
	out["rootSelfSigned"] = status(root.CheckSignatureFrom(root))
	out["tls"] = status(handshake(read("certChain.pem"), read("leaf-key.pem"), pool(meshCA), "web"))

	// workload-owner.pem: SEC1 "EC PRIVATE KEY"; its digest is SHA-256 of the PKIX public key.
	owner, err := x509.ParseECPrivateKey(block("workload-owner.pem", "EC PRIVATE KEY"))
	if err != nil {
		fail(err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&owner.PublicKey)
	if err != nil {
		fail(err)
	}
	digest := sha256.Sum256(spki)
	out["workloadOwnerKeyDigest"] = hex.EncodeToString(digest[:])

	// seedshare-owner.pem: PKCS#1 "RSA PRIVATE KEY"; the share is found by the hex PKCS#1 public key.
	shareKey, err := x509.ParsePKCS1PrivateKey(block("seedshare-owner.pem", "RSA PRIVATE KEY"))
	if err != nil {
		fail(err)
	}
	var doc seedShareDoc
	if err := json.Unmarshal(read("seed-shares.json"), &doc); err != nil {
		fail(err)
	}
	want := hex.EncodeToString(x509.MarshalPKCS1PublicKey(&shareKey.PublicKey))
	out["seed"] = "no share for this key"
	for _, s := range doc.SeedShares {
		if s.PublicKey != want {
			continue
		}
		seed, err := rsa.DecryptOAEP(sha256.New(), nil, shareKey, s.EncryptedSeed, []byte("seedshare"))
		if err != nil {
			out["seed"] = err.Error()
			break
		}
		out["seed"] = hex.EncodeToString(seed)
		tampered := append([]byte(nil), s.EncryptedSeed...)
		tampered[len(tampered)/2] ^= 1
		_, err = rsa.DecryptOAEP(sha256.New(), nil, shareKey, tampered, []byte("seedshare"))
		out["tamperedShare"] = status(err)
		_, err = rsa.DecryptOAEP(sha256.New(), nil, shareKey, s.EncryptedSeed, []byte("other"))
		out["wrongLabel"] = status(err)
	}
	out["salt"] = hex.EncodeToString(doc.Salt)

	// Transitions: the transaction key signs the 32-byte transition hash (ASN.1 DER ECDSA); the
	// workload owner signs SHA-256 of the hash's hex text.
	pub, err := x509.ParsePKIXPublicKey(block("transaction.pub.pem", "PUBLIC KEY"))
	if err != nil {
		fail(err)
	}
	txKey, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		fail(errors.New("transaction.pub.pem: not an ECDSA key"))
	}
	out["transactionCurve"] = txKey.Curve.Params().Name
	transition := read("transition.bin")
	hash := sha256.Sum256(transition)
	out["transitionSignature"] = ecdsa.VerifyASN1(txKey, hash[:], read("transition.sig"))
	other := sha256.Sum256(append(transition, 0))
	out["transitionSignatureOtherHash"] = ecdsa.VerifyASN1(txKey, other[:], read("transition.sig"))
	out["digestVerdicts"] = digestVerdicts()
	updateHash := sha256.Sum256([]byte(hex.EncodeToString(hash[:])))
	out["updateSignature"] = ecdsa.VerifyASN1(&owner.PublicKey, updateHash[:], read("update.sig"))

	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}
