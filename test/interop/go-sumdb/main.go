// Checks onbehalf's exported checkpoints and Merkle trees with Go's golang.org/x/mod/sumdb/note and
// sumdb/tlog, an independent implementation of C2SP signed notes and RFC 6962 trees. Reads a JSON
// request on stdin (see test/interop/go-sumdb.test.ts), writes what Go found as JSON on stdout.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type request struct {
	// Verifier keys, "name+hash+base64(0x01 ‖ Ed25519 public key)".
	VerifierKeys []string `json:"verifier_keys"`
	// Notes whose acceptance is asked.
	Notes []string `json:"notes"`
	// Logs: each row's canonical bytes (base64), checkpoints of them, and proofs to check.
	Logs []logRequest `json:"logs"`
	// Receipts: c2sp.org/tlog-proof@v1 texts as onbehalf prove writes them.
	Receipts []string `json:"receipts"`
	// Consistency proofs as checkpoints --out writes them (tlog-witness add-checkpoint bodies).
	TreeProofs []treeProof `json:"tree_proofs"`
}

type treeProof struct {
	OldNote string `json:"old_note"`
	Body    string `json:"body"`
}

type logRequest struct {
	Leaves      []string     `json:"leaves"`
	Checkpoints []string     `json:"checkpoints"`
	Inclusion   []inclusion  `json:"inclusion"`
	Consistency []consistent `json:"consistency"`
}

type inclusion struct {
	Size  int64    `json:"size"`
	Index int64    `json:"index"`
	Proof []string `json:"proof"`
}

type consistent struct {
	Old   int64    `json:"old"`
	New   int64    `json:"new"`
	Proof []string `json:"proof"`
}

type checkpointResult struct {
	Opened    bool   `json:"opened"`
	Error     string `json:"error,omitempty"`
	Origin    string `json:"origin"`
	Size      int64  `json:"size"`
	RootMatch bool   `json:"root_match"`
}

type logResult struct {
	Roots       []string           `json:"roots"`
	Checkpoints []checkpointResult `json:"checkpoints"`
	Inclusion   []bool             `json:"inclusion"`
	Consistency []bool             `json:"consistency"`
}

type response struct {
	Notes      []bool      `json:"notes"`
	Logs       []logResult `json:"logs"`
	Receipts   []string    `json:"receipts"`
	TreeProofs []string    `json:"tree_proofs"`
}

type hashes []tlog.Hash

func (h hashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(h)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = h[x]
	}
	return out, nil
}

func decodeHashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return nil, fmt.Errorf("bad hash %q", s)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fail(err)
	}
	var verifiers []note.Verifier
	for _, k := range req.VerifierKeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			fail(fmt.Errorf("verifier key %q: %v", k, err))
		}
		verifiers = append(verifiers, v)
	}
	known := note.VerifierList(verifiers...)
	var resp response
	for _, text := range req.Notes {
		_, err := note.Open([]byte(text), known)
		resp.Notes = append(resp.Notes, err == nil)
	}
	for _, l := range req.Logs {
		resp.Logs = append(resp.Logs, checkLog(l, known))
	}
	// "ok", or what Go found wrong.
	for _, r := range req.Receipts {
		resp.Receipts = append(resp.Receipts, verdict(checkReceipt(r, known)))
	}
	for _, t := range req.TreeProofs {
		resp.TreeProofs = append(resp.TreeProofs, verdict(checkTreeProof(t, known)))
	}
	if err := json.NewEncoder(os.Stdout).Encode(resp); err != nil {
		fail(err)
	}
}

