package main

// vaultVersion is the github.com/hashicorp/vault module version in go.mod; scripts/vault.sh checks
// it against VAULT_VERSION in scripts/versions.env.
const vaultVersion = "v1.21.4"
