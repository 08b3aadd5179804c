// A Go aTLS client that attests itself the way upstream's initializer does: it reads the server
// nonce from the CN of the single acceptable CA in the CertificateRequest, asks the test (over
// HTTP) for evidence bound to SHA-512(its key's PKIX DER || that nonce), and presents it in its
// self-signed client certificate under the SNP OID. Then it makes one gRPC call over HTTP/2 with
// Go's standard library only. Written for this repository's tests; not upstream code.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"time"
)

func serverNonce(cri *tls.CertificateRequestInfo) ([]byte, error) {
	if len(cri.AcceptableCAs) != 1 {
		return nil, fmt.Errorf("unexpected acceptableCAs length %d", len(cri.AcceptableCAs))
	}
	var rdn pkix.RDNSequence
	if _, err := asn1.Unmarshal(cri.AcceptableCAs[0], &rdn); err != nil {
		return nil, err
	}
	for _, set := range rdn {
		for _, atv := range set {
			if atv.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 3}) {
				s, ok := atv.Value.(string)
				if !ok {
					return nil, errors.New("unexpected RDN type")
				}
				return base64.StdEncoding.DecodeString(s)
			}
		}
	}
	return nil, errors.New("CN not found")
}

func main() {
	addr, issueURL := os.Args[1], os.Args[2]
	clientNonce := make([]byte, 32)
	rand.Read(clientNonce)
	cfg := &tls.Config{
		InsecureSkipVerify: true, // this client tests the server's side only
		ServerName:         base64.StdEncoding.EncodeToString(clientNonce),
		NextProtos:         []string{"h2"},
		MinVersion:         tls.VersionTLS12,
		GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
			nonce, err := serverNonce(cri)
			if err != nil {
				return nil, err
			}
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			spki, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
			rd := sha512.Sum512(append(append([]byte{}, spki...), nonce...))
			resp, err := http.Get(issueURL + "?rd=" + hex.EncodeToString(rd[:]))
			if err != nil {
				return nil, err
			}
			evidence, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			now := time.Now()
			tmpl := &x509.Certificate{
				SerialNumber:    big.NewInt(42),
				Subject:         pkix.Name{CommonName: "Contrast"},
				NotBefore:       now.Add(-2 * time.Hour),
				NotAfter:        now.Add(2 * time.Hour),
				ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 9901, 2, 1}, Value: evidence}},
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(os.Stderr, "server nonce %x\n", nonce)
			return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
		},
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}, Timeout: 20 * time.Second}
	payload := []byte("from go")
	frame := make([]byte, 5+len(payload))
	binary.BigEndian.PutUint32(frame[1:5], uint32(len(payload)))
	copy(frame[5:], payload)
	req, _ := http.NewRequest("POST", "https://"+addr+"/atls.test.Echo/Echo", bytes.NewReader(frame))
	req.Header.Set("content-type", "application/grpc")
	req.Header.Set("te", "trailers")
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	status := resp.Trailer.Get("grpc-status")
	if len(body) < 5 {
		fmt.Printf("proto %s status %s no message\n", resp.Proto, status)
		os.Exit(2)
	}
	fmt.Printf("proto %s status %s message %s\n", resp.Proto, status, body[5:])
}