func checkLog(l logRequest, known note.Verifiers) logResult {
	var stored hashes
	for i, leaf := range l.Leaves {
		data, err := base64.StdEncoding.DecodeString(leaf)
		if err != nil {
			fail(err)
		}
		h, err := tlog.StoredHashes(int64(i), data, stored)
		if err != nil {
			fail(err)
		}
		stored = append(stored, h...)
	}
	var res logResult
	root := func(size int64) tlog.Hash {
		h, err := tlog.TreeHash(size, stored)
		if err != nil {
			fail(err)
		}
		return h
	}
	for size := int64(0); size <= int64(len(l.Leaves)); size++ {
		h := root(size)
		res.Roots = append(res.Roots, base64.StdEncoding.EncodeToString(h[:]))
	}
	for _, text := range l.Checkpoints {
		r := checkpointResult{}
		n, err := note.Open([]byte(text), known)
		if err != nil {
			r.Error = err.Error()
		} else {
			r.Opened = true
			lines := strings.SplitN(n.Text, "\n", 4)
			size, err := strconv.ParseInt(lines[1], 10, 64)
			if err != nil || len(lines) < 4 {
				fail(fmt.Errorf("checkpoint body %q", n.Text))
			}
			r.Origin, r.Size = lines[0], size
			if size <= int64(len(l.Leaves)) {
				h := root(size)
				r.RootMatch = lines[2] == base64.StdEncoding.EncodeToString(h[:])
			}
		}
		res.Checkpoints = append(res.Checkpoints, r)
	}
	for _, p := range l.Inclusion {
		proof, err := decodeHashes(p.Proof)
		data, _ := base64.StdEncoding.DecodeString(l.Leaves[p.Index])
		res.Inclusion = append(res.Inclusion, err == nil &&
			tlog.CheckRecord(tlog.RecordProof(proof), p.Size, root(p.Size), p.Index, tlog.RecordHash(data)) == nil)
	}
	for _, p := range l.Consistency {
		proof, err := decodeHashes(p.Proof)
		res.Consistency = append(res.Consistency, err == nil &&
			tlog.CheckTree(tlog.TreeProof(proof), p.New, root(p.New), p.Old, root(p.Old)) == nil)
	}
	return res
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "go-sumdb:", err)
	os.Exit(1)
}

func verdict(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}

// openCheckpoint opens a signed checkpoint note and returns its size and root.
func openCheckpoint(text string, known note.Verifiers) (int64, tlog.Hash, error) {
	n, err := note.Open([]byte(text), known)
	if err != nil {
		return 0, tlog.Hash{}, err
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		return 0, tlog.Hash{}, fmt.Errorf("checkpoint body %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return 0, tlog.Hash{}, err
	}
	roots, err := decodeHashes([]string{lines[2]})
	if err != nil {
		return 0, tlog.Hash{}, err
	}
	return size, roots[0], nil
}

// checkReceipt parses a c2sp.org/tlog-proof@v1 text on its own and checks it with tlog.CheckRecord.
func checkReceipt(text string, known note.Verifiers) error {
	head, checkpoint, ok := strings.Cut(text, "\n\n")
	if !ok {
		return fmt.Errorf("no blank line")
	}
	lines := strings.Split(head, "\n")
	if len(lines) < 3 || lines[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(lines[1], "extra ") || !strings.HasPrefix(lines[2], "index ") {
		return fmt.Errorf("not a tlog-proof header")
	}
	record, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(lines[1], "extra "))
	if err != nil {
		return err
	}
	index, err := strconv.ParseInt(strings.TrimPrefix(lines[2], "index "), 10, 64)
	if err != nil {
		return err
	}
	proof, err := decodeHashes(lines[3:])
	if err != nil {
		return err
	}
	size, root, err := openCheckpoint(checkpoint, known)
	if err != nil {
		return err
	}
	return tlog.CheckRecord(tlog.RecordProof(proof), size, root, index, tlog.RecordHash(record))
}

// checkTreeProof parses an add-checkpoint body ("old N", proof lines, blank line, checkpoint) and
// checks it against the old checkpoint with tlog.CheckTree.
func checkTreeProof(t treeProof, known note.Verifiers) error {
	head, checkpoint, ok := strings.Cut(t.Body, "\n\n")
	if !ok {
		return fmt.Errorf("no blank line")
	}
	lines := strings.Split(head, "\n")
	if !strings.HasPrefix(lines[0], "old ") {
		return fmt.Errorf("no old size line")
	}
	oldSize, err := strconv.ParseInt(strings.TrimPrefix(lines[0], "old "), 10, 64)
	if err != nil {
		return err
	}
	proof, err := decodeHashes(lines[1:])
	if err != nil {
		return err
	}
	size, root, err := openCheckpoint(checkpoint, known)
	if err != nil {
		return err
	}
	stated, oldRoot, err := openCheckpoint(t.OldNote, known)
	if err != nil {
		return err
	}
	if stated != oldSize {
		return fmt.Errorf("old size %d, old checkpoint %d", oldSize, stated)
	}
	return tlog.CheckTree(tlog.TreeProof(proof), size, root, oldSize, oldRoot)
}
