"""Tamper-evident history: the cryptographic core of the ledger (SECURITY.md).

    merkle   RFC 6962 hashing, the leaf encoding of a record, proofs from stored nodes
    proofs   RFC 9162 verification of inclusion and consistency proofs
    compact  the frontier of the tree, appended one leaf at a time in O(log n) memory
    note     Ed25519 signed notes (C2SP, Go sumdb/note) and tlog checkpoints

Pure functions over bytes: no database, no files, no clock. The store, the
signing key file and the HTTP routes build on them.
"""
