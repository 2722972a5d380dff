"""Encryption at rest: envelope encryption of the event stream (SECURITY.md).

    sealing   AES-256-GCM blobs with a versioned header and bound associated data
    kek       key-encryption keys: the interface, local keyrings (file, environment), wrapping
    keyring   a keyring's contents and their JSON form
    keyfile   0600 files, written atomically (the KEK file)
    keystore  SqlKeyStore: data keys, wrapped, in the events' database
    keydb     the key store's tables on SQLite and PostgreSQL
    keycache  the in-process cache of unwrapped keys and its lifetimes
    scopes    names of key scopes ("system", "case:<uuid>")

The byte layouts are documented in docs/ENCRYPTION.md.
"""
