// Reads initdata annotation values the way the Kata shim (Go) does before it measures them:
// a base64 decoding reader (standard alphabet) under a gzip reader, read to the end, then the
// digest named by the document over those bytes, copied into the 32-byte SNP HOST_DATA and the
// 48-byte TDX MRCONFIGID. Standard library only, so it runs offline.
//
// stdin: JSON [{"annotation": "...", "algorithm": "sha256"}]; stdout: one result per entry.
package main

import (
	"compress/gzip"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"io"
	"os"
	"strings"
)

type input struct {
	Annotation string `json:"annotation"`
	Algorithm  string `json:"algorithm"`
}

type result struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	TOML   string `json:"toml,omitempty"`
	Digest string `json:"digest,omitempty"`
	SNP    string `json:"snp,omitempty"`
	TDX    string `json:"tdx,omitempty"`
}

// field copies the digest into a zeroed field of the given size, cut off when longer.
func field(digest []byte, size int) string {
	out := make([]byte, size)
	copy(out, digest)
	return hex.EncodeToString(out)
}

func measure(in input) result {
	zr, err := gzip.NewReader(base64.NewDecoder(base64.StdEncoding, strings.NewReader(in.Annotation)))
	if err != nil {
		return result{Error: err.Error()}
	}
	toml, err := io.ReadAll(zr)
	if err != nil {
		return result{Error: err.Error()}
	}
	var h hash.Hash
	switch in.Algorithm {
	case "sha256":
		h = sha256.New()
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	default:
		return result{Error: "unknown algorithm " + in.Algorithm}
	}
	h.Write(toml)
	d := h.Sum(nil)
	return result{OK: true, TOML: string(toml), Digest: hex.EncodeToString(d), SNP: field(d, 32), TDX: field(d, 48)}
}

func main() {
	var inputs []input
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	out := make([]result, 0, len(inputs))
	for _, in := range inputs {
		out = append(out, measure(in))
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
