// vault-transit serves HashiCorp Vault's own transit secrets engine (builtin/logical/transit, at
// the version pinned in scripts/versions.env) over Vault's HTTP API, with in-memory storage, for
// the hcvault KMS driver's integration tests. Building the whole `vault` binary takes far longer
// than CI can spend on every run; the transit engine alone builds in about a minute, and it is the
// part whose behaviour matters (key upsert, ciphertext format `vault:v1:…`, errors).
//
// What is ours, not Vault's: the HTTP routing, a single static root token, an AppRole login that
// checks one role id and secret id given on the command line, and namespaces as separate transit
// mounts created on first use (Vault Enterprise semantics: the same path in another namespace is
// another key). Everything under /v1/<mount>/ is handed to the real transit backend.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"

	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/builtin/logical/transit"
	"github.com/hashicorp/vault/sdk/logical"
)

type server struct {
	rootToken string
	roleID    string
	secretID  string
	mount     string

	mu       sync.Mutex
	tokens   map[string]bool
	backends map[string]engine // by namespace
}

type engine struct {
	backend logical.Backend
	storage logical.Storage
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18200", "listen address")
	token := flag.String("root-token", "root", "the token every request must carry (X-Vault-Token), besides AppRole logins")
	roleID := flag.String("approle-role-id", "", "AppRole role_id accepted by POST /v1/auth/approle/login (empty: AppRole off)")
	secretID := flag.String("approle-secret-id", "", "AppRole secret_id accepted with it")
	mount := flag.String("mount", "transit", "mount path of the transit engine")
	version := flag.Bool("version", false, "print the Vault version and exit")
	flag.Parse()
	if *version {
		fmt.Println("vault-transit " + vaultVersion)
		return
	}
	s := &server{
		rootToken: *token, roleID: *roleID, secretID: *secretID, mount: strings.Trim(*mount, "/"),
		tokens: map[string]bool{*token: true}, backends: map[string]engine{},
	}
	srv := &http.Server{Addr: *addr, Handler: s, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("vault-transit %s listening on %s, transit at /v1/%s/", vaultVersion, *addr, s.mount)
	log.Fatal(srv.ListenAndServe())
}

func (s *server) engineFor(ctx context.Context, namespace string) (engine, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.backends[namespace]; ok {
		return e, nil
	}
	storage := &logical.InmemStorage{}
	b, err := transit.Factory(ctx, &logical.BackendConfig{
		StorageView: storage,
		Logger:      hclog.NewNullLogger(),
		System:      logical.TestSystemView(),
		BackendUUID: newToken(),
	})
	if err != nil {
		return engine{}, err
	}
	e := engine{backend: b, storage: storage}
	s.backends[namespace] = e
	return e, nil
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	if path == r.URL.Path {
		writeErrors(w, http.StatusNotFound, "no handler for route")
		return
	}
	switch {
	case path == "sys/health":
		writeJSON(w, http.StatusOK, map[string]any{"initialized": true, "sealed": false, "standby": false, "version": strings.TrimPrefix(vaultVersion, "v")})
		return
	case path == "auth/approle/login" && r.Method == http.MethodPost:
		s.approleLogin(w, r)
		return
	}
	s.mu.Lock()
	known := s.tokens[r.Header.Get("X-Vault-Token")]
	s.mu.Unlock()
	if !known {
		writeErrors(w, http.StatusForbidden, "permission denied")
		return
	}
	rest, ok := strings.CutPrefix(path, s.mount+"/")
	if !ok {
		writeErrors(w, http.StatusNotFound, "no handler for route \""+path+"\"")
		return
	}
	s.transit(w, r, rest)
}

func (s *server) approleLogin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RoleID   string `json:"role_id"`
		SecretID string `json:"secret_id"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		writeErrors(w, http.StatusBadRequest, "failed to parse JSON input")
		return
	}
	if s.roleID == "" || body.RoleID != s.roleID || body.SecretID != s.secretID {
		writeErrors(w, http.StatusBadRequest, "invalid role or secret ID")
		return
	}
	token := "hvs." + newToken()
	s.mu.Lock()
	s.tokens[token] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"auth": map[string]any{"client_token": token, "renewable": true, "lease_duration": 3600}})
}

func (s *server) transit(w http.ResponseWriter, r *http.Request, path string) {
	var op logical.Operation = logical.ReadOperation
	switch r.Method {
	case http.MethodPost, http.MethodPut:
		op = logical.UpdateOperation
	case http.MethodDelete:
		op = logical.DeleteOperation
	case "LIST":
		op = logical.ListOperation
	case http.MethodGet:
		if r.URL.Query().Get("list") == "true" {
			op = logical.ListOperation
		}
	default:
		writeErrors(w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	var data map[string]any
	if op == logical.UpdateOperation {
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 32<<20))
		dec.UseNumber()
		if err := dec.Decode(&data); err != nil && err.Error() != "EOF" {
			writeErrors(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
			return
		}
	}
	ctx := r.Context()
	e, err := s.engineFor(ctx, strings.Trim(r.Header.Get("X-Vault-Namespace"), "/"))
	if err != nil {
		writeErrors(w, http.StatusInternalServerError, err.Error())
		return
	}
	req := &logical.Request{
		Operation:   op,
		Path:        path,
		Data:        data,
		Storage:     e.storage,
		ClientToken: r.Header.Get("X-Vault-Token"),
		MountPoint:  s.mount + "/",
	}
	resp, err := e.backend.HandleRequest(ctx, req)
	if status, rerr := logical.RespondErrorCommon(req, resp, err); rerr != nil {
		if status == 0 {
			status = http.StatusInternalServerError
		}
		writeErrors(w, status, rerr.Error())
		return
	}
	if resp == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": resp.Data, "warnings": resp.Warnings})
}

func newToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("writing the response: %v", err)
	}
}

func writeErrors(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"errors": []string{msg}})
}
